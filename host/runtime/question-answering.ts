// Extractive question answering with the semantics of Hugging Face's
// `question-answering` pipeline (transformers 4.57.6, the last release that has it:
// pipelines/question_answering.py: preprocess with a fast tokenizer, select_starts_ends,
// decode_spans, postprocess with align_to_words, get_answer), written from that source.
// Pure: token ids, offsets and start/end logits in, answers out. Universal.
//
//   windows(question, context, opts)      [CLS] question [SEP] context window [SEP] (RoBERTa's
//                                         <s> question </s></s> context window </s>), as
//                                         the fast tokenizer's truncation="only_second"
//                                         with return_overflowing_tokens and stride makes
//                                         them (tokenizers 0.22: every window; 0.23.1+
//                                         stops at the first, huggingface/tokenizers#2091)
//   answers(context, windows, logits, opts)   the spans, scored and merged
//
// Differences (docs/pipelines.md): scores in float64 (Hugging Face: float32); spans of
// score 0 are never returned (Hugging Face can return some when a window has fewer
// than 2 * top_k + 10 spans, picked among ties by numpy's argpartition); the result is
// one answer (or null) for topK 1 and an array for topK > 1.

import type { Span } from "./offsets.ts";

// A request the pipeline cannot serve as asked (an option out of range, a question
// too long for the window): the caller's to fix; the HTTP API answers it with 400.
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export interface AnswerOptions {
  topK?: number;                      // 1
  maxAnswerLen?: number;              // 15 tokens
  maxSeqLen?: number;                 // min(the model's max_len, 384) tokens a window
  docStride?: number;                 // min(maxSeqLen / 2, 128): tokens shared by consecutive windows
  maxQuestionLen?: number;            // unset: the question is never cut (the pipeline's fast-tokenizer path); n: keep its first n tokens
  handleImpossibleAnswer?: boolean;   // false
  alignToWords?: boolean;             // true
}

export interface Answer { answer: string; score: number; start: number; end: number }

// The tokens of one text (no special tokens), with the word each belongs to (the
// pre-tokenizer's words, subwords.ts wordIds).
export interface TextPieces {
  ids: ArrayLike<number>;
  offsets: Span[];       // code points
  offsetsUtf16: Span[];  // UTF-16 code units
  words: number[];
}

// middle: the template's tokens between the question and the context ([SEP]; RoBERTa,
// XLM-R: </s></s>), [sepId] when absent.
export interface Specials { clsId: number; sepId: number; secondType: number; middle?: number[] }

export interface Window {
  inputIds: number[];
  tokenTypeIds: number[];
  contextStart: number;  // index in the window of its first context token
  contextFrom: number;   // index in the context of that token
  contextCount: number;  // context tokens in the window
}

export interface WindowOptions { maxSeqLen: number; docStride: number; maxQuestionLen?: number }

// The pipeline's defaults for a model of max_len tokens.
export function windowOptions(modelMaxLen: number, opts: AnswerOptions): WindowOptions {
  const maxSeqLen = opts.maxSeqLen ?? Math.min(modelMaxLen, 384);
  const docStride = opts.docStride ?? Math.min(Math.floor(maxSeqLen / 2), 128);
  positiveInt("maxSeqLen", maxSeqLen);
  if (maxSeqLen > modelMaxLen) throw new InputError(`maxSeqLen ${maxSeqLen} is more than the model's max_len ${modelMaxLen}`);
  if (!(Number.isInteger(docStride) && docStride >= 0)) throw new InputError(`docStride must be an integer >= 0, got ${docStride}`);
  if (docStride > maxSeqLen) throw new InputError(`docStride (${docStride}) is larger than maxSeqLen (${maxSeqLen})`);
  if (opts.maxQuestionLen !== undefined) positiveInt("maxQuestionLen", opts.maxQuestionLen);
  return { maxSeqLen, docStride, maxQuestionLen: opts.maxQuestionLen };
}

function positiveInt(name: string, v: unknown): void {
  if (!(Number.isInteger(v) && (v as number) >= 1)) throw new InputError(`${name} must be an integer >= 1, got ${v}`);
}

// tokenizers' truncate_encodings with OnlySecond and Encoding::truncate: the context
// is cut into windows of (maxSeqLen - question - the pair's 3 or 4 special tokens) tokens, each starting `stride`
// tokens before the previous one ends, the last one ending at the context's end.
export function windows(questionIds: ArrayLike<number>, contextCount: number, sp: Specials, o: WindowOptions): Window[] {
  let nQ = questionIds.length;
  if (o.maxQuestionLen !== undefined && nQ > o.maxQuestionLen) nQ = o.maxQuestionLen;
  const q = Array.from(questionIds).slice(0, nQ);
  const middle = sp.middle ?? [sp.sepId];
  const specials = 2 + middle.length, contextStart = nQ + 1 + middle.length;
  const total = nQ + contextCount + specials;
  let size = contextCount;
  if (total > o.maxSeqLen) {
    const remove = total - o.maxSeqLen;
    if (contextCount <= remove) {
      throw new InputError(`the question (${nQ} tokens) leaves no room for the context in a window of ${o.maxSeqLen} tokens (maxSeqLen); shorten it or set maxQuestionLen`);
    }
    size = contextCount - remove;
    if (o.docStride >= size) {
      throw new InputError(`docStride ${o.docStride} must be less than the ${size} context tokens a window holds (maxSeqLen ${o.maxSeqLen} minus the question's ${nQ} tokens and ${specials} special tokens)`);
    }
  }
  const out: Window[] = [];
  const step = size - o.docStride;
  for (let from = 0; ; from += step) {
    const to = Math.min(from + size, contextCount);
    const n = to - from;
    const inputIds = [sp.clsId, ...q, ...middle, ...Array.from({ length: n }, () => 0), sp.sepId];
    const tokenTypeIds = inputIds.map((_, i) => (i < contextStart ? 0 : sp.secondType));
    out.push({ inputIds, tokenTypeIds, contextStart, contextFrom: from, contextCount: n });
    if (to >= contextCount) break;
  }
  return out;
}

