// Evaluates models on the val rows with the shipped wasm runtime: every model is
// written to .axf bytes and loaded, so what the search measures is what ships.
// Rows are split into contiguous slices, one per worker thread, each with its own
// engine; every row is computed alone, so results do not depend on the split.

import { Worker } from "node:worker_threads";
import type { Model } from "../model/model.ts";
import { writeModel, type WriteCache } from "../format/writer.ts";
import { loadEngine } from "../runtime/node.ts";
import { Shard, type RuntimeEngine, type SnapshotPlan, type TokenizedRow } from "./shard.ts";
import type { WorkerInit, WorkerReply, WorkerRequest } from "./worker.ts";

// What the search needs from an evaluator; tests may substitute their own.
export interface Evaluator {
  // Makes the states entering `layer` under this (accepted) model available for the
  // candidates that follow, reusing earlier snapshots when the layers below match.
  setBase(model: Model, layer: number): Promise<void>;
  // Logits [rows * C] of a model that equals the base below `layer`: of every val
  // row, or of the listed rows (val indices) in that order.
  candidate(model: Model, layer: number, rows?: ArrayLike<number>): Promise<Float32Array>;
  layerEvaluations(): number;
  // The worker thread that runs an evaluator row (absent: one thread runs them all).
  partOf?(row: number): number;
  // Where the time went (worker threads only): each worker's busy time, and the main
  // thread's time writing model files while the workers wait.
  usage?(): { workerMs: number[]; writeMs: number };
  // Layers a candidate at `layer` runs per row under the current base (L - layer with
  // a snapshot, L without); absent: L - layer.
  layersPerRow?(layer: number): number;
  close(): Promise<void>;
}

export interface PoolOptions {
  workers: number;     // 1: evaluate in this thread
  numLabels: number;
  hiddenSize: number;
  cacheBytes: number;  // total budget for cached hidden states, all workers together
}

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

// True when the states entering `layer` are the same under both models: the same
// embeddings and the same layers below (the transforms share every tensor and
// LayerState they do not change, so identity is the test).
export function sameBelow(a: Model, b: Model, layer: number): boolean {
  if (a === b) return true;
  for (let i = 0; i < layer; i++) if (a.layers[i] !== b.layers[i]) return false;
  const below = (name: string) => {
    if (name.startsWith("embeddings.")) return true;
    const m = /^encoder\.layer\.(\d+)\./.exec(name);
    return m !== null && Number(m[1]) < layer;
  };
  let count = 0;
  for (const [name, t] of b.tensors) {
    if (!below(name)) continue;
    count++;
    if (a.tensors.get(name) !== t) return false;
  }
  for (const name of a.tensors.keys()) if (below(name)) count--;
  return count === 0;
}

// Decides, the same way for every shard, which snapshot of hidden states a base
// starts from and which snapshots to free. Snapshots of every layer are kept while
// the budget allows, so the pruning pass (last layer to first) finds the states
// the hard-attention pass (first to last) already computed.
export class SnapshotPlanner {
  private snaps = new Map<number, Model>(); // layer -> the base its states were computed with
  private base: Model | null = null;
  private baseLayer = -1;

  constructor(private maxSnapshots: number) {}

  // Layers a candidate at `layer` runs per row: the snapshot's way or a full forward.
  layersPerRow(layer: number): number {
    const L = this.base?.config.numLayers ?? 0;
    return this.snaps.has(layer) ? L - layer : L;
  }

  plan(model: Model, layer: number): SnapshotPlan {
    const drop: number[] = [];
    for (const [j, m] of this.snaps) if (!sameBelow(m, model, j)) { drop.push(j); this.snaps.delete(j); }
    this.base = model;
    this.baseLayer = layer;
    if (this.maxSnapshots === 0) return { layer, from: -1, drop, keep: false };
    if (this.snaps.has(layer)) return { layer, from: layer, drop, keep: true };
    let from = -1;
    for (const j of this.snaps.keys()) if (j < layer && j > from) from = j;
    // Out of room: free the highest snapshots other than the one we start from
    // (the pruning pass walks downwards and no longer needs them).
    while (this.snaps.size >= this.maxSnapshots) {
      const victim = Math.max(...[...this.snaps.keys()].filter((j) => j !== from));
      if (!Number.isFinite(victim)) break;
      drop.push(victim);
      this.snaps.delete(victim);
    }
    if (this.snaps.size >= this.maxSnapshots) {
      // Only `from` is left and there is room for nothing else: replace it.
      drop.push(from);
      this.snaps.delete(from);
    }
    this.snaps.set(layer, model);
    return { layer, from, drop, keep: true };
  }

  // Candidates must equal the base below their layer, or the snapshot would be wrong.
  check(model: Model, layer: number): void {
    if (this.base === null || layer !== this.baseLayer || !sameBelow(this.base, model, layer))
      throw new Error(`internal: candidate at layer ${layer} does not match the base below that layer`);
  }
}

