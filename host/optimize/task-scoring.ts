// The tasks beyond sequence classification, made ready for the search: each builder
// tokenizes its data with the model's own tokenizer into evaluator rows ("units", each
// with the width of the head's output) and returns the TaskScoring (candidate-eval.ts)
// that turns those outputs into per-row losses and the task's metric.
//
//   token classification  a unit and a loss row per sentence; the head gives n x C logits
//   question answering    a unit and a loss row per window of a question's context; 2n logits
//   embedding pairs       a unit per distinct sentence, a loss row per pair; E floats
//   embedding drift       a unit and a loss row per text; E floats; the reference is the
//                         original model's embedding of the text (set once before the search)

import type { LossPrecision } from "./metrics.ts";
import type { TaskScoring } from "./candidate-eval.ts";
import type { RuntimeModel, TokenizedRow } from "./shard.ts";
import type { TaggedSentence } from "./data-token.ts";
import type { SquadQuestion } from "./data-squad.ts";
import { entityF1, IGNORE, tokenRowLoss } from "./task-token.ts";
import { qaWindowLoss, squadScores } from "./task-qa.ts";
import { cosine, pairLoss, pairSpearman } from "./task-pairs.ts";
import { driftLoss, meanCosine } from "./task-drift.ts";

export interface PreparedTask {
  name: string;             // "token-classification", "question-answering", "embedding-pairs", "embedding-drift"
  metric: string;           // the metric the budget reads
  units: TokenizedRow[];    // evaluator rows, each with its output width
  scoring: TaskScoring;
  rowTokens: Int32Array;    // per loss row, the most tokens of its units (rows hard attention cannot change)
  fingerprint: unknown;     // the labels, for the --resume checkpoint
  // Every metric of the task from the loss rows' predictions (fractions).
  metrics(predictions: Float64Array): Record<string, number>;
}

function specials(m: RuntimeModel): { cls: number; sep: number } {
  const t = m.tokenize("a").inputIds;
  return { cls: t[0], sep: t[t.length - 1] };
}

// The word pieces of one word, without [CLS] / [SEP]: what a fast tokenizer gives a word
// with is_split_into_words (each word is pre-tokenized and split into pieces on its own).
function pieces(m: RuntimeModel, word: string): number[] {
  const ids = Array.from(m.tokenize(word).inputIds);
  return ids.slice(1, ids.length - 1);
}

// ---------------------------------------------------------------------------------------
// Token classification: the first piece of each word carries its tag, the other pieces and
// the special tokens -100 (Hugging Face's run_ner with label_all_tokens False); words cut
// off by the maximum length, or that tokenize to nothing, are left out of loss and metric
// alike, as run_ner's compute_metrics leaves out every -100.

