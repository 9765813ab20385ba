// Writes synthetic Hugging Face model folders, laid out as the hub ships them:
// config.json, model.safetensors (F32 / F16 / BF16, or shards with
// model.safetensors.index.json), vocab.txt and/or tokenizer.json, and
// tokenizer_config.json / special_tokens_map.json. Tiny models, for tests.
//
// Random weights are chosen exactly representable in the stored dtype, so the
// `tensors` returned are precisely what a correct reader must give back.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prng } from "./random-model.ts";

export type HfDtype = "F32" | "F16" | "BF16";

export interface RawTensor {
  name: string;
  dtype: string;       // any safetensors dtype string, e.g. "I64"
  shape: number[];
  bytes: Uint8Array;   // little-endian payload
}

// ---------------------------------------------------------------- safetensors

// header length (u64 LE) + JSON header + data, tensors laid out in the given order.
export function encodeSafetensors(tensors: RawTensor[], metadata: Record<string, string> | null = { format: "pt" }): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  return encodeSafetensorsRaw(JSON.stringify(header), tensors.map((t) => t.bytes));
}

// A file from an arbitrary header text, for writing broken files on purpose.
export function encodeSafetensorsRaw(headerJson: string, data: Uint8Array[], headerLen?: bigint): Uint8Array {
  const head = new TextEncoder().encode(headerJson);
  const dataLen = data.reduce((a, d) => a + d.length, 0);
  const out = new Uint8Array(8 + head.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const d of data) {
    out.set(d, p);
    p += d.length;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// f32 -> IEEE half, round to nearest even, with subnormals, overflow to Inf.
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry correctly moves to the next binade / Inf
  return sign | h;
}

// f32 -> bfloat16, round to nearest even (NaN kept NaN).
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function encodeValues(data: Float32Array, dtype: HfDtype): Uint8Array {
  if (dtype === "F32") return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const half = new Uint16Array(data.length);
  const conv = dtype === "F16" ? f32ToF16Bits : f32ToBf16Bits;
  for (let i = 0; i < data.length; i++) half[i] = conv(data[i]);
  return new Uint8Array(half.buffer);
}

// ---------------------------------------------------------------- the model

export interface HfDims {
  arch: "bert" | "distilbert";
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPosition: number;
  typeVocabSize: number;  // BERT only
  numLabels: number;
  vocabSize: number;
}

// The checkpoint tensors of a *ForSequenceClassification, in checkpoint names.
export function hfTensorShapes(d: HfDims, layerNormNames: "weight" | "gamma" = "weight"): [string, number[]][] {
  const H = d.hiddenSize, I = d.intermediateSize;
  const [w, b] = layerNormNames === "gamma" ? ["gamma", "beta"] : ["weight", "bias"];
  const out: [string, number[]][] = [];
  const linear = (n: string, rows: number, cols: number) => out.push([`${n}.weight`, [rows, cols]], [`${n}.bias`, [rows]]);
  const ln = (n: string) => out.push([`${n}.${w}`, [H]], [`${n}.${b}`, [H]]);
  if (d.arch === "bert") {
    out.push(["bert.embeddings.word_embeddings.weight", [d.vocabSize, H]]);
    out.push(["bert.embeddings.position_embeddings.weight", [d.maxPosition, H]]);
    out.push(["bert.embeddings.token_type_embeddings.weight", [d.typeVocabSize, H]]);
    ln("bert.embeddings.LayerNorm");
    for (let i = 0; i < d.numLayers; i++) {
      const p = `bert.encoder.layer.${i}.`;
      linear(`${p}attention.self.query`, H, H);
      linear(`${p}attention.self.key`, H, H);
      linear(`${p}attention.self.value`, H, H);
      linear(`${p}attention.output.dense`, H, H);
      ln(`${p}attention.output.LayerNorm`);
      linear(`${p}intermediate.dense`, I, H);
      linear(`${p}output.dense`, H, I);
      ln(`${p}output.LayerNorm`);
    }
    linear("bert.pooler.dense", H, H);
  } else {
    out.push(["distilbert.embeddings.word_embeddings.weight", [d.vocabSize, H]]);
    out.push(["distilbert.embeddings.position_embeddings.weight", [d.maxPosition, H]]);
    ln("distilbert.embeddings.LayerNorm");
    for (let i = 0; i < d.numLayers; i++) {
      const p = `distilbert.transformer.layer.${i}.`;
      linear(`${p}attention.q_lin`, H, H);
      linear(`${p}attention.k_lin`, H, H);
      linear(`${p}attention.v_lin`, H, H);
      linear(`${p}attention.out_lin`, H, H);
      ln(`${p}sa_layer_norm`);
      linear(`${p}ffn.lin1`, I, H);
      linear(`${p}ffn.lin2`, H, I);
      ln(`${p}output_layer_norm`);
    }
    linear("pre_classifier", H, H);
  }
  linear("classifier", d.numLabels, H);
  return out;
}

export const DEFAULT_VOCAB = [
  "[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
  "the", "a", "good", "bad", "movie", "film", "was", "is", "not", "very",
  "un", "##like", "##ly", "##s", "##ed", ",", ".", "!", "?",
];

export interface HfCheckpointOptions extends Partial<HfDims> {
  dtype?: HfDtype;
  shards?: number;                 // 1: model.safetensors; n > 1: n shards + index
  vocab?: string[];                // the tokenizer's tokens in id order
  tokenizer?: "vocab.txt" | "tokenizer.json" | "both";
  tokenizerConfig?: Record<string, unknown> | null;   // null: no tokenizer_config.json
  specialTokensMap?: Record<string, unknown> | null;  // null (default): no special_tokens_map.json
  tokenizerJson?: (t: Record<string, any>) => void;   // edits tokenizer.json before it is written
  layerNormNames?: "weight" | "gamma";
  config?: Record<string, unknown>;  // merged into config.json; an undefined value deletes the field
  extraTensors?: RawTensor[];        // written too (into the first shard), e.g. an I64 position_ids
  omit?: string[];                   // checkpoint tensors not to write
  edit?: (name: string, data: Float32Array) => void; // changes a tensor's values before encoding
  rename?: (name: string) => string; // changes checkpoint names as written
  seed?: number;
}

export interface HfCheckpoint {
  dir: string;
  dims: HfDims;
  config: Record<string, unknown>;
  vocab: string[];
  tensors: Map<string, { shape: number[]; data: Float32Array }>; // checkpoint names, values as stored
}

// Deterministic values that the dtype holds exactly: center + k / 2^s with |k| <= 2^(bits-1),
// so every value has at most `bits` + 1 significant bits (11 in f16, 8 in bf16).
function randomValues(n: number, dtype: HfDtype, rand: () => number, center: 0 | 1): Float32Array {
  const bits = dtype === "BF16" ? 7 : 10;
  const denom = center === 0 ? 2 ** (bits + 1) : 2 ** bits; // around 1 the spacing of [1, 2) rules
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = center + Math.round((rand() - 0.5) * 2 ** bits) / denom;
  return out;
}


export function writeHfCheckpoint(dir: string, o: HfCheckpointOptions = {}): HfCheckpoint {
  const arch = o.arch ?? "bert";
  const vocab = o.vocab ?? DEFAULT_VOCAB;
  const dims: HfDims = {
    arch,
    hiddenSize: o.hiddenSize ?? 8,
    numLayers: o.numLayers ?? 2,
    numHeads: o.numHeads ?? 2,
    intermediateSize: o.intermediateSize ?? 12,
    maxPosition: o.maxPosition ?? 16,
    typeVocabSize: arch === "bert" ? (o.typeVocabSize ?? 2) : 0,
    numLabels: o.numLabels ?? 2,
    vocabSize: o.vocabSize ?? vocab.length,
  };
  const dtype = o.dtype ?? "F32";
  mkdirSync(dir, { recursive: true });

  const config = { ...hfConfig(dims, dtype), ...(o.config ?? {}) };
  for (const [k, v] of Object.entries(config)) if (v === undefined) delete config[k];
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));

  // Weights.
  const rand = prng(o.seed ?? 1);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const raw: RawTensor[] = [];
  for (const [name, shape] of hfTensorShapes(dims, o.layerNormNames)) {
    if (o.omit?.includes(name)) continue;
    const isLnScale = /(LayerNorm|layer_norm)\.(weight|gamma)$/.test(name);
    const data = randomValues(shape.reduce((a, b) => a * b, 1), dtype, rand, isLnScale ? 1 : 0);
    o.edit?.(name, data);
    const stored = o.rename ? o.rename(name) : name;
    tensors.set(stored, { shape, data });
    raw.push({ name: stored, dtype, shape, bytes: encodeValues(data, dtype) });
  }
  writeWeights(dir, [...(o.extraTensors ?? []), ...raw], o.shards ?? 1);

  // Tokenizer.
  const tok = o.tokenizer ?? "vocab.txt";
  if (tok !== "tokenizer.json") writeFileSync(join(dir, "vocab.txt"), vocab.map((t) => t + "\n").join(""));
  if (tok !== "vocab.txt") {
    const t = tokenizerJson(vocab);
    o.tokenizerJson?.(t);
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(t, null, 2));
  }
  const tcfg = o.tokenizerConfig === undefined
    ? {
        do_lower_case: true,
        model_max_length: dims.maxPosition,
        tokenizer_class: arch === "bert" ? "BertTokenizer" : "DistilBertTokenizer",
        cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", unk_token: "[UNK]", mask_token: "[MASK]",
      }
    : o.tokenizerConfig;
  if (tcfg) writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tcfg, null, 2));
  if (o.specialTokensMap) writeFileSync(join(dir, "special_tokens_map.json"), JSON.stringify(o.specialTokensMap, null, 2));
  return { dir, dims, config, vocab, tensors };
}

