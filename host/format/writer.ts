// The only writer of the .axf model file (docs/format.md). It validates the
// in-memory Model, then lays the file out in one buffer: header, section table,
// CONFIG, LAYERS, VOCAB, LABELS, TENSORS, DATA, META, each section on a 16-byte
// boundary and every tensor on a 16-byte boundary of the file, so the runtime can
// use the weights in place.

import * as F from "../../assembly/format/constants.ts";
import { crc32 } from "./crc32.ts";
import { f16FromF32Bits } from "./f16.ts";
import { ARCH_CODES, HIDDEN_ACT_CODES, PROBLEM_TYPE_CODES, STORAGE_BYTES, STORAGE_CODES } from "../model/model.ts";
import { POOLING_CODES, POOLING_MODES, TASK_CODES } from "../model/model.ts";
import { expectedTensors, type TensorSpec } from "../model/tensors.ts";
import { MAX_ABS_WEIGHT } from "../../assembly/model/tensors.ts";
import { panelPermutation } from "./layout.ts";
import type { LayerState, Model, ModelConfig, Storage, Tensor } from "../model/model.ts";

// "panels" (the default): linear weights in layout 1, for the runtime's fast
// kernels; "rows": every tensor row-major (layout 0), for tests of both paths.
export interface WriteOptions {
  layout?: "panels" | "rows";
  // The optimizer writes hundreds of models that share all but a few tensors (its
  // transforms never change a tensor in place): a tensor found here was checked and
  // encoded by an earlier call and its bytes are copied as they are.
  cache?: WriteCache;
  shared?: boolean; // the file in a SharedArrayBuffer (read by worker threads without a copy)
  // Where the file goes: `size` zero bytes (the optimizer lends buffers of files it no longer
  // needs: a fresh 435 MB buffer costs a second of page faults). Default: a new buffer.
  alloc?: (size: number) => Uint8Array;
}

// Encoded bytes of a tensor (its data, then for int8 its scales, as placed in DATA).
export type WriteCache = WeakMap<Tensor, { storage: Storage; layout: number; bytes: Uint8Array }>;

// How a tensor is stored: its requested storage if the format allows it there, else f32.
export function storedAs(spec: TensorSpec, t: Tensor): Storage {
  return spec.quantizable ? t.storage : "f32";
}

// Serialises a Model after validating it; throws an Error naming the problem.
export function writeModel(model: Model, opts: WriteOptions = {}): Uint8Array {
  const specs = validateModel(model, opts.cache);
  const panels = (opts.layout ?? "panels") === "panels";
  return serialize(model, specs.map((s) => ({
    name: s.name,
    t: model.tensors.get(s.name)!,
    storage: storedAs(s, model.tensors.get(s.name)!),
    layout: panels && s.linear ? F.LAYOUT_PANELS : F.LAYOUT_ROWS,
  })), opts.cache, opts.alloc ?? ((size) => opts.shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size)));
}

// For tests of the reader only: serialises without validation, tensors in the
// map's order and row-major, so a test can write a file the reader must reject.
export function writeModelUnchecked(model: Model): Uint8Array {
  const out = [...model.tensors].map(([name, t]) => ({ name, t, storage: t.shape.length === 1 ? "f32" as Storage : t.storage, layout: F.LAYOUT_ROWS }));
  return serialize(model, out, undefined, (size) => new Uint8Array(size));
}

// ---- validation ---------------------------------------------------------------

const task = (c: ModelConfig) => c.task ?? "sequence-classification";

// The task's head: its label count (none for embeddings, start and end for question
// answering), and pooling / normalize only on an embedding model.
function validateTask(c: ModelConfig, need: (ok: boolean, msg: string) => void): void {
  const t = task(c);
  need(Object.hasOwn(TASK_CODES, t), `config.task = ${t}`);
  const emb = t === "embedding";
  if (emb) need(c.numLabels === 0, `config.numLabels = ${c.numLabels} (an embedding model has no labels: 0)`);
  else if (t === "question-answering") need(c.numLabels === 2, `config.numLabels = ${c.numLabels} (question answering has 2 outputs: start, end)`);
  else need(isCount(c.numLabels), `config.numLabels = ${c.numLabels} (a positive integer is required)`);
  need(t === "sequence-classification" || c.problemType === "single_label_classification",
    `config.problemType = ${c.problemType} on a ${t} model (only sequence classification has other problem types)`);
  const modes = c.pooling ?? [];
  need(emb ? modes.length > 0 : modes.length === 0, `config.pooling = ${JSON.stringify(c.pooling)} (${emb ? "at least one mode" : "embedding models only"})`);
  need(modes.every((m, i) => Object.hasOwn(POOLING_CODES, m) && (i === 0 || POOLING_MODES.indexOf(modes[i - 1]) < POOLING_MODES.indexOf(m))),
    `config.pooling = ${JSON.stringify(modes)} (distinct modes of ${POOLING_MODES.join(", ")}, in that order)`);
  need(emb || !c.normalize, `config.normalize is set on a ${t} model`);
}