export function tokenTask(m: RuntimeModel, sents: TaggedSentence[], labels: readonly string[], maxLen: number, precision: LossPrecision): PreparedTask {
  const C = labels.length;
  const { cls, sep } = specials(m);
  const units: TokenizedRow[] = [];
  const tokLabels: Int32Array[] = [];
  let most = 1;
  for (const s of sents) {
    const ids = [cls];
    const lab = [IGNORE];
    for (let w = 0; w < s.tokens.length && ids.length < maxLen - 1; w++) {
      const p = pieces(m, s.tokens[w]).slice(0, maxLen - 1 - ids.length);
      p.forEach((id, k) => { ids.push(id); lab.push(k === 0 ? s.tags[w] : IGNORE); });
    }
    ids.push(sep);
    lab.push(IGNORE);
    if (!lab.some((l) => l !== IGNORE)) throw new Error(`line ${s.line}: no word of the sentence is left to label (empty after tokenization)`);
    units.push({ ids: Int32Array.from(ids), typeIds: new Int32Array(ids.length), width: ids.length * C });
    const l = Int32Array.from(lab);
    tokLabels.push(l);
    most = Math.max(most, l.filter((x) => x !== IGNORE).length);
  }
  const tagSeq = (r: number, pred: Float64Array | null) => {
    const out: string[] = [];
    let k = 0;
    for (const l of tokLabels[r]) if (l !== IGNORE) out.push(labels[pred ? pred[r * most + k++] : l]);
    return out;
  };
  const scores = (pred: Float64Array) => {
    const f = entityF1(sents.map((_, r) => tagSeq(r, null)), sents.map((_, r) => tagSeq(r, pred)));
    let ok = 0, all = 0;
    tokLabels.forEach((ls, r) => { let k = 0; for (const l of ls) if (l !== IGNORE) { all++; if (pred[r * most + k++] === l) ok++; } });
    return { entity_f1: f.f1, entity_precision: f.precision, entity_recall: f.recall, token_accuracy: ok / all };
  };
  return {
    name: "token-classification", metric: "entity_f1", units,
    rowTokens: Int32Array.from(units, (u) => u.ids.length),
    fingerprint: tokLabels.map((l) => Array.from(l)),
    metrics: scores,
    scoring: {
      n: units.length, predWidth: most,
      units: (r) => [r], width: (u) => units[u].width!,
      score(r, outs, pred) {
        const z = outs[0], ls = tokLabels[r];
        let k = 0;
        for (let t = 0; t < ls.length; t++) {
          if (ls[t] === IGNORE) continue;
          let best = 0;
          for (let c = 1; c < C; c++) if (z[t * C + c] > z[t * C + best]) best = c;
          pred[r * most + k++] = best;
        }
        return tokenRowLoss(z, ls, C, precision);
      },
      metric: (pred) => scores(pred).entity_f1,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Question answering: [CLS] question [SEP] context window [SEP], the question cut to
// `maxQuery` pieces, the context split into windows of the remaining room that overlap by
// `stride` pieces (Hugging Face's run_qa: doc_stride 128 at max length 384). A window that
// holds the whole gold answer (the first one given) points at its first and last pieces;
// any other window at [CLS], index 0, as run_qa prepares training windows. The context is
// split on whitespace and each word tokenized on its own (what BERT's pre-tokenizer does
// first), so a piece maps back to its whitespace-delimited word: predicted answers are
// whole words of the context (Google's original run_squad.py does the same), where the
// Hugging Face pipeline cuts at the pieces' own offsets ("(1990)" here, "1990" there).
// The prediction of a question is the best span of all its windows, by start + end logit,
// with start <= end, at most `maxAnswer` pieces, inside the context.

export interface QaOptions { maxLen: number; stride?: number; maxQuery?: number; maxAnswer?: number }

interface Window { question: number; ctxStart: number; words: Int32Array; goldStart: number; goldEnd: number }

export function qaTask(m: RuntimeModel, questions: SquadQuestion[], o: QaOptions, precision: LossPrecision): PreparedTask {
  const { cls, sep } = specials(m);
  const maxQuery = o.maxQuery ?? 64, maxAnswer = o.maxAnswer ?? 30;
  const units: TokenizedRow[] = [];
  const windows: Window[] = [];
  const wordSpans: Array<Array<[number, number]>> = []; // per question: each word's [start, end) in code points
  const cps: string[][] = [];
  questions.forEach((q, qi) => {
    const chars = [...q.context];
    cps.push(chars);
    // whitespace words of the context, with their code-point spans
    const spans: Array<[number, number]> = [];
    for (let i = 0; i < chars.length; ) {
      if (/\s/u.test(chars[i])) { i++; continue; }
      let j = i;
      while (j < chars.length && !/\s/u.test(chars[j])) j++;
      spans.push([i, j]);
      i = j;
    }
    wordSpans.push(spans);
    const docIds: number[] = [];
    const docWord: number[] = [];
    spans.forEach(([a, b], w) => { for (const id of pieces(m, chars.slice(a, b).join(""))) { docIds.push(id); docWord.push(w); } });
    const qIds = pieces(m, q.question).slice(0, maxQuery);
    const room = o.maxLen - qIds.length - 3;
    if (room < 1) throw new Error(`question ${q.id}: the question leaves no room for the context at --max-len ${o.maxLen}`);
    const stride = Math.min(o.stride ?? 128, room - 1);
    // the gold span in pieces: from the first piece of the answer's first word to the last piece of its last word
    const ans = q.answers[0];
    const aEnd = ans.start + [...ans.text].length; // exclusive, code points
    let gs = -1, ge = -1;
    for (let t = 0; t < docIds.length; t++) {
      const [a, b] = spans[docWord[t]];
      if (b > ans.start && a < aEnd) { if (gs < 0) gs = t; ge = t; }
    }
    for (let start = 0; ; start += room - stride) {
      const end = Math.min(start + room, docIds.length);
      const ids = [cls, ...qIds, sep, ...docIds.slice(start, end), sep];
      const typeIds = ids.map((_, i) => (i < qIds.length + 2 ? 0 : 1));
      const off = qIds.length + 2 - start;
      const inside = gs >= start && ge < end && gs >= 0;
      windows.push({ question: qi, ctxStart: qIds.length + 2, words: Int32Array.from(docWord.slice(start, end)), goldStart: inside ? gs + off : 0, goldEnd: inside ? ge + off : 0 });
      units.push({ ids: Int32Array.from(ids), typeIds: Int32Array.from(typeIds), width: 2 * ids.length });
      if (end >= docIds.length) break;
    }
  });
  // prediction of a window: [first word, last word, start + end logit] of its best span (-1: none)
  const answerOf = (pred: Float64Array) => {
    const best = new Map<number, number>(); // question -> window
    windows.forEach((w, r) => {
      if (pred[r * 3] < 0) return;
      const b = best.get(w.question);
      if (b === undefined || pred[r * 3 + 2] > pred[b * 3 + 2]) best.set(w.question, r);
    });
    return questions.map((_, qi) => {
      const r = best.get(qi);
      if (r === undefined) return "";
      const spans = wordSpans[qi];
      return cps[qi].slice(spans[pred[r * 3]][0], spans[pred[r * 3 + 1]][1]).join("");
    });
  };
  const scores = (pred: Float64Array) => {
    const s = squadScores(answerOf(pred), questions.map((q) => q.answers.map((a) => a.text)));
    return { f1: s.f1 / 100, exact_match: s.exact_match / 100 };
  };
  return {
    name: "question-answering", metric: "f1", units,
    rowTokens: Int32Array.from(units, (u) => u.ids.length),
    fingerprint: windows.map((w) => [w.question, w.goldStart, w.goldEnd]),
    metrics: scores,
    scoring: {
      n: units.length, predWidth: 3,
      units: (r) => [r], width: (u) => units[u].width!,
      score(r, outs, pred) {
        const w = windows[r], n = units[r].ids.length;
        const start = outs[0].subarray(0, n), end = outs[0].subarray(n, 2 * n);
        let bs = -1, be = -1, bv = -Infinity;
        const last = w.ctxStart + w.words.length; // the final [SEP]
        for (let i = w.ctxStart; i < last; i++)
          for (let j = i; j < Math.min(last, i + maxAnswer); j++)
            if (start[i] + end[j] > bv) { bv = start[i] + end[j]; bs = i; be = j; }
        pred[r * 3] = bs < 0 ? -1 : w.words[bs - w.ctxStart];
        pred[r * 3 + 1] = be < 0 ? -1 : w.words[be - w.ctxStart];
        pred[r * 3 + 2] = bv;
        return qaWindowLoss(start, end, w.goldStart, w.goldEnd, precision);
      },
      metric: (pred) => scores(pred).f1,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Embeddings. `E`: the length of the model's embedding.

function textUnits(m: RuntimeModel, texts: string[], maxLen: number, E: number): { units: TokenizedRow[]; index: Map<string, number> } {
  const index = new Map<string, number>();
  const units: TokenizedRow[] = [];
  for (const t of texts) {
    if (index.has(t)) continue;
    const tok = m.tokenize(t, undefined, maxLen);
    index.set(t, units.length);
    units.push({ ids: Int32Array.from(tok.inputIds), typeIds: Int32Array.from(tok.tokenTypeIds), width: E });
  }
  return { units, index };
}

export interface ScoredPair { a: string; b: string; score: number }

export function pairTask(m: RuntimeModel, pairs: ScoredPair[], E: number, maxLen: number, precision: LossPrecision): PreparedTask {
  const { units, index } = textUnits(m, pairs.flatMap((p) => [p.a, p.b]), maxLen, E);
  const ua = Int32Array.from(pairs, (p) => index.get(p.a)!);
  const ub = Int32Array.from(pairs, (p) => index.get(p.b)!);
  const scores = Float64Array.from(pairs, (p) => p.score);
  for (const [i, p] of pairs.entries()) if (!(p.score >= 0 && p.score <= 5)) throw new Error(`pair ${i + 1}: score ${p.score} is outside 0..5`);
  const metrics = (pred: Float64Array) => ({ spearman: pairSpearman(pred, scores) });
  return {
    name: "embedding-pairs", metric: "spearman", units,
    rowTokens: Int32Array.from(pairs, (_, r) => Math.max(units[ua[r]].ids.length, units[ub[r]].ids.length)),
    fingerprint: [Array.from(ua), Array.from(ub), Array.from(scores)],
    metrics,
    scoring: {
      n: pairs.length, predWidth: 1,
      units: (r) => [ua[r], ub[r]], width: () => E,
      score(r, outs, pred) {
        const c = cosine(outs[0], outs[1]);
        pred[r] = c;
        return pairLoss(c, scores[r], precision);
      },
      metric: (pred) => pairSpearman(pred, scores),
    },
  };
}

// The drift task needs the original model's embeddings: `setReference` takes them (the
// evaluator's output for every unit, in order) before the search starts.
export function driftTask(m: RuntimeModel, texts: string[], E: number, maxLen: number, precision: LossPrecision): PreparedTask & { setReference(flat: Float32Array): void } {
  const { units, index } = textUnits(m, texts, maxLen, E);
  const of = Int32Array.from(texts, (t) => index.get(t)!);
  let ref: Float32Array | null = null;
  return {
    name: "embedding-drift", metric: "mean_cosine", units,
    rowTokens: Int32Array.from(of, (u) => units[u].ids.length),
    fingerprint: texts.length,
    setReference(flat) {
      if (flat.length !== units.length * E) throw new Error(`internal: ${flat.length} reference values for ${units.length} texts of ${E}`);
      ref = flat.slice();
    },
    metrics: (pred) => ({ mean_cosine: meanCosine(pred.map((c) => 1 - c)) }),
    scoring: {
      n: texts.length, predWidth: 1,
      units: (r) => [of[r]], width: () => E,
      score(r, outs, pred) {
        if (ref === null) throw new Error("internal: the drift task has no reference embeddings");
        const u = of[r];
        const l = driftLoss(outs[0], ref.subarray(u * E, (u + 1) * E), precision);
        pred[r] = 1 - l;
        return l;
      },
      metric: (pred) => { let s = 0; for (const c of pred) s += c; return s / pred.length; },
    },
  };
}
