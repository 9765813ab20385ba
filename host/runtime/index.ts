// The typed host API over the wasm runtime (assembly/index.ts documents the raw
// ABI). Universal: no Node built-ins, so the same file runs in Node, Cloudflare
// Workers (pass the imported WebAssembly.Module) and browsers.
//
//   const engine = await instantiate(wasmModuleOrBytes);
//   const model = engine.loadModel(axfBytes);
//   model.classify("a great movie")  // { label, scores, logits }
//   model.classifyBatch(["a great movie", ["a premise", "a hypothesis"]])  // in input order
//
// By model.task, the other heads: model.embed(texts) (sentence embeddings, pooled
// and normalised as the converted folder says), model.tokenLogits(ids) (token
// classification), model.spanLogits(ids) (question answering). Each call refuses a
// model of another task.

import { PROBLEM_TYPE_CODES, TASK_CODES, nameOfCode, type ProblemType, type Task } from "../model/model.ts";
import { axformerExports, type AxformerExports } from "./abi.ts";
import { CharIndex, type Span } from "./offsets.ts";
import { answer as answerPipeline, tokenClassify as tokenClassifyPipeline, type Answer, type AnswerOptions, type Entity, type TokenClassifyOptions } from "./pipelines.ts";
export type { Answer, AnswerOptions, Entity, TokenClassifyOptions };
import { CFG_CLS_ID, CFG_SEP_ID, CFG_UNK_ID, CFG_TEMPLATE, TEMPLATE_ROBERTA } from "../../assembly/format/constants.ts";
import { CFG_TOKENIZER, TOKENIZER_BPE, TOKENIZER_UNIGRAM } from "../../assembly/format/constants.ts";
import type { TokenizerKind } from "./subwords.ts";
export type { AxformerExports, ProblemType, Task };

// An error reported by the runtime, with its message (or a trap, reworded).
export class AxformerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AxformerError";
  }
}

// The default memory limit of loadModel, in MiB: a Cloudflare Worker's isolate has
// 128 MB for everything, and besides the wasm memory it holds the JS heap (a few
// MB), the model file's bytes as they arrived (up to its size again, until
// collected) and the request bodies; 96 leaves 32 MB for those, enough for the
// files that fit a Worker at all. Node's loadEngine() sets no limit (see node.ts).
export const DEFAULT_MAX_MEMORY_MB = 96;

export interface LoadOptions {
  // Refuse a model whose memory need (docs/format.md "Resource bounds": the file,
  // f32 copies of f16 weights, activations for max_len tokens, tokenizer tables)
  // is above this many MiB; Infinity: no limit. Default: the engine's
  // defaultMaxMemoryMb (DEFAULT_MAX_MEMORY_MB unless the engine was made by Node's loadEngine()).
  maxMemoryMb?: number;
}

export interface Encoding {
  inputIds: number[];
  tokenTypeIds: number[];
  // Each token's [start, end) in its own text (a pair's second text: into textPair), in
  // Unicode code points exactly as Hugging Face's offset_mapping (Python string
  // indices); [CLS] and [SEP]: [0, 0]. offsetsUtf16: the same in UTF-16 code units, the
  // indices of a JavaScript string (they differ after a character outside the BMP).
  offsets: Span[];
  offsetsUtf16: Span[];
  specialTokensMask: number[];      // 1 for the [CLS] and [SEP] the template adds
  sequenceIds: Array<number | null>; // 0: text, 1: textPair, null: [CLS]/[SEP]
}

// Every token of one text, no special tokens and no truncation (tokenizeAll). words:
// each token's word (pre-token) index, from byte-level BPE and Unigram tokenizers
// (absent for WordPiece, whose "##" pieces say it).
export interface TextTokens { ids: Int32Array; offsets: Span[]; offsetsUtf16: Span[]; words?: number[] }
export type { Span };
export interface Classification { label: string; scores: number[]; logits: number[] }
export interface SpanLogits { start: Float32Array; end: Float32Array }

// What each task's model offers, for the error a call on the wrong model gives.
const TASK_CALLS: Record<Task, string> = {
  "sequence-classification": "classify(text), classifyBatch(texts)",
  embedding: "embed(texts), embedIds(idsList)",
  "token-classification": "tokenClassify(text), tokenLogits(ids)",
  "question-answering": "answer(question, context), spanLogits(ids)",
};

