// Token classification post-processing with the semantics of Hugging Face's
// `token-classification` pipeline (transformers 5.18, pipelines/token_classification.py:
// postprocess, gather_pre_entities, aggregate, aggregate_word(s), group_entities),
// written from that source for any tokenizer with offsets (subwords.ts). Pure: token ids,
// offsets and logits in, entities out. Universal (no Node built-ins).
//
// Differences (docs/pipelines.md): scores are float32 as Hugging Face's (see softmax); no stride / is_split_into_words / slow
// tokenizer paths (the text is truncated to the model's max_len, as the pipeline's
// default truncation does).

import type { Span } from "./offsets.ts";
import { InputError } from "./question-answering.ts";
import { decodeTokens, isSubword, type TokenizerKind } from "./subwords.ts";

export const AGGREGATIONS = ["none", "simple", "first", "average", "max"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

// One entity as the pipeline returns it: `entity` and `index` with aggregation
// "none", `entity_group` otherwise. start/end: code points into the text (Python
// string indices, as Hugging Face gives them).
export interface Entity {
  entity?: string;
  entity_group?: string;
  score: number;
  index?: number;
  word: string;
  start: number;
  end: number;
}

export interface TokenClassifyOptions {
  aggregation?: Aggregation;   // "none" (the pipeline's default)
  ignoreLabels?: string[];     // ["O"]
}

// What the post-processing needs from the tokenizer and the model, for one text.
export interface TokenizedText {
  text: string;
  ids: ArrayLike<number>;
  offsets: Span[];                     // code points, [0, 0] for special tokens
  offsetsUtf16: Span[];                // the same in UTF-16 code units (to slice `text`)
  specialTokensMask: ArrayLike<number>;
}

export interface TokenVocabulary {
  labels: string[];                    // id2label
  unkId: number;
  tokenString(id: number): string;     // convert_ids_to_tokens
  kind?: TokenizerKind;                // "wordpiece" when absent: its subword rule and decoder
}

interface PreEntity { word: string; scores: Float64Array; start: number; end: number; index: number; isSubword: boolean }
interface WordEntity { entity: string; score: number; index?: number; word: string; start: number; end: number }

export function checkAggregation(value: unknown): Aggregation {
  if (typeof value === "string" && (AGGREGATIONS as readonly string[]).includes(value.toLowerCase())) return value.toLowerCase() as Aggregation;
  throw new InputError(`aggregation must be one of ${AGGREGATIONS.join(", ")}, got ${JSON.stringify(value)}`);
}

// logits: one array of C logits per token of `t`.
export function tokenClassification(t: TokenizedText, logits: ArrayLike<number>[], vocab: TokenVocabulary, opts: TokenClassifyOptions = {}): Entity[] {
  const aggregation = checkAggregation(opts.aggregation ?? "none");
  const ignore = opts.ignoreLabels ?? ["O"];
  if (!Array.isArray(ignore) || !ignore.every((l) => typeof l === "string")) throw new InputError(`ignoreLabels must be an array of label strings, got ${JSON.stringify(ignore)}`);
  if (logits.length !== t.ids.length) throw new Error(`${logits.length} logit rows for ${t.ids.length} tokens`);
  const pre = gatherPreEntities(t, logits, vocab);
  const decode = (tokens: string[]) => decodeTokens(vocab.kind ?? "wordpiece", tokens);
  let entities: WordEntity[];
  if (aggregation === "none" || aggregation === "simple") {
    entities = pre.map((p) => {
      const k = argmax(p.scores);
      return { entity: vocab.labels[k], score: p.scores[k], index: p.index, word: p.word, start: p.start, end: p.end };
    });
  } else {
    entities = aggregateWords(pre, aggregation, vocab.labels, decode);
  }
  const out: Entity[] = aggregation === "none" ? entities : groupEntities(entities, decode);
  return out.filter((e) => !ignore.includes(e.entity as string) && !ignore.includes(e.entity_group as string));
}

// Softmax of each token's logits (the pipeline's max-shifted exp / sum), the token's
// string, its span and whether it continues a word (subwords.ts isSubword: for
// WordPiece `len(token) != len(text[start:end])`, so "##ing" against "ing" is a
// subword, and so is "é" written as e + U+0301; for byte-level BPE and Unigram the
// characters around the start); an [UNK] token takes the text it covers as its word
// and is never a subword.
function gatherPreEntities(t: TokenizedText, logits: ArrayLike<number>[], vocab: TokenVocabulary): PreEntity[] {
  const pre: PreEntity[] = [];
  const kind = vocab.kind ?? "wordpiece";
  const chars = kind === "wordpiece" ? [] : Array.from(t.text);
  for (let i = 0; i < t.ids.length; i++) {
    if (t.specialTokensMask[i]) continue;
    const id = t.ids[i];
    const [start, end] = t.offsets[i];
    const wordRef = t.text.slice(t.offsetsUtf16[i][0], t.offsetsUtf16[i][1]);
    let word = vocab.tokenString(id);
    let subword = isSubword(kind, chars, word, start, end);
    if (id === vocab.unkId) {
      word = wordRef;
      subword = false;
    }
    pre.push({ word, scores: softmax(logits[i]), start, end, index: i, isSubword: subword });
  }
  return pre;
}

// first / average / max: the tokens of a word (a token and the subwords after it)
// agree on one label.
function aggregateWords(pre: PreEntity[], aggregation: Aggregation, labels: string[], decode: Decode): WordEntity[] {
  const words: WordEntity[] = [];
  let group: PreEntity[] = [];
  for (const p of pre) {
    if (group.length > 0 && !p.isSubword) {
      words.push(aggregateWord(group, aggregation, labels, decode));
      group = [];
    }
    group.push(p);
  }
  if (group.length > 0) words.push(aggregateWord(group, aggregation, labels, decode));
  return words;
}

type Decode = (tokens: string[]) => string;

function aggregateWord(group: PreEntity[], aggregation: Aggregation, labels: string[], decode: Decode): WordEntity {
  let scores: Float64Array;
  if (aggregation === "first") {
    scores = group[0].scores;
  } else if (aggregation === "max") {
    let best = group[0];
    for (const p of group) if (max(p.scores) > max(best.scores)) best = p; // the first of equals, as Python's max()
    scores = best.scores;
  } else {
    scores = new Float64Array(group[0].scores.length);
    for (const p of group) p.scores.forEach((v, k) => { scores[k] += v; });
    scores = scores.map((v) => v / group.length);
  }
  const k = argmax(scores);
  return {
    entity: labels[k], score: scores[k], word: decode(group.map((p) => p.word)),
    start: group[0].start, end: group[group.length - 1].end,
  };
}

// B-/I- tags: "B-X" starts a group, "I-X" (or a bare "X") continues a group of the
// same tag; the group's label is the first entity's with its prefix cut at the first
// "-", its score the mean of its entities' scores.
function groupEntities(entities: WordEntity[], decode: Decode): Entity[] {
  const groups: Entity[] = [];
  let run: WordEntity[] = [];
  for (const e of entities) {
    if (run.length > 0) {
      const [bi, tag] = getTag(e.entity);
      const [, lastTag] = getTag(run[run.length - 1].entity);
      if (!(tag === lastTag && bi !== "B")) {
        groups.push(groupSubEntities(run, decode));
        run = [];
      }
    }
    run.push(e);
  }
  if (run.length > 0) groups.push(groupSubEntities(run, decode));
  return groups;
}

function getTag(name: string): [string, string] {
  if (name.startsWith("B-")) return ["B", name.slice(2)];
  if (name.startsWith("I-")) return ["I", name.slice(2)];
  return ["I", name];
}

function groupSubEntities(run: WordEntity[], decode: Decode): Entity {
  const first = run[0].entity;
  const dash = first.indexOf("-");
  return {
    entity_group: dash < 0 ? first : first.slice(dash + 1),
    score: run.reduce((s, e) => s + e.score, 0) / run.length,
    word: decode(run.map((e) => e.word)),
    start: run[0].start,
    end: run[run.length - 1].end,
  };
}

// In float32 step by step as the pipeline's numpy softmax computes it (exp(x - max) /
// sum, the sum in numpy's pairwise order): near 1 several pieces of a word then tie
// exactly as they do there, and "max" takes the first of them as Hugging Face does (in
// float64 a later piece could win by 1e-8). exp itself is correctly rounded here;
// numpy's SIMD expf may differ in the last bit, rarely.
export function softmax(logits: ArrayLike<number>): Float64Array {
  const f = Math.fround;
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (f(logits[i]) > m) m = f(logits[i]);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = f(Math.exp(f(f(logits[i]) - m)));
  const sum = pairwiseSum32(out);
  for (let i = 0; i < out.length; i++) out[i] = f(out[i] / sum);
  return out;
}

// numpy's pairwise_sum for float32 up to its block of 128 (eight running sums, then
// the rest one by one), every addition rounded to float32.
function pairwiseSum32(a: Float64Array): number {
  const f = Math.fround, n = a.length;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + a[i]);
    return res;
  }
  if (n > 128) {
    const half = Math.floor(n / 2) - (Math.floor(n / 2) % 8);
    return f(pairwiseSum32(a.subarray(0, half)) + pairwiseSum32(a.subarray(half)));
  }
  const r = Array.from(a.subarray(0, 8));
  const whole = n - (n % 8);
  for (let i = 8; i < whole; i += 8) for (let j = 0; j < 8; j++) r[j] = f(r[j] + a[i + j]);
  let res = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
  for (let i = whole; i < n; i++) res = f(res + a[i]);
  return res;
}

// The first index of the largest value (numpy's argmax).
function argmax(v: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[k]) k = i;
  return k;
}

function max(v: ArrayLike<number>): number {
  return v[argmax(v)];
}