function isCount(n: unknown, min = 1): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= min && n <= 0xffffffff;
}

// Tensors in `checked` (a write cache) had their values checked when they were cached.
export function validateModel(model: Model, checked?: WriteCache): TensorSpec[] {
  const c = model.config;
  const need = (ok: boolean, msg: string) => { if (!ok) throw new Error(`invalid model: ${msg}`); };
  for (const k of ["vocabSize", "hiddenSize", "numLayers", "numHeads", "headDim", "intermediateSize", "maxPosition"] as const) {
    need(isCount(c[k]), `config.${k} = ${c[k]} (a positive integer is required)`);
  }
  validateTask(c, need);
  need(Object.hasOwn(ARCH_CODES, c.arch), `config.arch = ${c.arch}`);
  need(c.headDim * c.numHeads === c.hiddenSize, `config.headDim * config.numHeads = ${c.headDim * c.numHeads}, not hiddenSize ${c.hiddenSize}`);
  need(c.arch !== "distilbert" ? isCount(c.typeVocabSize) : c.typeVocabSize === 0,
    `config.typeVocabSize = ${c.typeVocabSize} (BERT, RoBERTa and ELECTRA need at least 1, DistilBERT 0)`);
  need(Object.hasOwn(PROBLEM_TYPE_CODES, c.problemType), `config.problemType = ${c.problemType}`);
  need(c.problemType !== "regression" || c.numLabels === 1, `config.numLabels = ${c.numLabels} (regression has one output)`);
  need(Object.hasOwn(HIDDEN_ACT_CODES, c.hiddenAct), `config.hiddenAct = ${c.hiddenAct}`);
  need(Number.isFinite(Math.fround(c.layerNormEps)) && Math.fround(c.layerNormEps) > 0, `config.layerNormEps = ${c.layerNormEps}`);
  need(c.temperature === undefined || (Number.isFinite(Math.fround(c.temperature)) && Math.fround(c.temperature) > 0),
    `config.temperature = ${c.temperature} (a positive finite number, or absent)`);
  const pooled = c.arch === "bert" || c.arch === "roberta";
  need(!c.hasPooler || pooled, `config.hasPooler is set on a ${c.arch} model (BERT and RoBERTa only)`);
  need(!c.hasPreClassifier || !pooled, `config.hasPreClassifier is set on a ${c.arch} model (DistilBERT and ELECTRA only)`);
  need(!(c.hasPooler || c.hasPreClassifier) || task(c) === "sequence-classification",
    `config.hasPooler / hasPreClassifier are set on a ${task(c)} model (only sequence classification has them)`);
  need(c.headAct === undefined || (c.hasPreClassifier && Object.hasOwn(HIDDEN_ACT_CODES, c.headAct)),
    `config.headAct = ${c.headAct} (an activation of the pre-classifier, which this model ${c.hasPreClassifier ? "has" : "lacks"})`);
  const E = c.embeddingSize ?? 0;
  need(E === 0 || (c.arch === "electra" && isCount(E) && E !== c.hiddenSize),
    `config.embeddingSize = ${E} (ELECTRA only, and only when it differs from hiddenSize)`);
  const offset = c.positionOffset ?? 0;
  need(c.arch === "roberta" ? isCount(offset) && offset <= c.maxPosition - 2 : offset === 0,
    `config.positionOffset = ${offset} (RoBERTa: padding_idx + 1, 1..maxPosition - 2; other families 0)`);
  const t = c.tokenizer;
  for (const k of ["clsId", "sepId", "padId", "unkId"] as const) {
    need(isCount(t[k], 0) && t[k] < c.vocabSize, `config.tokenizer.${k} = ${t[k]} (not an id of the vocabulary)`);
  }
  need(t.maskId === null || (isCount(t.maskId, 0) && t.maskId < c.vocabSize), `config.tokenizer.maskId = ${t.maskId}`);
  need(isCount(t.maxLen, 2) && t.maxLen <= c.maxPosition - offset,
    `config.tokenizer.maxLen = ${t.maxLen} (2..maxPosition ${c.maxPosition}${offset ? ` - positionOffset ${offset}` : ""})`);
  need(isCount(t.maxInputCharsPerWord), `config.tokenizer.maxInputCharsPerWord = ${t.maxInputCharsPerWord}`);
  need((t.kind === "bpe") === (model.merges !== undefined) && (t.kind !== "bpe" || t.bpe !== undefined),
    `config.tokenizer.kind = ${t.kind} needs merges and bpe options exactly when it is "bpe"`);
  need(!t.unigram || (t.unigram.scores.length === c.vocabSize && t.unigram.scores.every((x) => Number.isNaN(x) || Number.isFinite(x))),
    `config.tokenizer.unigram.scores: ${t.unigram?.scores.length} scores for vocabSize ${c.vocabSize} (finite or NaN)`);
  need(!t.unigram || (t.unigram.flags & ~F.TOKFLAGS_UNIGRAM) === 0, `config.tokenizer.unigram.flags = ${t.unigram?.flags}`);
  need(!(t.unigram && (t.kind === "bpe" || t.template === "bert")), "config.tokenizer: a Unigram tokenizer is not byte-level BPE and uses the roberta template");

  need(Array.isArray(model.layers) && model.layers.length === c.numLayers, `${model.layers?.length} layer states for config.numLayers = ${c.numLayers}`);
  model.layers.forEach((l, i) => {
    const at = `layers[${i}]`;
    checkIndices(l.hasAttention, l.heads, c.numHeads, `${at}.heads`, need);
    checkIndices(l.hasFfn, l.ffnNeurons, c.intermediateSize, `${at}.ffnNeurons`, need);
    need(c.numHeads <= 0xffff, `config.numHeads = ${c.numHeads} does not fit the LAYERS record`);
    need(isCount(l.hardK, 0) && (l.hasAttention || l.hardK === 0), `${at}.hardK = ${l.hardK}`);
  });

  need(model.vocab.length === c.vocabSize, `${model.vocab.length} vocab tokens for config.vocabSize = ${c.vocabSize}`);
  const seen = new Map<string, number>();
  model.vocab.forEach((tok, i) => {
    need(!seen.has(tok), `vocab tokens ${seen.get(tok)} and ${i} are both ${JSON.stringify(tok)} (tokens must be distinct)`);
    seen.set(tok, i);
  });
  need(model.labels.length === c.numLabels, `${model.labels.length} labels for config.numLabels = ${c.numLabels}`);
  const added = model.addedTokens ?? [];
  need(added.length <= F.MAX_ADDED_TOKENS, `${added.length} added tokens (at most ${F.MAX_ADDED_TOKENS})`);
  const addedIds = added.map((a) => a.id);
  addedIds.forEach((id, i) => {
    const bytes = Number.isInteger(id) && id >= 0 && id < model.vocab.length ? utf8.encode(model.vocab[id]).length : 0;
    need(bytes >= 1 && bytes <= F.MAX_ADDED_TOKEN_BYTES && addedIds.indexOf(id) === i,
      `addedTokens[${i}].id = ${id} (distinct ids of vocab tokens of 1..${F.MAX_ADDED_TOKEN_BYTES} bytes)`);
  });

  const specs = expectedTensors(c, model.layers);
  const wanted = new Set(specs.map((s) => s.name));
  for (const name of model.tensors.keys()) {
    need(wanted.has(name), `tensor '${name}' is not part of this model (unknown name or a removed block's tensor)`);
  }
  for (const s of specs) {
    const tensor = model.tensors.get(s.name);
    need(tensor !== undefined, `tensor '${s.name}' is missing`);
    const { shape, data, storage } = tensor!;
    need(shape.length === s.shape.length && shape.every((d, k) => d === s.shape[k]),
      `tensor '${s.name}' has shape [${shape}], expected [${s.shape}]`);
    need(data instanceof Float32Array && data.length === s.shape.reduce((a, b) => a * b, 1),
      `tensor '${s.name}' holds ${data?.length} values for shape [${s.shape}]`);
    need(storage === "f32" || storage === "f16" || storage === "int8", `tensor '${s.name}' has storage '${storage}'`);
    // The bound holds for the value as stored: f16 encoding itself refuses what rounds past 65504.
    const limit = storedAs(s, tensor!) === "f16" ? Infinity : MAX_ABS_WEIGHT;
    if (checked?.get(tensor!)?.storage === storedAs(s, tensor!)) continue;
    for (let k = 0; k < data.length; k++) {
      if (!Number.isFinite(data[k])) need(false, `tensor '${s.name}' holds ${data[k]} at flat index ${k}`);
      if (Math.abs(data[k]) > limit) need(false, `tensor '${s.name}' holds ${data[k]} at flat index ${k}, above the format's bound of ${MAX_ABS_WEIGHT} on weights (docs/format.md)`);
    }
  }
  return specs;
}

