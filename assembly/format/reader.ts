// The only reader of the .axf model file (docs/format.md). It validates the whole
// file (never trusting a count or an offset), then walks the family's tensor
// table (model/tensors.ts): every tensor the config and the layer records call
// for is found, checked (shape, storage, layout, finite values) and the Weights
// point at it where it lies in the loaded buffer. Only f16 linear weights are
// copied, widened once to f32 into buffers this module owns.

import { fail } from "../errors";
import { crc32 } from "./crc32";
import { SECTION_ADDED_TOKENS, MAX_ADDED_TOKENS, MAX_ADDED_TOKEN_BYTES, ADDED_NORMALIZED, ADDED_ID_MASK, ADDED_LSTRIP, ADDED_RSTRIP } from "./constants";
import { SECTION_MERGES, MERGE_ENTRY_SIZE, MAX_MERGES, MAX_CLASS_RANGES, CHAR_NUMBER, TOKENIZER_BPE, TEMPLATE_ROBERTA } from "./constants";
import { SECTION_UNIGRAM, SECTION_CHARSMAP, TOKENIZER_UNIGRAM, TOKFLAGS_UNIGRAM } from "./constants";
import { Config, Matrix, LayerWeights, Weights, StringList, Linear, LayerNormWeights } from "../model/model";
import { runStateBytes } from "../model/state";
import {
  MAGIC, VERSION, MIN_VERSION, LAYOUT_ROWS, LAYOUT_PANELS, HEADER_SIZE, SECTION_ENTRY_SIZE, MAX_SECTIONS, ALIGN,
  SECTION_CONFIG, SECTION_LAYERS, SECTION_VOCAB, SECTION_LABELS, SECTION_TENSORS, SECTION_DATA, SECTION_META,
  CONFIG_WORDS, LAYER_RECORD_SIZE, TENSOR_ENTRY_SIZE, ARCH_BERT, ARCH_DISTILBERT, ARCH_ROBERTA, ARCH_ELECTRA, PROBLEM_REGRESSION,
  DTYPE_F32, DTYPE_F16, DTYPE_INT8, NO_TOKEN, STRIP_ACCENTS_FOLLOW_LOWERCASE, STRIP_ACCENTS_ALWAYS,
  CFG_ARCH, CFG_VOCAB_SIZE, CFG_HIDDEN_SIZE, CFG_NUM_LAYERS, CFG_NUM_HEADS, CFG_HEAD_DIM, CFG_INTERMEDIATE_SIZE,
  CFG_MAX_POSITION, CFG_TYPE_VOCAB_SIZE, CFG_NUM_LABELS, CFG_PROBLEM_TYPE, CFG_HIDDEN_ACT, CFG_LAYER_NORM_EPS,
  CFG_HAS_POOLER, CFG_HAS_PRE_CLASSIFIER, CFG_DO_LOWER_CASE, CFG_STRIP_ACCENTS, CFG_TOKENIZE_CHINESE_CHARS,
  CFG_CLEAN_TEXT, CFG_CLS_ID, CFG_SEP_ID, CFG_PAD_ID, CFG_UNK_ID, CFG_MASK_ID, CFG_MAX_LEN,
  CFG_MAX_INPUT_CHARS_PER_WORD, CFG_FLAGS, CFG_TEMPERATURE, CONFIG_WORDS_V2, SECTION_KINDS,
  CFG_TASK, CFG_POOLING, CFG_NORMALIZE, CFG_POSITION_OFFSET, CFG_EMBEDDING_SIZE, CFG_TOKENIZER, CFG_TEMPLATE,
  CFG_HEAD_ACT, CFG_TOKENIZER_FLAGS, CFG_RESERVED_FROM,
  TASK_SEQUENCE_CLASSIFICATION, TASK_EMBEDDING, TASK_TOKEN_CLASSIFICATION, TASK_QUESTION_ANSWERING,
  HDR_MAGIC, HDR_VERSION, HDR_FILE_SIZE, HDR_SECTION_COUNT, HDR_CRC, HDR_RESERVED, SEC_KIND, SEC_OFFSET, SEC_SIZE, SEC_CRC,
  LR_HAS_ATTENTION, LR_HAS_FFN, LR_NUM_HEADS, LR_FFN_WIDTH, LR_HARD_K, LR_RESERVED,
  TE_NAME_OFFSET, TE_NAME_LEN, TE_DTYPE, TE_NDIM, TE_DIMS, TE_DATA_OFFSET, TE_DATA_SIZE, TE_SCALE_OFFSET, TE_SCALE_SIZE,
  TE_LAYOUT, TE_RESERVED, TENSOR_COUNT_SIZE,
} from "./constants";
import {
  TENSOR_NAMES, TENSOR_ROWS, TENSOR_COLS, TENSOR_FLAGS, TENSOR_KINDS, LAYER_INDEX,
  DIM_NONE, DIM_VOCAB, DIM_HIDDEN, DIM_MAX_POSITION, DIM_TYPE_VOCAB, DIM_LAYER_HEADS, DIM_LAYER_FFN, DIM_LABELS,
  DIM_EMBEDDING, T_QUANTIZABLE, T_LINEAR, T_PER_LAYER, T_NEEDS_ATTENTION, T_NEEDS_FFN, T_NEEDS_TOKEN_TYPES, T_NEEDS_POOLER,
  T_NEEDS_PRE_CLASSIFIER, T_NEEDS_CLASSIFIER, T_NEEDS_QA, T_NEEDS_EMBEDDINGS_PROJECT, MAX_ABS_WEIGHT,
  W_EMBEDDINGS_PROJECT_WEIGHT, W_EMBEDDINGS_PROJECT_BIAS,
  W_WORD_EMBEDDINGS, W_POSITION_EMBEDDINGS, W_TOKEN_TYPE_EMBEDDINGS, W_EMBEDDINGS_LN_WEIGHT, W_EMBEDDINGS_LN_BIAS,
  W_QUERY_WEIGHT, W_QUERY_BIAS, W_KEY_WEIGHT, W_KEY_BIAS, W_VALUE_WEIGHT, W_VALUE_BIAS,
  W_ATTENTION_OUTPUT_WEIGHT, W_ATTENTION_OUTPUT_BIAS, W_ATTENTION_LN_WEIGHT, W_ATTENTION_LN_BIAS,
  W_INTERMEDIATE_WEIGHT, W_INTERMEDIATE_BIAS, W_OUTPUT_WEIGHT, W_OUTPUT_BIAS, W_OUTPUT_LN_WEIGHT, W_OUTPUT_LN_BIAS,
  W_POOLER_WEIGHT, W_POOLER_BIAS, W_PRE_CLASSIFIER_WEIGHT, W_PRE_CLASSIFIER_BIAS, W_CLASSIFIER_WEIGHT, W_CLASSIFIER_BIAS,
  W_QA_OUTPUTS_WEIGHT, W_QA_OUTPUTS_BIAS,
} from "../model/tensors";

export let config = new Config();
export let weights = new Weights();
export let vocab = new StringList();
export let labels = new StringList();
export let loaded = false;

// Raw views of the loaded file, for exports.ts.
export let configWords: usize = 0;   // u32[configCount]
export let configCount: u32 = 0;     // CONFIG_WORDS, or CONFIG_WORDS_V2 in a version 1 or 2 file
export let layerRecords: usize = 0;  // num_layers records of LAYER_RECORD_SIZE bytes
export let tensorCount: u32 = 0;
export let tensorTable: usize = 0;   // first entry of TENSOR_ENTRY_SIZE bytes
export let tensorNames: usize = 0;
export let dataStart: usize = 0;
export let metaStart: usize = 0;
export let metaSize: u32 = 0;
export let addedTokens: usize = 0;   // u32[addedCount] entries of ADDED_TOKENS (id | ADDED_NORMALIZED)
export let addedCount: u32 = 0;
export let merges: usize = 0;        // MERGES entries (u32 left, right, rank, result), sorted by (left, right)
export let mergeCount: u32 = 0;
export let classRanges: usize = 0;   // MERGES' u32[classRangeCount] (start | class << 24)
export let classRangeCount: u32 = 0;
export let unigramScores: usize = 0; // f64[vocab_size] of UNIGRAM (Unigram tokenizer only)
export let charsmapAt: usize = 0;    // CHARSMAP, 0 = absent
export let charsmapSize: u32 = 0;

