// The tensors of a model, from the one tensor table (assembly/model/tensors.ts):
// the writer checks a model against expectedTensors, the converter reads the
// checkpoint names of the same rows. Nothing else on the host lists tensor names.

import * as T from "../../assembly/model/tensors.ts";
import * as N from "../../assembly/model/checkpoint-names.ts";
import type { Arch, LayerState, ModelConfig } from "./model.ts";

// One tensor a model calls for. `quantizable`: it may be stored f16 or int8, else
// always f32. `linear`: a linear layer's weight [out, in], stored in panels.
export interface TensorSpec {
  row: number;       // its row of the table (a W_* index)
  layer: number;     // its layer, -1 for a tensor outside the layers
  name: string;      // its name in the file
  shape: number[];
  quantizable: boolean;
  linear: boolean;
}

// What a family's checkpoint calls each row ("" when the family has no such tensor).
export const CHECKPOINT_NAMES: Record<Arch, string[]> = {
  bert: N.BERT_CHECKPOINT_NAMES,
  distilbert: N.DISTILBERT_CHECKPOINT_NAMES,
  roberta: N.ROBERTA_CHECKPOINT_NAMES,   // XLM-RoBERTa and CamemBERT too: the same modules and names
  electra: N.ELECTRA_CHECKPOINT_NAMES,
};

// What a family's checkpoint calls each row for a task: the sequence heads' names,
// but for token classification, whose classifier is one Linear in every family.
export function checkpointNames(arch: Arch, task: ModelConfig["task"]): string[] {
  const names = CHECKPOINT_NAMES[arch];
  if (task !== "token-classification") return names;
  const out = names.slice();
  [out[T.W_CLASSIFIER_WEIGHT], out[T.W_CLASSIFIER_BIAS]] = N.TOKEN_CLASSIFIER_CHECKPOINT_NAMES;
  return out;
}

// The config fields the table's shapes and presence depend on.
export type TableConfig = Pick<ModelConfig,
  "vocabSize" | "hiddenSize" | "headDim" | "maxPosition" | "typeVocabSize" | "numLabels" | "hasPooler" | "hasPreClassifier" | "task" | "embeddingSize">;

export const layerName = (name: string, layer: number) => name.replace(T.LAYER_INDEX, String(layer));

// Every layer dense: all heads, all FFN neurons, dense softmax attention.
export function denseLayers(c: Pick<ModelConfig, "numLayers" | "numHeads" | "intermediateSize">): LayerState[] {
  return Array.from({ length: c.numLayers }, () => ({
    hasAttention: true,
    hasFfn: true,
    heads: Array.from({ length: c.numHeads }, (_, h) => h),
    ffnNeurons: Array.from({ length: c.intermediateSize }, (_, n) => n),
    hardK: 0,
  }));
}

// Every tensor of a model with this config and these layer states, in file
// order: the rows before the per-layer rows, the per-layer rows for layer 0, 1...,
// then the rest. Tensors of removed blocks are absent.
export function expectedTensors(c: TableConfig, layers: LayerState[]): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const rows = T.TENSOR_NAMES.length;
  for (let row = 0; row < rows;) {
    if (!(T.TENSOR_FLAGS[row] & T.T_PER_LAYER)) {
      addSpec(specs, c, row, -1, null);
      row++;
      continue;
    }
    let end = row;
    while (end < rows && T.TENSOR_FLAGS[end] & T.T_PER_LAYER) end++;
    layers.forEach((l, i) => { for (let r = row; r < end; r++) addSpec(specs, c, r, i, l); });
    row = end;
  }
  return specs;
}

function addSpec(specs: TensorSpec[], c: TableConfig, row: number, layer: number, l: LayerState | null) {
  const flags = T.TENSOR_FLAGS[row];
  const present =
    (!(flags & T.T_NEEDS_ATTENTION) || l!.hasAttention) &&
    (!(flags & T.T_NEEDS_FFN) || l!.hasFfn) &&
    (!(flags & T.T_NEEDS_TOKEN_TYPES) || c.typeVocabSize > 0) &&
    (!(flags & T.T_NEEDS_POOLER) || c.hasPooler) &&
    (!(flags & T.T_NEEDS_PRE_CLASSIFIER) || c.hasPreClassifier) &&
    (!(flags & T.T_NEEDS_CLASSIFIER) || (c.task ?? "sequence-classification") === "sequence-classification" || c.task === "token-classification") &&
    (!(flags & T.T_NEEDS_QA) || c.task === "question-answering") &&
    (!(flags & T.T_NEEDS_EMBEDDINGS_PROJECT) || (c.embeddingSize ?? 0) > 0);
  if (!present) return;
  const dim = (code: number): number => {
    switch (code) {
      case T.DIM_VOCAB: return c.vocabSize;
      case T.DIM_HIDDEN: return c.hiddenSize;
      case T.DIM_MAX_POSITION: return c.maxPosition;
      case T.DIM_TYPE_VOCAB: return c.typeVocabSize;
      case T.DIM_LAYER_HEADS: return l!.heads.length * c.headDim;
      case T.DIM_LAYER_FFN: return l!.ffnNeurons.length;
      case T.DIM_LABELS: return c.numLabels;
      case T.DIM_EMBEDDING: return c.embeddingSize || c.hiddenSize;
    }
    throw new Error(`tensor table: unknown dimension code ${code} in row ${row}`);
  };
  const cols = T.TENSOR_COLS[row];
  specs.push({
    row,
    layer,
    name: layerName(T.TENSOR_NAMES[row], layer),
    shape: cols === T.DIM_NONE ? [dim(T.TENSOR_ROWS[row])] : [dim(T.TENSOR_ROWS[row]), dim(cols)],
    quantizable: (flags & T.T_QUANTIZABLE) !== 0,
    linear: (flags & T.T_LINEAR) !== 0,
  });
}
