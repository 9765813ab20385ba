// The exported surface of the runtime. Raw ABI: numbers and pointers only, so the
// same .wasm works with asc's raw bindings in Node, workerd, browsers and WASI.
//
// Contract (the host side lives in host/runtime/):
//   Errors: a function that can fail returns a negative i32; error_ptr()/error_len()
//   then give a UTF-8 message that names the problem. A failed call leaves the
//   instance usable (the loaded model, if any, stays loaded unless the failing call
//   was load_model, which unloads it).
//   error_ptr(): usize, error_len(): i32
//
//   alloc_model(size: u32): usize       16-aligned buffer for the model file; frees the
//                                       previous model first; 0 (with an error message) when
//                                       size is 0 or over 1 GiB - 64 (the allocator's limit)
//   load_model(ptr: usize, size: u32): i32   validates and loads the file in place; 0 = ok
//   model_loaded(): i32
//   num_labels(), hidden_size(), num_layers(), max_len(), vocab_size(),
//   type_vocab_size(), problem_type(): i32
//   label_ptr(i: u32): usize, label_len(i: u32): i32       UTF-8 label i
//
//   text_buffer(size: u32): usize       scratch buffer of at least `size` bytes for UTF-8 text;
//                                       0 (with an error message) when size is over 1 GiB - 64
//   tokenize(len_a: u32, len_b: i32, max_len: u32): i32
//                                       text a = text_buffer[0, len_a), text b follows it
//                                       (len_b = -1: single text); truncates to max_len
//                                       (0 or more than the model's max_len: the model's
//                                       max_len), longest-first for pairs;
//                                       returns N; ids at ids_ptr(), type ids at type_ids_ptr()
//   ids_ptr(): usize, type_ids_ptr(): usize   i32[max_len] each; the host may write ids here
//   token_offsets_ptr(): usize          u32[2 * N]: each token of the last tokenize or
//                                       tokenize_all call, its [start, end) UTF-8 byte range in
//                                       the text it came from (a pair's second text: its own
//                                       bytes); [CLS] and [SEP]: 0, 0 (tokenizer/wordpiece.ts)
//   tokenize_all(len_a: u32): i32       every token of text_buffer[0, len_a), no special tokens
//                                       and no truncation; returns N, ids at all_ids_ptr()
//                                       (i32[N]), offsets at token_offsets_ptr(), and (byte-level
//                                       BPE, Unigram) each token's word index at all_words_ptr()
//                                       (u32[N]; 0 for WordPiece); memory grows with the text,
//                                       12 bytes a token (16 with word indices)
//   all_ids_ptr(): usize, all_words_ptr(): usize
//   task(): i32                         TASK_*: what the head computes (format/constants.ts)
//   pooled_size(): i32                  E, an embedding model's output length (0 for other tasks)
//   forward(n: u32): i32                runs the whole model on ids_ptr()/type_ids_ptr()[0, n);
//                                       the head's output at logits_ptr(), by task: f32[num_labels]
//                                       (sequence classification), f32[E] (embedding, pooled and
//                                       normalised as the file says), f32[n, num_labels] (token
//                                       classification), f32[2, n] start then end logits
//                                       (question answering); checks
//                                       1 <= n <= max_len, ids < vocab_size, type ids <
//                                       type_vocab_size (0 for DistilBERT)
//   logits_ptr(): usize
//   forward_batch(n: u32, b: u32): i32  b sequences of n tokens each, one after the other at
//                                       ids_ptr()/type_ids_ptr()[0, b * n) (b * n <= max_len,
//                                       b <= max_batch()); the output of sequence i follows
//                                       those of sequences 0..i-1 at logits_ptr(); each sequence's
//                                       logits are bit-identical to forward() on it alone
//   max_batch(): i32                    most sequences per forward_batch
//   compute_scores(b: u32): i32         scores of the first b rows of logits_ptr() into
//                                       scores_ptr() (f64[b * num_labels]): softmax or sigmoid
//                                       of logits / temperature, or the regression value
//                                       (token classification: a row per token)
//   scores_ptr(): usize
//
//   The same forward pass in pieces, for the optimizer's reuse of hidden states
//   (embed + run_layers(0, L) + run_head gives forward's logits bit for bit):
//   embed(n: u32): i32                  ids -> hidden_ptr() (f32[n * hidden_size]),
//                                       the hidden state entering layer 0
//   run_layers(n: u32, from: u32, to: u32): i32   layers [from, to) on hidden_ptr() in place
//   run_head(n: u32): i32               hidden_ptr() -> logits_ptr() (as forward(n))
//   run_to_head(n: u32, from: u32): i32 run_layers(n, from, L) + run_head(n), the way
//                                       forward runs them: when the head reads only
//                                       [CLS], the last layer computes only its row
//                                       (encoder/forward.ts runToHead); same logits bit
//                                       for bit, hidden_ptr() is then not the last layer's
//   hidden_ptr(): usize
//
//   memory_bytes(): u32                 current size of the wasm memory
//   set_memory_limit(mb: u32)           load_model refuses a model whose memory need
//                                       (docs/format.md "Resource bounds") exceeds mb MiB;
//                                       0 = no limit (the default)
//
//   forward, forward_batch, run_head, run_to_head fail (negative, with a message) when a logit is
//   NaN or Inf, embed and run_layers when a hidden state is: no label is ever read
//   from non-finite numbers.
//
//   Introspection for the host-side model loader (host/format/read.ts), so the file
//   has a single parser: see assembly/format/exports.ts.
import { fail, errorPtr, errorLen } from "./errors";
import { loadModel as parseModel, unloadModel as dropModel, config, weights, labels, vocab, setMemoryLimit } from "./format/reader";
import { addedTokens, addedCount } from "./format/reader";
import { Tokenizer } from "./tokenizer/wordpiece";
import { BpeTokenizer } from "./tokenizer/bpe";
import { merges, mergeCount, classRanges, classRangeCount } from "./format/reader";
import { Unigram } from "./tokenizer/unigram";
import { unigramScores, charsmapAt, charsmapSize } from "./format/reader";
import { TOKENIZER_UNIGRAM } from "./format/constants";
import { RunState } from "./model/model";
import { allocRunState } from "./model/state";
import { embed as embedTokens, runLayers, runHead, runToHead, forward as runForward } from "./encoder/forward";
import { labelScores } from "./encoder/scores";
import { dot7 } from "./kernels/matmul_i8_relaxed";
import { madd } from "./kernels/matmul";
import { TOKENIZER_BPE } from "./format/constants";
import { ARCH_DISTILBERT, TASK_SEQUENCE_CLASSIFICATION, TASK_TOKEN_CLASSIFICATION, TASK_QUESTION_ANSWERING } from "./format/constants";
import { outputWidth } from "./model/state";

export * from "./format/exports";

const MAX_MODEL_BYTES: u32 = (1 << 30) - 64;

let modelBuf: usize = 0;      // the model file, owned here, weights point into it
let modelCap: u32 = 0;        // its capacity in bytes
let loaded = false;
let state: RunState | null = null;
let tokenizer: Tokenizer | null = null;
let bpe: BpeTokenizer | null = null;  // instead of `tokenizer` when CONFIG.tokenizer is TOKENIZER_BPE
let unigram: Unigram | null = null;   // CONFIG.tokenizer Unigram: used instead of `tokenizer`
let offsetsBuf: usize = 0;            // u32[2 * max_len]: token_offsets_ptr()
let allBuf: usize = 0;                // tokenize_all (BPE, Unigram): i32 ids, u32 offsets pairs, u32 words [allCap] each
let allCap: u32 = 0;
let allCount: i32 = -1;               // >= 0: the last call was tokenize_all (token_offsets_ptr() is in allBuf)
let textBuf: usize = 0;
let textCap: u32 = 0;

export function error_ptr(): usize { return errorPtr(); }
export function error_len(): i32 { return errorLen(); }

function unload(): void {
  if (loaded) dropModel();
  loaded = false;
  if (tokenizer) tokenizer!.dispose();
  tokenizer = null;
  if (bpe) bpe!.dispose();
  bpe = null;
  if (unigram) unigram!.dispose();
  unigram = null;
  if (offsetsBuf) heap.free(offsetsBuf);
  offsetsBuf = 0;
  if (allCap) heap.free(allBuf);
  allBuf = 0;
  allCap = 0;
  allCount = -1;
  state = null; // its memory region stays for the next model (model/state.ts)
}

export function alloc_model(size: u32): usize {
  unload();
  if (size == 0) { fail("model file: 0 bytes"); return 0; }
  // The allocator's largest block is just under 1 GiB (store weights as f16 or int8).
  if (size > MAX_MODEL_BYTES) { fail(`model file of ${size} bytes is larger than the runtime's limit of ${MAX_MODEL_BYTES} bytes`); return 0; }
  // Reloading a model of the same size or smaller reuses the buffer.
  if (modelBuf && size <= modelCap) return modelBuf;
  // The file gets its own region at the top of memory, grown to the exact page
  // count with memory.grow, outside the TLSF heap: TLSF rounds a large block up to
  // its size class (up to 1/16 more) and grows memory by max(current size,
  // request), so a heap block would cost up to twice the file. What the heap needs
  // after the file (tokenizer tables, about 16 bytes per vocabulary entry, small
  // things) is reserved before it, while memory is still small; the activations
  // have their own region too (model/state.ts). A larger model loaded later gets a new
  // region; the old one is given up (wasm memory cannot shrink).
  const reserve = heap.alloc((1 << 20) + (<usize>size >> 6));
  heap.free(reserve);
  const top = <usize>memory.size() << 16;
  const start = modelBuf && modelBuf + modelCap == top ? modelBuf : top; // grow in place when still on top
  const end = start + <usize>size;
  if (end > top && memory.grow(<i32>((end - top + 0xffff) >> 16)) < 0) {
    modelBuf = 0;
    modelCap = 0;
    fail(`not enough memory for a model file of ${size} bytes`);
    return 0;
  }
  modelBuf = start; // page-aligned, so 16-aligned as the format requires
  modelCap = <u32>min<usize>((<usize>memory.size() << 16) - start, MAX_MODEL_BYTES);
  return modelBuf;
}

export function load_model(ptr: usize, size: u32): i32 {
  unload();
  const rc = parseModel(ptr, size); // on failure the reader leaves nothing loaded
  if (rc < 0) return rc;
  const s = allocRunState(config, weights);
  if (!s) {
    const maxLen = config.max_len; // read before dropModel() resets the config
    dropModel();
    return fail(`not enough memory for the activations of ${maxLen} tokens`);
  }
  loaded = true;
  state = s;
  offsetsBuf = heap.alloc(<usize>config.max_len << 3);
  memory.fill(offsetsBuf, 0, <usize>config.max_len << 3);
  if (config.tokenizer == TOKENIZER_BPE) {
    bpe = new BpeTokenizer(config, vocab, merges, mergeCount, classRanges, classRangeCount, addedTokens, addedCount);
    if (!bpe!.checkBytes()) { unload(); return -1; }
    return 0;
  }
  if (config.tokenizer == TOKENIZER_UNIGRAM) {
    unigram = Unigram.create(config, vocab, unigramScores, charsmapAt, charsmapSize, addedTokens, addedCount);
    if (!unigram) { unload(); return -1; } // fail() has named the problem
    return 0;
  }
  tokenizer = Tokenizer.create(config, vocab, addedTokens, addedCount);
  if (!tokenizer) { unload(); return -1; } // fail() has named the repeated token
  return 0;
}

export function model_loaded(): i32 { return loaded ? 1 : 0; }
export function num_labels(): i32 { return loaded ? <i32>config.num_labels : 0; }
export function hidden_size(): i32 { return loaded ? <i32>config.hidden_size : 0; }
export function num_layers(): i32 { return loaded ? <i32>config.num_layers : 0; }
export function max_len(): i32 { return loaded ? <i32>config.max_len : 0; }
export function vocab_size(): i32 { return loaded ? <i32>config.vocab_size : 0; }
export function type_vocab_size(): i32 { return loaded ? <i32>config.type_vocab_size : 0; }
export function problem_type(): i32 { return loaded ? <i32>config.problem_type : 0; }
export function temperature(): f32 { return loaded ? config.temperature : 1; }
export function task(): i32 { return loaded ? <i32>config.task : 0; }
export function pooled_size(): i32 { return loaded ? <i32>config.pooled_size : 0; }

export function label_ptr(i: u32): usize {
  if (!loaded || i >= labels.count) return 0;
  return labels.blob + <usize>load<u32>(labels.offsets + (<usize>i << 2));
}

export function label_len(i: u32): i32 {
  if (!loaded || i >= labels.count) return fail(`label index ${i} out of range`);
  const o = labels.offsets + (<usize>i << 2);
  return <i32>(load<u32>(o, 4) - load<u32>(o));
}

export function text_buffer(size: u32): usize {
  if (size > textCap) {
    if (size > MAX_MODEL_BYTES) { fail(`text of ${size} bytes is larger than the runtime's limit of ${MAX_MODEL_BYTES} bytes`); return 0; }
    // Forget the old buffer before allocating: if the allocation traps (memory
    // cannot grow), the next call must not hand out the freed block.
    if (textBuf) heap.free(textBuf);
    textBuf = 0;
    textCap = 0;
    const cap = max<u32>(size, 256);
    textBuf = heap.alloc(cap);
    textCap = cap;
  }
  if (!textBuf) {
    textCap = 256;
    textBuf = heap.alloc(textCap);
  }
  return textBuf;
}

export function tokenize(lenA: u32, lenB: i32, maxLen: u32): i32 {
  if (!loaded) return fail("tokenize: no model loaded");
  const total = <u64>lenA + <u64>(lenB < 0 ? 0 : lenB);
  if (total > <u64>textCap) return fail(`tokenize: text of ${total} bytes is larger than text_buffer (${textCap} bytes)`);
  const limit = maxLen == 0 || maxLen > config.max_len ? config.max_len : maxLen;
  const s = state!;
  allCount = -1;
  if (unigram) return unigram!.encode(textBuf, lenA, textBuf + <usize>lenA, lenB, limit, s.input_ids, s.token_type_ids, offsetsBuf);
  if (bpe) return bpe!.encode(textBuf, lenA, textBuf + <usize>lenA, lenB, limit, s.input_ids, s.token_type_ids, offsetsBuf);
  return tokenizer!.encode(textBuf, lenA, textBuf + <usize>lenA, lenB, limit, s.input_ids, s.token_type_ids);
}

// Every token of one text (QA windows). Byte-level BPE and Unigram: a counting pass,
// then one that stores ids, offsets and each token's word (pre-token) index.
export function tokenize_all(lenA: u32): i32 {
  if (!loaded) return fail("tokenize_all: no model loaded");
  if (lenA > textCap) return fail(`tokenize_all: text of ${lenA} bytes is larger than text_buffer (${textCap} bytes)`);
  if (tokenizer) return tokenizer!.tokenizeAll(textBuf, lenA);
  const n = bpe ? bpe!.tokenize(textBuf, lenA, 0, 0, 0, u32.MAX_VALUE) : unigram!.tokenize(textBuf, lenA, 0, 0, 0, u32.MAX_VALUE);
  if (n > allCap) {
    if (allCap != 0) heap.free(allBuf);
    allCap = 0;
    allBuf = heap.alloc(<usize>n << 4);
    allCap = n;
  }
  const ids = allBuf, offsets = allBuf + (<usize>allCap << 2), words = allBuf + (<usize>allCap * 12);
  if (bpe) {
    bpe!.outWords = words;
    bpe!.tokenize(textBuf, lenA, ids, offsets, n, u32.MAX_VALUE);
    bpe!.outWords = 0;
  } else {
    unigram!.outWords = words;
    unigram!.tokenize(textBuf, lenA, ids, offsets, n, u32.MAX_VALUE);
    unigram!.outWords = 0;
  }
  allCount = n;
  return <i32>n;
}

