// The library's text-level task calls, on top of the runtime's heads:
//   tokenClassify(model, text, opts)            Hugging Face's token-classification pipeline
//   answer(model, question, context, opts)      Hugging Face's question-answering pipeline
// LoadedModel.tokenClassify / .answer call these. The model is used through the small
// interface below (tokenizer with offsets, tokenLogits / spanLogits), so tests can give
// a stub. Universal (no Node built-ins).

import type { Encoding, TextTokens } from "./index.ts";
import { tokenClassification, type Entity, type TokenClassifyOptions } from "./token-classification.ts";
import { answers, fillWindows, windowOptions, windows, type Answer, type AnswerOptions, type Specials } from "./question-answering.ts";
import { wordIds, type TokenizerKind } from "./subwords.ts";

export type { Entity, TokenClassifyOptions, Answer, AnswerOptions };

export interface PipelineModel {
  readonly labels: string[];
  readonly maxLen: number;
  tokenize(text: string, textPair?: string): Encoding;
  tokenizeAll(text: string): TextTokens;
  tokenString(id: number): string;
  addedTokenIds(): Set<number>;
  specialTokenIds(): { cls: number; sep: number; unk: number };
  tokenizerKind?(): TokenizerKind;  // "wordpiece" when absent
  tokenLogits(ids: ArrayLike<number>, typeIds?: ArrayLike<number>): Float32Array[];
  spanLogits(ids: ArrayLike<number>, typeIds?: ArrayLike<number>): { start: Float32Array; end: Float32Array };
}

// Entities of one text (truncated to the model's max_len tokens, as the pipeline's
// tokenizer call truncates): see token-classification.ts.
export function tokenClassify(model: PipelineModel, text: string, opts: TokenClassifyOptions = {}): Entity[] {
  if (typeof text !== "string") throw new Error("tokenClassify: text must be a string");
  const enc = model.tokenize(text);
  const logits = model.tokenLogits(enc.inputIds, enc.tokenTypeIds);
  const unkId = specials(model).unkId;
  return tokenClassification(
    { text, ids: enc.inputIds, offsets: enc.offsets, offsetsUtf16: enc.offsetsUtf16, specialTokensMask: enc.specialTokensMask },
    logits, { labels: model.labels, unkId, tokenString: (id) => model.tokenString(id), kind: model.tokenizerKind?.() ?? "wordpiece" }, opts,
  );
}

// The best answer (null when the context has none) for topK 1, else up to topK
// answers, best first: see question-answering.ts.
export function answer(model: PipelineModel, question: string, context: string, opts: AnswerOptions = {}): Answer | Answer[] | null {
  if (typeof question !== "string") throw new Error("answer: question must be a string");
  if (typeof context !== "string") throw new Error("answer: context must be a string");
  const wo = windowOptions(model.maxLen, opts);
  const sp = specials(model);
  const q = model.tokenizeAll(question);
  const ctx = model.tokenizeAll(context);
  const ws = windows(q.ids, ctx.ids.length, sp, wo);
  fillWindows(ws, ctx.ids);
  const logits = ws.map((w) => model.spanLogits(w.inputIds, w.tokenTypeIds));
  const words = wordIds(ctx.words, ctx.ids, (id) => model.tokenString(id), model.addedTokenIds());
  const found = answers(context, { ...ctx, words }, ws, logits, sp, opts);
  return (opts.topK ?? 1) === 1 ? found[0] ?? null : found;
}

// [CLS], [SEP], [UNK], the template's tokens between two texts and the second text's
// token type, from "" + "" ([CLS] [SEP] [SEP]: 1 for a BERT with two token types, 0
// for DistilBERT; RoBERTa, XLM-R: <s> </s> </s> </s>, 0).
const cache = new WeakMap<PipelineModel, Specials & { unkId: number }>();
function specials(model: PipelineModel): Specials & { unkId: number } {
  let s = cache.get(model);
  if (!s) {
    const ids = model.specialTokenIds();
    const empty = model.tokenize("", "");
    const n = empty.inputIds.length;
    s = { clsId: ids.cls, sepId: ids.sep, unkId: ids.unk, secondType: empty.tokenTypeIds[n - 1], middle: empty.inputIds.slice(1, n - 1) };
    cache.set(model, s);
  }
  return s;
}