// heads / ffnNeurons: original indices, strictly increasing, below `limit`; empty iff the block is removed.
function checkIndices(kept: boolean, idx: number[], limit: number, at: string, need: (ok: boolean, msg: string) => void) {
  need(Array.isArray(idx), `${at} is not an array`);
  if (!kept) return need(idx.length === 0, `${at} must be empty when the block is removed`);
  need(idx.length >= 1, `${at} is empty but the block is kept`);
  idx.forEach((v, k) => need(Number.isInteger(v) && v >= 0 && v < limit && (k === 0 || v > idx[k - 1]),
    `${at}[${k}] = ${v} (strictly increasing original indices below ${limit} required)`));
}

// ---- encoding -----------------------------------------------------------------


const align = (n: number) => Math.ceil(n / F.ALIGN) * F.ALIGN;
const utf8 = new TextEncoder();
const f32 = new Float32Array(1), f32bits = new Uint32Array(f32.buffer); // layer_norm_eps -> bits

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("the .axf writer needs a little-endian host");

function configWords(c: ModelConfig): Uint32Array {
  const w = new Uint32Array(F.CONFIG_WORDS);
  const t = c.tokenizer;
  f32[0] = c.layerNormEps;
  w[F.CFG_ARCH] = ARCH_CODES[c.arch];
  w[F.CFG_VOCAB_SIZE] = c.vocabSize;
  w[F.CFG_HIDDEN_SIZE] = c.hiddenSize;
  w[F.CFG_NUM_LAYERS] = c.numLayers;
  w[F.CFG_NUM_HEADS] = c.numHeads;
  w[F.CFG_HEAD_DIM] = c.headDim;
  w[F.CFG_INTERMEDIATE_SIZE] = c.intermediateSize;
  w[F.CFG_MAX_POSITION] = c.maxPosition;
  w[F.CFG_TYPE_VOCAB_SIZE] = c.typeVocabSize;
  w[F.CFG_NUM_LABELS] = c.numLabels;
  w[F.CFG_PROBLEM_TYPE] = PROBLEM_TYPE_CODES[c.problemType];
  w[F.CFG_HIDDEN_ACT] = HIDDEN_ACT_CODES[c.hiddenAct];
  w[F.CFG_LAYER_NORM_EPS] = f32bits[0];
  w[F.CFG_HAS_POOLER] = +c.hasPooler;
  w[F.CFG_HAS_PRE_CLASSIFIER] = +c.hasPreClassifier;
  w[F.CFG_DO_LOWER_CASE] = +t.doLowerCase;
  w[F.CFG_STRIP_ACCENTS] = t.stripAccents === null ? F.STRIP_ACCENTS_FOLLOW_LOWERCASE
    : t.stripAccents ? F.STRIP_ACCENTS_ALWAYS : F.STRIP_ACCENTS_NEVER;
  w[F.CFG_TOKENIZE_CHINESE_CHARS] = +t.tokenizeChineseChars;
  w[F.CFG_CLEAN_TEXT] = +t.cleanText;
  w[F.CFG_CLS_ID] = t.clsId;
  w[F.CFG_SEP_ID] = t.sepId;
  w[F.CFG_PAD_ID] = t.padId;
  w[F.CFG_UNK_ID] = t.unkId;
  w[F.CFG_MASK_ID] = t.maskId === null ? F.NO_TOKEN : t.maskId;
  w[F.CFG_MAX_LEN] = t.maxLen;
  w[F.CFG_MAX_INPUT_CHARS_PER_WORD] = t.maxInputCharsPerWord;
  // Every token type 0: DistilBERT has none, and RoBERTa's tokenizers return none
  // (RobertaEmbeddings then takes type 0 everywhere), whatever type_vocab_size says.
  w[F.CFG_FLAGS] = c.typeVocabSize === 0 || c.arch === "roberta" ? 1 : 0;
  f32[0] = c.temperature ?? 0; // 0 = none
  w[F.CFG_TEMPERATURE] = f32bits[0];
  w[F.CFG_TOKENIZER] = t.kind === "bpe" ? F.TOKENIZER_BPE : F.TOKENIZER_WORDPIECE;
  w[F.CFG_TEMPLATE] = t.template === "roberta" ? F.TEMPLATE_ROBERTA : F.TEMPLATE_BERT;
  w[F.CFG_TOKENIZER_FLAGS] = t.bpe ? (t.bpe.addPrefixSpace ? F.TOKFLAG_ADD_PREFIX_SPACE : 0) |
    (t.bpe.trimOffsets ? F.TOKFLAG_TRIM_OFFSETS : 0) | (t.bpe.trimPrefixSpace ? F.TOKFLAG_TRIM_PREFIX_SPACE : 0) : 0;
  if (t.unigram) {
    w[F.CFG_TOKENIZER] = F.TOKENIZER_UNIGRAM;
    w[F.CFG_TEMPLATE] = F.TEMPLATE_ROBERTA;
    w[F.CFG_TOKENIZER_FLAGS] = t.unigram.flags;
  }
  w[F.CFG_TASK] = TASK_CODES[task(c)];
  w[F.CFG_POOLING] = (c.pooling ?? []).reduce((bits, m) => bits | POOLING_CODES[m], 0);
  w[F.CFG_NORMALIZE] = +(c.normalize ?? false);
  w[F.CFG_POSITION_OFFSET] = c.positionOffset ?? 0;
  w[F.CFG_EMBEDDING_SIZE] = c.embeddingSize ?? 0;
  w[F.CFG_HEAD_ACT] = c.headAct === undefined ? 0 : HIDDEN_ACT_CODES[c.headAct];
  return w;
}

