// The in-memory model: what the converter produces, what the optimizer's
// transformations take and return, and what the writer serialises. Every weight is
// held as f32 here whatever its storage; `storage` says how the writer stores it.
//
// Tensor names are those of docs/format.md (Hugging Face BERT names without the
// `bert.` prefix). Shapes use H = hiddenSize, D = headDim, h_i = heads kept in
// layer i, F_i = FFN width kept in layer i.

export type Arch = "bert" | "distilbert";
export type ProblemType = "single_label_classification" | "regression" | "multi_label_classification";
export type HiddenAct = "gelu" | "relu" | "gelu_tanh";
export type Storage = "f32" | "f16" | "int8";

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
  numLabels: number;
  problemType: ProblemType;
  hiddenAct: HiddenAct;
  layerNormEps: number;
  hasPooler: boolean;        // BERT: dense + tanh on [CLS]
  hasPreClassifier: boolean; // DistilBERT: dense + ReLU on [CLS]
  temperature?: number;      // calibration: scores use logits / temperature; absent = 1 (CONFIG word 27)
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

export interface Model {
  config: ModelConfig;
  layers: LayerState[];          // numLayers entries
  vocab: string[];               // token i has id i
  labels: string[];              // id2label in id order
  tensors: Map<string, Tensor>;  // names of docs/format.md
  meta: Record<string, unknown>; // written to the META section as JSON
}

export function layerPrefix(i: number): string {
  return `encoder.layer.${i}.`;
}