// Fills each window's context ids.
export function fillWindows(ws: Window[], contextIds: ArrayLike<number>): void {
  for (const w of ws) for (let k = 0; k < w.contextCount; k++) w.inputIds[w.contextStart + k] = contextIds[w.contextFrom + k];
}

// The answers over all windows: in each window, a softmax of the start and of the end
// logits over the context tokens and [CLS] (every other token masked to -10000), [CLS]
// then zeroed; span (i, j) scores start[i] * end[j] for i <= j < i + maxAnswerLen; the
// window's 2 * topK + 10 best (topK without alignToWords) become character spans
// (aligned to whole words: the word's tokens that are in this window); a span whose
// text equals (case-insensitively) an answer already found adds its score to it.
export function answers(context: string, pieces: TextPieces, ws: Window[], logits: Array<{ start: ArrayLike<number>; end: ArrayLike<number> }>, sp: Specials, opts: AnswerOptions = {}): Answer[] {
  const topK = opts.topK ?? 1;
  const maxAnswerLen = opts.maxAnswerLen ?? 15;
  positiveInt("topK", topK);
  positiveInt("maxAnswerLen", maxAnswerLen);
  const align = opts.alignToWords ?? true;
  const preTopK = align ? topK * 2 + 10 : topK;
  let minNull = 1000000;
  const found: Answer[] = [];
  ws.forEach((w, wi) => {
    const n = w.inputIds.length;
    const { start, end } = logits[wi];
    if (start.length !== n || end.length !== n) throw new Error(`window ${wi}: ${start.length} start and ${end.length} end logits for ${n} tokens`);
    // p_mask: 0 for the context and every [CLS] token.
    const allowed = (i: number) => (i >= w.contextStart && i < w.contextStart + w.contextCount) || w.inputIds[i] === sp.clsId;
    const ps = maskedSoftmax(start, allowed), pe = maskedSoftmax(end, allowed);
    if (opts.handleImpossibleAnswer) minNull = Math.min(minNull, ps[0] * pe[0]);
    ps[0] = pe[0] = 0;
    const spans: Array<[number, number, number]> = [];
    for (let i = 0; i < n; i++) {
      if (!allowed(i) || ps[i] === 0) continue;
      for (let j = i; j < Math.min(n, i + maxAnswerLen); j++) {
        if (!allowed(j)) continue;
        const s = ps[i] * pe[j];
        if (s > 0) spans.push([i, j, s]);
      }
    }
    spans.sort((a, b) => b[2] - a[2]);
    for (const [i, j, score] of spans.slice(0, preTopK)) {
      const [[cs, ce], [us, ue]] = charSpan(pieces, w, i, j, align);
      const text = context.slice(us, ue);
      const same = found.find((a) => a.answer.toLowerCase() === text.toLowerCase());
      if (same) same.score += score;
      else found.push({ score, start: cs, end: ce, answer: text });
    }
  });
  if (opts.handleImpossibleAnswer) found.push({ score: minNull, start: 0, end: 0, answer: "" });
  // Stable, as Python's sorted(): equal scores keep their order.
  return found.sort((a, b) => b.score - a.score).slice(0, topK).map((a) => ({ answer: a.answer, score: a.score, start: a.start, end: a.end }));
}

// The softmax of the logits with the tokens not allowed set to -10000.
function maskedSoftmax(logits: ArrayLike<number>, allowed: (i: number) => boolean): Float64Array {
  const v = Float64Array.from({ length: logits.length }, (_, i) => (allowed(i) ? logits[i] : -10000));
  let m = -Infinity;
  for (const x of v) if (x > m) m = x;
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] = Math.exp(v[i] - m);
  for (let i = 0; i < v.length; i++) v[i] /= sum;
  return v;
}

// Token span (i, j) of window w as character spans into the context, code points and
// UTF-16. Aligned to words: from the first token of i's word to the last token of j's
// word among the window's tokens (Encoding.word_to_chars on the window); a [CLS]
// (no word) falls back to its offsets, [0, 0].
function charSpan(p: TextPieces, w: Window, i: number, j: number, align: boolean): [Span, Span] {
  const inContext = (t: number) => t >= w.contextStart && t < w.contextStart + w.contextCount;
  if (!inContext(i) || !inContext(j)) {
    // Hugging Face: token_to_word of a special token is None and word_to_chars(None)
    // raises, so both ends come from the offsets (a special token's are 0, 0).
    const s = inContext(i) ? p.offsets[w.contextFrom + i - w.contextStart][0] : 0;
    const su = inContext(i) ? p.offsetsUtf16[w.contextFrom + i - w.contextStart][0] : 0;
    const e = inContext(j) ? p.offsets[w.contextFrom + j - w.contextStart][1] : 0;
    const eu = inContext(j) ? p.offsetsUtf16[w.contextFrom + j - w.contextStart][1] : 0;
    return [[s, e], [su, eu]];
  }
  let a = w.contextFrom + i - w.contextStart, b = w.contextFrom + j - w.contextStart;
  if (align) {
    const lo = w.contextFrom, hi = w.contextFrom + w.contextCount - 1;
    while (a > lo && p.words[a - 1] === p.words[a]) a--;
    while (b < hi && p.words[b + 1] === p.words[b]) b++;
  }
  return [[p.offsets[a][0], p.offsets[b][1]], [p.offsetsUtf16[a][0], p.offsetsUtf16[b][1]]];
}