function layerRecords(layers: LayerState[]): Uint8Array {
  const out = new Uint8Array(layers.length * F.LAYER_RECORD_SIZE);
  const v = new DataView(out.buffer);
  layers.forEach((l, i) => {
    const o = i * F.LAYER_RECORD_SIZE;
    v.setUint8(o + F.LR_HAS_ATTENTION, +l.hasAttention);
    v.setUint8(o + F.LR_HAS_FFN, +l.hasFfn);
    v.setUint16(o + F.LR_NUM_HEADS, l.hasAttention ? l.heads.length : 0, true);
    v.setUint32(o + F.LR_FFN_WIDTH, l.hasFfn ? l.ffnNeurons.length : 0, true);
    v.setUint32(o + F.LR_HARD_K, l.hardK, true);
  });
  return out;
}

// u32 count, u32 offsets[count + 1], UTF-8 blob.
function stringList(strings: string[]): Uint8Array {
  const encoded = strings.map((s) => utf8.encode(s));
  const blob = encoded.reduce((n, e) => n + e.length, 0);
  const head = 4 * (strings.length + 2);
  const out = new Uint8Array(head + blob);
  const v = new DataView(out.buffer);
  v.setUint32(0, strings.length, true);
  let at = 0;
  encoded.forEach((e, i) => {
    out.set(e, head + at);
    at += e.length;
    v.setUint32(4 * (i + 2), at, true);
  });
  return out;
}

