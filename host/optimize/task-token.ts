// Token classification (NER, PII tagging) for the search: the per-row loss and the
// entity F1 metric.
//
// Loss of a row: the mean token cross-entropy over its labelled tokens, as Hugging Face's
// BertForTokenClassification computes it (CrossEntropyLoss, ignore_index -100) on that
// row alone: F.cross_entropy(logits [n, C], labels [n], ignore_index=-100), float32 as
// PyTorch computes it (loss-f32.ts). Which tokens carry a label is the data's business:
// like Hugging Face's run_ner example, only the first sub-token of each word is labelled
// (task-token-data.ts), the others and the special tokens are -100.
//
// Metric: seqeval's entity-level micro F1 in its default mode (IOB2 read leniently, as
// seqeval's get_entities does: an I- after O or after another type starts an entity),
// over the words' tags, the prediction of a word being that of its first sub-token.

import { crossEntropy } from "./metrics.ts";
import { crossEntropyF32, meanNllF32 } from "./loss-f32.ts";
import type { LossPrecision } from "./metrics.ts";

export const IGNORE = -100;

// logits: [n * C] of one row (n tokens); labels: [n] class index or -100. A row with no
// labelled token has loss 0 (PyTorch gives NaN: 0 / 0); the data reader refuses such rows.
export function tokenRowLoss(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number, precision: LossPrecision): number {
  const n = labels.length;
  if (logits.length < n * C) throw new Error(`expected ${n * C} token logits, got ${logits.length}`);
  if (precision === "f64") {
    let s = 0, k = 0;
    for (let t = 0; t < n; t++) if (labels[t] !== IGNORE) { s += crossEntropy(logits as Float32Array, t * C, C, labels[t]); k++; }
    return k === 0 ? 0 : s / k;
  }
  const nll: number[] = [];
  const pos: number[] = [];
  for (let t = 0; t < n; t++) {
    if (labels[t] === IGNORE) continue;
    nll.push(crossEntropyF32(logits, t * C, C, labels[t]));
    pos.push(t);
  }
  return nll.length === 0 ? 0 : meanNllF32(nll, pos, n);
}

// The predicted class of each labelled token (argmax, first on ties), in token order.
export function tokenPredictions(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < labels.length; t++) {
    if (labels[t] === IGNORE) continue;
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[t * C + c] > logits[t * C + best]) best = c;
    out.push(best);
  }
  return out;
}

export interface Entity { type: string; start: number; end: number } // words [start, end], inclusive

// seqeval.metrics.sequence_labeling.get_entities (prefix mode): a tag is "B-PER", "I-PER",
// "E-", "S-", or "O"; a tag without a known prefix letter is read as seqeval does (its
// first character is the prefix, the rest after "-" the type).
export function entities(tags: readonly string[]): Entity[] {
  const out: Entity[] = [];
  let prevTag = "O", prevType = "", begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const chunk = i < tags.length ? tags[i] : "O";
    const tag = chunk.slice(0, 1);
    const rest = chunk.slice(1);
    const dash = rest.indexOf("-");
    const type = (dash < 0 ? rest : rest.slice(dash + 1)) || "_";
    if (endOfChunk(prevTag, tag, prevType, type)) out.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return out;
}

function endOfChunk(prev: string, tag: string, prevType: string, type: string): boolean {
  if (prev === "E" || prev === "S") return true;
  if ((prev === "B" || prev === "I") && (tag === "B" || tag === "S" || tag === "O")) return true;
  return prev !== "O" && prev !== "." && prevType !== type;
}

function startOfChunk(prev: string, tag: string, prevType: string, type: string): boolean {
  if (tag === "B" || tag === "S") return true;
  if ((prev === "E" || prev === "S" || prev === "O") && (tag === "E" || tag === "I")) return true;
  return tag !== "O" && tag !== "." && prevType !== type;
}

// seqeval's f1_score(y_true, y_pred) (average "micro", default mode): entities of every
// sentence pooled; F1 = 2 TP / (|true| + |pred|), 0 when there is no entity on either side.
export function entityF1(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): { f1: number; precision: number; recall: number } {
  if (gold.length !== pred.length) throw new Error(`entity F1: ${gold.length} gold sentences, ${pred.length} predicted`);
  let tp = 0, nTrue = 0, nPred = 0;
  for (let s = 0; s < gold.length; s++) {
    if (gold[s].length !== pred[s].length) throw new Error(`entity F1: sentence ${s + 1} has ${gold[s].length} gold tags, ${pred[s].length} predicted`);
    const g = entities(gold[s]);
    const p = entities(pred[s]);
    const key = (e: Entity) => `${e.type}\u0000${e.start}\u0000${e.end}`;
    const set = new Set(g.map(key));
    for (const e of p) if (set.has(key(e))) tp++;
    nTrue += g.length;
    nPred += p.length;
  }
  const precision = nPred === 0 ? 0 : tp / nPred;
  const recall = nTrue === 0 ? 0 : tp / nTrue;
  return { f1: nTrue + nPred === 0 || tp === 0 ? 0 : (2 * tp) / (nTrue + nPred), precision, recall };
}
