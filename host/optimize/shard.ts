// One wasm engine evaluating a fixed slice of the val rows, one sequence at a time
// (no padding, so a row's logits depend on that row alone). Runs in the main
// thread (one worker) or inside a worker thread (worker.ts).
//
// Hidden-state reuse: a candidate changed at layer i has the same layers below i as
// the accepted model, so the states entering layer i are computed once with the
// accepted model (a snapshot) and every candidate at that layer runs only layers
// [i, L) and the head. Which snapshots exist, and which one a new one starts from,
// is decided by the evaluator (evaluator.ts), the same way for every shard.

export interface TokenizedRow {
  ids: Int32Array;     // [n] token ids
  typeIds: Int32Array; // [n] token type ids
  width?: number;      // floats of the head's output this row gives (default: the label count); tasks
                       // beyond classification: n x C token logits, 2n span logits, E embedding floats
}

// The part of host/runtime's LoadedModel the optimizer uses.
export interface RuntimeModel {
  numLayers: number;
  task?: string;       // what the head computes (host/runtime's LoadedModel.task)
  tokenize(text: string, pair?: string, maxLen?: number): { inputIds: ArrayLike<number>; tokenTypeIds: ArrayLike<number> };
  logits(ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float32Array;
  embedTokens(ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float32Array;    // [n * H]
  runLayers(hidden: Float32Array, n: number, from: number, to: number): Float32Array; // [n * H], a new array
  runToHead(hidden: Float32Array, n: number, from: number): Float32Array;            // runHead(runLayers(.., from, L)), as forward runs it
}

export interface RuntimeEngine {
  loadModel(bytes: Uint8Array): RuntimeModel;
}

// Snapshot instructions, computed by the evaluator.
export interface SnapshotPlan {
  layer: number;   // make (or reuse) the snapshot of the states entering this layer
  from: number;    // start from this layer's snapshot; -1: from the embeddings; == layer: reuse as is
  drop: number[];  // snapshots to free first
  keep: boolean;   // false: the cache budget is spent, do not store this one (candidates recompute)
}

export class Shard {
  private model: RuntimeModel | null = null;
  private loadedKey = -1;
  private snaps = new Map<number, Float32Array[]>(); // layer -> per row [n * H], the states entering it
  layerEvaluations = 0; // rows x layers actually run (a classifier's last layer counts as one, though
                        // it computes only the [CLS] row's output: encoder/forward.ts runToHead)

  constructor(private engine: RuntimeEngine, private rows: TokenizedRow[]) {}

  private load(bytes: Uint8Array, key: number): RuntimeModel {
    if (this.model === null || this.loadedKey !== key) {
      this.model = this.engine.loadModel(bytes);
      this.loadedKey = key;
    }
    return this.model;
  }

  setBase(bytes: Uint8Array, key: number, plan: SnapshotPlan): void {
    // The snapshot we start from may be in `drop` too (no room for both): free it last.
    for (const j of plan.drop) if (j !== plan.from) this.snaps.delete(j);
    if (plan.keep && plan.from !== plan.layer) {
      const m = this.load(bytes, key);
      const src = plan.from >= 0 ? this.snaps.get(plan.from)! : null;
      const start = Math.max(plan.from, 0);
      const states = this.rows.map(({ ids, typeIds }, r) => {
        const h = src ? src[r] : m.embedTokens(ids, typeIds);
        return start < plan.layer ? m.runLayers(h, ids.length, start, plan.layer) : h;
      });
      this.layerEvaluations += this.rows.length * (plan.layer - start);
      this.snaps.set(plan.layer, states);
    }
    if (plan.drop.includes(plan.from) && plan.from !== plan.layer) this.snaps.delete(plan.from);
  }

  // Logits [rows * C] of a model that matches the snapshot's base below `layer`
  // (from the embeddings when there is no snapshot): of every row of the shard, or
  // of the listed ones (shard-local indices) in that order. A row with a `width`
  // gives that many floats instead of C.
  candidate(bytes: Uint8Array, key: number, layer: number, numLabels: number, which?: ArrayLike<number>): Float32Array {
    const m = this.load(bytes, key);
    const L = m.numLayers;
    const snap = this.snaps.get(layer);
    const from = snap ? layer : 0;
    const count = which ? which.length : this.rows.length;
    let size = 0;
    for (let k = 0; k < count; k++) size += this.rows[which ? which[k] : k].width ?? numLabels;
    const out = new Float32Array(size);
    for (let k = 0, o = 0; k < count; k++) {
      const r = which ? which[k] : k;
      const { ids, typeIds, width = numLabels } = this.rows[r];
      const h = snap ? snap[r] : m.embedTokens(ids, typeIds);
      const logits = m.runToHead(h, ids.length, from);
      if (logits.length < width) throw new Error(`internal: the head gave ${logits.length} values, the row expects ${width}`);
      out.set(logits.subarray(0, width), o);
      o += width;
    }
    this.layerEvaluations += count * (L - from);
    return out;
  }

  // Layers a candidate at `layer` runs per row (all of them without a snapshot).
  layersPerRow(layer: number, numLayers: number): number {
    return this.snaps.has(layer) ? numLayers - layer : numLayers;
  }
}
