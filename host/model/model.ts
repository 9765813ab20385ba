// The in-memory model: what the converter produces, what the optimizer's
// transformations take and return, and what the writer serialises. Every weight is
// held as f32 here whatever its storage; `storage` says how the writer stores it.
//
// Tensor names are those of docs/format.md (Hugging Face BERT names without the
// `bert.` prefix). Shapes use H = hiddenSize, D = headDim, h_i = heads kept in
// layer i, F_i = FFN width kept in layer i.
//
// The string <-> code maps below are the one translation between these names and
// the numbers the file stores (assembly/format/constants.ts).

import * as F from "../../assembly/format/constants.ts";

// "roberta" is one graph for RoBERTa, DistilRoBERTa, XLM-RoBERTa and CamemBERT.
export type Arch = "bert" | "distilbert" | "roberta" | "electra";
export type ProblemType = "single_label_classification" | "regression" | "multi_label_classification";
export type HiddenAct = "gelu" | "relu" | "gelu_tanh";
export type Storage = "f32" | "f16" | "int8";
export type Task = "sequence-classification" | "embedding" | "token-classification" | "question-answering";
// sentence-transformers' Pooling modes, by their names there.
export type PoolingMode = "cls" | "max" | "mean" | "mean_sqrt_len_tokens" | "weightedmean" | "lasttoken";

export const ARCH_CODES: Record<Arch, number> = {
  bert: F.ARCH_BERT, distilbert: F.ARCH_DISTILBERT, roberta: F.ARCH_ROBERTA, electra: F.ARCH_ELECTRA,
};
export const PROBLEM_TYPE_CODES: Record<ProblemType, number> = {
  single_label_classification: F.PROBLEM_SINGLE_LABEL,
  regression: F.PROBLEM_REGRESSION,
  multi_label_classification: F.PROBLEM_MULTI_LABEL,
};
export const HIDDEN_ACT_CODES: Record<HiddenAct, number> = { gelu: F.ACT_GELU, relu: F.ACT_RELU, gelu_tanh: F.ACT_GELU_TANH };
export const STORAGE_CODES: Record<Storage, number> = { f32: F.DTYPE_F32, f16: F.DTYPE_F16, int8: F.DTYPE_INT8 };
export const STORAGE_BYTES: Record<Storage, number> = { f32: 4, f16: 2, int8: 1 };
export const TASK_CODES: Record<Task, number> = {
  "sequence-classification": F.TASK_SEQUENCE_CLASSIFICATION,
  embedding: F.TASK_EMBEDDING,
  "token-classification": F.TASK_TOKEN_CLASSIFICATION,
  "question-answering": F.TASK_QUESTION_ANSWERING,
};
// Bits of CONFIG.pooling, in sentence-transformers' concatenation order (the order of this map).
export const POOLING_CODES: Record<PoolingMode, number> = {
  cls: F.POOL_CLS,
  max: F.POOL_MAX,
  mean: F.POOL_MEAN,
  mean_sqrt_len_tokens: F.POOL_MEAN_SQRT_LEN,
  weightedmean: F.POOL_WEIGHTED_MEAN,
  lasttoken: F.POOL_LAST_TOKEN,
};
export const POOLING_MODES = Object.keys(POOLING_CODES) as PoolingMode[];

// Every problem type, in code order.
export const PROBLEM_TYPES = Object.keys(PROBLEM_TYPE_CODES) as ProblemType[];

// The name whose code is `code` in one of the maps above; undefined for an unknown code.
export function nameOfCode<T extends string>(codes: Record<T, number>, code: number): T | undefined {
  return (Object.keys(codes) as T[]).find((k) => codes[k] === code);
}

export interface TokenizerConfig {
  doLowerCase: boolean;
  stripAccents: boolean | null; // null: follow doLowerCase (Hugging Face's None)
  tokenizeChineseChars: boolean;
  cleanText: boolean;
  clsId: number;
  sepId: number;
  padId: number;
  unkId: number;
  maskId: number | null;
  maxLen: number;               // <= maxPosition
  maxInputCharsPerWord: number; // 100 in Hugging Face
  kind?: "wordpiece" | "bpe";   // CONFIG.tokenizer; absent = WordPiece
  template?: "bert" | "roberta"; // CONFIG.template: [CLS] A [SEP] (B [SEP]) or <s> A </s> (</s> B </s>); absent = bert
  bpe?: BpeOptions;             // byte-level BPE's ByteLevel options (CONFIG.tokenizer_flags)
  unigram?: UnigramTokenizer;   // present: a SentencePiece Unigram tokenizer (CONFIG.tokenizer Unigram; kind and template absent or "roberta")
}

