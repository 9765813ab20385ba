// Extractive question answering for the search: the per-window loss and SQuAD v1.1's
// exact match and F1.
//
// Loss of a window: (CE(start) + CE(end)) / 2, as Hugging Face's BertForQuestionAnswering
// computes it for one window: the start and end logits over the window's tokens are two
// classifications, the gold start and end token their labels (a window that does not
// hold the answer points both at [CLS], index 0, as Hugging Face's run_qa example
// prepares training windows). float32 as PyTorch computes it (loss-f32.ts).
//
// Metric: the official SQuAD v1.1 evaluation script (evaluate-v1.1.py): each answer is
// normalised (lower case, punctuation removed, the articles a / an / the removed,
// whitespace collapsed); exact match and token F1 are each the maximum over the gold
// answers, averaged over questions, x 100.

import { crossEntropy, type LossPrecision } from "./metrics.ts";
import { crossEntropyF32 } from "./loss-f32.ts";

const f = Math.fround;

// start, end: [n] logits of one window; startPos, endPos: the gold token indices.
export function qaWindowLoss(start: ArrayLike<number>, end: ArrayLike<number>, startPos: number, endPos: number, precision: LossPrecision): number {
  const n = start.length;
  if (end.length !== n) throw new Error(`QA loss: ${n} start logits but ${end.length} end logits`);
  if (!(startPos >= 0 && startPos < n && endPos >= 0 && endPos < n)) throw new Error(`QA loss: gold span [${startPos}, ${endPos}] is outside the window of ${n} tokens`);
  if (precision === "f64") return (crossEntropy(start as Float32Array, 0, n, startPos) + crossEntropy(end as Float32Array, 0, n, endPos)) / 2;
  return f(f(crossEntropyF32(start, 0, n, startPos) + crossEntropyF32(end, 0, n, endPos)) / 2);
}

// string.punctuation of Python: the ASCII punctuation characters.
const PUNCT = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
// Python's re `\b(a|an|the)\b` on str: \w is a Unicode letter, digit or underscore.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

// evaluate-v1.1.py normalize_answer: white_space_fix(remove_articles(remove_punc(lower(s)))).
export function normalizeAnswer(s: string): string {
  let t = "";
  for (const ch of s.toLowerCase()) if (!PUNCT.has(ch)) t += ch;
  t = t.replace(ARTICLES, " ");
  return t.split(/\s+/u).filter((w) => w !== "").join(" ");
}

export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

// evaluate-v1.1.py f1_score: token overlap (a multiset) of the normalised answers.
export function tokenF1(prediction: string, gold: string): number {
  const p = normalizeAnswer(prediction).split(" ").filter((w) => w !== "");
  const g = normalizeAnswer(gold).split(" ").filter((w) => w !== "");
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) { same++; counts.set(w, c - 1); }
  }
  if (same === 0) return 0;
  const precision = same / p.length, recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

// evaluate-v1.1.py evaluate(): the maximum over each question's gold answers, then the
// mean over questions, x 100.
export function squadScores(predictions: readonly string[], golds: readonly (readonly string[])[]): { exact_match: number; f1: number } {
  if (predictions.length !== golds.length) throw new Error(`SQuAD scores: ${predictions.length} predictions for ${golds.length} questions`);
  let em = 0, f1 = 0;
  for (let i = 0; i < golds.length; i++) {
    if (golds[i].length === 0) throw new Error(`SQuAD scores: question ${i + 1} has no gold answer`);
    em += Math.max(...golds[i].map((g) => exactMatch(predictions[i], g)));
    f1 += Math.max(...golds[i].map((g) => tokenF1(predictions[i], g)));
  }
  const n = Math.max(golds.length, 1);
  return { exact_match: (100 * em) / n, f1: (100 * f1) / n };
}