// One tokenized input of a batch.
interface Row { index: number; ids: Int32Array; types: Int32Array }

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function instantiate(source: WebAssembly.Module | BufferSource): Promise<Engine> {
  let memory: WebAssembly.Memory | null = null;
  const imports = {
    env: {
      // AssemblyScript's abort(message, file, line, column): strings are UTF-16
      // with their byte length in the 4 bytes before the pointer.
      abort(msg: number, file: number, line: number, column: number): never {
        const str = (p: number) => {
          if (!memory || !p) return "";
          const len = new Uint32Array(memory.buffer, p - 4, 1)[0];
          return String.fromCharCode(...new Uint16Array(memory.buffer, p, len >>> 1));
        };
        throw new AxformerError(`runtime abort: ${str(msg)} (${str(file)}:${line}:${column})`);
      },
    },
  };
  const instance = source instanceof WebAssembly.Module
    ? await WebAssembly.instantiate(source, imports)
    : (await WebAssembly.instantiate(source, imports)).instance;
  const exports = axformerExports(instance);
  memory = exports.memory;
  return new Engine(exports);
}

// One wasm instance, holding at most one model.
export class Engine {
  readonly exports: AxformerExports;
  private generation = 0;
  private current: LoadedModel | null = null;
  // loadModel's maxMemoryMb when the call gives none.
  defaultMaxMemoryMb = DEFAULT_MAX_MEMORY_MB;

  constructor(exports: AxformerExports) {
    this.exports = exports;
  }

  // Copies the file into wasm memory and loads it there, replacing (and
  // invalidating) the engine's previous model. The caller may drop `bytes`.
  loadModel(bytes: Uint8Array, opts: LoadOptions = {}): LoadedModel {
    const x = this.exports;
    const limit = opts.maxMemoryMb ?? this.defaultMaxMemoryMb;
    if (!(limit > 0)) throw new AxformerError(`loadModel: maxMemoryMb must be a positive number of MiB or Infinity, got ${limit}`);
    // The wasm takes whole MiB below 4 GiB; Infinity (or more than wasm32 addresses) is no limit.
    x.set_memory_limit(limit >= 4096 ? 0 : Math.max(1, Math.floor(limit)));
    this.generation++;
    this.current = null;
    let ptr: number;
    try {
      ptr = x.alloc_model(bytes.length) >>> 0;
    } catch (err) {
      throw new AxformerError(`model file of ${bytes.length} bytes does not fit in wasm memory (${(err as Error).message})`);
    }
    if (ptr === 0) throw new AxformerError(x.error_len() > 0 ? this.lastError() : `model file of ${bytes.length} bytes does not fit in wasm memory`);
    new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
    let rc: number;
    try {
      rc = x.load_model(ptr, bytes.length);
    } catch (err) {
      throw new AxformerError(`loading the model failed: ${(err as Error).message}`);
    }
    if (rc < 0) throw new AxformerError(this.lastError());
    this.current = new LoadedModel(this, this.generation);
    return this.current;
  }

  // The runtime's message for the last failed call.
  lastError(): string {
    const x = this.exports;
    return decoder.decode(new Uint8Array(x.memory.buffer, x.error_ptr() >>> 0, x.error_len()));
  }

  /** @internal */
  isCurrent(generation: number): boolean {
    return generation === this.generation;
  }
}

export class LoadedModel {
  readonly labels: string[];
  readonly numLabels: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly maxLen: number;
  readonly vocabSize: number;
  readonly typeVocabSize: number;
  readonly problemType: ProblemType;
  readonly temperature: number; // calibration: scores use logits / temperature (1 when the file has none)
  readonly task: Task;          // what the head computes
  readonly embeddingSize: number; // an embedding model's output length (hidden size x pooling modes), else 0
  private readonly engine: Engine;
  private readonly x: AxformerExports;
  private readonly generation: number;

