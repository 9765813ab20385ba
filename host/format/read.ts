// Reads an .axf file back into the in-memory Model. The file is parsed and
// validated by the wasm runtime's reader (assembly/format/reader.ts), so there is one
// parser; this side only copies what the wasm exports describe, dequantising f16
// and int8 tensors to f32, undoing the panel layout, and recording how each one
// was stored.
//
// Loading goes through the instance's load_model, so it replaces whatever model
// that instance had loaded.

import { readFile } from "node:fs/promises";
import * as F from "../../assembly/format/constants.ts";
import { loadEngine } from "../runtime/node.ts";
import { LAYER_FIELD, type AxformerExports } from "../runtime/abi.ts";
import { AxformerError } from "../runtime/index.ts";
import { f16ToF32 } from "./f16.ts";
import { panelPermutation } from "./layout.ts";
import { ARCH_CODES, HIDDEN_ACT_CODES, PROBLEM_TYPE_CODES, nameOfCode } from "../model/model.ts";
import { POOLING_CODES, POOLING_MODES, TASK_CODES, type Task } from "../model/model.ts";
import type { Arch, HiddenAct, LayerState, Model, ModelConfig, ProblemType, Storage, Tensor } from "../model/model.ts";

// What readModel uses of the wasm ABI (host/runtime/abi.ts, the one typing of it).
export type FormatExports = Pick<AxformerExports,
  | "memory" | "alloc_model" | "load_model" | "error_ptr" | "error_len" | "label_ptr" | "label_len"
  | "config_word" | "layer_field" | "vocab_count" | "vocab_ptr" | "vocab_len" | "tensor_count"
  | "tensor_name_ptr" | "tensor_name_len" | "tensor_dtype" | "tensor_ndim" | "tensor_dim"
  | "tensor_data_ptr" | "tensor_scales_ptr" | "tensor_layout" | "meta_ptr" | "meta_len"
  | "added_token_count" | "added_token_entry" | "merges_ptr" | "merges_size"
  | "unigram_scores_ptr" | "charsmap_ptr" | "charsmap_size">;

const utf8 = new TextDecoder("utf-8", { fatal: true });

// Copies `bytes` into the instance and loads them; throws with the reader's message.
export function loadIntoWasm(bytes: Uint8Array, wasm: FormatExports): void {
  const ptr = wasm.alloc_model(bytes.length) >>> 0;
  if (ptr === 0) throw new AxformerError(`model file: ${bytes.length} bytes do not fit in wasm memory`);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  if (wasm.load_model(ptr, bytes.length) < 0) {
    const msg = new Uint8Array(wasm.memory.buffer, wasm.error_ptr() >>> 0, wasm.error_len());
    throw new AxformerError(`invalid model file: ${new TextDecoder().decode(msg)}`);
  }
}

export function readModel(bytes: Uint8Array, wasm: FormatExports): Model {
  loadIntoWasm(bytes, wasm);
  const mem = () => wasm.memory.buffer;
  const str = (ptr: number, len: number) => utf8.decode(new Uint8Array(mem(), ptr >>> 0, len >>> 0));
  const w = (i: number) => wasm.config_word(i) >>> 0;

  const config = readConfig(w);
  if (w(F.CFG_TOKENIZER) === F.TOKENIZER_UNIGRAM) {
    // Copies: the wasm memory is reused by the next load.
    const scores = new Float64Array(mem().slice(wasm.unigram_scores_ptr() >>> 0, (wasm.unigram_scores_ptr() >>> 0) + 8 * config.vocabSize));
    const at = wasm.charsmap_ptr() >>> 0, size = wasm.charsmap_size() >>> 0;
    config.tokenizer.unigram = { scores, charsmap: at ? new Uint8Array(mem().slice(at, at + size)) : null, flags: w(F.CFG_TOKENIZER_FLAGS) };
  }
  const vocab = Array.from({ length: wasm.vocab_count() >>> 0 }, (_, i) => str(wasm.vocab_ptr(i), wasm.vocab_len(i)));
  const labels = Array.from({ length: config.numLabels }, (_, i) => str(wasm.label_ptr(i), wasm.label_len(i)));
  const addedTokens = Array.from({ length: wasm.added_token_count() >>> 0 }, (_, i) => {
    const e = wasm.added_token_entry(i) >>> 0;
    const strip = { ...(e & F.ADDED_LSTRIP ? { lstrip: true } : {}), ...(e & F.ADDED_RSTRIP ? { rstrip: true } : {}) };
    return { id: e & F.ADDED_ID_MASK, normalized: (e & F.ADDED_NORMALIZED) !== 0, ...strip };
  });
  const mergesSize = wasm.merges_size() >>> 0;
  const merges = mergesSize ? new Uint8Array(mem(), wasm.merges_ptr() >>> 0, mergesSize).slice() : undefined;

  const metaLen = wasm.meta_len() >>> 0;
  let meta: unknown = {};
  if (metaLen > 0) {
    try {
      meta = JSON.parse(str(wasm.meta_ptr(), metaLen));
    } catch (e) {
      throw new AxformerError(`model file: META is not valid UTF-8 JSON (${(e as Error).message})`);
    }
  }
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    throw new AxformerError(`model file: META must be a JSON object, not ${meta === null ? "null" : Array.isArray(meta) ? "an array" : typeof meta}`);
  }
  const { layers: metaLayers, ...rest } = meta as { layers?: unknown };
  const layers = readLayers(wasm, config, metaLayers);

  const tensors = new Map<string, Tensor>();
  const count = wasm.tensor_count() >>> 0;
  for (let i = 0; i < count; i++) {
    const name = str(wasm.tensor_name_ptr(i), wasm.tensor_name_len(i));
    const shape = Array.from({ length: wasm.tensor_ndim(i) }, (_, d) => wasm.tensor_dim(i, d) >>> 0);
    tensors.set(name, readTensor(mem(), wasm.tensor_dtype(i), shape, wasm.tensor_data_ptr(i) >>> 0, wasm.tensor_scales_ptr(i) >>> 0, wasm.tensor_layout(i)));
  }
  return { config, layers, vocab, labels, ...(addedTokens.length ? { addedTokens } : {}), ...(merges ? { merges } : {}), tensors, meta: rest };
}

function readConfig(w: (i: number) => number): ModelConfig {
  const f32 = new Float32Array(new Uint32Array([w(F.CFG_LAYER_NORM_EPS)]).buffer);
  const sa = w(F.CFG_STRIP_ACCENTS);
  return {
    arch: nameOfCode(ARCH_CODES, w(F.CFG_ARCH)) as Arch,
    vocabSize: w(F.CFG_VOCAB_SIZE),
    hiddenSize: w(F.CFG_HIDDEN_SIZE),
    numLayers: w(F.CFG_NUM_LAYERS),
    numHeads: w(F.CFG_NUM_HEADS),
    headDim: w(F.CFG_HEAD_DIM),
    intermediateSize: w(F.CFG_INTERMEDIATE_SIZE),
    maxPosition: w(F.CFG_MAX_POSITION),
    typeVocabSize: w(F.CFG_TYPE_VOCAB_SIZE),
    numLabels: w(F.CFG_NUM_LABELS),
    problemType: nameOfCode(PROBLEM_TYPE_CODES, w(F.CFG_PROBLEM_TYPE)) as ProblemType,
    hiddenAct: nameOfCode(HIDDEN_ACT_CODES, w(F.CFG_HIDDEN_ACT)) as HiddenAct,
    layerNormEps: f32[0],
    hasPooler: w(F.CFG_HAS_POOLER) === 1,
    hasPreClassifier: w(F.CFG_HAS_PRE_CLASSIFIER) === 1,
    ...(w(F.CFG_TEMPERATURE) !== 0 ? { temperature: new Float32Array(new Uint32Array([w(F.CFG_TEMPERATURE)]).buffer)[0] } : {}),
    // Only a task other than sequence classification is spelled out, as the converter does.
    ...(w(F.CFG_TASK) !== F.TASK_SEQUENCE_CLASSIFICATION ? { task: nameOfCode(TASK_CODES, w(F.CFG_TASK)) as Task } : {}),
    ...(w(F.CFG_TASK) === F.TASK_EMBEDDING ? {
      pooling: POOLING_MODES.filter((m) => w(F.CFG_POOLING) & POOLING_CODES[m]),
      normalize: w(F.CFG_NORMALIZE) === 1,
    } : {}),
    ...(w(F.CFG_EMBEDDING_SIZE) !== 0 ? { embeddingSize: w(F.CFG_EMBEDDING_SIZE) } : {}),
    ...(w(F.CFG_POSITION_OFFSET) !== 0 ? { positionOffset: w(F.CFG_POSITION_OFFSET) } : {}),
    ...(w(F.CFG_HEAD_ACT) !== 0 ? { headAct: nameOfCode(HIDDEN_ACT_CODES, w(F.CFG_HEAD_ACT)) as HiddenAct } : {}),
    tokenizer: {
      doLowerCase: w(F.CFG_DO_LOWER_CASE) === 1,
      stripAccents: sa === F.STRIP_ACCENTS_FOLLOW_LOWERCASE ? null : sa === F.STRIP_ACCENTS_ALWAYS,
      tokenizeChineseChars: w(F.CFG_TOKENIZE_CHINESE_CHARS) === 1,
      cleanText: w(F.CFG_CLEAN_TEXT) === 1,
      clsId: w(F.CFG_CLS_ID),
      sepId: w(F.CFG_SEP_ID),
      padId: w(F.CFG_PAD_ID),
      unkId: w(F.CFG_UNK_ID),
      maskId: w(F.CFG_MASK_ID) === F.NO_TOKEN ? null : w(F.CFG_MASK_ID),
      maxLen: w(F.CFG_MAX_LEN),
      maxInputCharsPerWord: w(F.CFG_MAX_INPUT_CHARS_PER_WORD),
      ...(w(F.CFG_TOKENIZER) === F.TOKENIZER_BPE ? {
        kind: "bpe" as const,
        bpe: {
          addPrefixSpace: (w(F.CFG_TOKENIZER_FLAGS) & F.TOKFLAG_ADD_PREFIX_SPACE) !== 0,
          trimOffsets: (w(F.CFG_TOKENIZER_FLAGS) & F.TOKFLAG_TRIM_OFFSETS) !== 0,
          trimPrefixSpace: (w(F.CFG_TOKENIZER_FLAGS) & F.TOKFLAG_TRIM_PREFIX_SPACE) !== 0,
        },
      } : {}),
      ...(w(F.CFG_TEMPLATE) === F.TEMPLATE_ROBERTA ? { template: "roberta" as const } : {}),
    },
  };
}