let widened: usize[] = [];           // f32 copies of f16 matrices, freed by unloadModel
let sectionAt = new StaticArray<usize>(SECTION_KINDS); // by kind: absolute address, 0 = absent
let sectionSize = new StaticArray<u32>(SECTION_KINDS);
let dataSize: u32 = 0;
let fileStart: usize = 0;
let used = new StaticArray<bool>(0); // per tensor entry: claimed by the walk
let failed = false;                  // the tensor walk keeps the first error only
let fileVersion: u32 = 0;

// The most wasm memory a model may need (set_memory_limit), in bytes; 0 = no limit.
export let memoryLimit: u64 = 0;
export function setMemoryLimit(bytes: u64): void { memoryLimit = bytes; }
// Byte comparisons made by the last load's tensor-name index: an operation count
// that tests hold to a linear bound (name_compares()).
export let nameCompares: u64 = 0;

const SECTION_NAMES = ["", "CONFIG", "LAYERS", "VOCAB", "LABELS", "TENSORS", "DATA", "META", "ADDED_TOKENS", "MERGES", "UNIGRAM", "CHARSMAP"];
const CONFIG_FIELDS = [
  "arch", "vocab_size", "hidden_size", "num_layers", "num_heads", "head_dim", "intermediate_size",
  "max_position", "type_vocab_size", "num_labels", "problem_type", "hidden_act", "layer_norm_eps",
  "has_pooler", "has_pre_classifier", "do_lower_case", "strip_accents", "tokenize_chinese_chars",
  "clean_text", "cls_id", "sep_id", "pad_id", "unk_id", "mask_id", "max_len", "max_input_chars_per_word", "flags",
  "temperature", "task", "pooling", "normalize", "position_offset", "embedding_size", "tokenizer", "template",
  "head_act", "tokenizer_flags",
];

// Activations are max_len x width f32 buffers; keep each under 256 MiB.
const MAX_ACTIVATION: u64 = 1 << 26;

export function unloadModel(): void {
  for (let i = 0; i < widened.length; i++) heap.free(widened[i]);
  widened = [];
  config = new Config();
  weights = new Weights();
  vocab = new StringList();
  labels = new StringList();
  loaded = false;
  configWords = layerRecords = tensorTable = tensorNames = dataStart = metaStart = 0;
  tensorCount = metaSize = dataSize = 0;
  addedTokens = 0;
  addedCount = 0;
  merges = 0;
  mergeCount = 0;
  classRanges = 0;
  classRangeCount = 0;
  unigramScores = charsmapAt = 0;
  charsmapSize = 0;
  for (let k = 0; k < SECTION_KINDS; k++) { sectionAt[k] = 0; sectionSize[k] = 0; }
}

// Validates and loads the file at [ptr, ptr + size) in place; 0 = ok, else
// negative with the message in errors.ts. On failure nothing stays loaded.
export function loadModel(ptr: usize, size: u32): i32 {
  unloadModel();
  memoryNeeded = 0;
  nameCompares = 0;
  let r = parse(ptr, size);
  if (r < 0) unloadModel();
  else loaded = true;
  return r;
}

// UTF-8 string i of a list (the caller checks i < list.count).
export function stringPtr(list: StringList, i: u32): usize {
  return list.blob + load<u32>(list.offsets + (<usize>i << 2));
}
export function stringLen(list: StringList, i: u32): u32 {
  let o = list.offsets + (<usize>i << 2);
  return load<u32>(o, 4) - load<u32>(o);
}

function parse(p: usize, size: u32): i32 {
  // ---- header and section table
  if (size < <u32>HEADER_SIZE) return fail("model file: " + size.toString() + " bytes, shorter than the 64-byte header");
  if (p & (ALIGN - 1)) return fail("model file: the buffer is not 16-byte aligned in memory");
  if (load<u32>(p, HDR_MAGIC) != MAGIC) return fail("model file: bad magic (not an .axf file)");
  let version = load<u32>(p, HDR_VERSION);
  if (version < <u32>MIN_VERSION || version > <u32>VERSION) return fail("model file: version " + version.toString() + ", this runtime reads versions 1 to 3");
  fileVersion = version;
  fileStart = p;
  let fileSize = load<u32>(p, HDR_FILE_SIZE);
  if (fileSize != size) return fail("model file: header.file_size is " + fileSize.toString() + " but " + size.toString() + " bytes were loaded (truncated or padded file)");
  let count = load<u32>(p, HDR_SECTION_COUNT);
  if (count < 1 || count > <u32>MAX_SECTIONS) return fail("model file: header.section_count " + count.toString() + " out of range 1..32");
  let tableEnd = <u32>HEADER_SIZE + count * <u32>SECTION_ENTRY_SIZE;
  if (tableEnd > size) return fail("model file: the section table runs past the end of the file");
  // The CRC of the header and section table with header_crc read as 0.
  let crc = crc32(p + HDR_RESERVED, tableEnd - HDR_RESERVED, crc32(memory.data(4), 4, crc32(p, HDR_CRC)));
  if (crc != load<u32>(p, HDR_CRC)) return fail("model file: header CRC mismatch (corrupted header or section table)");
  // Reserved bytes must be zero so that a later version can give them a meaning.
  for (let i: u32 = HDR_RESERVED; i < <u32>HEADER_SIZE; i += 4) {
    if (load<u32>(p + i) != 0) return fail("model file: header bytes " + i.toString() + ".." + (i + 3).toString() + " are reserved and must be 0");
  }

  for (let i: u32 = 0; i < count; i++) {
    let e = p + HEADER_SIZE + i * SECTION_ENTRY_SIZE;
    let kind = load<u32>(e, SEC_KIND), off = load<u32>(e, SEC_OFFSET), len = load<u32>(e, SEC_SIZE);
    let name = kind >= 1 && kind < <u32>SECTION_KINDS ? SECTION_NAMES[kind] : "section of kind " + kind.toString();
    if (off & (ALIGN - 1)) return fail(name + ": offset " + off.toString() + " is not a multiple of 16");
    if (off < tableEnd || <u64>off + len > size) return fail(name + ": bytes [" + off.toString() + ", " + (<u64>off + len).toString() + ") lie outside the file's section area");
    for (let j: u32 = 0; j < i; j++) {
      let f = p + HEADER_SIZE + j * SECTION_ENTRY_SIZE;
      let fo = load<u32>(f, SEC_OFFSET), fl = load<u32>(f, SEC_SIZE);
      if (load<u32>(f, SEC_KIND) == kind) return fail(name + ": the section appears twice");
      if (len && fl && off < fo + fl && fo < off + len) return fail(name + " overlaps section " + j.toString() + " of the table");
    }
    if (crc32(p + off, len) != load<u32>(e, SEC_CRC)) return fail(name + ": CRC mismatch (corrupted file)");
    if (kind >= 1 && kind < <u32>SECTION_KINDS) { sectionAt[kind] = p + off; sectionSize[kind] = len; }
  }
  for (let k = SECTION_CONFIG; k <= SECTION_DATA; k++) {
    if (!sectionAt[k]) return fail("model file: required section " + SECTION_NAMES[k] + " is missing");
  }
  let pad = checkSectionPadding(p, size, tableEnd, count);
  if (pad < 0) return pad;
  dataStart = sectionAt[SECTION_DATA];
  dataSize = sectionSize[SECTION_DATA];
  metaStart = sectionAt[SECTION_META];
  metaSize = sectionSize[SECTION_META];

  let r = readConfig();
  if (r < 0) return r;
  r = readLayers();
  if (r < 0) return r;
  r = readList(vocab, SECTION_VOCAB, config.vocab_size);
  if (r < 0) return r;
  r = readList(labels, SECTION_LABELS, config.num_labels);
  if (r < 0) return r;
  r = readAddedTokens();
  if (r < 0) return r;
  r = readMerges();
  if (r < 0) return r;
  r = readUnigram();
  if (r < 0) return r;
  r = readTensorTable();
  if (r < 0) return r;
  return readWeights();
}