  constructor(engine: Engine, generation: number) {
    this.engine = engine;
    this.generation = generation;
    const x = (this.x = engine.exports);
    this.numLabels = x.num_labels();
    this.hiddenSize = x.hidden_size();
    this.numLayers = x.num_layers();
    this.maxLen = x.max_len();
    this.vocabSize = x.vocab_size();
    this.typeVocabSize = x.type_vocab_size();
    this.problemType = nameOfCode(PROBLEM_TYPE_CODES, x.problem_type())!;
    this.temperature = x.temperature();
    this.task = nameOfCode(TASK_CODES, x.task())!;
    this.embeddingSize = x.pooled_size();
    this.labels = Array.from({ length: this.numLabels }, (_, i) =>
      decoder.decode(new Uint8Array(x.memory.buffer, x.label_ptr(i) >>> 0, x.label_len(i))));
  }

  // Token ids for a text or a text pair: [CLS] a [SEP] (b [SEP]) or the template, truncated
  // longest-first to maxLen (default: the model's max_len).
  tokenize(text: string, textPair?: string, maxLen?: number): Encoding {
    const n = this.tokenizeInPlace(text, textPair, maxLen);
    const x = this.x;
    const ids = new Int32Array(x.memory.buffer, x.ids_ptr() >>> 0, n);
    const types = new Int32Array(x.memory.buffer, x.type_ids_ptr() >>> 0, n);
    const bytes = new Uint32Array(x.memory.buffer, x.token_offsets_ptr() >>> 0, 2 * n).slice();
    const enc: Encoding = {
      inputIds: Array.from(ids), tokenTypeIds: Array.from(types),
      offsets: [], offsetsUtf16: [], specialTokensMask: [], sequenceIds: [],
    };
    // The template's tokens: [CLS]/[SEP] (<s>/</s>) ids with an empty range, as
    // [CLS] a [SEP] (b [SEP]) or <s> a </s> (</s> b </s>); the second text starts
    // after the template's 2 (RoBERTa: 3) leading specials.
    const index = [new CharIndex(text), textPair === undefined ? null : new CharIndex(textPair)];
    const { cls, sep } = this.specialTokenIds();
    const secondAfter = x.config_word(CFG_TEMPLATE) === TEMPLATE_ROBERTA ? 3 : 2;
    let specials = 0, seq = 0;
    for (let i = 0; i < n; i++) {
      const s = bytes[2 * i], e = bytes[2 * i + 1];
      const special = e === 0 && (enc.inputIds[i] === cls || enc.inputIds[i] === sep);
      if (special) specials++;
      else seq = specials >= secondAfter ? 1 : 0;
      const at = index[seq]!;
      enc.offsets.push(special ? [0, 0] : [at.codePoint(s), at.codePoint(e)]);
      enc.offsetsUtf16.push(special ? [0, 0] : [at.utf16(s), at.utf16(e)]);
      enc.specialTokensMask.push(special ? 1 : 0);
      enc.sequenceIds.push(special ? null : seq);
    }
    return enc;
  }

  // Every token of one text: no [CLS]/[SEP], no truncation (question answering builds
  // its own windows from these). Memory: 12 bytes of wasm memory a token.
  tokenizeAll(text: string): TextTokens {
    const lenA = this.writeText(text);
    const x = this.x;
    const n = x.tokenize_all(lenA);
    this.call(n);
    const ids = new Int32Array(x.memory.buffer, x.all_ids_ptr() >>> 0, n).slice();
    const bytes = new Uint32Array(x.memory.buffer, x.token_offsets_ptr() >>> 0, 2 * n);
    const at = new CharIndex(text);
    const offsets: Span[] = [], offsetsUtf16: Span[] = [];
    for (let i = 0; i < n; i++) {
      offsets.push([at.codePoint(bytes[2 * i]), at.codePoint(bytes[2 * i + 1])]);
      offsetsUtf16.push([at.utf16(bytes[2 * i]), at.utf16(bytes[2 * i + 1])]);
    }
    const wordsAt = x.all_words_ptr() >>> 0;
    return { ids, offsets, offsetsUtf16, ...(wordsAt ? { words: Array.from(new Uint32Array(x.memory.buffer, wordsAt, n)) } : {}) };
  }

  // Which tokenizer the model carries (CONFIG.tokenizer): the pipelines' word rules follow it.
  tokenizerKind(): TokenizerKind {
    this.live();
    const k = this.x.config_word(CFG_TOKENIZER);
    return k === TOKENIZER_BPE ? "bpe" : k === TOKENIZER_UNIGRAM ? "unigram" : "wordpiece";
  }

