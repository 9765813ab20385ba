// A worker thread of the val evaluation: its own wasm engine and its own slice of
// rows (see shard.ts). Messages are handled one at a time, in order.

import { parentPort, workerData } from "node:worker_threads";
import { loadEngine } from "../runtime/node.ts";
import { Shard, type SnapshotPlan, type TokenizedRow } from "./shard.ts";

export interface WorkerInit {
  rows: TokenizedRow[];
}

export type WorkerRequest =
  | { op: "setBase"; id: number; bytes: Uint8Array; key: number; plan: SnapshotPlan }
  | { op: "candidate"; id: number; bytes: Uint8Array; key: number; layer: number; numLabels: number; rows?: Int32Array };

export type WorkerReply =
  | { id: number; ok: true; logits: Float32Array | null; layerEvaluations: number; busyMs: number }
  | { id: number; ok: false; error: string };

const init = workerData as WorkerInit;
const engine = await loadEngine();
const shard = new Shard(engine, init.rows);
const port = parentPort!;

port.on("message", (req: WorkerRequest) => {
  const t0 = performance.now();
  try {
    let logits: Float32Array | null = null;
    if (req.op === "setBase") shard.setBase(req.bytes, req.key, req.plan);
    else logits = shard.candidate(req.bytes, req.key, req.layer, req.numLabels, req.rows);
    const reply: WorkerReply = { id: req.id, ok: true, logits, layerEvaluations: shard.layerEvaluations, busyMs: performance.now() - t0 };
    port.postMessage(reply, logits ? [logits.buffer as ArrayBuffer] : []);
  } catch (e) {
    const reply: WorkerReply = { id: req.id, ok: false, error: (e as Error).message };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });
