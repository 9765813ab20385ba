// The changes the search tries, as pure functions over the in-memory Model: each
// returns a new Model whose tensors physically lack the removed rows and columns,
// and whose LayerState says what is left (original indices). The input model is
// never modified; tensors that do not change are shared.
//
// H = hiddenSize, D = headDim, h = heads left in the layer, F = FFN neurons left.

import { layerPrefix, type LayerState, type Model, type Storage, type Tensor } from "../model/model.ts";

// AxFormer splits the FFN of every layer into 12 contiguous neuron groups.
export const FFN_GROUPS = 12;

// [start, end) of each group over the ORIGINAL width: the first (width mod 12)
// groups are one neuron larger (1024 -> four groups of 86, then eight of 85).
export function ffnGroupBounds(width: number): Array<[number, number]> {
  const base = Math.floor(width / FFN_GROUPS);
  const extra = width % FFN_GROUPS;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let g = 0; g < FFN_GROUPS; g++) {
    const size = base + (g < extra ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

// Original neuron indices of group g that layer `layer` still has.
export function ffnGroupRemaining(model: Model, layer: number, group: number): number[] {
  const [start, end] = ffnGroupBounds(model.config.intermediateSize)[group];
  return model.layers[layer].ffnNeurons.filter((j) => j >= start && j < end);
}

const ATTN_LINEARS = ["attention.self.query", "attention.self.key", "attention.self.value"];
const ATTN_OUT = "attention.output.dense";
const FFN_IN = "intermediate.dense";
const FFN_OUT = "output.dense";

function tensor(model: Model, name: string): Tensor {
  const t = model.tensors.get(name);
  if (!t) throw new Error(`model has no tensor ${name}`);
  return t;
}

// Keeps the rows of a [rows, cols] matrix (or entries of a [rows] vector) whose index is in `keep`.
function keepRows(t: Tensor, keep: number[]): Tensor {
  const cols = t.shape.length === 2 ? t.shape[1] : 1;
  const data = new Float32Array(keep.length * cols);
  keep.forEach((r, i) => data.set(t.data.subarray(r * cols, (r + 1) * cols), i * cols));
  return { shape: t.shape.length === 2 ? [keep.length, cols] : [keep.length], data, storage: t.storage };
}

// Keeps the columns of a [rows, cols] matrix whose index is in `keep`.
function keepCols(t: Tensor, keep: number[]): Tensor {
  const [rows, cols] = t.shape;
  const data = new Float32Array(rows * keep.length);
  for (let r = 0; r < rows; r++) {
    const src = r * cols, dst = r * keep.length;
    for (let i = 0; i < keep.length; i++) data[dst + i] = t.data[src + keep[i]];
  }
  return { shape: [rows, keep.length], data, storage: t.storage };
}

function withLayer(model: Model, layer: number, state: LayerState, tensors: Map<string, Tensor>): Model {
  const layers = model.layers.slice();
  layers[layer] = state;
  return { ...model, layers, tensors };
}

function checkLayer(model: Model, layer: number): LayerState {
  const st = model.layers[layer];
  if (!st) throw new Error(`layer ${layer} out of range (model has ${model.layers.length})`);
  return st;
}

// Removes one head: its D rows of Q, K and V (weights and biases) and its D columns
// of the output projection. The output projection's bias stays.
export function removeHead(model: Model, layer: number, originalHead: number): Model {
  const st = checkLayer(model, layer);
  if (!st.hasAttention) throw new Error(`layer ${layer} has no attention block`);
  const p = st.heads.indexOf(originalHead);
  if (p < 0) throw new Error(`head ${originalHead} of layer ${layer} is already removed`);
  const D = model.config.headDim;
  if (st.heads.length === 1) return zeroLastHead(model, layer);
  const keep: number[] = []; // rows of the [h * D, H] projections that stay
  for (let q = 0; q < st.heads.length; q++) if (q !== p) for (let d = 0; d < D; d++) keep.push(q * D + d);
  const pre = layerPrefix(layer);
  const tensors = new Map(model.tensors);
  for (const lin of ATTN_LINEARS) {
    tensors.set(`${pre}${lin}.weight`, keepRows(tensor(model, `${pre}${lin}.weight`), keep));
    tensors.set(`${pre}${lin}.bias`, keepRows(tensor(model, `${pre}${lin}.bias`), keep));
  }
  tensors.set(`${pre}${ATTN_OUT}.weight`, keepCols(tensor(model, `${pre}${ATTN_OUT}.weight`), keep));
  return withLayer(model, layer, { ...st, heads: st.heads.filter((h) => h !== originalHead) }, tensors);
}

// The file cannot hold an attention block with no heads (that is a removed block,
// LayerNorm(x), while a block with no heads computes LayerNorm(x + output bias)).
// One head with zero weights computes exactly the latter: its values and its output
// columns are 0, so the projection adds 0 to the bias.
function zeroLastHead(model: Model, layer: number): Model {
  const pre = layerPrefix(layer);
  const tensors = new Map(model.tensors);
  for (const name of [...ATTN_LINEARS.flatMap((l) => [`${l}.weight`, `${l}.bias`]), `${ATTN_OUT}.weight`]) {
    const t = tensor(model, pre + name);
    tensors.set(pre + name, { ...t, data: new Float32Array(t.data.length) });
  }
  return withLayer(model, layer, { ...model.layers[layer] }, tensors);
}

// Likewise for an FFN block with no neurons left: one neuron with zero weights and
// bias contributes act(0) * 0 = 0, leaving LayerNorm(x + output bias).
function zeroLastNeuron(model: Model, layer: number, neuron: number): Model {
  const pre = layerPrefix(layer);
  const st = model.layers[layer];
  const pos = st.ffnNeurons.indexOf(neuron);
  const tensors = new Map(model.tensors);
  const w1 = keepRows(tensor(model, `${pre}${FFN_IN}.weight`), [pos]);
  const b1 = keepRows(tensor(model, `${pre}${FFN_IN}.bias`), [pos]);
  const w2 = keepCols(tensor(model, `${pre}${FFN_OUT}.weight`), [pos]);
  for (const t of [w1, b1, w2]) t.data.fill(0);
  tensors.set(`${pre}${FFN_IN}.weight`, w1);
  tensors.set(`${pre}${FFN_IN}.bias`, b1);
  tensors.set(`${pre}${FFN_OUT}.weight`, w2);
  return withLayer(model, layer, { ...st, ffnNeurons: [neuron] }, tensors);
}

// Removes what is left of FFN group g (groups over the original width): its rows and
// bias entries of the first dense, its columns of the second.
export function removeFfnGroup(model: Model, layer: number, group: number): Model {
  const st = checkLayer(model, layer);
  if (!st.hasFfn) throw new Error(`layer ${layer} has no FFN block`);
  if (group < 0 || group >= FFN_GROUPS) throw new Error(`FFN group ${group} out of range 0..${FFN_GROUPS - 1}`);
  const gone = new Set(ffnGroupRemaining(model, layer, group));
  if (gone.size === 0) throw new Error(`FFN group ${group} of layer ${layer} is already removed`);
  if (gone.size === st.ffnNeurons.length) return zeroLastNeuron(model, layer, st.ffnNeurons[0]);
  const keep: number[] = []; // positions in the current [F, H] / [H, F] tensors that stay
  st.ffnNeurons.forEach((j, pos) => { if (!gone.has(j)) keep.push(pos); });
  const pre = layerPrefix(layer);
  const tensors = new Map(model.tensors);
  tensors.set(`${pre}${FFN_IN}.weight`, keepRows(tensor(model, `${pre}${FFN_IN}.weight`), keep));
  tensors.set(`${pre}${FFN_IN}.bias`, keepRows(tensor(model, `${pre}${FFN_IN}.bias`), keep));
  tensors.set(`${pre}${FFN_OUT}.weight`, keepCols(tensor(model, `${pre}${FFN_OUT}.weight`), keep));
  return withLayer(model, layer, { ...st, ffnNeurons: st.ffnNeurons.filter((j) => !gone.has(j)) }, tensors);
}

// The attention sub-layer becomes LayerNorm(x) with its own LayerNorm: the
// projections go, the LayerNorm stays. Hard attention has nothing left to act on.
export function removeAttentionBlock(model: Model, layer: number): Model {
  const st = checkLayer(model, layer);
  if (!st.hasAttention) throw new Error(`layer ${layer} has no attention block`);
  const pre = layerPrefix(layer);
  const tensors = new Map(model.tensors);
  for (const lin of [...ATTN_LINEARS, ATTN_OUT]) {
    tensors.delete(`${pre}${lin}.weight`);
    tensors.delete(`${pre}${lin}.bias`);
  }
  return withLayer(model, layer, { ...st, hasAttention: false, heads: [], hardK: 0 }, tensors);
}

// The FFN sub-layer becomes LayerNorm(x) with its own LayerNorm.
export function removeFfnBlock(model: Model, layer: number): Model {
  const st = checkLayer(model, layer);
  if (!st.hasFfn) throw new Error(`layer ${layer} has no FFN block`);
  const pre = layerPrefix(layer);
  const tensors = new Map(model.tensors);
  for (const lin of [FFN_IN, FFN_OUT]) {
    tensors.delete(`${pre}${lin}.weight`);
    tensors.delete(`${pre}${lin}.bias`);
  }
  return withLayer(model, layer, { ...st, hasFfn: false, ffnNeurons: [] }, tensors);
}

// K = 0 is dense softmax attention.
export function setHardK(model: Model, layer: number, k: number): Model {
  const st = checkLayer(model, layer);
  if (!Number.isInteger(k) || k < 0) throw new Error(`hard attention K must be a non-negative integer, got ${k}`);
  if (k > 0 && !st.hasAttention) throw new Error(`layer ${layer} has no attention block for hard attention`);
  return withLayer(model, layer, { ...st, hardK: k }, model.tensors);
}

// How the writer stores the layer's weight matrices (ours, beyond the paper: int8
// per layer when the test accepts it). The f32 values stay; the writer quantizes,
// and the runtime evaluates the quantized file.
export function setLayerStorage(model: Model, layer: number, storage: Storage): Model {
  const st = checkLayer(model, layer);
  const pre = layerPrefix(layer);
  const tensors = new Map(model.tensors);
  for (const [name, t] of model.tensors) {
    if (name.startsWith(pre) && name.endsWith(".weight") && t.shape.length === 2) tensors.set(name, { ...t, storage });
  }
  return withLayer(model, layer, { ...st }, tensors);
}