// u32[2 * n]: [start, end) UTF-8 byte offsets of each token of the last tokenize
// or tokenize_all call into its own text (special tokens 0, 0): WordPiece keeps them
// in its instance, the other tokenizers in offsetsBuf (tokenize) or allBuf (tokenize_all).
export function token_offsets_ptr(): usize {
  if (tokenizer) return tokenizer!.offsets;
  return allCount >= 0 ? allBuf + (<usize>allCap << 2) : offsetsBuf;
}
export function all_ids_ptr(): usize { return tokenizer ? tokenizer!.allIds : allBuf; }
// u32[n]: each token's word index after tokenize_all (byte-level BPE and Unigram; 0 for WordPiece,
// whose words the host reads from the "##" pieces).
export function all_words_ptr(): usize { return tokenizer ? 0 : allBuf + (<usize>allCap * 12); }
export function ids_ptr(): usize { return state ? state!.input_ids : 0; }
export function type_ids_ptr(): usize { return state ? state!.token_type_ids : 0; }
export function logits_ptr(): usize { return state ? state!.logits : 0; }
export function hidden_ptr(): usize { return state ? state!.hidden : 0; }

// Nothing runs on an input that could read outside the weights.
function checkLength(what: string, n: u32): i32 {
  if (!loaded) return fail(`${what}: no model loaded`);
  if (n < 1 || n > config.max_len) return fail(`${what}: n = ${n} tokens, must be in 1..${config.max_len} (the model's max_len)`);
  return 0;
}

function position(t: u32, n: u32, b: u32): string {
  return b > 1 ? `position ${t % n} of sequence ${t / n}` : `position ${t}`;
}

function checkIds(what: string, n: u32, b: u32 = 1): i32 {
  const rc = checkLength(what, n);
  if (rc < 0) return rc;
  const s = state!;
  if (b < 1 || b > s.max_batch) return fail(`${what}: b = ${b} sequences, must be in 1..${s.max_batch} (max_batch)`);
  if (<u64>n * b > <u64>config.max_len) return fail(`${what}: ${b} sequences of ${n} tokens do not fit the ${config.max_len} token rows (max_len)`);
  const types: u32 = config.arch == ARCH_DISTILBERT ? 1 : config.type_vocab_size;
  for (let t: u32 = 0; t < n * b; t++) {
    const id = load<u32>(s.input_ids + (<usize>t << 2));
    if (id >= config.vocab_size) return fail(`${what}: input id ${<i32>id} at ${position(t, n, b)} is out of range (vocab_size ${config.vocab_size})`);
    const tt = load<u32>(s.token_type_ids + (<usize>t << 2));
    if (tt >= types) return fail(`${what}: token type id ${<i32>tt} at ${position(t, n, b)} is out of range (${config.arch == ARCH_DISTILBERT ? "DistilBERT takes only type 0" : `type_vocab_size ${config.type_vocab_size}`})`);
  }
  return 0;
}

// The index of the first NaN or Inf of f32[len] at p, or -1.
function firstNonFinite(p: usize, len: usize): i64 {
  for (let i: usize = 0; i < len; i++) if ((load<u32>(p + (i << 2)) & 0x7f800000) == 0x7f800000) return <i64>i;
  return -1;
}

// Fails when an output is not finite (a model whose weights the reader's
// magnitude bound admits keeps them finite; this holds for any model and input).
function checkFinite(what: string, p: usize, len: usize, place: string): i32 {
  const i = firstNonFinite(p, len);
  if (i < 0) return 0;
  return fail(`${what}: the model produced a non-finite value (NaN or Inf) in ${place} at index ${i}; no result is given`);
}

// The number of f32 the head wrote at logits_ptr() for b sequences of n tokens.
function outputLen(n: u32, b: u32): usize {
  const perToken = config.task == TASK_TOKEN_CLASSIFICATION || config.task == TASK_QUESTION_ANSWERING;
  return <usize>b * <usize>(perToken ? n : <u32>1) * <usize>outputWidth(config);
}

export function forward(n: u32): i32 {
  const rc = checkIds("forward", n);
  if (rc < 0) return rc;
  runForward(config, weights, state!, n);
  return checkFinite("forward", state!.logits, outputLen(n, 1), "the logits");
}