// Every byte outside the header, the section table and the sections (the padding
// to each 16-byte boundary, and any gap) must be zero: no CRC covers it, so
// nothing could tell a file with data hidden there from a valid one. Sections are
// at most 32: sorting their offsets by insertion is cheap.
function checkSectionPadding(p: usize, size: u32, tableEnd: u32, count: u32): i32 {
  let order = new StaticArray<u32>(count);
  for (let i: u32 = 0; i < count; i++) {
    let off = load<u32>(p + HEADER_SIZE + i * SECTION_ENTRY_SIZE, SEC_OFFSET);
    let j = <i32>i - 1;
    while (j >= 0 && load<u32>(p + HEADER_SIZE + order[j] * SECTION_ENTRY_SIZE, SEC_OFFSET) > off) { order[j + 1] = order[j]; j--; }
    order[j + 1] = i;
  }
  let from = tableEnd;
  for (let k: u32 = 0; k <= count; k++) {
    let e = k < count ? p + HEADER_SIZE + order[k] * SECTION_ENTRY_SIZE : 0;
    let to = k < count ? load<u32>(e, SEC_OFFSET) : size;
    let z = firstNonZero(p, from, to);
    if (z >= 0) return fail("model file: padding byte " + z.toString() + " (outside every section) is not 0");
    if (k < count) from = max(from, <u32>min<u64>(<u64>to + load<u32>(e, SEC_SIZE), size));
  }
  return 0;
}

// The first nonzero byte of [p + from, p + to), or -1.
function firstNonZero(p: usize, from: u32, to: u32): i64 {
  for (let i = from; i < to; i++) if (load<u8>(p + i) != 0) return i;
  return -1;
}

// ---- CONFIG

// Words past a version 1 or 2 file's 32 read as 0.
function word(i: i32): u32 {
  return <u32>i < configCount ? load<u32>(configWords + (<usize>i << 2)) : 0;
}

// The word must lie in [lo, hi]; else fail naming the field.
function outOfRange(i: i32, lo: u32, hi: u32): bool {
  let v = word(i);
  if (v >= lo && v <= hi) return false;
  fail("CONFIG." + (i < CONFIG_FIELDS.length ? CONFIG_FIELDS[i] : "reserved word " + i.toString()) + " = " + v.toString() + " is out of range " + lo.toString() + ".." + hi.toString());
  return true;
}

function readConfig(): i32 {
  let words: u32 = fileVersion >= 3 ? CONFIG_WORDS : CONFIG_WORDS_V2;
  if (sectionSize[SECTION_CONFIG] != words * 4) return fail("CONFIG: " + sectionSize[SECTION_CONFIG].toString() + " bytes, expected " + (words * 4).toString());
  configWords = sectionAt[SECTION_CONFIG];
  configCount = words;
  // Per family: BERT and RoBERTa have token types and a pooler-shaped head (dense +
  // tanh), DistilBERT and ELECTRA a pre_classifier (dense + ReLU / head_act);
  // RoBERTa's positions start at position_offset, ELECTRA's embeddings may be narrower.
  let arch = word(CFG_ARCH);
  let types = arch != ARCH_DISTILBERT, pooled = arch == ARCH_BERT || arch == ARCH_ROBERTA;
  let roberta = arch == ARCH_ROBERTA, electra = arch == ARCH_ELECTRA;
  // The task decides the head: labels (none for embeddings, start and end for
  // question answering), and the pooler / pre_classifier only for sequence classification.
  let task = word(CFG_TASK);
  let seq = task == TASK_SEQUENCE_CLASSIFICATION, emb = task == TASK_EMBEDDING, qa = task == TASK_QUESTION_ANSWERING;
  let labelsLo: u32 = emb ? 0 : qa ? 2 : 1;
  let labelsHi: u32 = emb ? 0 : qa ? 2 : word(CFG_PROBLEM_TYPE) == PROBLEM_REGRESSION ? 1 : 1 << 16;
  if (outOfRange(CFG_ARCH, ARCH_BERT, ARCH_ELECTRA) ||
      outOfRange(CFG_VOCAB_SIZE, 1, 1 << 24) ||
      outOfRange(CFG_HIDDEN_SIZE, 1, 1 << 16) ||
      outOfRange(CFG_NUM_LAYERS, 1, 1024) ||
      outOfRange(CFG_NUM_HEADS, 1, word(CFG_HIDDEN_SIZE)) ||
      outOfRange(CFG_HEAD_DIM, 1, word(CFG_HIDDEN_SIZE)) ||
      outOfRange(CFG_INTERMEDIATE_SIZE, 1, 1 << 20) ||
      outOfRange(CFG_MAX_POSITION, 1, 1 << 20) ||
      outOfRange(CFG_TYPE_VOCAB_SIZE, types ? 1 : 0, types ? 1 << 16 : 0) ||
      outOfRange(CFG_TASK, TASK_SEQUENCE_CLASSIFICATION, TASK_QUESTION_ANSWERING) ||
      outOfRange(CFG_NUM_LABELS, labelsLo, labelsHi) ||
      outOfRange(CFG_PROBLEM_TYPE, 0, seq ? 2 : 0) ||
      outOfRange(CFG_HIDDEN_ACT, 1, 3) ||
      outOfRange(CFG_HAS_POOLER, 0, pooled && seq ? 1 : 0) ||
      outOfRange(CFG_HAS_PRE_CLASSIFIER, 0, !pooled && seq ? 1 : 0) ||
      outOfRange(CFG_DO_LOWER_CASE, 0, 1) ||
      outOfRange(CFG_STRIP_ACCENTS, 0, 2) ||
      outOfRange(CFG_TOKENIZE_CHINESE_CHARS, 0, 1) ||
      outOfRange(CFG_CLEAN_TEXT, 0, 1) ||
      outOfRange(CFG_CLS_ID, 0, word(CFG_VOCAB_SIZE) - 1) ||
      outOfRange(CFG_SEP_ID, 0, word(CFG_VOCAB_SIZE) - 1) ||
      outOfRange(CFG_PAD_ID, 0, word(CFG_VOCAB_SIZE) - 1) ||
      outOfRange(CFG_UNK_ID, 0, word(CFG_VOCAB_SIZE) - 1) ||
      (word(CFG_MASK_ID) != NO_TOKEN && outOfRange(CFG_MASK_ID, 0, word(CFG_VOCAB_SIZE) - 1)) ||
      // RoBERTa: padding_idx = position_offset - 1 < max_position, and positions up to padding_idx + max_len.
      outOfRange(CFG_POSITION_OFFSET, roberta ? 1 : 0, roberta ? word(CFG_MAX_POSITION) - min(word(CFG_MAX_POSITION), 2) : 0) ||
      outOfRange(CFG_MAX_LEN, 2, min(word(CFG_MAX_POSITION) - word(CFG_POSITION_OFFSET), 1 << 16)) ||
      outOfRange(CFG_MAX_INPUT_CHARS_PER_WORD, 1, 1000) ||
      outOfRange(CFG_FLAGS, 0, 1) ||
      outOfRange(CFG_POOLING, emb ? 1 : 0, emb ? 63 : 0) ||
      outOfRange(CFG_NORMALIZE, 0, emb ? 1 : 0) ||
      outOfRange(CFG_EMBEDDING_SIZE, 0, electra ? 1 << 16 : 0) ||
      outOfRange(CFG_TOKENIZER, 0, TOKENIZER_UNIGRAM) ||
      outOfRange(CFG_TEMPLATE, 0, TEMPLATE_ROBERTA) ||
      outOfRange(CFG_HEAD_ACT, 0, word(CFG_HAS_PRE_CLASSIFIER) ? 3 : 0) ||
      outOfRange(CFG_TOKENIZER_FLAGS, 0, word(CFG_TOKENIZER) == TOKENIZER_BPE ? 7 : word(CFG_TOKENIZER) == TOKENIZER_UNIGRAM ? TOKFLAGS_UNIGRAM : 0)) return -1;
  if (word(CFG_TOKENIZER) == TOKENIZER_UNIGRAM && (word(CFG_TOKENIZER_FLAGS) & ~TOKFLAGS_UNIGRAM)) return fail("CONFIG.tokenizer_flags: bits outside 8..16");
  for (let i = CFG_RESERVED_FROM; i < CONFIG_WORDS; i++) if (outOfRange(i, 0, 0)) return -1;
  // 0 = no temperature (files written before it existed); else a positive finite f32
  let t = reinterpret<f32>(word(CFG_TEMPERATURE));
  if (word(CFG_TEMPERATURE) != 0 && (!isFinite(t) || t <= 0)) return fail("CONFIG.temperature = " + t.toString() + " is not a positive finite number");
  let c = config;
  c.arch = word(CFG_ARCH);
  c.vocab_size = word(CFG_VOCAB_SIZE);
  c.hidden_size = word(CFG_HIDDEN_SIZE);
  c.num_layers = word(CFG_NUM_LAYERS);
  c.num_heads = word(CFG_NUM_HEADS);
  c.head_dim = word(CFG_HEAD_DIM);
  c.intermediate_size = word(CFG_INTERMEDIATE_SIZE);
  c.max_position = word(CFG_MAX_POSITION);
  c.type_vocab_size = word(CFG_TYPE_VOCAB_SIZE);
  c.num_labels = word(CFG_NUM_LABELS);
  c.problem_type = word(CFG_PROBLEM_TYPE);
  c.hidden_act = word(CFG_HIDDEN_ACT);
  c.layer_norm_eps = reinterpret<f32>(word(CFG_LAYER_NORM_EPS));
  c.has_pooler = word(CFG_HAS_POOLER) != 0;
  c.has_pre_classifier = word(CFG_HAS_PRE_CLASSIFIER) != 0;
  c.do_lower_case = word(CFG_DO_LOWER_CASE) != 0;
  let sa = word(CFG_STRIP_ACCENTS);
  c.strip_accents = sa == STRIP_ACCENTS_ALWAYS || (sa == STRIP_ACCENTS_FOLLOW_LOWERCASE && c.do_lower_case);
  c.tokenize_chinese_chars = word(CFG_TOKENIZE_CHINESE_CHARS) != 0;
  c.clean_text = word(CFG_CLEAN_TEXT) != 0;
  c.cls_id = <i32>word(CFG_CLS_ID);
  c.sep_id = <i32>word(CFG_SEP_ID);
  c.pad_id = <i32>word(CFG_PAD_ID);
  c.unk_id = <i32>word(CFG_UNK_ID);
  c.mask_id = <i32>word(CFG_MASK_ID); // NO_TOKEN becomes -1
  c.max_len = word(CFG_MAX_LEN);
  c.max_input_chars_per_word = word(CFG_MAX_INPUT_CHARS_PER_WORD);
  c.flags = word(CFG_FLAGS);
  c.temperature = word(CFG_TEMPERATURE) == 0 ? 1 : t;
  c.position_offset = word(CFG_POSITION_OFFSET);
  c.embedding_size = word(CFG_EMBEDDING_SIZE);
  c.head_act = word(CFG_HEAD_ACT);
  c.tokenizer = word(CFG_TOKENIZER);
  c.template = word(CFG_TEMPLATE);
  c.tokenizer_flags = word(CFG_TOKENIZER_FLAGS);
  c.task = task;
  c.pooling = word(CFG_POOLING);
  c.normalize = word(CFG_NORMALIZE) != 0;
  c.pooled_size = c.hidden_size * <u32>popcnt(c.pooling);
  if (<u64>c.head_dim * c.num_heads != c.hidden_size) return fail("CONFIG: head_dim * num_heads = " + (<u64>c.head_dim * c.num_heads).toString() + ", not hidden_size " + c.hidden_size.toString());
  let eps = c.layer_norm_eps;
  if (!isFinite(eps) || eps <= 0) return fail("CONFIG.layer_norm_eps is not a positive finite number");
  if (<u64>c.max_len * max(max(c.hidden_size, c.intermediate_size), c.embedding_size) > MAX_ACTIVATION) return fail("CONFIG: max_len x max(hidden_size, intermediate_size, embedding_size) activations would not fit in memory");
  return 0;
}