// Hugging Face's ByteLevel pre-tokenizer and post-processor options.
export interface BpeOptions {
  addPrefixSpace: boolean;  // pre_tokenizer.add_prefix_space
  trimOffsets: boolean;     // post_processor.trim_offsets
  trimPrefixSpace: boolean; // post_processor.add_prefix_space (what trimming keeps)
}

// The data of a SentencePiece Unigram tokenizer (docs/format.md UNIGRAM, CHARSMAP).
export interface UnigramTokenizer {
  scores: Float64Array;         // [vocabSize] log probabilities; NaN: not a piece of the model
  charsmap: Uint8Array | null;  // the CHARSMAP section (Precompiled charsmap + grapheme break ranges), or none
  flags: number;                // TOKFLAG_* bits
}

export interface ModelConfig {
  arch: Arch;
  vocabSize: number;
  hiddenSize: number;       // H
  numLayers: number;        // L
  numHeads: number;         // heads per layer in the original checkpoint
  headDim: number;          // D = H / numHeads
  intermediateSize: number; // FFN width in the original checkpoint
  maxPosition: number;
  typeVocabSize: number;    // 0 for DistilBERT
  embeddingSize?: number;   // ELECTRA: embedding_size when it differs from hiddenSize (embeddings_project); absent / 0 = hiddenSize
  positionOffset?: number;  // RoBERTa: padding_idx + 1, where position ids start (create_position_ids_from_input_ids); absent / 0 = BERT's 0..n)
  numLabels: number;
  problemType: ProblemType;
  hiddenAct: HiddenAct;
  layerNormEps: number;
  hasPooler: boolean;        // BERT: dense + tanh on [CLS]; RoBERTa: classifier.dense + tanh on <s>
  hasPreClassifier: boolean; // DistilBERT: dense + ReLU on [CLS]; ELECTRA: dense + headAct
  headAct?: HiddenAct;       // the pre-classifier's activation when not ReLU (ELECTRA: "gelu"); absent = ReLU
  temperature?: number;      // calibration: scores use logits / temperature; absent = 1 (CONFIG word 27)
  // What the head computes; absent = "sequence-classification" (CONFIG.task). Embedding
  // models have no labels (numLabels 0), question answering two (start, end: qa_outputs).
  task?: Task;
  pooling?: PoolingMode[];   // embeddings: the modes, in POOLING_MODES order (CONFIG.pooling)
  normalize?: boolean;       // embeddings: L2-normalise the pooled vector (CONFIG.normalize)
  tokenizer: TokenizerConfig;
}

// The optimizer's state of one layer. `heads` and `ffnNeurons` name the ORIGINAL
// indices that survive, in order, so a report can say which ones went; the
// tensors hold exactly those rows / columns.
export interface LayerState {
  hasAttention: boolean;
  hasFfn: boolean;
  heads: number[];      // original head indices kept; [] when the block is removed
  ffnNeurons: number[]; // original neuron indices kept; [] when the block is removed
  hardK: number;        // 0 = dense softmax attention
}

export interface Tensor {
  shape: number[];      // [rows, cols] for matrices, [n] for vectors
  data: Float32Array;   // row-major, product(shape) values
  storage: Storage;     // how the writer stores it; vectors are always f32
}

// A tokenizer added token: its vocab id, and whether it is matched on the
// normalized text (Hugging Face's `normalized: true`) or on the raw text.
export interface AddedToken {
  id: number;
  normalized: boolean;
  lstrip?: boolean; // the match takes the whitespace before it (BPE, Unigram)
  rstrip?: boolean; // and after it
}

export interface Model {
  config: ModelConfig;
  layers: LayerState[];          // numLayers entries
  vocab: string[];               // token i has id i
  labels: string[];              // id2label in id order
  addedTokens?: AddedToken[];    // matched whole in the text before WordPiece (ADDED_TOKENS); absent = none
  merges?: Uint8Array;           // byte-level BPE: the MERGES section (host/format/merges.ts); absent for WordPiece
  tensors: Map<string, Tensor>;  // names of docs/format.md
  meta: Record<string, unknown>; // written to the META section as JSON
}

// The same weights with every matrix (the 2-D tensors: linear weights and embedding
// tables) stored by the writer as int8 with per-row scales; other tensors keep their storage.
export function asInt8(m: Model): Model {
  return { ...m, tensors: new Map([...m.tensors].map(([k, t]) => [k, t.shape.length === 2 ? { ...t, storage: "int8" as const } : t])) };
}

export function layerPrefix(i: number): string {
  return `encoder.layer.${i}.`;
}