function maxSnapshots(rows: TokenizedRow[], opts: PoolOptions): number {
  let tokens = 0;
  for (const r of rows) tokens += r.ids.length;
  const perSnapshot = tokens * opts.hiddenSize * 4;
  return perSnapshot === 0 ? 0 : Math.floor(opts.cacheBytes / perSnapshot);
}

// Serialised models, keyed so that a worker reloads only when the model changed.
// A candidate shares all but one layer's tensors with the accepted model, so the
// writer copies the encoded bytes of the others (checked once) instead of checking
// and encoding every weight again: at bert-base scale that was seconds of the main
// thread per candidate while the workers waited (README, "Search cost").
// The files of earlier candidates lend their buffers to the next one: touching a new
// 435 MB buffer (bert-base) costs about a second of page faults, more than the writing.
// A lent file is forgotten (a later call for its model writes it again), and lending
// happens only between calls, when every worker has copied what it loaded.
class ModelBytes {
  private keys = new WeakMap<Model, { key: number; bytes: Uint8Array }>();
  private written: Model[] = []; // models whose files are in `keys`, oldest first
  private cache: WriteCache = new WeakMap();
  private next = 0;
  private capacity = 0; // the largest file so far: new buffers get this size, so that any can be lent
  base: Model | null = null; // kept: the accepted model's file is read again by later candidates' setBase
  writeMs = 0;
  constructor(private shared: boolean) {}
  get(model: Model, idle: boolean): { key: number; bytes: Uint8Array } {
    let e = this.keys.get(model);
    if (!e) {
      const spares: ArrayBufferLike[] = [];
      if (idle) {
        this.written = this.written.filter((m) => {
          if (m === this.base) return true;
          spares.push(this.keys.get(m)!.bytes.buffer);
          this.keys.delete(m);
          return false;
        });
      }
      const alloc = (size: number) => {
        const spare = spares.find((b) => b.byteLength >= size);
        if (spare) return new Uint8Array(spare, 0, size).fill(0);
        this.capacity = Math.max(this.capacity, size);
        const buffer = this.shared ? new SharedArrayBuffer(this.capacity) : new ArrayBuffer(this.capacity);
        return new Uint8Array(buffer, 0, size);
      };
      const t0 = performance.now();
      // Workers read one shared copy instead of each receiving a clone.
      e = { key: this.next++, bytes: writeModel(model, { cache: this.cache, shared: this.shared, alloc }) };
      this.writeMs += performance.now() - t0;
      this.keys.set(model, e);
      this.written.push(model);
    }
    return e;
  }
}

// Splits rows into `parts` contiguous slices of about equal work (tokens squared
// approximates attention plus linear cost well enough for balance).
export function splitRows(rows: TokenizedRow[], parts: number): Array<[number, number]> {
  const cost = rows.map((r) => r.ids.length * (r.ids.length + 64));
  const total = cost.reduce((a, b) => a + b, 0);
  const out: Array<[number, number]> = [];
  let start = 0, acc = 0;
  for (let p = 0; p < parts; p++) {
    let end = start;
    const target = (total * (p + 1)) / parts;
    while (end < rows.length && (p === parts - 1 || acc + cost[end] / 2 <= target)) acc += cost[end++];
    out.push([start, end]);
    start = end;
  }
  return out;
}

class LocalEvaluator implements Evaluator {
  private bytes = new ModelBytes(false);
  private numLayers = 0;
  constructor(private shard: Shard, private planner: SnapshotPlanner, private numLabels: number) {}
  async setBase(model: Model, layer: number) {
    const plan = this.planner.plan(model, layer);
    this.bytes.base = model;
    const { key, bytes } = this.bytes.get(model, true);
    this.numLayers = model.config.numLayers;
    this.shard.setBase(bytes, key, plan);
  }
  async candidate(model: Model, layer: number, rows?: ArrayLike<number>) {
    this.planner.check(model, layer);
    const { key, bytes } = this.bytes.get(model, true);
    return this.shard.candidate(bytes, key, layer, this.numLabels, rows);
  }
  layerEvaluations() { return this.shard.layerEvaluations; }
  layersPerRow(layer: number) { return this.shard.layersPerRow(layer, this.numLayers); }
  async close() {}
}

class WorkerEvaluator implements Evaluator {
  private bytes = new ModelBytes(true);
  private nextId = 0;
  private pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private evals: number[];
  private busy: number[];

  private offsets: Float64Array; // [rows + 1] where each row's output starts in a full evaluation

  constructor(
    private workers: Worker[],
    private slices: Array<[number, number]>,
    private planner: SnapshotPlanner,
    private numLabels: number,
    private widths: Int32Array, // [rows] floats each row gives (tasks beyond classification vary)
  ) {
    this.offsets = new Float64Array(widths.length + 1);
    widths.forEach((w, i) => { this.offsets[i + 1] = this.offsets[i] + w; });
    this.evals = workers.map(() => 0);
    this.busy = workers.map(() => 0);
    workers.forEach((w, i) => {
      w.on("message", (reply: WorkerReply) => {
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.pending.delete(reply.id);
        if (reply.ok) { this.evals[i] = reply.layerEvaluations; this.busy[i] += reply.busyMs; }
        p.resolve(reply);
      });
      w.on("error", (e) => this.failAll(new Error(`evaluation worker ${i} failed: ${e.message}`)));
    });
  }

