// Sentence embeddings with scored pairs (STS-B style) for the search: the per-pair loss
// and the Spearman metric.
//
// Loss of a pair: (cos(u, v) - score / 5)^2, sentence-transformers' CosineSimilarityLoss
// (its default loss_fct is MSELoss) with the 0..5 scores scaled to 0..1 as its STS-B
// training script does. u and v are the model's sentence embeddings (after its pooling
// and, when it has one, its normalisation). The cosine is computed in float64 from the
// float32 embeddings and rounded to float32; the difference and its square are float32,
// as F.mse_loss computes them. PyTorch's own cosine_similarity sums the H products in
// vector lanes, so its last bit can differ from ours: this loss is not a cross-entropy
// and is not emulated bit for bit (docs/optimizer.md).
//
// Metric: Spearman's rank correlation of cos(u, v) with the scores (ties get their average
// rank, as scipy.stats.spearmanr), what sentence-transformers' EmbeddingSimilarityEvaluator
// reports for STS-B.

import { spearman, type LossPrecision } from "./metrics.ts";

const f = Math.fround;

export function cosine(u: ArrayLike<number>, v: ArrayLike<number>): number {
  if (u.length !== v.length) throw new Error(`cosine: vectors of ${u.length} and ${v.length} values`);
  let uv = 0, uu = 0, vv = 0;
  for (let i = 0; i < u.length; i++) { uv += u[i] * v[i]; uu += u[i] * u[i]; vv += v[i] * v[i]; }
  // torch.cosine_similarity's eps (1e-8) keeps a zero vector from dividing by zero
  return uv / Math.max(Math.sqrt(uu * vv), 1e-8);
}

export function pairLoss(cos: number, score: number, precision: LossPrecision): number {
  if (precision === "f64") { const d = cos - score / 5; return d * d; }
  const d = f(f(cos) - f(f(score) / 5));
  return f(d * d);
}

// Spearman of the pairs' cosines with their scores, a fraction (x 100 for points).
export function pairSpearman(cosines: ArrayLike<number>, scores: ArrayLike<number>): number {
  if (cosines.length !== scores.length) throw new Error(`Spearman: ${cosines.length} cosines for ${scores.length} scores`);
  return spearman(cosines, scores);
}