// ---- LAYERS

function readLayers(): i32 {
  let L = config.num_layers;
  if (<u64>sectionSize[SECTION_LAYERS] != <u64>L * LAYER_RECORD_SIZE) return fail("LAYERS: " + sectionSize[SECTION_LAYERS].toString() + " bytes for " + L.toString() + " layers of 16 bytes");
  layerRecords = sectionAt[SECTION_LAYERS];
  for (let i: u32 = 0; i < L; i++) {
    let r = layerRecords + i * LAYER_RECORD_SIZE;
    let at = "LAYERS[" + i.toString() + "].";
    let att = load<u8>(r, LR_HAS_ATTENTION), ffn = load<u8>(r, LR_HAS_FFN), heads = <u32>load<u16>(r, LR_NUM_HEADS);
    let width = load<u32>(r, LR_FFN_WIDTH), k = load<u32>(r, LR_HARD_K);
    if (att > 1) return fail(at + "has_attention = " + att.toString() + " (0 or 1)");
    if (ffn > 1) return fail(at + "has_ffn = " + ffn.toString() + " (0 or 1)");
    if (att ? heads < 1 || heads > config.num_heads : heads != 0) return fail(at + "num_heads = " + heads.toString() + (att ? " is out of range 1..CONFIG.num_heads" : " on a removed attention block"));
    if (ffn ? width < 1 || width > config.intermediate_size : width != 0) return fail(at + "ffn_width = " + width.toString() + (ffn ? " is out of range 1..CONFIG.intermediate_size" : " on a removed FFN block"));
    if (!att && k != 0) return fail(at + "hard_k = " + k.toString() + " on a removed attention block");
    if (load<u32>(r, LR_RESERVED) != 0) return fail(at + "reserved is not 0");
  }
  return 0;
}

// ---- UNIGRAM: f64[vocab_size] piece scores (NaN: not a piece; any other value is
// only added and compared, so none can do harm);
// CHARSMAP: the Precompiled normalizer, checked by the tokenizer (tokenizer/precompiled.ts).

function readUnigram(): i32 {
  let p = sectionAt[SECTION_UNIGRAM], size = <u64>sectionSize[SECTION_UNIGRAM];
  if (config.tokenizer != TOKENIZER_UNIGRAM) {
    if (p || sectionAt[SECTION_CHARSMAP]) return fail("UNIGRAM / CHARSMAP without CONFIG.tokenizer Unigram");
    return 0;
  }
  if (!p) return fail("model file: no UNIGRAM section for CONFIG.tokenizer Unigram");
  if (size != 8 * <u64>config.vocab_size) return fail("UNIGRAM: not 8 x vocab_size bytes");
  unigramScores = p;
  charsmapAt = sectionAt[SECTION_CHARSMAP];
  charsmapSize = sectionSize[SECTION_CHARSMAP];
  return 0;
}

// ---- ADDED_TOKENS: count, then count entries: a vocab id in the low 24 bits, bit
// 31 = normalized, bits 24..30 zero; ids distinct, tokens 1..MAX_ADDED_TOKEN_BYTES bytes.

function readAddedTokens(): i32 {
  let p = sectionAt[SECTION_ADDED_TOKENS], size = <u64>sectionSize[SECTION_ADDED_TOKENS];
  if (!p) return 0;
  if (size < 4) return fail("ADDED_TOKENS: " + size.toString() + " bytes, too short for its count");
  let count = load<u32>(p);
  if (count > <u32>MAX_ADDED_TOKENS) return fail("ADDED_TOKENS.count = " + count.toString() + " exceeds " + MAX_ADDED_TOKENS.toString());
  if (size != 4 + 4 * <u64>count) return fail("ADDED_TOKENS: " + size.toString() + " bytes, but count " + count.toString() + " needs " + (4 + 4 * <u64>count).toString());
  for (let i: u32 = 0; i < count; i++) {
    let e = load<u32>(p + 4 + (<usize>i << 2)), id = e & ADDED_ID_MASK;
    if (e & ~(ADDED_ID_MASK | ADDED_NORMALIZED | ADDED_LSTRIP | ADDED_RSTRIP)) return fail("ADDED_TOKENS[" + i.toString() + "]: reserved bits 24..28 are not 0");
    if (id >= vocab.count) return fail("ADDED_TOKENS[" + i.toString() + "] = " + id.toString() + " is not a vocab id");
    let len = stringLen(vocab, id);
    if (len == 0 || len > <u32>MAX_ADDED_TOKEN_BYTES) return fail("ADDED_TOKENS[" + i.toString() + "]: token " + id.toString() + " is " + len.toString() + " bytes, not 1.." + MAX_ADDED_TOKEN_BYTES.toString());
    for (let j: u32 = 0; j < i; j++) {
      if ((load<u32>(p + 4 + (<usize>j << 2)) & ADDED_ID_MASK) == id) return fail("ADDED_TOKENS: id " + id.toString() + " appears twice");
    }
  }
  addedTokens = p + 4;
  addedCount = count;
  return 0;
}