function writeWeights(dir: string, raw: RawTensor[], shards: number): void {
  if (shards <= 1) {
    writeFileSync(join(dir, "model.safetensors"), encodeSafetensors(raw));
    return;
  }
  const pad = (n: number) => String(n).padStart(5, "0");
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(raw.length / shards);
  let total = 0;
  for (let s = 0; s < shards; s++) {
    const part = raw.slice(s * per, (s + 1) * per);
    const file = `model-${pad(s + 1)}-of-${pad(shards)}.safetensors`;
    for (const t of part) {
      weightMap[t.name] = file;
      total += t.bytes.length;
    }
    writeFileSync(join(dir, file), encodeSafetensors(part));
  }
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify(index, null, 2));
}

function hfConfig(d: HfDims, dtype: HfDtype): Record<string, unknown> {
  const id2label = Object.fromEntries(Array.from({ length: d.numLabels }, (_, i) => [String(i), `LABEL_${i}`]));
  const label2id = Object.fromEntries(Array.from({ length: d.numLabels }, (_, i) => [`LABEL_${i}`, i]));
  const torch_dtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[dtype];
  if (d.arch === "bert")
    return {
      architectures: ["BertForSequenceClassification"], model_type: "bert",
      attention_probs_dropout_prob: 0.1, hidden_act: "gelu", hidden_dropout_prob: 0.1,
      hidden_size: d.hiddenSize, id2label, label2id, initializer_range: 0.02,
      intermediate_size: d.intermediateSize, layer_norm_eps: 1e-12, max_position_embeddings: d.maxPosition,
      num_attention_heads: d.numHeads, num_hidden_layers: d.numLayers, pad_token_id: 0,
      position_embedding_type: "absolute", torch_dtype, transformers_version: "4.41.2",
      type_vocab_size: d.typeVocabSize, use_cache: true, vocab_size: d.vocabSize,
    };
  return {
    architectures: ["DistilBertForSequenceClassification"], model_type: "distilbert",
    activation: "gelu", attention_dropout: 0.1, dim: d.hiddenSize, dropout: 0.1, hidden_dim: d.intermediateSize,
    id2label, label2id, initializer_range: 0.02, max_position_embeddings: d.maxPosition,
    n_heads: d.numHeads, n_layers: d.numLayers, pad_token_id: 0, qa_dropout: 0.1, seq_classif_dropout: 0.2,
    sinusoidal_pos_embds: false, tie_weights_: true, torch_dtype, transformers_version: "4.41.2",
    vocab_size: d.vocabSize,
  };
}

// tokenizer.json as transformers' BertConverter writes it.
function tokenizerJson(vocab: string[]): Record<string, any> {
  const id = (t: string) => vocab.lastIndexOf(t);
  const specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].filter((t) => id(t) >= 0);
  const special = (t: string, type_id: number) => ({ SpecialToken: { id: t, type_id } });
  const seq = (s: string, type_id: number) => ({ Sequence: { id: s, type_id } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({
      id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)],
      pair: [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1), special("[SEP]", 1)],
      special_tokens: Object.fromEntries(["[CLS]", "[SEP]"].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}
