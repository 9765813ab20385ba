// Runs the fuzz loop (harness.ts) in a worker thread with a time bound per case:
// the worker publishes the index of the case it is running, and if the same case
// is still running after `timeoutMs`, the worker is terminated and the case is
// reported as a hang, with the command that replays it.
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { FuzzOptions, FuzzStats } from "./harness.ts";
import type { WorkerInput } from "./worker.ts";

export interface SuperviseOptions extends Omit<FuzzOptions, "onCase" | "onProgress"> {
  timeoutMs?: number;                    // per case (default 5000)
  onProgress?: (done: number) => void;
}

export class FuzzHang extends Error {
  constructor(readonly caseIndex: number, readonly seed: number, readonly timeoutMs: number) {
    super(`case ${caseIndex} of seed ${seed} ran longer than ${timeoutMs} ms (a hang); replay it with ` +
      `npm run fuzz -- --seed ${seed} --start ${caseIndex} --cases 1`);
  }
}

const STARTUP_MS = 120_000; // loading tsx and compiling the wasm, on a busy machine

export function superviseFuzz(opts: SuperviseOptions): Promise<FuzzStats> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const heartbeat = new SharedArrayBuffer(4);
  const current = new Int32Array(heartbeat);
  current[0] = -1;
  const { onProgress, timeoutMs: _t, ...fuzz } = opts;
  const input: WorkerInput = { opts: fuzz, heartbeat };
  const worker = new Worker(fileURLToPath(new URL("./worker-boot.mjs", import.meta.url)), { workerData: input });
  return new Promise<FuzzStats>((resolve, reject) => {
    let seen = -1;
    let since = Date.now();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      fn();
    };
    const timer = setInterval(() => {
      const now = Date.now();
      const i = Atomics.load(current, 0);
      if (i !== seen) { seen = i; since = now; return; }
      if (now - since > (i < 0 ? STARTUP_MS : timeoutMs)) {
        finish(() => {
          void worker.terminate();
          reject(i < 0 ? new Error(`the fuzz worker did not start within ${STARTUP_MS} ms`) : new FuzzHang(i, opts.seed, timeoutMs));
        });
      }
    }, Math.min(250, timeoutMs / 4));
    worker.on("message", (msg: { progress?: number; stats?: FuzzStats }) => {
      if (msg.progress !== undefined) onProgress?.(msg.progress);
      if (msg.stats) finish(() => { void worker.terminate(); resolve(msg.stats!); });
    });
    worker.on("error", (err) => finish(() => reject(new Error(`the fuzz worker crashed near case ${Atomics.load(current, 0)}: ${err.message}`))));
    worker.on("exit", (code) => finish(() => reject(new Error(`the fuzz worker exited (code ${code}) near case ${Atomics.load(current, 0)}`))));
  });
}
