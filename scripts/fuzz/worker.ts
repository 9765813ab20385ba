// The fuzz loop in a worker thread, so that the supervisor (supervise.ts) can
// kill it when one case runs past the time bound. The current case index is
// published in shared memory before each case (the supervisor's heartbeat).
import { parentPort, workerData } from "node:worker_threads";
import { loadEngine } from "../../host/runtime/node.ts";
import { runFuzz, type FuzzOptions } from "./harness.ts";

export interface WorkerInput {
  opts: Omit<FuzzOptions, "onCase" | "onProgress">;
  heartbeat: SharedArrayBuffer; // Int32Array[1]: the case being run
}

const { opts, heartbeat } = workerData as WorkerInput;
const current = new Int32Array(heartbeat);
const engine = await loadEngine();
const stats = runFuzz(engine, {
  ...opts,
  onCase: (i) => Atomics.store(current, 0, i),
  onProgress: (done) => parentPort!.postMessage({ progress: done }),
}, await loadEngine());
parentPort!.postMessage({ stats });
