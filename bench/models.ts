// The three model shapes of the bench, their random weights, their inputs and
// their forward-pass FLOPs.
import type { Model } from "../host/model/model.ts";
import { randomModel } from "../test/helpers/random-model.ts";

export interface Shape {
  name: string;
  layers: number;       // L
  hidden: number;       // H
  heads: number;        // A
  intermediate: number; // F
  // RoBERTa (roberta-base as released): vocabulary 50265, max_position 514, one token
  // type, positions from padding_idx + 1 = 2; run at `seqs` only.
  roberta?: { seqs: number[] };
}

export const VOCAB_SIZE = 30522, MAX_POSITION = 512, NUM_LABELS = 2;

export const SHAPES: Shape[] = [
  { name: "bert-tiny (L2-H128-A2-F512)", layers: 2, hidden: 128, heads: 2, intermediate: 512 },
  { name: "MiniLM (L6-H384-A12-F1536)", layers: 6, hidden: 384, heads: 12, intermediate: 1536 },
  { name: "bert-base (L12-H768-A12-F3072)", layers: 12, hidden: 768, heads: 12, intermediate: 3072 },
  { name: "roberta-base (L12-H768-A12-F3072, V50265)", layers: 12, hidden: 768, heads: 12, intermediate: 3072, roberta: { seqs: [128] } },
];

export const ROBERTA = { vocab: 50265, maxPosition: 514, paddingIdx: 1 };

// A BERT classifier with uniform random weights (randomModel's scheme: unit-variance
// activations), the vocabulary padded with made-up words to VOCAB_SIZE.
export function buildModel(s: Shape, seed = 1): Model {
  const words = Array.from({ length: (s.roberta ? ROBERTA.vocab : VOCAB_SIZE) - 5 }, (_, i) => `w${i}`);
  const m = randomModel({
    seed, hiddenSize: s.hidden, numHeads: s.heads, numLayers: s.layers, intermediateSize: s.intermediate,
    maxPosition: s.roberta ? ROBERTA.maxPosition : MAX_POSITION, numLabels: NUM_LABELS, words, arch: s.roberta ? "roberta" : "bert",
  });
  if (!s.roberta) return m;
  // roberta-base's padding_idx 1 (randomModel's is 0): positions 2..513, max_len 512.
  const c = m.config;
  return { ...m, config: { ...c, positionOffset: ROBERTA.paddingIdx + 1, layerNormEps: 1e-5, tokenizer: { ...c.tokenizer, maxLen: 512 } } };
}

export { asInt8 } from "../host/model/model.ts";

// A sentence pair of n tokens: [CLS] a [SEP] b [SEP] with fixed pseudo-random
// word ids, type ids 0 then 1 (so the token-type embedding is exercised).
// RoBERTa (oneType): one token type, all 0; the ids avoid 0..4 (its pad is 1).
export function inputs(n: number, seed = 12345, oneType = false): { ids: Int32Array; typeIds: Int32Array } {
  const ids = new Int32Array(n), typeIds = new Int32Array(n);
  let s = seed >>> 0;
  const half = n >> 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids[i] = 5 + (s % (VOCAB_SIZE - 5));
    typeIds[i] = i < half || oneType ? 0 : 1;
  }
  ids[0] = 2;               // [CLS]
  ids[n - 1] = 3;           // [SEP]
  if (n > 2) ids[half - 1] = 3;
  return { ids, typeIds };
}

// Multiply-add FLOPs of one forward pass over n tokens (2 per multiply-add):
// per layer Q, K, V and output projections 8nH^2, FFN 4nHF, scores and context
// 4n^2H; pooler and classifier on [CLS]. Embedding sums, LayerNorm, softmax and
// GELU are not counted (a few percent at most).
export function forwardFlops(s: Shape, n: number): number {
  const { hidden: H, intermediate: F, layers: L } = s;
  const perLayer = 8 * n * H * H + 4 * n * H * F + 4 * n * n * H;
  return L * perLayer + 2 * H * H + 2 * H * NUM_LABELS;
}

// Bytes of the linear weights one forward pass streams from memory (every layer's
// Q, K, V, output, FFN in and out; the pooler and classifier), at bytesPerWeight
// (4: f32; 1: int8, plus one f32 scale per row). Embedding rows are gathered, not
// streamed, and are left out.
export function linearWeightBytes(s: Shape, bytesPerWeight: number): number {
  const { hidden: H, intermediate: F, layers: L } = s;
  const matrix = (rows: number, cols: number) => rows * cols * bytesPerWeight + (bytesPerWeight === 1 ? 4 * rows : 0);
  return L * (4 * matrix(H, H) + matrix(F, H) + matrix(H, F)) + matrix(H, H) + matrix(NUM_LABELS, H);
}