// ---- MERGES (byte-level BPE): u32 M, u32 R, u32 ranges[R] (start | class << 24,
// starts strictly increasing from 0, class CHAR_*), then M entries of u32 left,
// right, rank, result: ids below vocab_size, rank below M, sorted by (left, right)
// without repeats. Required by TOKENIZER_BPE, refused otherwise. One pass, O(R + M).

function readMerges(): i32 {
  let p = sectionAt[SECTION_MERGES], size = <u64>sectionSize[SECTION_MERGES];
  let bpe = config.tokenizer == TOKENIZER_BPE;
  if (!p) return bpe ? fail("model file: CONFIG.tokenizer is byte-level BPE but the MERGES section is missing") : 0;
  if (!bpe) return fail("MERGES: present but CONFIG.tokenizer is not byte-level BPE");
  if (size < 12) return fail("MERGES: " + size.toString() + " bytes, too short for its counts");
  let m = load<u32>(p), r = load<u32>(p, 4);
  if (m > <u32>MAX_MERGES || r < 1 || r > <u32>MAX_CLASS_RANGES || size != 8 + 4 * <u64>r + <u64>MERGE_ENTRY_SIZE * m)
    return fail("MERGES: " + size.toString() + " bytes for " + m.toString() + " merges (at most 2^24) and " + r.toString() + " ranges (1..65536)");
  let ranges = p + 8, e = ranges + (<usize>r << 2), V = vocab.count;
  let prev: i64 = -1;
  for (let i: u32 = 0; i < r; i++) {
    let w = load<u32>(ranges + (<usize>i << 2)), start = w & 0xffffff;
    if ((i == 0) != (start == 0) || <i64>start <= prev || start > 0x10ffff || (w >> 24) > <u32>CHAR_NUMBER)
      return fail("MERGES.ranges[" + i.toString() + "]: bad start or class");
    prev = start;
  }
  prev = -1;
  for (let i: u32 = 0; i < m; i++) {
    let at = e + <usize>i * MERGE_ENTRY_SIZE;
    let left = load<u32>(at), right = load<u32>(at, 4);
    let key = <i64>((<u64>left << 32) | right);
    if (left >= V || right >= V || load<u32>(at, 12) >= V || load<u32>(at, 8) >= m || key <= prev)
      return fail("MERGES[" + i.toString() + "]: an id is not below vocab_size, the rank not below the count, or (left, right) not above the previous entry's");
    prev = key;
  }
  merges = e;
  mergeCount = m;
  classRanges = ranges;
  classRangeCount = r;
  return 0;
}

// ---- VOCAB and LABELS

function readList(list: StringList, kind: i32, expected: u32): i32 {
  let name = SECTION_NAMES[kind];
  let p = sectionAt[kind], size = <u64>sectionSize[kind];
  if (size < 8) return fail(name + ": " + size.toString() + " bytes, too short for a string list");
  let count = load<u32>(p);
  if (count != expected) return fail(name + ".count = " + count.toString() + " but CONFIG calls for " + expected.toString());
  let head = 4 + 4 * (<u64>count + 1);
  if (head > size) return fail(name + ": offsets[" + (count + 1).toString() + "] run past the end of the section");
  let offsets = p + 4, blob = p + <usize>head;
  if (load<u32>(offsets) != 0) return fail(name + ".offsets[0] is not 0");
  for (let i: u32 = 0; i < count; i++) {
    let a = load<u32>(offsets + (<usize>i << 2)), b = load<u32>(offsets + (<usize>i << 2), 4);
    if (b < a) return fail(name + ".offsets[" + (i + 1).toString() + "] decreases");
    if (head + b > size) return fail(name + ".offsets[" + (i + 1).toString() + "] points past the end of the section");
    if (!validUtf8(blob + a, b - a)) return fail(name + "[" + i.toString() + "]: invalid UTF-8");
  }
  if (head + load<u32>(offsets + (<usize>count << 2)) != size) return fail(name + ": the section holds bytes past the last string");
  list.count = count;
  list.offsets = offsets;
  list.blob = blob;
  return 0;
}