// Layer states from the LAYERS records; the original head / neuron indices come
// from META (written by writer.ts), else they are taken as 0..n-1. META is
// checked as carefully as the binary sections: `layers` absent, or an array of
// num_layers objects whose `heads` (an array) and `ffnNeurons` (a range string)
// hold exactly the LAYERS record's count of strictly increasing indices below
// CONFIG.num_heads / intermediate_size. Parsing stops at the record's count, so
// it is linear in the META size and the record.
function readLayers(wasm: FormatExports, c: ModelConfig, metaLayers: unknown): LayerState[] {
  if (metaLayers !== undefined && !(Array.isArray(metaLayers) && metaLayers.length === c.numLayers)) {
    throw new AxformerError(`model file: META.layers must be an array of ${c.numLayers} entries (CONFIG.num_layers), got ${describe(metaLayers)}`);
  }
  return Array.from({ length: c.numLayers }, (_, i) => {
    const f = (k: number) => wasm.layer_field(i, k) >>> 0;
    const nHeads = f(LAYER_FIELD.numHeads), nNeurons = f(LAYER_FIELD.ffnWidth);
    const at = `model file: META.layers[${i}]`;
    let heads = range(nHeads), ffnNeurons = range(nNeurons);
    if (metaLayers !== undefined) {
      const m = (metaLayers as unknown[])[i];
      if (typeof m !== "object" || m === null || Array.isArray(m)) throw new AxformerError(`${at} must be an object, got ${describe(m)}`);
      const { heads: h, ffnNeurons: r } = m as { heads?: unknown; ffnNeurons?: unknown };
      if (h !== undefined) {
        if (!Array.isArray(h)) throw new AxformerError(`${at}.heads must be an array of head indices, got ${describe(h)}`);
        heads = h as number[];
      }
      if (r !== undefined) {
        if (typeof r !== "string") throw new AxformerError(`${at}.ffnNeurons must be a string of ranges like "0-255,300", got ${describe(r)}`);
        ffnNeurons = parseRanges(r, nNeurons, `${at}.ffnNeurons`);
      }
    }
    const ok = (idx: number[], n: number, limit: number) =>
      idx.length === n && idx.every((v, k) => Number.isInteger(v) && v >= 0 && v < limit && (k === 0 || v > idx[k - 1]));
    if (!ok(heads, nHeads, c.numHeads)) throw new AxformerError(`${at}.heads does not match the ${nHeads} heads of LAYERS[${i}] (strictly increasing indices below ${c.numHeads})`);
    if (!ok(ffnNeurons, nNeurons, c.intermediateSize)) throw new AxformerError(`${at}.ffnNeurons does not match the ${nNeurons} neurons of LAYERS[${i}] (strictly increasing indices below ${c.intermediateSize})`);
    return { hasAttention: f(LAYER_FIELD.hasAttention) === 1, hasFfn: f(LAYER_FIELD.hasFfn) === 1, heads, ffnNeurons, hardK: f(LAYER_FIELD.hardK) };
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "string") return `a string of ${v.length} characters`;
  return typeof v;
}

// Inverse of writer.ts compactRanges: "0-3,7" -> [0, 1, 2, 3, 7]. At most `limit`
// indices (the LAYERS record's count): a range that would pass it is an error
// before any index of it is produced, so the cost is O(s.length + limit).
export function parseRanges(s: string, limit = Infinity, what = "ranges"): number[] {
  if (s === "") return [];
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(part);
    if (!m) throw new AxformerError(`${what}: "${part.slice(0, 40)}" is not an index or an a-b range`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new AxformerError(`${what}: range ${a}-${b} ends before it starts`);
    if (out.length + (b - a + 1) > limit) throw new AxformerError(`${what}: more than the ${limit} indices the layer record holds`);
    for (let k = a; k <= b; k++) out.push(k);
  }
  return out;
}

// The logical row-major tensor, whatever its storage and layout.
function readTensor(buffer: ArrayBuffer, dtype: number, shape: number[], ptr: number, scalesPtr: number, layout: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rows = shape[0], cols = n / rows;
  // Stored index of logical flat index i.
  const perm = layout === F.LAYOUT_PANELS ? panelPermutation(rows, cols, dtype === F.DTYPE_INT8) : null;
  const data = new Float32Array(n);
  let storage: Storage = "f32";
  if (dtype === F.DTYPE_F32) {
    const src = new Float32Array(buffer, ptr, n);
    if (perm) for (let i = 0; i < n; i++) data[i] = src[perm[i]];
    else data.set(src);
  } else if (dtype === F.DTYPE_F16) {
    storage = "f16";
    const h = new Uint16Array(buffer, ptr, n);
    for (let i = 0; i < n; i++) data[i] = f16ToF32(h[perm ? perm[i] : i]);
  } else {
    storage = "int8";
    const q = new Int8Array(buffer, ptr, n);
    const scales = new Float32Array(buffer, scalesPtr, rows);
    for (let i = 0; i < n; i++) data[i] = q[perm ? perm[i] : i] * scales[Math.floor(i / cols)];
  }
  return { shape, data, storage };
}

// Reads and parses an .axf file with a throwaway engine (Node only).
export async function readModelFile(path: string): Promise<Model> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `model file not found: ${path}` : `cannot read model file ${path}: ${(e as Error).message}`);
  }
  try {
    // A throwaway engine: readModel loads the file into it to parse it with the runtime's own reader.
    const engine = await loadEngine();
    return readModel(bytes, engine.exports);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
