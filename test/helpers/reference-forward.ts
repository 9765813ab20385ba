// A plain f64 implementation of the forward pass over the in-memory Model, for
// testing the wasm engine: same math as assembly/encoder/forward.ts, written the obvious
// way (no blocking, no SIMD, no selection tricks), including the AxFormer
// variants: removed blocks (LayerNorm only), fewer heads, narrower FFN and
// top-K hard attention. Weights are used exactly as the Model holds them; a test
// of f16 or int8 storage rounds them first.
import type { Model, Tensor } from "../../host/model/model.ts";
import { layerPrefix } from "../../host/model/model.ts";

// erf in f64: erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
// a series of positive terms (no cancellation), accurate to ~1e-15 for |x| <= 6;
// beyond, erf = +-1 to double precision.
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  let term = a, sum = a;
  for (let n = 1; n < 500; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum);
}

export function gelu(x: number): number { return 0.5 * x * (1 + erf(x / Math.SQRT2)); }
export function geluTanh(x: number): number { return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))); }
export function relu(x: number): number { return x > 0 ? x : 0; }

// y[n, out] = x[n, in] W[out, in]^T + b
export function linear(x: ArrayLike<number>, n: number, w: Tensor, b: Tensor | null): Float64Array {
  const [out, inDim] = w.shape;
  const y = new Float64Array(n * out);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < out; r++) {
      let s = b ? b.data[r] : 0;
      for (let k = 0; k < inDim; k++) s += x[t * inDim + k] * w.data[r * inDim + k];
      y[t * out + r] = s;
    }
  }
  return y;
}

// Rows of h: (x - mean) / sqrt(var + eps) * gamma + beta, biased variance.
export function layerNorm(x: Float64Array, n: number, h: number, g: Tensor, b: Tensor, eps: number): Float64Array {
  const y = new Float64Array(n * h);
  for (let t = 0; t < n; t++) {
    let mean = 0;
    for (let c = 0; c < h; c++) mean += x[t * h + c];
    mean /= h;
    let v = 0;
    for (let c = 0; c < h; c++) v += (x[t * h + c] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / h + eps);
    for (let c = 0; c < h; c++) y[t * h + c] = (x[t * h + c] - mean) * rstd * g.data[c] + b.data[c];
  }
  return y;
}

export function softmax(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
}

// Keep the k largest of p (ties to the lower index), zero the rest; no renormalisation.
export function hardTopK(p: Float64Array, k: number): Float64Array {
  if (k <= 0 || p.length <= k) return p;
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  const out = new Float64Array(p.length);
  for (const j of order.slice(0, k)) out[j] = p[j];
  return out;
}

function tensor(model: Model, name: string): Tensor {
  const t = model.tensors.get(name);
  if (!t) throw new Error(`reference forward: model has no tensor '${name}'`);
  return t;
}

// Position ids: 0..n), or RoBERTa's create_position_ids_from_input_ids (positionOffset =
// padding_idx + 1): padding_idx for a padding token, else padding_idx + the number of
// non-padding tokens up to and including it (fairseq's make_positions, as cumsum).
export function positionIds(model: Model, ids: ArrayLike<number>): number[] {
  const offset = model.config.positionOffset ?? 0;
  const pad = offset - 1;
  const mask = Array.from(ids, (id) => (offset && id === pad ? 0 : 1));
  const cumsum = mask.map(((s) => (m: number) => (s += m))(0));
  return offset ? cumsum.map((c, t) => c * mask[t] + pad) : mask.map((_, t) => t);
}

// The hidden state entering layer 0: LayerNorm(word + token_type + position), of
// width E (ELECTRA's embedding_size, else H), then ELECTRA's embeddings_project.
export function referenceEmbed(model: Model, ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float64Array {
  const c = model.config;
  const E = c.embeddingSize || c.hiddenSize, n = ids.length;
  const word = tensor(model, "embeddings.word_embeddings.weight");
  const pos = tensor(model, "embeddings.position_embeddings.weight");
  const type = c.typeVocabSize > 0 ? tensor(model, "embeddings.token_type_embeddings.weight") : null;
  const positions = positionIds(model, ids);
  const x = new Float64Array(n * E);
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < E; k++) {
      let v = word.data[ids[t] * E + k] + pos.data[positions[t] * E + k];
      if (type) v += type.data[(typeIds ? typeIds[t] : 0) * E + k];
      x[t * E + k] = v;
    }
  }
  const y = layerNorm(x, n, E, tensor(model, "embeddings.LayerNorm.weight"), tensor(model, "embeddings.LayerNorm.bias"), c.layerNormEps);
  return c.embeddingSize ? linear(y, n, tensor(model, "embeddings_project.weight"), tensor(model, "embeddings_project.bias")) : y;
}

