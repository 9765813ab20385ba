// One worker thread of `axformer serve --workers N`: its own runtime and model,
// classifying the jobs server-pool.ts sends it.
import { parentPort, workerData } from "node:worker_threads";
import { instantiate } from "../runtime/index.ts";
import { reserveTextMemory } from "../api/handler.ts";
import { modelInfo, runJob, type FromThread, type ToThread } from "./server-pool.ts";

const port = parentPort!;
const send = (msg: FromThread) => port.postMessage(msg);

try {
  const engine = await instantiate(workerData.wasm as WebAssembly.Module);
  const model = engine.loadModel(workerData.modelBytes as Uint8Array, { maxMemoryMb: Infinity });
  reserveTextMemory(model, workerData.limits);
  port.on("message", ({ id, job }: ToThread) => {
    try {
      send({ id, outputs: runJob(model, job) });
    } catch (err) {
      send({ id, error: (err as Error).message });
    }
  });
  send({ ready: modelInfo(model) });
} catch (err) {
  send({ loadError: (err as Error).message });
}
