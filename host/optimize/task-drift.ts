// Sentence embeddings without labels for the search: how far a candidate's embeddings
// drift from the original model's.
//
// Loss of a text: 1 - cos(candidate embedding, original embedding) (float32, as
// task-pairs.ts computes cosines). Metric: the mean cosine x 100, so the original model
// scores 100 and `--max-drop 2` keeps every change whose texts stay at a mean cosine of
// at least 0.98 to their original embeddings.
//
// Only the budget mode makes sense here, and the strict test is refused: with no task
// labels, "more accurate" has no meaning. Concretely the original model's loss is 0 on
// every text (its embedding is its own reference), so Lmin = 0 and no candidate can have
// a mean loss below it: the strict test would reject every change. What can be bounded
// is the size of the deviation, which is what the budget does.

import { cosine } from "./task-pairs.ts";
import type { LossPrecision } from "./metrics.ts";

const f = Math.fround;

export const DRIFT_STRICT_REFUSAL =
  "embeddings without labels can only be optimized with an accuracy budget (--max-drop, in points of mean cosine x 100): " +
  "the original model's loss 1 - cos(original, original) is 0 on every text, so the strict test's L < Lmin can never hold " +
  "and, with no labels, \"more accurate\" has no meaning; give scored pairs (sentence1, sentence2, score) for the strict test";

export function driftLoss(candidate: ArrayLike<number>, original: ArrayLike<number>, precision: LossPrecision): number {
  const c = cosine(candidate, original);
  return precision === "f64" ? 1 - c : f(1 - f(c));
}

// Mean cosine of the texts, a fraction (x 100 for points); `losses` are driftLoss values.
export function meanCosine(losses: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < losses.length; i++) s += 1 - losses[i];
  return s / losses.length;
}