export function forward_batch(n: u32, b: u32): i32 {
  const rc = checkIds("forward_batch", n, b);
  if (rc < 0) return rc;
  runForward(config, weights, state!, n, b);
  return checkFinite("forward_batch", state!.logits, outputLen(n, b), "the logits");
}

export function set_memory_limit(mb: u32): void {
  setMemoryLimit(<u64>mb << 20);
}

export function max_batch(): i32 { return state ? <i32>state!.max_batch : 0; }

// Scores of the first b rows of logits_ptr() into scores_ptr(), f64[b, num_labels]:
// softmax / sigmoid of logits / temperature, or the raw regression value
// (encoder/scores.ts), so that every host prints the same bits.
export function compute_scores(b: u32): i32 {
  if (!loaded || !state) return fail("compute_scores: no model is loaded");
  if (config.task != TASK_SEQUENCE_CLASSIFICATION && config.task != TASK_TOKEN_CLASSIFICATION) return fail("compute_scores: the model has no labels to score (task " + config.task.toString() + ")");
  if (b < 1 || b > state!.max_batch) return fail("compute_scores: " + b.toString() + " rows; the model has 1.." + state!.max_batch.toString());
  const C = config.num_labels;
  for (let i: u32 = 0; i < b; i++) {
    labelScores(state!.logits + ((<usize>i * C) << 2), state!.label_scores + ((<usize>i * C) << 3), C, config.problem_type, config.temperature);
  }
  return 0;
}
export function scores_ptr(): usize { return state ? state!.label_scores : 0; }

export function embed(n: u32): i32 {
  const rc = checkIds("embed", n);
  if (rc < 0) return rc;
  embedTokens(config, weights, state!, n);
  return checkFinite("embed", state!.hidden, <usize>n * config.hidden_size, "the hidden states");
}

export function run_layers(n: u32, from: u32, to: u32): i32 {
  const rc = checkLength("run_layers", n);
  if (rc < 0) return rc;
  if (from > to || to > config.num_layers) return fail(`run_layers: layer range [${from}, ${to}) is not within [0, ${config.num_layers}]`);
  runLayers(config, weights, state!, n, from, to);
  return checkFinite("run_layers", state!.hidden, <usize>n * config.hidden_size, "the hidden states");
}

export function run_head(n: u32): i32 {
  const rc = checkLength("run_head", n);
  if (rc < 0) return rc;
  runHead(config, weights, state!, n);
  return checkFinite("run_head", state!.logits, outputLen(n, 1), "the logits");
}

export function run_to_head(n: u32, from: u32): i32 {
  const rc = checkLength("run_to_head", n);
  if (rc < 0) return rc;
  if (from > config.num_layers) return fail(`run_to_head: layer ${from} is not within [0, ${config.num_layers}]`);
  runToHead(config, weights, state!, n, from);
  return checkFinite("run_to_head", state!.logits, outputLen(n, 1), "the logits");
}

export function memory_bytes(): u32 {
  return <u32>memory.size() << 16;
}

// The known-answer self-test of the relaxed build (host/runtime/simd.ts), run by the
// host before it trusts build/axformer-relaxed.wasm: the same inlined helpers the
// kernels use, on inputs the host writes at simd_selftest_ptr():
//   [0, 16) i8x16 w, [16, 32) u8x16 x (0..127), [32, 48) i32x4 acc,
//   [48, 96) f32x4 a, b, c; out: [96, 112) dot7(acc, w, x), [112, 128) madd(a, b, c).
// Returns 1 when it ran (the relaxed build), 0 in the plain build (nothing run).
const SELFTEST = memory.data(128, 16);
export function simd_selftest_ptr(): usize { return SELFTEST; }
export function simd_selftest(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    v128.store(SELFTEST + 96, dot7(v128.load(SELFTEST + 32), v128.load(SELFTEST), v128.load(SELFTEST + 16)));
    v128.store(SELFTEST + 112, madd(v128.load(SELFTEST + 48), v128.load(SELFTEST + 64), v128.load(SELFTEST + 80)));
    return 1;
  }
  return 0;
}