function validUtf8(p: usize, n: usize): bool {
  let end = p + n;
  while (p < end) {
    let c = <u32>load<u8>(p++);
    if (c < 0x80) continue;
    let k: i32, least: u32;
    if ((c & 0xe0) == 0xc0) { k = 1; c &= 0x1f; least = 0x80; }
    else if ((c & 0xf0) == 0xe0) { k = 2; c &= 0x0f; least = 0x800; }
    else if ((c & 0xf8) == 0xf0) { k = 3; c &= 0x07; least = 0x10000; }
    else return false;
    if (<usize>k > end - p) return false;
    for (; k > 0; k--) {
      let b = <u32>load<u8>(p++);
      if ((b & 0xc0) != 0x80) return false;
      c = (c << 6) | (b & 0x3f);
    }
    if (c < least || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

// ---- TENSORS

function entry(i: u32): usize {
  return tensorTable + <usize>i * TENSOR_ENTRY_SIZE;
}

// Tensor i's name for an error message: printable ASCII as is, any other byte as
// \xNN, at most 96 bytes: the name comes from an untrusted file, and the message
// ends up on terminals and in logs.
export function tensorName(i: u32): string {
  let e = entry(i);
  let p = tensorNames + load<u32>(e, TE_NAME_OFFSET), n = load<u32>(e, TE_NAME_LEN);
  let shown = min<u32>(n, 96);
  let s = "";
  for (let k: u32 = 0; k < shown; k++) {
    let b = <i32>load<u8>(p + k);
    s += b >= 0x20 && b < 0x7f && b != 0x27 && b != 0x5c ? String.fromCharCode(b) : "\\x" + (b < 16 ? "0" : "") + b.toString(16);
  }
  return n > shown ? s + "... (" + n.toString() + " bytes)" : s;
}

// "tensor 'name': ", built only for a message (names are up to 96 bytes shown).
function entryLabel(i: u32): string {
  return "tensor '" + tensorName(i) + "': ";
}

function readTensorTable(): i32 {
  let p = sectionAt[SECTION_TENSORS], size = <u64>sectionSize[SECTION_TENSORS];
  if (size < 4) return fail("TENSORS: too short for the tensor count");
  let count = load<u32>(p);
  let namesAt = TENSOR_COUNT_SIZE + <u64>count * TENSOR_ENTRY_SIZE;
  if (namesAt > size) return fail("TENSORS.count = " + count.toString() + ": the table runs past the end of the section");
  tensorCount = count;
  tensorTable = p + TENSOR_COUNT_SIZE;
  tensorNames = p + <usize>namesAt;
  let namesSize = size - namesAt;
  for (let i: u32 = 0; i < count; i++) {
    let e = entry(i);
    if (<u64>load<u32>(e, TE_NAME_OFFSET) + load<u32>(e, TE_NAME_LEN) > namesSize) return fail("TENSORS entry " + i.toString() + ": name lies outside the section");
    let dtype = load<u32>(e, TE_DTYPE), ndim = load<u32>(e, TE_NDIM);
    if (dtype < <u32>DTYPE_F32 || dtype > <u32>DTYPE_INT8) return fail(entryLabel(i) + "unknown dtype " + dtype.toString());
    if (ndim < 1 || ndim > 2) return fail(entryLabel(i) + "ndim " + ndim.toString() + " (1 or 2)");
    let n: u64 = 1;
    for (let d: u32 = 0; d < 4; d++) {
      let dim = load<u32>(e + TE_DIMS + (d << 2));
      if (d < ndim ? dim == 0 : dim != 0) return fail(entryLabel(i) + "dims[" + d.toString() + "] = " + dim.toString());
      if (d < ndim) n *= dim;
    }
    if (ndim == 1 && dtype != DTYPE_F32) return fail(entryLabel(i) + "a vector must be f32");
    let off = load<u32>(e, TE_DATA_OFFSET), len = load<u32>(e, TE_DATA_SIZE);
    if (off & (ALIGN - 1)) return fail(entryLabel(i) + "data_offset " + off.toString() + " is not a multiple of 16");
    // n > len first: n * 4 of two u32 dims could wrap around u64.
    if (n > <u64>len || <u64>len != n * (dtype == DTYPE_F32 ? 4 : dtype == DTYPE_F16 ? 2 : 1)) return fail(entryLabel(i) + "data_size " + len.toString() + " does not match its dtype and dims");
    if (<u64>off + len > dataSize) return fail(entryLabel(i) + "data lies outside the DATA section");
    let soff = load<u32>(e, TE_SCALE_OFFSET), slen = load<u32>(e, TE_SCALE_SIZE);
    if (dtype == DTYPE_INT8) {
      if (soff & (ALIGN - 1)) return fail(entryLabel(i) + "scale_offset " + soff.toString() + " is not a multiple of 16");
      if (<u64>slen != <u64>load<u32>(e, TE_DIMS) * 4) return fail(entryLabel(i) + "scale_size " + slen.toString() + " is not 4 x rows");
      if (<u64>soff + slen > dataSize) return fail(entryLabel(i) + "scales lie outside the DATA section");
    } else if (soff != 0 || slen != 0) return fail(entryLabel(i) + "scale_offset/scale_size must be 0 unless int8");
    let layout = load<u32>(e, TE_LAYOUT);
    if (fileVersion == 1 ? layout != 0 : layout > <u32>LAYOUT_PANELS) return fail(entryLabel(i) + "layout " + layout.toString() + (fileVersion == 1 ? " in a version 1 file (reserved, 0)" : " is not 0 (rows) or 1 (panels)"));
    if (layout == LAYOUT_PANELS && ndim != 2) return fail(entryLabel(i) + "layout 1 (panels) on a vector");
    if (load<u32>(e, TE_RESERVED) != 0) return fail(entryLabel(i) + "reserved is not 0");
  }
  return 0;
}

// ---- the tensors: every tensor the table and the layer records call for, nothing else

function fault(msg: string): void {
  if (!failed) fail(msg);
  failed = true;
}

// Checks the entry the name index gave slot `at` (row, layer) for tensor `name`
// of shape [rows, cols] (cols = 0: the vector [rows]); `quant`: it may be stored
// f16 or int8; `panels`: it may be in layout 1 (a linear weight). Returns the
// entry, or 0 after fault().
function find(at: i32, name: string, rows: u32, cols: u32, quant: bool, panels: bool = false): usize {
  if (failed) return 0;
  let k = named[at];
  if (!k) { fault("tensor '" + name + "' is missing"); return 0; }
  used[k - 1] = true;
  let e = entry(k - 1);
  let ndim = load<u32>(e, TE_NDIM), dtype = load<u32>(e, TE_DTYPE);
  let r = load<u32>(e, TE_DIMS), c = load<u32>(e, TE_DIMS + 4);
  if (ndim != (cols ? 2 : 1) || r != rows || c != cols) {
    fault("tensor '" + name + "' has shape " + shape(r, ndim == 2 ? c : 0) + ", expected " + shape(rows, cols));
    return 0;
  }
  if (!quant && dtype != DTYPE_F32) { fault("tensor '" + name + "' must be stored f32"); return 0; }
  if (!panels && load<u32>(e, TE_LAYOUT) != LAYOUT_ROWS) { fault("tensor '" + name + "' must be in layout 0 (rows): only linear weights may be in panels"); return 0; }
  // One pass over the values when they are fine; only a failure is told apart.
  if (!bounded(e)) {
    fault(finite(e) ? "tensor '" + name + "' holds a value of magnitude above " + MAX_ABS_WEIGHT.toString() + " (the format's bound on weights, docs/format.md)"
      : "tensor '" + name + "' holds NaN or Inf");
    return 0;
  }
  return e;
}

// ---- the name index: entry names -> slot(row, layer), linear in the table

// Per slot(row, layer): 1 + the index of the first entry with that name, 0 = none.
let named = new StaticArray<u32>(0);
// Per table row: the length of its name before and after `{i}` (-1: no `{i}`).
let headLen = new StaticArray<i32>(0);
let tailLen = new StaticArray<i32>(0);

function sameBytes(p: usize, s: string, from: i32, n: i32): bool {
  for (let j = 0; j < n; j++) {
    nameCompares++;
    if (<i32>load<u8>(p + j) != s.charCodeAt(from + j)) return false;
  }
  return true;
}

// The slot(row, layer) entry i's name stands for, or -1: a table name, with a
// layer index below num_layers written as layer.toString() in place of `{i}`.
// At most one comparison of each table name, so the index costs
// O(count x the table's name bytes): linear in the entries whatever their names.
function nameSlot(i: u32): i32 {
  let e = entry(i);
  let p = tensorNames + load<u32>(e, TE_NAME_OFFSET), n = <i32>load<u32>(e, TE_NAME_LEN);
  for (let row = 0; row < TENSOR_KINDS; row++) {
    let t = TENSOR_NAMES[row];
    let head = headLen[row];
    if (head < 0) {
      if (n == t.length && sameBytes(p, t, 0, n)) return slot(row, -1);
      continue;
    }
    let tail = tailLen[row];
    let digits = n - head - tail;
    if (digits < 1 || digits > 4 || !sameBytes(p, t, 0, head) || !sameBytes(p + n - tail, t, t.length - tail, tail)) continue;
    let layer = 0;
    for (let j = 0; j < digits; j++) {
      let d = <i32>load<u8>(p + head + j) - 0x30;
      if (d < 0 || d > 9 || (j == 0 && d == 0 && digits > 1)) { layer = -1; break; }
      layer = layer * 10 + d;
    }
    if (layer >= 0 && layer < <i32>config.num_layers) return slot(row, layer);
  }
  return -1;
}

function indexNames(L: i32): void {
  if (headLen.length == 0) {
    headLen = new StaticArray<i32>(TENSOR_KINDS);
    tailLen = new StaticArray<i32>(TENSOR_KINDS);
    for (let row = 0; row < TENSOR_KINDS; row++) {
      let t = TENSOR_NAMES[row], at = t.indexOf(LAYER_INDEX);
      headLen[row] = at;
      tailLen[row] = at < 0 ? 0 : t.length - at - LAYER_INDEX.length;
    }
  }
  nameCompares = 0;
  named = new StaticArray<u32>((L + 1) * TENSOR_KINDS);
  for (let i: u32 = 0; i < tensorCount; i++) {
    let at = nameSlot(i);
    if (at >= 0 && !named[at]) named[at] = i + 1; // a second entry of one name stays unclaimed
  }
}

function shape(rows: u32, cols: u32): string {
  return "[" + rows.toString() + (cols ? ", " + cols.toString() : "") + "]";
}

function finite(e: usize): bool {
  let data = dataStart + load<u32>(e, TE_DATA_OFFSET), len = <usize>load<u32>(e, TE_DATA_SIZE);
  let dtype = load<u32>(e, TE_DTYPE);
  if (dtype == DTYPE_F16) return noneAllOnes16(data, len);
  if (dtype == DTYPE_INT8) { data = dataStart + load<u32>(e, TE_SCALE_OFFSET); len = load<u32>(e, TE_SCALE_SIZE); }
  return noneAllOnes32(data, len);
}

// True when every value is finite and within MAX_ABS_WEIGHT: f32 values compared
// directly (|x| <= limit is false for NaN and Inf too), int8 through their scales
// (|q| <= 127 in the writer's files; -128 at most 128/127 of the bound). Any
// finite f16 is within the bound.
function bounded(e: usize): bool {
  let dtype = load<u32>(e, TE_DTYPE);
  if (dtype == DTYPE_F16) return finite(e);
  let data = dataStart + load<u32>(e, TE_DATA_OFFSET), len = <usize>load<u32>(e, TE_DATA_SIZE);
  let limit = <f32>MAX_ABS_WEIGHT;
  if (dtype == DTYPE_INT8) { data = dataStart + load<u32>(e, TE_SCALE_OFFSET); len = load<u32>(e, TE_SCALE_SIZE); limit = <f32>(<f64>MAX_ABS_WEIGHT / 127.0); }
  let m = f32x4.splat(limit);
  let end = data + len, i = data;
  for (; i + 16 <= end; i += 16) if (!v128.all_true<i32>(f32x4.le(f32x4.abs(v128.load(i)), m))) return false;
  for (; i < end; i += 4) if (!(abs<f32>(load<f32>(i)) <= limit)) return false;
  return true;
}

// True when no f32 in [p, p + bytes) has an all-ones exponent (NaN or Inf).
function noneAllOnes32(p: usize, bytes: usize): bool {
  let m = i32x4.splat(0x7f800000);
  let end = p + bytes, i = p;
  for (; i + 16 <= end; i += 16) if (v128.any_true(i32x4.eq(v128.and(v128.load(i), m), m))) return false;
  for (; i < end; i += 4) if ((load<u32>(i) & 0x7f800000) == 0x7f800000) return false;
  return true;
}

function noneAllOnes16(p: usize, bytes: usize): bool {
  let m = i16x8.splat(0x7c00);
  let end = p + bytes, i = p;
  for (; i + 16 <= end; i += 16) if (v128.any_true(i16x8.eq(v128.and(v128.load(i), m), m))) return false;
  for (; i < end; i += 2) if ((load<u16>(i) & 0x7c00) == 0x7c00) return false;
  return true;
}

// IEEE half -> f32 for n values (finite inputs: the loader rejects f16 Inf/NaN).
// Exported for the encoder, which widens f16 word-embedding rows on lookup.
export function widenF16(src: usize, dst: usize, n: usize): void {
  let i: usize = 0;
  let low = i32x4.splat(0x7fff), expMask = i32x4.splat(0x0f800000), bias = i32x4.splat(112 << 23);
  let one = i32x4.splat(1 << 23), magic = f32x4.splat(reinterpret<f32>(113 << 23)), sign = i32x4.splat(0x8000);
  for (; i + 4 <= n; i += 4) {
    let h = v128.load16x4_u(src + (i << 1));
    let o = i32x4.shl(v128.and(h, low), 13);
    let isSub = i32x4.eq(v128.and(o, expMask), i32x4.splat(0));
    o = i32x4.add(o, bias);
    // Zero and subnormals: let the FPU normalise them.
    o = v128.bitselect(f32x4.sub(i32x4.add(o, one), magic), o, isSub);
    v128.store(dst + (i << 2), v128.or(o, i32x4.shl(v128.and(h, sign), 16)));
  }
  for (; i < n; i++) {
    let h = <u32>load<u16>(src + (i << 1));
    let o = (h & 0x7fff) << 13;
    let f = (o & 0x0f800000) == 0
      ? reinterpret<f32>(o + (113 << 23)) - reinterpret<f32>(113 << 23)
      : reinterpret<f32>(o + (112 << 23));
    store<f32>(dst + (i << 2), h & 0x8000 ? -f : f);
  }
}

// ---- the walk over the family's tensor table (model/tensors.ts)

// What the walk found, per table row and layer, at slot(row, layer): the tensor
// entry, and where its values lie (a widened f32 copy for an f16 linear weight).
let foundEntry = new StaticArray<usize>(0);
let foundData = new StaticArray<usize>(0);

// Slot 0 holds the model's own tensors (layer -1), slot i + 1 those of layer i.
function slot(row: i32, layer: i32): i32 {
  return (layer + 1) * TENSOR_KINDS + row;
}

// The size a DIM_* code stands for, in layer l (null: not a per-layer tensor).
function dim(code: i32, l: LayerWeights | null): u32 {
  let c = config;
  if (code == DIM_VOCAB) return c.vocab_size;
  if (code == DIM_HIDDEN) return c.hidden_size;
  if (code == DIM_MAX_POSITION) return c.max_position;
  if (code == DIM_TYPE_VOCAB) return c.type_vocab_size;
  if (code == DIM_LAYER_HEADS) return l!.num_heads * c.head_dim;
  if (code == DIM_LAYER_FFN) return l!.ffn_width;
  if (code == DIM_LABELS) return c.num_labels;
  if (code == DIM_EMBEDDING) return c.embedding_size ? c.embedding_size : c.hidden_size;
  assert(code == DIM_NONE);
  return 0;
}

// Whether a tensor with these T_* flags belongs to this model (in layer l).
function present(flags: i32, l: LayerWeights | null): bool {
  if ((flags & T_NEEDS_ATTENTION) && !l!.has_attention) return false;
  if ((flags & T_NEEDS_FFN) && !l!.has_ffn) return false;
  if ((flags & T_NEEDS_TOKEN_TYPES) && config.type_vocab_size == 0) return false;
  if ((flags & T_NEEDS_POOLER) && !config.has_pooler) return false;
  if ((flags & T_NEEDS_PRE_CLASSIFIER) && !config.has_pre_classifier) return false;
  if ((flags & T_NEEDS_CLASSIFIER) && config.task != TASK_SEQUENCE_CLASSIFICATION && config.task != TASK_TOKEN_CLASSIFICATION) return false;
  if ((flags & T_NEEDS_QA) && config.task != TASK_QUESTION_ANSWERING) return false;
  if ((flags & T_NEEDS_EMBEDDINGS_PROJECT) && config.embedding_size == 0) return false;
  return true;
}

// Finds and checks the tensor of table row `row` (of layer `layer`, or -1) if
// the model has it. An f16 linear weight is widened to f32 once, keeping its
// layout, for the f32 matmul; the f16 word embedding stays in place (its rows
// are widened on lookup).
function take(row: i32, layer: i32, l: LayerWeights | null): void {
  let flags = TENSOR_FLAGS[row];
  if (failed || !present(flags, l)) return;
  let name = layer < 0 ? TENSOR_NAMES[row] : TENSOR_NAMES[row].replace(LAYER_INDEX, layer.toString());
  let rows = dim(TENSOR_ROWS[row], l), cols = dim(TENSOR_COLS[row], l);
  let linear = (flags & T_LINEAR) != 0;
  let e = find(slot(row, layer), name, rows, cols, (flags & T_QUANTIZABLE) != 0, linear);
  if (!e) return;
  let data = dataStart + load<u32>(e, TE_DATA_OFFSET);
  if (linear && load<u32>(e, TE_DTYPE) == DTYPE_F16) {
    let n = <usize>rows * cols; // < 2^31: data_size = 2n bytes fits in u32
    if (n >= 1 << 28) { fault("tensor '" + name + "': f16 too large to widen to f32 (1 GiB); store it as int8"); return; }
    let buf = heap.alloc(n << 2);
    widened.push(buf);
    widenF16(data, buf, n);
    data = buf;
  }
  foundEntry[slot(row, layer)] = e;
  foundData[slot(row, layer)] = data;
}

// Every row of the table in its order, the per-layer rows layer by layer where
// the first of them stands: the order of the tensors in a file the writer made.
function walk(): void {
  let L = <i32>config.num_layers;
  let layersDone = false;
  for (let row = 0; row < TENSOR_KINDS; row++) {
    if (!(TENSOR_FLAGS[row] & T_PER_LAYER)) take(row, -1, null);
    else if (!layersDone) {
      layersDone = true;
      for (let i = 0; i < L; i++) {
        for (let r = row; r < TENSOR_KINDS; r++) if (TENSOR_FLAGS[r] & T_PER_LAYER) take(r, i, weights.layers[i]);
      }
    }
  }
}

// The values of the tensor of row `row` found by the walk, 0 when absent.
function at(row: i32, layer: i32 = -1): usize {
  return foundData[slot(row, layer)];
}

function matrix(m: Matrix, row: i32, layer: i32 = -1): void {
  let e = foundEntry[slot(row, layer)];
  if (!e) return;
  let dtype = load<u32>(e, TE_DTYPE);
  m.rows = load<u32>(e, TE_DIMS);
  m.cols = load<u32>(e, TE_DIMS + 4);
  m.dtype = dtype == DTYPE_F16 && (TENSOR_FLAGS[row] & T_LINEAR) ? DTYPE_F32 : dtype; // widened by take()
  m.layout = load<u32>(e, TE_LAYOUT);
  m.data = at(row, layer);
  if (dtype == DTYPE_INT8) m.scales = dataStart + load<u32>(e, TE_SCALE_OFFSET);
}

function linear(f: Linear, weight: i32, bias: i32, layer: i32 = -1): void {
  matrix(f.weight, weight, layer);
  f.bias = at(bias, layer);
}

function layerNorm(n: LayerNormWeights, weight: i32, bias: i32, layer: i32 = -1): void {
  n.weight = at(weight, layer);
  n.bias = at(bias, layer);
}

// ---- resource bounds (docs/format.md "Resource bounds"), checked before anything
// is allocated for the model: the file (already in memory), the f32 copies of f16
// linear weights, the activation buffers for max_len tokens, the tokenizer tables.
export const RUNTIME_BASE_BYTES: u64 = 1 << 21;  // the runtime's own data, stack and heap slack
export const TOKENIZER_BYTES_PER_TOKEN: u64 = 32; // its sorted table: 12 bytes a token kept, 24 at peak while sorting (tokenizer/vocab.ts); added tokens fit in RUNTIME_BASE_BYTES

export let memoryNeeded: u64 = 0;

function checkMemory(): i32 {
  let widenedBytes: u64 = 0;
  let int8 = false;
  let L = <i32>config.num_layers;
  for (let layer = -1; layer < L; layer++) {
    for (let row = 0; row < TENSOR_KINDS; row++) {
      if (!(TENSOR_FLAGS[row] & T_LINEAR) || ((TENSOR_FLAGS[row] & T_PER_LAYER) != 0) != (layer >= 0)) continue;
      let k = named[slot(row, layer)];
      if (!k) continue;
      let dtype = load<u32>(entry(k - 1), TE_DTYPE);
      if (dtype == DTYPE_F16) widenedBytes += <u64>load<u32>(entry(k - 1), TE_DATA_SIZE) << 1;
      if (dtype == DTYPE_INT8) int8 = true;
    }
  }
  let file = <u64>load<u32>(fileStart, HDR_FILE_SIZE);
  let activations = <u64>runStateBytes(config, weights, int8);
  let tokenizerBytes = TOKENIZER_BYTES_PER_TOKEN * config.vocab_size;
  memoryNeeded = file + widenedBytes + activations + tokenizerBytes + RUNTIME_BASE_BYTES;
  if (memoryLimit && memoryNeeded > memoryLimit) {
    return fail("model needs " + mb(memoryNeeded) + " MB of memory (file " + mb(file) + ", f32 copies of f16 weights " + mb(widenedBytes) +
      ", activations for max_len " + config.max_len.toString() + " tokens " + mb(activations) + ", tokenizer " + mb(tokenizerBytes) +
      ", runtime " + mb(RUNTIME_BASE_BYTES) + "); the limit is " + mb(memoryLimit) + " MB");
  }
  return 0;
}

function mb(bytes: u64): string {
  let tenths = (bytes * 10 + (1 << 20) - 1) >> 20; // rounded up to 0.1 MB
  return (tenths / 10).toString() + "." + (tenths % 10).toString();
}

// DATA bytes outside every tensor's data and scales (the padding to each tensor's
// 16-byte boundary, any gap) must be zero. The ranges are sorted once: O(n log n).
function checkDataPadding(): i32 {
  let ranges = new Array<u64>(0);
  for (let i: u32 = 0; i < tensorCount; i++) {
    let e = entry(i);
    let off = <u64>load<u32>(e, TE_DATA_OFFSET), len = <u64>load<u32>(e, TE_DATA_SIZE);
    if (len) ranges.push(off << 32 | (off + len));
    let slen = <u64>load<u32>(e, TE_SCALE_SIZE);
    if (slen) { let soff = <u64>load<u32>(e, TE_SCALE_OFFSET); ranges.push(soff << 32 | (soff + slen)); }
  }
  ranges.sort((a: u64, b: u64): i32 => a < b ? -1 : a > b ? 1 : 0);
  let from: u64 = 0;
  for (let k = 0; k <= ranges.length; k++) {
    let to = k < ranges.length ? ranges[k] >> 32 : <u64>dataSize;
    if (to > from) {
      let z = firstNonZero(dataStart, <u32>from, <u32>to);
      if (z >= 0) return fail("DATA: padding byte " + z.toString() + " (outside every tensor) is not 0");
    }
    if (k < ranges.length) from = max(from, ranges[k] & 0xffffffff);
  }
  return 0;
}

function readWeights(): i32 {
  let c = config, w = weights;
  let L = <i32>c.num_layers;
  for (let i = 0; i < L; i++) {
    let r = layerRecords + <usize>i * LAYER_RECORD_SIZE;
    let l = new LayerWeights();
    l.has_attention = load<u8>(r, LR_HAS_ATTENTION) != 0;
    l.has_ffn = load<u8>(r, LR_HAS_FFN) != 0;
    l.num_heads = load<u16>(r, LR_NUM_HEADS);
    l.ffn_width = load<u32>(r, LR_FFN_WIDTH);
    l.hard_k = load<u32>(r, LR_HARD_K);
    w.layers.push(l);
  }

  used = new StaticArray<bool>(tensorCount);
  failed = false;
  foundEntry = new StaticArray<usize>((L + 1) * TENSOR_KINDS);
  foundData = new StaticArray<usize>((L + 1) * TENSOR_KINDS);
  indexNames(L);
  let need = checkMemory();
  if (need < 0) return need;
  walk();
  if (failed) return -1;
  for (let i: u32 = 0; i < tensorCount; i++) {
    if (!used[i]) return fail("tensor '" + tensorName(i) + "' is not part of this model (a removed block's tensor, a duplicate or an unknown name)");
  }
  let pad = checkDataPadding();
  if (pad < 0) return pad;

  let e = w.embeddings;
  matrix(e.word_embeddings, W_WORD_EMBEDDINGS);
  e.position_embeddings = at(W_POSITION_EMBEDDINGS);
  e.token_type_embeddings = at(W_TOKEN_TYPE_EMBEDDINGS);
  layerNorm(e.LayerNorm, W_EMBEDDINGS_LN_WEIGHT, W_EMBEDDINGS_LN_BIAS);
  linear(w.embeddings_project, W_EMBEDDINGS_PROJECT_WEIGHT, W_EMBEDDINGS_PROJECT_BIAS);
  for (let i = 0; i < L; i++) {
    let l = w.layers[i];
    let self = l.attention.self;
    linear(self.query, W_QUERY_WEIGHT, W_QUERY_BIAS, i);
    linear(self.key, W_KEY_WEIGHT, W_KEY_BIAS, i);
    linear(self.value, W_VALUE_WEIGHT, W_VALUE_BIAS, i);
    linear(l.attention.output.dense, W_ATTENTION_OUTPUT_WEIGHT, W_ATTENTION_OUTPUT_BIAS, i);
    layerNorm(l.attention.output.LayerNorm, W_ATTENTION_LN_WEIGHT, W_ATTENTION_LN_BIAS, i);
    linear(l.intermediate.dense, W_INTERMEDIATE_WEIGHT, W_INTERMEDIATE_BIAS, i);
    linear(l.output.dense, W_OUTPUT_WEIGHT, W_OUTPUT_BIAS, i);
    layerNorm(l.output.LayerNorm, W_OUTPUT_LN_WEIGHT, W_OUTPUT_LN_BIAS, i);
  }
  linear(w.pooler, W_POOLER_WEIGHT, W_POOLER_BIAS);
  linear(w.pre_classifier, W_PRE_CLASSIFIER_WEIGHT, W_PRE_CLASSIFIER_BIAS);
  linear(w.classifier, W_CLASSIFIER_WEIGHT, W_CLASSIFIER_BIAS);
  linear(w.qa_outputs, W_QA_OUTPUTS_WEIGHT, W_QA_OUTPUTS_BIAS);
  return 0;
}