// Layers [from, to) on hidden[n, H].
export function referenceLayers(model: Model, hidden: ArrayLike<number>, n: number, from: number, to: number): Float64Array {
  const c = model.config;
  const H = c.hiddenSize, D = c.headDim, eps = c.layerNormEps;
  let x: Float64Array = Float64Array.from(hidden);
  for (let i = from; i < to; i++) {
    const l = model.layers[i];
    const p = layerPrefix(i);
    const t = (name: string) => tensor(model, p + name);
    if (l.hasAttention) {
      const h = l.heads.length;
      const q = linear(x, n, t("attention.self.query.weight"), t("attention.self.query.bias"));
      const k = linear(x, n, t("attention.self.key.weight"), t("attention.self.key.bias"));
      const v = linear(x, n, t("attention.self.value.weight"), t("attention.self.value.bias"));
      const ctx = new Float64Array(n * h * D);
      for (let hd = 0; hd < h; hd++) {
        for (let a = 0; a < n; a++) {
          const s = new Float64Array(n);
          for (let b = 0; b < n; b++) {
            let d = 0;
            for (let e = 0; e < D; e++) d += q[a * h * D + hd * D + e] * k[b * h * D + hd * D + e];
            s[b] = d / Math.sqrt(D);
          }
          const pr = hardTopK(softmax(s), l.hardK);
          for (let b = 0; b < n; b++) {
            for (let e = 0; e < D; e++) ctx[a * h * D + hd * D + e] += pr[b] * v[b * h * D + hd * D + e];
          }
        }
      }
      const o = linear(ctx, n, t("attention.output.dense.weight"), t("attention.output.dense.bias"));
      x = layerNorm(x.map((v, j) => v + o[j]), n, H, t("attention.output.LayerNorm.weight"), t("attention.output.LayerNorm.bias"), eps);
    } else {
      x = layerNorm(x, n, H, t("attention.output.LayerNorm.weight"), t("attention.output.LayerNorm.bias"), eps);
    }
    if (l.hasFfn) {
      const act = c.hiddenAct === "gelu" ? gelu : c.hiddenAct === "relu" ? relu : geluTanh;
      const f = linear(x, n, t("intermediate.dense.weight"), t("intermediate.dense.bias")).map(act);
      const o = linear(f, n, t("output.dense.weight"), t("output.dense.bias"));
      x = layerNorm(x.map((v, j) => v + o[j]), n, H, t("output.LayerNorm.weight"), t("output.LayerNorm.bias"), eps);
    } else {
      x = layerNorm(x, n, H, t("output.LayerNorm.weight"), t("output.LayerNorm.bias"), eps);
    }
  }
  return x;
}

// Logits from the [CLS] row: pooler (dense + tanh) and/or pre_classifier (dense + ReLU), classifier.
export function referenceHead(model: Model, hidden: ArrayLike<number>): Float64Array {
  const c = model.config;
  let x: Float64Array = Float64Array.from(Array.prototype.slice.call(hidden, 0, c.hiddenSize) as number[]);
  if (c.hasPooler) x = linear(x, 1, tensor(model, "pooler.dense.weight"), tensor(model, "pooler.dense.bias")).map(Math.tanh);
  const headAct = c.headAct === undefined ? relu : c.headAct === "gelu" ? gelu : c.headAct === "relu" ? relu : geluTanh;
  if (c.hasPreClassifier) x = linear(x, 1, tensor(model, "pre_classifier.weight"), tensor(model, "pre_classifier.bias")).map(headAct);
  return linear(x, 1, tensor(model, "classifier.weight"), tensor(model, "classifier.bias"));
}

export function referenceForward(model: Model, ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float64Array {
  const h = referenceEmbed(model, ids, typeIds);
  return referenceHead(model, referenceLayers(model, h, ids.length, 0, model.config.numLayers));
}