  // The vocabulary's string for a token id (WordPiece pieces keep their "##").
  tokenString(id: number): string {
    this.live();
    const x = this.x;
    if (!(Number.isInteger(id) && id >= 0 && id < this.vocabSize)) throw new AxformerError(`token id ${id} is outside the vocabulary (${this.vocabSize} tokens)`);
    return decoder.decode(new Uint8Array(x.memory.buffer, x.vocab_ptr(id) >>> 0, x.vocab_len(id) >>> 0));
  }

  // The tokenizer's [CLS], [SEP] and [UNK] ids.
  specialTokenIds(): { cls: number; sep: number; unk: number } {
    this.live();
    const w = (i: number) => this.x.config_word(i) >>> 0;
    return { cls: w(CFG_CLS_ID), sep: w(CFG_SEP_ID), unk: w(CFG_UNK_ID) };
  }

  // The ids the tokenizer matches whole in the text (special and added tokens): never
  // part of a word.
  addedTokenIds(): Set<number> {
    this.live();
    const x = this.x, out = new Set<number>();
    for (let i = 0; i < x.added_token_count(); i++) out.add((x.added_token_entry(i) >>> 0) & 0xffffff);
    return out;
  }

  // Raw logits for one sequence of ids (type ids default to 0), of a sequence classifier.
  logits(inputIds: ArrayLike<number>, tokenTypeIds?: ArrayLike<number>): Float32Array {
    this.requireTask("logits", "sequence-classification");
    const n = this.writeIds(inputIds, tokenTypeIds);
    this.call(this.x.forward(n));
    return this.readOutput(n);
  }

  classify(text: string, textPair?: string): Classification {
    this.requireTask("classify", "sequence-classification");
    const n = this.tokenizeInPlace(text, textPair);
    this.call(this.x.forward(n));
    return this.classifications(1)[0];
  }

  // Token classification: the C logits of each token of one sequence of ids
  // (type ids default to 0), in token order.
  tokenLogits(inputIds: ArrayLike<number>, tokenTypeIds?: ArrayLike<number>): Float32Array[] {
    this.requireTask("tokenLogits", "token-classification");
    const n = this.writeIds(inputIds, tokenTypeIds);
    this.call(this.x.forward(n));
    const out = this.readOutput(n), C = this.numLabels;
    return Array.from({ length: n }, (_, t) => out.slice(t * C, (t + 1) * C));
  }

  // Question answering: the start and end logits of each token of one sequence of
  // ids ([CLS] question [SEP] context [SEP], with the context's type ids 1).
  spanLogits(inputIds: ArrayLike<number>, tokenTypeIds?: ArrayLike<number>): SpanLogits {
    this.requireTask("spanLogits", "question-answering");
    const n = this.writeIds(inputIds, tokenTypeIds);
    this.call(this.x.forward(n));
    const out = this.readOutput(n);
    return { start: out.slice(0, n), end: out.slice(n, 2 * n) };
  }

  // Hugging Face's token-classification pipeline on one text (truncated to max_len):
  // entities with aggregation "none" (the default), "simple", "first", "average" or
  // "max"; start/end are code points into the text (docs/pipelines.md).
  tokenClassify(text: string, opts: TokenClassifyOptions = {}): Entity[] {
    this.requireTask("tokenClassify", "token-classification");
    return this.pipeline(() => tokenClassifyPipeline(this, text, opts));
  }

  // Hugging Face's question-answering pipeline: the context in windows of maxSeqLen
  // tokens with docStride overlap; the best answer (null when the context has no
  // token) for topK 1, else up to topK answers best first; start/end are code points
  // into the context (docs/pipelines.md).
  answer(question: string, context: string, opts: AnswerOptions = {}): Answer | Answer[] | null {
    this.requireTask("answer", "question-answering");
    return this.pipeline(() => answerPipeline(this, question, context, opts));
  }

