// The valid model files the fuzzer starts from: small random models covering
// the four architectures, the three storage types, pruned layers (removed heads,
// removed blocks, narrowed FFN, hard attention), the three heads, both weight
// layouts, and shapes that are not multiples of the kernels' panel sizes.

import { randomModel } from "../../test/helpers/random-model.ts";
import { writeModel } from "../../host/format/writer.ts";

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

const int8 = "int8" as const, f16 = "f16" as const;

export function seedCorpus(): Seed[] {
  return [
    // The reference model (its logits are checked after every failed case).
    { name: "bert-f32", bytes: writeModel(randomModel({ seed: 11 })) },
    { name: "distilbert-f16", bytes: writeModel(randomModel({ arch: "distilbert", seed: 12, storage: f16 })) },
    // Issue 16: RoBERTa's position offset; ELECTRA's narrower embeddings, int8 projection, GELU head.
    { name: "roberta-f16", bytes: writeModel(randomModel({ arch: "roberta", seed: 16, storage: f16 })) },
    { name: "electra-int8", bytes: writeModel(randomModel({ arch: "electra", seed: 17, storage: int8, embeddingSize: 12, layers: [{ heads: [1] }, { hardK: 2 }] })) },
    {
      name: "bert-int8-pruned",
      bytes: writeModel(randomModel({
        seed: 13, numHeads: 4, storage: int8, numLabels: 3,
        layers: [{ heads: [1, 3], ffnNeurons: [0, 2, 5, 7, 9, 30] }, { hasFfn: false, hardK: 2 }, { hasAttention: false }],
      })),
    },
    {
      name: "distilbert-int8-regression",
      bytes: writeModel(randomModel({
        arch: "distilbert", seed: 14, storage: int8, problemType: "regression", hiddenAct: "gelu_tanh",
        layers: [{ hardK: 3 }, { hasAttention: false, hasFfn: false }],
      })),
    },
    {
      // Panels of 16 rows plus a remainder: H 48, FFN 40, 5 labels, f16 word embedding.
      name: "bert-mixed-h48",
      bytes: writeModel(randomModel({
        seed: 15, hiddenSize: 48, numHeads: 3, intermediateSize: 40, numLabels: 5, problemType: "multi_label_classification",
        hiddenAct: "relu", storage: (n) => (n.startsWith("embeddings.word") ? f16 : n.includes("intermediate") ? int8 : "f32"),
      })),
    },
    {
      // Sequences past one attention query block (32) and one key panel (16), hard attention with K < n.
      name: "bert-long-hardk",
      bytes: writeModel(randomModel({
        seed: 17, hiddenSize: 32, numHeads: 2, intermediateSize: 24, maxPosition: 80, storage: f16,
        layers: [{ hardK: 5 }, { heads: [1], hardK: 40 }],
      })),
    },
    {
      // Every tensor row-major (layout 0): the path of version 1 files.
      name: "bert-rows-f16",
      bytes: writeModel(randomModel({ seed: 16, storage: f16, layers: [{ heads: [0] }, {}] }), { layout: "rows" }),
    },
  ];
}

// Inputs every successfully loaded model is run on (besides random ids).
export const REFERENCE_TEXT = "this movie was great, not terrible!";
export const TEXTS: Array<string | [string, string]> = [
  REFERENCE_TEXT,
  ["it is good", "but the film was bad"],
  "the film ".repeat(60) + "ends", // past every seed's max_len: truncated
  ["", "a pair whose first side is empty"],
  "Ünïcödé ﬁlm 電影 😀 \u0000\u0007 [CLS] [SEP]x [MASK]",
];