  private failAll(e: Error) {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private call(w: Worker, req: Omit<WorkerRequest, "id">): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ ...req, id });
    });
  }

  private async all(req: Omit<WorkerRequest, "id">): Promise<WorkerReply[]> {
    const replies = await Promise.all(this.workers.map((w) => this.call(w, req)));
    for (const r of replies) if (!r.ok) throw new Error(r.error);
    return replies;
  }

  async setBase(model: Model, layer: number) {
    const plan = this.planner.plan(model, layer);
    this.bytes.base = model;
    const { key, bytes } = this.bytes.get(model, this.pending.size === 0);
    await this.all({ op: "setBase", bytes, key, plan } as Omit<WorkerRequest, "id">);
  }

  async candidate(model: Model, layer: number, rows?: ArrayLike<number>) {
    this.planner.check(model, layer);
    const { key, bytes } = this.bytes.get(model, this.pending.size === 0);
    const C = this.numLabels;
    if (!rows) {
      const replies = await this.all({ op: "candidate", bytes, key, layer, numLabels: C } as Omit<WorkerRequest, "id">);
      const out = new Float32Array(this.offsets[this.offsets.length - 1]);
      replies.forEach((r, i) => { if (r.ok && r.logits) out.set(r.logits, this.offsets[this.slices[i][0]]); });
      return out;
    }
    // Each worker gets the listed rows of its slice (as slice-local indices); the
    // answers go back in the order of the list.
    const local = this.slices.map(() => [] as number[]);
    const at = this.slices.map(() => [] as number[]);
    for (let k = 0; k < rows.length; k++) {
      const w = this.slices.findIndex(([a, b]) => rows[k] >= a && rows[k] < b);
      local[w].push(rows[k] - this.slices[w][0]);
      at[w].push(k);
    }
    const start = new Float64Array(rows.length + 1); // where the k-th listed row's output goes
    for (let k = 0; k < rows.length; k++) start[k + 1] = start[k] + this.widths[rows[k]];
    const out = new Float32Array(start[rows.length]);
    const replies = await Promise.all(this.workers.map((w, i) => local[i].length === 0 ? null
      : this.call(w, { op: "candidate", bytes, key, layer, numLabels: C, rows: Int32Array.from(local[i]) } as Omit<WorkerRequest, "id">)));
    replies.forEach((r, i) => {
      if (r === null) return;
      if (!r.ok) throw new Error(r.error);
      let o = 0;
      at[i].forEach((k) => { const w = start[k + 1] - start[k]; out.set(r.logits!.subarray(o, o + w), start[k]); o += w; });
    });
    return out;
  }

  layersPerRow(layer: number) { return this.planner.layersPerRow(layer); }

  partOf(row: number) { return this.slices.findIndex(([a, b]) => row >= a && row < b); }

  layerEvaluations() { return this.evals.reduce((a, b) => a + b, 0); }

  usage() { return { workerMs: [...this.busy], writeMs: this.bytes.writeMs }; }

  async close() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export async function createEvaluator(rows: TokenizedRow[], opts: PoolOptions, engine?: RuntimeEngine): Promise<Evaluator> {
  const workers = Math.max(1, Math.min(opts.workers, rows.length));
  if (workers === 1) {
    const eng = engine ?? (await loadEngine());
    return new LocalEvaluator(new Shard(eng, rows), new SnapshotPlanner(maxSnapshots(rows, opts)), opts.numLabels);
  }
  const slices = splitRows(rows, workers);
  const started = slices.map(([a, b]) => {
    const init: WorkerInit = { rows: rows.slice(a, b) };
    // Compiled (dist/*.js), the worker is plain JS; from the sources it needs tsx's loader (worker-entry.mjs).
    const entry = import.meta.url.endsWith(".js") ? "./worker.js" : "./worker-entry.mjs";
    const w = new Worker(new URL(entry, import.meta.url), { workerData: init });
    return new Promise<Worker>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (m && m.ready) { w.off("message", onMessage); w.off("error", onError); resolve(w); }
      };
      const onError = (e: Error) => reject(new Error(`evaluation worker failed to start: ${e.message}`));
      w.on("message", onMessage);
      w.on("error", onError);
    });
  });
  const ready = await Promise.allSettled(started);
  const ok = ready.filter((r): r is PromiseFulfilledResult<Worker> => r.status === "fulfilled").map((r) => r.value);
  const bad = ready.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (bad) {
    await Promise.all(ok.map((w) => w.terminate()));
    throw bad.reason;
  }
  const widths = Int32Array.from(rows, (r) => r.width ?? opts.numLabels);
  return new WorkerEvaluator(ok, slices, new SnapshotPlanner(maxSnapshots(rows, opts)), opts.numLabels, widths);
}