  // The pipelines' own errors (a bad option, a question too long for the window) as
  // AxformerErrors, named InputError so hosts can tell the caller's mistakes.
  private pipeline<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      if (err instanceof AxformerError) throw err;
      const e = new AxformerError((err as Error).message);
      if ((err as Error).name === "InputError") e.name = "InputError";
      throw e;
    }
  }

  // Sentence embeddings of many texts, in input order: each text tokenized (and
  // truncated to max_len) as one sequence, run through the encoder in batches of
  // equal length, pooled and, where the converted folder said so, L2-normalised.
  embed(texts: string[]): Float32Array[] {
    this.requireTask("embed", "embedding");
    if (!Array.isArray(texts)) throw new AxformerError("embed: texts must be an array of strings (embed([text]) for one)");
    const rows = texts.map((t, index) => {
      if (typeof t !== "string") throw new AxformerError(`embed: texts[${index}] is not a string`);
      return this.row(index, () => this.tokenizeInPlace(t), "embed");
    });
    return this.embedRows(rows);
  }

  // embed() on token ids: each list one sequence (type ids 0), [CLS] ... [SEP] included.
  embedIds(idsList: ArrayLike<number>[]): Float32Array[] {
    this.requireTask("embedIds", "embedding");
    if (!Array.isArray(idsList)) throw new AxformerError("embedIds: idsList must be an array of id lists");
    // Ids checked here, so that an error names the list, not its place in a batch.
    const rows = idsList.map((ids, index) => this.row(index, () => {
      const n = this.writeIds(ids);
      for (let t = 0; t < n; t++) {
        if (ids[t] >= this.vocabSize) throw new AxformerError(`input id ${ids[t]} at position ${t} is out of range (vocab_size ${this.vocabSize})`);
      }
      return n;
    }, "embedIds"));
    return this.embedRows(rows);
  }

  private embedRows(rows: Row[]): Float32Array[] {
    const E = this.embeddingSize;
    const results: Float32Array[] = new Array(rows.length);
    this.runBatches(rows, (chunk, n) => {
      const out = this.readOutput(n, chunk.length);
      chunk.forEach((e, i) => { results[e.index] = out.slice(i * E, (i + 1) * E); });
    });
    return results;
  }

  // Many texts (or [text, textPair] pairs), results in input order. The texts are
  // tokenized, grouped by token count, and the sequences of one length run
  // through the model together, as many per call as fit in max_len token rows:
  // more rows per weight matrix pass. The results are bit-identical to classify()
  // on each text.
  classifyBatch(texts: Array<string | [string, string]>): Classification[] {
    this.requireTask("classifyBatch", "sequence-classification");
    if (!Array.isArray(texts)) throw new AxformerError("classifyBatch: texts must be an array");
    const rows = texts.map((t: string | string[], index) => {
      const pair = Array.isArray(t);
      if (pair && t.length !== 2) throw new AxformerError(`classifyBatch: texts[${index}] is an array of ${t.length}, not a [text, textPair] pair`);
      return this.row(index, () => (pair ? this.tokenizeInPlace(t[0], t[1]) : this.tokenizeInPlace(t as string)), "classifyBatch");
    });
    const results: Classification[] = new Array(texts.length);
    this.runBatches(rows, (chunk) => {
      const out = this.classifications(chunk.length);
      chunk.forEach((e, i) => { results[e.index] = out[i]; });
    });
    return results;
  }

  // One input of a batch: `write` tokenizes it (or writes its ids) into the id buffers.
  private row(index: number, write: () => number, what: string): Row {
    let n: number;
    try {
      n = write();
    } catch (err) {
      throw new AxformerError(`${what}: ${what === "embedIds" ? "idsList" : "texts"}[${index}]: ${(err as Error).message}`);
    }
    const x = this.x;
    const ids = new Int32Array(x.memory.buffer, x.ids_ptr() >>> 0, n).slice();
    const types = new Int32Array(x.memory.buffer, x.type_ids_ptr() >>> 0, n).slice();
    return { index, ids, types };
  }

  // The rows grouped by token count; the sequences of one length run through the
  // model together, as many per call as fit in max_len token rows (more rows per
  // weight matrix pass). Each sequence's output is bit-identical to its own forward pass.
  // done(chunk, n) reads the chunk's outputs before the next call overwrites them.
  private runBatches(rows: Row[], done: (chunk: Row[], n: number) => void): void {
    const x = this.x;
    const byLength = new Map<number, Row[]>();
    for (const r of rows) {
      const group = byLength.get(r.ids.length);
      if (group) group.push(r);
      else byLength.set(r.ids.length, [r]);
    }
    const maxBatch = x.max_batch();
    for (const [n, group] of byLength) {
      const per = Math.max(1, Math.min(maxBatch, Math.floor(this.maxLen / n)));
      for (let start = 0; start < group.length; start += per) {
        const chunk = group.slice(start, start + per);
        const ids = new Int32Array(x.memory.buffer, x.ids_ptr() >>> 0, n * chunk.length);
        const types = new Int32Array(x.memory.buffer, x.type_ids_ptr() >>> 0, n * chunk.length);
        chunk.forEach((e, i) => { ids.set(e.ids, i * n); types.set(e.types, i * n); });
        this.call(x.forward_batch(n, chunk.length));
        done(chunk, n);
      }
    }
  }

  classifyIds(inputIds: ArrayLike<number>, tokenTypeIds?: ArrayLike<number>): Classification {
    this.logits(inputIds, tokenTypeIds);
    return this.classifications(1)[0];
  }

  // The forward pass in pieces, bit-identical to the whole: embedTokens -> runLayers(0, L) -> runHead.
  // The hidden state entering layer 0, f32[n * hiddenSize].
  embedTokens(inputIds: ArrayLike<number>, tokenTypeIds?: ArrayLike<number>): Float32Array {
    const n = this.writeIds(inputIds, tokenTypeIds);
    this.call(this.x.embed(n));
    return this.readHidden(n);
  }

  // Layers [from, to) applied to hidden (f32[n * hiddenSize]); returns a new array.
  runLayers(hidden: Float32Array, n: number, from: number, to: number): Float32Array {
    this.writeHidden(hidden, n);
    this.call(this.x.run_layers(n, from, to));
    return this.readHidden(n);
  }

  // Layers [from, L) and the head on hidden (the state entering layer `from`), as
  // forward() runs them: runHead(runLayers(hidden, n, from, L), n) bit for bit, and
  // when the head reads only [CLS], with the last layer computing only that row.
  runToHead(hidden: Float32Array, n: number, from: number): Float32Array {
    this.writeHidden(hidden, n);
    this.call(this.x.run_to_head(n, from));
    return this.readOutput(n);
  }

  // The head's output from the hidden state after the last layer (f32[n * hiddenSize]):
  // the logits of a sequence classifier, as forward() gives them for the other tasks.
  runHead(hidden: Float32Array, n: number): Float32Array {
    this.writeHidden(hidden, n);
    this.call(this.x.run_head(n));
    return this.readOutput(n);
  }

  // The wasm memory in bytes: the model file, the tokenizer tables and the
  // activation buffers for max_len tokens, all allocated at load; running the
  // model allocates nothing, so this is also its peak for any input length (only
  // the text buffer grows, to the longest text seen).
  memoryBytes(): number {
    return this.x.memory_bytes() >>> 0;
  }

  // Scores: softmax (single-label, in f64), sigmoid (multi-label), both of logits / temperature;
  // the raw value (regression). `logits` stay raw.
  // Label, scores and logits of the first b rows of logits_ptr(). The runtime
  // computes the scores (assembly/encoder/scores.ts: softmax / sigmoid of logits /
  // temperature in f64, or the regression value), so Node, browsers, Workers and
  // WASI give the same bits; the label is the first highest score.
  private classifications(b: number): Classification[] {
    const x = this.x, C = this.numLabels;
    this.call(x.compute_scores(b));
    const logits = new Float32Array(x.memory.buffer, x.logits_ptr() >>> 0, b * C);
    const scores = new Float64Array(x.memory.buffer, x.scores_ptr() >>> 0, b * C);
    return Array.from({ length: b }, (_, r) => {
      const s = Array.from(scores.subarray(r * C, (r + 1) * C));
      let best = 0;
      for (let i = 1; i < C; i++) if (s[i] > s[best]) best = i;
      return { label: this.labels[best], scores: s, logits: Array.from(logits.subarray(r * C, (r + 1) * C)) };
    });
  }

  private live(): void {
    if (!this.engine.isCurrent(this.generation)) {
      throw new AxformerError("this model was replaced by a later loadModel() on the same engine");
    }
  }

  private call(rc: number): void {
    if (rc < 0) throw new AxformerError(this.engine.lastError());
  }

  private tokenizeInPlace(text: string, textPair?: string, maxLen?: number): number {
    this.live();
    if (typeof text !== "string") throw new AxformerError("tokenize: text must be a string");
    if (textPair !== undefined && typeof textPair !== "string") throw new AxformerError("tokenize: textPair must be a string");
    if (maxLen !== undefined && !(Number.isInteger(maxLen) && maxLen >= 2)) {
      throw new AxformerError(`tokenize: maxLen must be an integer >= 2, got ${maxLen}`);
    }
    const lenA = this.writeText(text, textPair);
    const lenB = textPair === undefined ? -1 : this.textBytesB;
    const n = this.x.tokenize(lenA, lenB, maxLen ?? 0);
    this.call(n);
    return n;
  }

  private textBytesB = 0;

  // Copies text (and textPair after it) into the runtime's text buffer as UTF-8;
  // returns text's byte length (textPair's in textBytesB).
  private writeText(text: string, textPair?: string): number {
    this.live();
    if (typeof text !== "string") throw new AxformerError("tokenize: text must be a string");
    const x = this.x;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const cap = 3 * (text.length + (textPair?.length ?? 0));
    let buf: number;
    try {
      buf = x.text_buffer(cap) >>> 0;
    } catch (err) {
      throw new AxformerError(`text of ${cap / 3} characters does not fit in wasm memory (${(err as Error).message})`);
    }
    if (buf === 0) throw new AxformerError(this.engine.lastError());
    const mem = new Uint8Array(x.memory.buffer, buf, cap);
    const lenA = encoder.encodeInto(text, mem).written;
    this.textBytesB = textPair === undefined ? 0 : encoder.encodeInto(textPair, mem.subarray(lenA)).written;
    return lenA;
  }

  private writeIds(inputIds: ArrayLike<number>, tokenTypeIds?: ArrayLike<number>): number {
    this.live();
    const n = inputIds.length;
    // Checked here too: the buffers hold max_len ids.
    if (n < 1 || n > this.maxLen) throw new AxformerError(`${n} input ids; the model takes 1..${this.maxLen}`);
    if (tokenTypeIds && tokenTypeIds.length !== n) {
      throw new AxformerError(`${tokenTypeIds.length} token type ids for ${n} input ids`);
    }
    const x = this.x;
    const ids = new Int32Array(x.memory.buffer, x.ids_ptr() >>> 0, n);
    const types = new Int32Array(x.memory.buffer, x.type_ids_ptr() >>> 0, n);
    for (let i = 0; i < n; i++) {
      const id = inputIds[i], t = tokenTypeIds ? tokenTypeIds[i] : 0;
      if (!Number.isInteger(id)) throw new AxformerError(`input id at position ${i} is not an integer: ${id}`);
      if (!Number.isInteger(t)) throw new AxformerError(`token type id at position ${i} is not an integer: ${t}`);
      ids[i] = id < 0 || id > 0x7fffffff ? -1 : id; // -1: out of range, the runtime reports it
      types[i] = t < 0 || t > 0x7fffffff ? -1 : t;
    }
    return n;
  }

  private writeHidden(hidden: Float32Array, n: number): void {
    this.live();
    if (!Number.isInteger(n) || n < 1 || n > this.maxLen) throw new AxformerError(`n = ${n} tokens; the model takes 1..${this.maxLen}`);
    const len = n * this.hiddenSize;
    if (hidden.length < len) throw new AxformerError(`hidden state of ${hidden.length} values, need n * hiddenSize = ${len}`);
    new Float32Array(this.x.memory.buffer, this.x.hidden_ptr() >>> 0, len).set(hidden.subarray(0, len));
  }

  private readHidden(n: number): Float32Array {
    return new Float32Array(this.x.memory.buffer, this.x.hidden_ptr() >>> 0, n * this.hiddenSize).slice();
  }

  // The head's output for b sequences of n tokens (assembly/index.ts forward()).
  private readOutput(n: number, b = 1): Float32Array {
    const len = this.task === "sequence-classification" ? this.numLabels
      : this.task === "embedding" ? this.embeddingSize
      : this.task === "question-answering" ? 2 * n : n * this.numLabels;
    return new Float32Array(this.x.memory.buffer, this.x.logits_ptr() >>> 0, b * len).slice();
  }

  private requireTask(call: string, task: Task): void {
    this.live();
    if (this.task !== task) {
      throw new AxformerError(`${call}: the model's task is ${this.task}, not ${task}; it offers ${TASK_CALLS[this.task]}`);
    }
  }
}