// "0-255,300,302-305": sorted indices as compact ranges, for META.
export function compactRanges(idx: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j] + 1) j++;
    parts.push(i === j ? `${idx[i]}` : `${idx[i]}-${idx[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function metaJson(model: Model): Uint8Array {
  const layers = model.layers.map((l) => ({ heads: l.heads, ffnNeurons: compactRanges(l.ffnNeurons) }));
  return utf8.encode(JSON.stringify({ ...model.meta, layers }));
}

interface Placed {
  name: string;
  t: Tensor;
  storage: Storage;
  layout: number;      // LAYOUT_ROWS or LAYOUT_PANELS
  dataOffset: number;  // relative to DATA
  dataSize: number;
  scaleOffset: number; // int8 only
  scaleSize: number;
}

function serialize(
  model: Model, tensors: { name: string; t: Tensor; storage: Storage; layout: number }[], cache: WriteCache | undefined,
  alloc: (size: number) => Uint8Array,
): Uint8Array {
  // DATA layout first: the tensor table records the offsets.
  let dataSize = 0;
  const placed: Placed[] = tensors.map(({ name, t, storage, layout }) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const p: Placed = { name, t, storage, layout, dataOffset: align(dataSize), dataSize: n * STORAGE_BYTES[storage], scaleOffset: 0, scaleSize: 0 };
    dataSize = p.dataOffset + p.dataSize;
    if (storage === "int8") {
      p.scaleOffset = align(dataSize);
      p.scaleSize = t.shape[0] * 4;
      dataSize = p.scaleOffset + p.scaleSize;
    }
    return p;
  });

  const names = placed.map((p) => utf8.encode(p.name));
  const namesStart = F.TENSOR_COUNT_SIZE + placed.length * F.TENSOR_ENTRY_SIZE;
  const table = new Uint8Array(namesStart + names.reduce((n, e) => n + e.length, 0));
  const tv = new DataView(table.buffer);
  tv.setUint32(0, placed.length, true); // the tensor count
  let nameAt = 0;
  placed.forEach((p, i) => {
    const o = F.TENSOR_COUNT_SIZE + i * F.TENSOR_ENTRY_SIZE;
    table.set(names[i], namesStart + nameAt);
    tv.setUint32(o + F.TE_NAME_OFFSET, nameAt, true);
    tv.setUint32(o + F.TE_NAME_LEN, names[i].length, true);
    nameAt += names[i].length;
    tv.setUint32(o + F.TE_DTYPE, STORAGE_CODES[p.storage], true);
    tv.setUint32(o + F.TE_NDIM, p.t.shape.length, true);
    p.t.shape.forEach((d, k) => tv.setUint32(o + F.TE_DIMS + 4 * k, d, true));
    tv.setUint32(o + F.TE_DATA_OFFSET, p.dataOffset, true);
    tv.setUint32(o + F.TE_DATA_SIZE, p.dataSize, true);
    tv.setUint32(o + F.TE_SCALE_OFFSET, p.scaleOffset, true);
    tv.setUint32(o + F.TE_SCALE_SIZE, p.scaleSize, true);
    tv.setUint32(o + F.TE_LAYOUT, p.layout, true);
  });

  const cw = configWords(model.config);
  const sections: { kind: number; bytes: Uint8Array | null; size: number; offset: number }[] = [
    { kind: F.SECTION_CONFIG, bytes: new Uint8Array(cw.buffer), size: 0, offset: 0 },
    { kind: F.SECTION_LAYERS, bytes: layerRecords(model.layers), size: 0, offset: 0 },
    { kind: F.SECTION_VOCAB, bytes: stringList(model.vocab), size: 0, offset: 0 },
    { kind: F.SECTION_LABELS, bytes: stringList(model.labels), size: 0, offset: 0 },
    { kind: F.SECTION_TENSORS, bytes: table, size: 0, offset: 0 },
    { kind: F.SECTION_DATA, bytes: null, size: dataSize, offset: 0 },
    { kind: F.SECTION_META, bytes: metaJson(model), size: 0, offset: 0 },
  ];
  if (model.addedTokens?.length) {
    const entries = model.addedTokens.map((a) =>
      (a.id | (a.normalized ? F.ADDED_NORMALIZED : 0) | (a.lstrip ? F.ADDED_LSTRIP : 0) | (a.rstrip ? F.ADDED_RSTRIP : 0)) >>> 0);
    sections.push({ kind: F.SECTION_ADDED_TOKENS, bytes: new Uint8Array(Uint32Array.from([entries.length, ...entries]).buffer), size: 0, offset: 0 });
  }
  if (model.merges) sections.push({ kind: F.SECTION_MERGES, bytes: model.merges, size: 0, offset: 0 });
  const unigram = model.config.tokenizer.unigram;
  if (unigram) {
    sections.push({ kind: F.SECTION_UNIGRAM, bytes: new Uint8Array(Float64Array.from(unigram.scores).buffer), size: 0, offset: 0 });
    if (unigram.charsmap) sections.push({ kind: F.SECTION_CHARSMAP, bytes: unigram.charsmap, size: 0, offset: 0 });
  }
  const tableEnd = F.HEADER_SIZE + sections.length * F.SECTION_ENTRY_SIZE;
  let end = tableEnd;
  for (const s of sections) {
    if (s.bytes) s.size = s.bytes.length;
    s.offset = align(end);
    end = s.offset + s.size;
  }
  if (end > 0xffffffff) throw new Error(`model file would be ${end} bytes; the format holds at most 4 GiB - 1 (store weights as f16 or int8)`);

  const out = alloc(end);
  // (at the start of its buffer: tensors are written through typed arrays at their offsets)
  if (out.length !== end || out.byteOffset !== 0) throw new Error(`internal: a buffer of ${out.length} bytes at ${out.byteOffset} was given for a file of ${end}`);
  const v = new DataView(out.buffer, 0, end);
  const dataStart = sections.find((s) => s.kind === F.SECTION_DATA)!.offset;
  for (const s of sections) if (s.bytes) out.set(s.bytes, s.offset);
  for (const p of placed) {
    // A tensor's bytes depend on its values, storage and layout only, not on where it is placed.
    const at = dataStart + p.dataOffset, size = (p.scaleSize ? p.scaleOffset + p.scaleSize : p.dataOffset + p.dataSize) - p.dataOffset;
    const hit = cache?.get(p.t);
    if (hit && hit.storage === p.storage && hit.layout === p.layout) out.set(hit.bytes, at);
    else {
      encodeTensor(out, dataStart, p);
      cache?.set(p.t, { storage: p.storage, layout: p.layout, bytes: out.slice(at, at + size) });
    }
  }

  v.setUint32(F.HDR_MAGIC, F.MAGIC, true);
  v.setUint32(F.HDR_VERSION, F.VERSION, true);
  v.setUint32(F.HDR_FILE_SIZE, end, true);
  v.setUint32(F.HDR_SECTION_COUNT, sections.length, true);
  sections.forEach((s, i) => {
    const o = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    v.setUint32(o + F.SEC_KIND, s.kind, true);
    v.setUint32(o + F.SEC_OFFSET, s.offset, true);
    v.setUint32(o + F.SEC_SIZE, s.size, true);
    v.setUint32(o + F.SEC_CRC, crc32(out.subarray(s.offset, s.offset + s.size)), true);
  });
  v.setUint32(F.HDR_CRC, crc32(out.subarray(0, tableEnd)), true); // computed while the field is still 0
  return out;
}

function encodeTensor(out: Uint8Array, dataStart: number, p: Placed) {
  const { t } = p;
  const at = dataStart + p.dataOffset;
  const n = t.data.length;
  const rows = t.shape[0], cols = n / rows;
  // Stored index of logical flat index i.
  const perm = p.layout === F.LAYOUT_PANELS ? panelPermutation(rows, cols, p.storage === "int8") : null;
  if (p.storage === "f32") {
    const dst = new Float32Array(out.buffer, at, n);
    if (perm) for (let i = 0; i < n; i++) dst[perm[i]] = t.data[i];
    else dst.set(t.data);
  } else if (p.storage === "f16") {
    const dst = new Uint16Array(out.buffer, at, n);
    const src = new Uint32Array(t.data.buffer, t.data.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const h = f16FromF32Bits(src[i]);
      if (h < 0) {
        throw new Error(`tensor '${p.name}' at [${Math.floor(i / cols)}, ${i % cols}]: ${t.data[i]} overflows f16 (largest finite 65504); store this tensor as f32 or int8`);
      }
      dst[perm ? perm[i] : i] = h;
    }
  } else {
    // Per-row symmetric int8: scale = maxabs / 127, q = round(w / scale) in [-127, 127].
    const q = new Int8Array(out.buffer, at, n);
    const scales = new Float32Array(out.buffer, dataStart + p.scaleOffset, rows);
    for (let r = 0; r < rows; r++) {
      const row = t.data.subarray(r * cols, (r + 1) * cols);
      let maxabs = 0;
      for (let c = 0; c < cols; c++) maxabs = Math.max(maxabs, Math.abs(row[c]));
      const scale = Math.fround(maxabs / 127);
      if (scale === 0) { scales[r] = 1; continue; } // all-zero row (or too small for an f32 scale)
      scales[r] = scale;
      for (let c = 0; c < cols; c++) {
        const m = Math.min(127, Math.round(Math.abs(row[c]) / scale)); // symmetric: halves round away from 0
        q[perm ? perm[r * cols + c] : r * cols + c] = row[c] < 0 ? -m : m;
      }
    }
  }
}
