// Checkpoint tensor names -> the format's names (docs/format.md), each read as f32,
// shape-checked against config.json and checked for NaN / Inf.
//
// Checkpoint names are matched the way transformers loads them: old TF-era
// `LayerNorm.gamma` / `.beta` mean `.weight` / `.bias`, and a checkpoint saved
// from the bare encoder (no `bert.` / `distilbert.` prefix) still fits. Tensors the
// model does not use (the `position_ids` buffer, an MLM head...) are skipped unread.
import { basename } from "node:path";
import type { Storage, Tensor } from "../model/model.ts";
import { layerPrefix } from "../model/model.ts";
import { readCheckpointTensor, type Checkpoint } from "./checkpoint.ts";
import { ConvertError } from "./errors.ts";
import type { HfModelConfig } from "./hf-config.ts";

interface Wanted {
  name: string;        // format name
  hf: string;          // checkpoint name (canonical: prefixed, .weight/.bias)
  shape: number[];
  alwaysF32: boolean;  // vectors and the position / token-type tables; the rest may be f16 or int8
}

// The tensors of a dense BertForSequenceClassification / DistilBertForSequenceClassification.
export function wantedTensors(c: HfModelConfig): Wanted[] {
  const H = c.hiddenSize, I = c.intermediateSize;
  const out: Wanted[] = [];
  const add = (name: string, hf: string, shape: number[], alwaysF32 = shape.length === 1) =>
    out.push({ name, hf, shape, alwaysF32 });
  // A linear layer: weight [rows, cols] in PyTorch's [out, in] layout, bias [rows].
  const linear = (name: string, hf: string, rows: number, cols: number) => {
    add(`${name}.weight`, `${hf}.weight`, [rows, cols]);
    add(`${name}.bias`, `${hf}.bias`, [rows]);
  };
  const layerNorm = (name: string, hf: string) => {
    add(`${name}.weight`, `${hf}.weight`, [H]);
    add(`${name}.bias`, `${hf}.bias`, [H]);
  };

  if (c.arch === "bert") {
    add("embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight", [c.vocabSize, H]);
    add("embeddings.position_embeddings.weight", "bert.embeddings.position_embeddings.weight", [c.maxPosition, H], true);
    add("embeddings.token_type_embeddings.weight", "bert.embeddings.token_type_embeddings.weight", [c.typeVocabSize, H], true);
    layerNorm("embeddings.LayerNorm", "bert.embeddings.LayerNorm");
    for (let i = 0; i < c.numLayers; i++) {
      const p = layerPrefix(i), q = `bert.encoder.layer.${i}.`;
      linear(`${p}attention.self.query`, `${q}attention.self.query`, H, H);
      linear(`${p}attention.self.key`, `${q}attention.self.key`, H, H);
      linear(`${p}attention.self.value`, `${q}attention.self.value`, H, H);
      linear(`${p}attention.output.dense`, `${q}attention.output.dense`, H, H);
      layerNorm(`${p}attention.output.LayerNorm`, `${q}attention.output.LayerNorm`);
      linear(`${p}intermediate.dense`, `${q}intermediate.dense`, I, H);
      linear(`${p}output.dense`, `${q}output.dense`, H, I);
      layerNorm(`${p}output.LayerNorm`, `${q}output.LayerNorm`);
    }
    linear("pooler.dense", "bert.pooler.dense", H, H);
  } else {
    add("embeddings.word_embeddings.weight", "distilbert.embeddings.word_embeddings.weight", [c.vocabSize, H]);
    add("embeddings.position_embeddings.weight", "distilbert.embeddings.position_embeddings.weight", [c.maxPosition, H], true);
    layerNorm("embeddings.LayerNorm", "distilbert.embeddings.LayerNorm");
    for (let i = 0; i < c.numLayers; i++) {
      const p = layerPrefix(i), q = `distilbert.transformer.layer.${i}.`;
      linear(`${p}attention.self.query`, `${q}attention.q_lin`, H, H);
      linear(`${p}attention.self.key`, `${q}attention.k_lin`, H, H);
      linear(`${p}attention.self.value`, `${q}attention.v_lin`, H, H);
      linear(`${p}attention.output.dense`, `${q}attention.out_lin`, H, H);
      layerNorm(`${p}attention.output.LayerNorm`, `${q}sa_layer_norm`);
      linear(`${p}intermediate.dense`, `${q}ffn.lin1`, I, H);
      linear(`${p}output.dense`, `${q}ffn.lin2`, H, I);
      layerNorm(`${p}output.LayerNorm`, `${q}output_layer_norm`);
    }
    linear("pre_classifier", "pre_classifier", H, H);
  }
  linear("classifier", "classifier", c.numLabels, H);
  return out;
}

// Canonical checkpoint name -> the name actually stored.
function canonicalNames(ckpt: Checkpoint, basePrefix: string): Map<string, string> {
  const heads = ["classifier.", "pre_classifier."];
  const byCanonical = new Map<string, string>();
  for (const stored of ckpt.entries.keys()) {
    let name = stored.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
    if (!name.startsWith(basePrefix) && !heads.some((h) => name.startsWith(h))) name = basePrefix + name;
    const other = byCanonical.get(name);
    if (other !== undefined)
      throw new ConvertError(`checkpoint holds both ${other} and ${stored}, which load into the same parameter ${name}`);
    byCanonical.set(name, stored);
  }
  return byCanonical;
}

export interface MappedWeights {
  tensors: Map<string, Tensor>;
  ignored: string[];  // checkpoint tensors the model does not use
}

export async function mapWeights(ckpt: Checkpoint, c: HfModelConfig, storage: Storage): Promise<MappedWeights> {
  const byCanonical = canonicalNames(ckpt, c.arch === "bert" ? "bert." : "distilbert.");
  const used = new Set<string>();
  const tensors = new Map<string, Tensor>();
  for (const w of wantedTensors(c)) {
    const stored = byCanonical.get(w.hf);
    if (stored === undefined)
      throw new ConvertError(`checkpoint (${ckpt.files.join(", ")}) has no tensor ${w.hf}, needed for ${w.name}`);
    used.add(stored);
    const { file, entry } = ckpt.entries.get(stored)!;
    const where = `${basename(file.path)}: tensor ${stored}`;
    if (entry.shape.join(",") !== w.shape.join(","))
      throw new ConvertError(`${where} has shape [${entry.shape}] but config.json implies [${w.shape}]`);
    const data = await readCheckpointTensor(ckpt, stored);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new ConvertError(`${where} holds ${data[i]} at flat index ${i}; weights must be finite`);
    }
    tensors.set(w.name, { shape: w.shape, data, storage: w.alwaysF32 ? "f32" : storage });
  }
  const ignored = [...ckpt.entries.keys()].filter((n) => !used.has(n));
  return { tensors, ignored };
}
