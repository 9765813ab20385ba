// A small, valid, random in-memory Model for tests (format, engine, optimizer).
// Same options and seed -> the same model, bit for bit.
//
//   randomModel()                                         2-layer BERT, H 16, 2 heads, FFN 32, f32
//   randomModel({ arch: "distilbert", seed: 7 })
//   randomModel({ arch: "roberta" })                      positions from padding_idx + 1 = 1 ([PAD] is id 0), one token type
//   randomModel({ arch: "electra", embeddingSize: 8 })    embeddings of width 8 projected to H
//   randomModel({ layers: [{ heads: [1] }, { hasFfn: false, hardK: 2 }] })
//   randomModel({ storage: "int8" })                      every weight matrix int8
//   randomModel({ storage: (name) => name.startsWith("embeddings.word") ? "f16" : "f32" })
//
// Values: weight matrices uniform in +-sqrt(3 / cols) (unit-variance outputs for
// unit-variance inputs), embeddings in +-1, biases in +-0.1, LayerNorm weights in
// 1 +- 0.2. Vocab: [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0..4), then `words`.

import { expectedTensors } from "../../host/model/tensors.ts";
import type { Arch, HiddenAct, LayerState, Model, ProblemType, Storage, Tensor } from "../../host/model/model.ts";

export interface RandomModelOptions {
  arch?: Arch;                  // "bert"
  seed?: number;                // 1
  hiddenSize?: number;          // 16
  numHeads?: number;            // 2 (hiddenSize must be a multiple)
  numLayers?: number;           // 2, or layers.length when `layers` is given
  intermediateSize?: number;    // 32
  maxPosition?: number;         // 32 (also the tokenizer's maxLen; RoBERTa: maxPosition - 1)
  embeddingSize?: number;       // ELECTRA: hiddenSize / 2 (hiddenSize: no projection)
  numLabels?: number;           // 2 (1 for regression)
  problemType?: ProblemType;    // "single_label_classification"
  hiddenAct?: HiddenAct;        // "gelu"
  doLowerCase?: boolean;        // true
  words?: string[];             // vocab after the 5 special tokens; default DEFAULT_WORDS
  // Per-layer state, dense when absent. hasAttention / hasFfn default true;
  // heads / ffnNeurons default to all kept (ignored when the block is removed).
  layers?: Array<Partial<LayerState>>;
  storage?: Storage | ((name: string) => Storage); // requested storage per tensor, "f32"
}

export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
export const DEFAULT_WORDS = [
  ".", ",", "!", "?", "'", "-",
  ..."abcdefghijklmnopqrstuvwxyz".split(""),
  ..."abcdefghijklmnopqrstuvwxyz".split("").map((ch) => "##" + ch),
  "the", "is", "was", "it", "this", "movie", "film", "good", "bad", "great", "terrible",
  "not", "very", "and", "but", "love", "hate", "play", "##ing", "##ed", "##ly",
];

// mulberry32: small, fast, good enough for test data.
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomModel(opts: RandomModelOptions = {}): Model {
  const arch = opts.arch ?? "bert";
  const rand = prng(opts.seed ?? 1);
  const H = opts.hiddenSize ?? 16, numHeads = opts.numHeads ?? 2, F = opts.intermediateSize ?? 32;
  const numLayers = opts.layers?.length ?? opts.numLayers ?? 2;
  const problemType = opts.problemType ?? "single_label_classification";
  const numLabels = opts.numLabels ?? (problemType === "regression" ? 1 : 2);
  const maxPosition = opts.maxPosition ?? 32;
  if (H % numHeads !== 0) throw new Error(`randomModel: hiddenSize ${H} is not a multiple of numHeads ${numHeads}`);
  const vocab = [...SPECIAL_TOKENS, ...(opts.words ?? DEFAULT_WORDS)];

  const layers: LayerState[] = Array.from({ length: numLayers }, (_, i) => {
    const l = opts.layers?.[i] ?? {};
    const hasAttention = l.hasAttention ?? true, hasFfn = l.hasFfn ?? true;
    return {
      hasAttention,
      hasFfn,
      heads: hasAttention ? l.heads ?? range(numHeads) : [],
      ffnNeurons: hasFfn ? l.ffnNeurons ?? range(F) : [],
      hardK: hasAttention ? l.hardK ?? 0 : 0,
    };
  });

  const config: Model["config"] = {
    arch,
    vocabSize: vocab.length,
    hiddenSize: H,
    numLayers,
    numHeads,
    headDim: H / numHeads,
    intermediateSize: F,
    maxPosition,
    typeVocabSize: arch === "distilbert" ? 0 : arch === "roberta" ? 1 : 2,
    numLabels,
    problemType,
    hiddenAct: opts.hiddenAct ?? "gelu",
    layerNormEps: 1e-12,
    hasPooler: arch === "bert" || arch === "roberta",
    hasPreClassifier: arch === "distilbert" || arch === "electra",
    ...(arch === "roberta" ? { positionOffset: 1 } : {}),
    ...(arch === "electra" ? { headAct: "gelu" as HiddenAct } : {}),
    ...(arch === "electra" && (opts.embeddingSize ?? H / 2) !== H ? { embeddingSize: opts.embeddingSize ?? H / 2 } : {}),
    tokenizer: {
      doLowerCase: opts.doLowerCase ?? true,
      stripAccents: null,
      tokenizeChineseChars: true,
      cleanText: true,
      clsId: 2,
      sepId: 3,
      padId: 0,
      unkId: 1,
      maskId: 4,
      maxLen: arch === "roberta" ? maxPosition - 1 : maxPosition,
      maxInputCharsPerWord: 100,
    },
  };

  const storageOf = typeof opts.storage === "function" ? opts.storage : () => (opts.storage as Storage | undefined) ?? "f32";
  const tensors = new Map<string, Tensor>();
  for (const spec of expectedTensors(config, layers)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const { name, shape } = spec;
    const isLnWeight = /LayerNorm\.weight$/.test(name);
    const bound = shape.length === 1 ? 0.1 : name.startsWith("embeddings.") ? 1 : Math.sqrt(3 / shape[1]);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (isLnWeight ? 1 : 0) + (2 * rand() - 1) * (isLnWeight ? 0.2 : bound);
    tensors.set(name, { shape: [...shape], data, storage: shape.length === 1 ? "f32" : storageOf(name) });
  }

  const labels = problemType === "regression" ? ["score"] : Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
  return { config, layers, vocab, labels, tensors, meta: { source: "randomModel", seed: opts.seed ?? 1 } };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
