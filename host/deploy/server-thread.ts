// One worker thread of `axformer serve --workers N`: its own runtime and model,
// classifying the jobs server-pool.ts sends it.
import { parentPort, workerData } from "node:worker_threads";
import { instantiate } from "../runtime/index.ts";
import { reserveTextMemory } from "../api/handler.ts";
import type { FromThread, ToThread } from "./server-pool.ts";

const port = parentPort!;
const send = (msg: FromThread) => port.postMessage(msg);

try {
  const engine = await instantiate(workerData.wasm as WebAssembly.Module);
  const model = engine.loadModel(workerData.modelBytes as Uint8Array, { maxMemoryMb: Infinity });
  reserveTextMemory(model, workerData.limits);
  port.on("message", ({ id, inputs }: ToThread) => {
    try {
      const outputs = inputs.map(({ text, textPair }) => {
        const r = model.classify(text, textPair);
        return { label: r.label, scores: Array.from(r.scores) };
      });
      send({ id, outputs });
    } catch (err) {
      send({ id, error: (err as Error).message });
    }
  });
  send({ ready: { labels: [...model.labels], numLabels: model.numLabels, maxLen: model.maxLen, wasmMemoryBytes: model.memoryBytes() } });
} catch (err) {
  send({ loadError: (err as Error).message });
}
