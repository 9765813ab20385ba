// One wasm engine evaluating a fixed slice of the val rows, one sequence at a time
// (no padding, so a row's logits depend on that row alone). Runs in the main
// thread (one worker) or inside a worker thread (worker.ts).
//
// Hidden-state reuse: a candidate changed at layer i has the same layers below i as
// the accepted model, so the states entering layer i are computed once per layer
// with the accepted model (setBase) and every candidate at that layer runs only
// layers [i, L) and the head.

export interface TokenizedRow {
  ids: Int32Array;     // [n] token ids
  typeIds: Int32Array; // [n] token type ids
}

// The part of host/runtime's LoadedModel the optimizer uses.
export interface RuntimeModel {
  numLayers: number;
  hiddenSize: number;
  labels: string[];
  tokenize(text: string, pair?: string, maxLen?: number): { inputIds: ArrayLike<number>; tokenTypeIds: ArrayLike<number> };
  logits(ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float32Array;
  embed(ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float32Array;          // [n * H]
  runLayers(hidden: Float32Array, n: number, from: number, to: number): Float32Array; // [n * H]
  runHead(hidden: Float32Array, n: number): Float32Array;                            // [C]
}

export interface RuntimeEngine {
  loadModel(bytes: Uint8Array): RuntimeModel;
}

export class Shard {
  private model: RuntimeModel | null = null;
  private loadedKey = -1;
  private cache: Float32Array[] | null = null; // per row [n * H], the states entering `cacheLayer`
  private cacheLayer = -1;
  layerEvaluations = 0; // rows x layers actually run

  // cacheBytes: the most this shard may hold in cached states; past it, every
  // candidate recomputes from the embeddings (same results, slower).
  constructor(
    private engine: RuntimeEngine,
    private rows: TokenizedRow[],
    private hiddenSize: number,
    private cacheBytes: number,
  ) {}

  private load(bytes: Uint8Array, key: number): RuntimeModel {
    if (this.model === null || this.loadedKey !== key) {
      this.model = this.engine.loadModel(bytes);
      this.loadedKey = key;
    }
    return this.model;
  }

  private cacheFits(H: number): boolean {
    let bytes = 0;
    for (const r of this.rows) bytes += r.ids.length * H * 4;
    return bytes <= this.cacheBytes;
  }

  // Makes the cache hold the states entering `layer` under this (accepted) model.
  // The caller guarantees that layers below the currently cached layer have not
  // changed since the cache was made, which holds because the search only accepts
  // changes at the layer whose states are cached.
  setBase(bytes: Uint8Array, key: number, layer: number): void {
    if (!this.cacheFits(this.hiddenSize)) {
      this.cache = null;
      this.cacheLayer = -1;
      return;
    }
    const resume = this.cache !== null && this.cacheLayer <= layer;
    const from = resume ? this.cacheLayer : 0;
    if (resume && from === layer) return; // nothing below `layer` changed
    const m = this.load(bytes, key);
    const cache = resume ? this.cache! : new Array<Float32Array>(this.rows.length);
    for (let r = 0; r < this.rows.length; r++) {
      const { ids, typeIds } = this.rows[r];
      const h = resume ? cache[r] : m.embed(ids, typeIds);
      cache[r] = from < layer ? m.runLayers(h, ids.length, from, layer) : h;
    }
    this.layerEvaluations += this.rows.length * (layer - from);
    this.cache = cache;
    this.cacheLayer = layer;
  }

  // Logits of every row, [rows * C], for a candidate that differs from the base
  // only at layers >= `layer`.
  candidate(bytes: Uint8Array, key: number, layer: number, numLabels: number): Float32Array {
    const m = this.load(bytes, key);
    const L = m.numLayers;
    const useCache = this.cache !== null && this.cacheLayer === layer;
    const from = useCache ? layer : 0;
    const out = new Float32Array(this.rows.length * numLabels);
    for (let r = 0; r < this.rows.length; r++) {
      const { ids, typeIds } = this.rows[r];
      const h = useCache ? this.cache![r] : m.embed(ids, typeIds);
      const logits = m.runHead(from < L ? m.runLayers(h, ids.length, from, L) : h, ids.length);
      out.set(logits.subarray(0, numLabels), r * numLabels);
    }
    this.layerEvaluations += this.rows.length * (L - from);
    return out;
  }
}
