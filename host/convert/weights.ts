// Checkpoint tensor names -> the format's names (docs/format.md), each read as f32,
// shape-checked against config.json and checked for NaN / Inf.
//
// Checkpoint names are matched the way transformers loads them: old TF-era
// `LayerNorm.gamma` / `.beta` mean `.weight` / `.bias`, and a checkpoint saved
// from the bare encoder (no `bert.` / `distilbert.` prefix) still fits. Tensors the
// model does not use (the `position_ids` buffer, an MLM head...) are skipped unread.
import { basename } from "node:path";
import { W_POSITION_EMBEDDINGS } from "../../assembly/model/tensors.ts";
import type { LayerState, Storage, Tensor } from "../model/model.ts";
import { checkpointNames, expectedTensors, layerName } from "../model/tensors.ts";
import { readCheckpointTensor, type Checkpoint } from "./checkpoint.ts";
import { ConvertError } from "./errors.ts";
import type { HfModelConfig, PositionSource } from "./hf-config.ts";

interface Wanted {
  row: number;         // its row of the tensor table
  name: string;        // format name
  hf: string;          // checkpoint name (canonical: prefixed, .weight/.bias)
  shape: number[];
  quantizable: boolean; // may be stored f16 or int8; otherwise always f32
}

// The tensors of a model of this family with these layer states (dense, or with
// the heads pruned_heads leaves): the table's rows with the family's checkpoint
// names (assembly/model/tensors.ts).
export function wantedTensors(c: HfModelConfig, layers: LayerState[]): Wanted[] {
  const names = checkpointNames(c.arch, c.task);
  return expectedTensors(c, layers).map((s) => {
    if (names[s.row] === "") throw new ConvertError(`${c.arch} checkpoints have no tensor for ${s.name}`);
    return { row: s.row, name: s.name, hf: layerName(names[s.row], s.layer), shape: s.shape, quantizable: s.quantizable };
  });
}

// DistilBERT's create_sinusoidal_embeddings: position_enc[pos][j] =
// pos / 10000^(2 * (j // 2) / dim) in float64 (numpy), sin on even j, cos on odd
// j, then torch.FloatTensor rounds to float32.
export function sinusoidalPositions(nPos: number, dim: number): Float32Array {
  const out = new Float32Array(nPos * dim);
  for (let pos = 0; pos < nPos; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

// Canonical checkpoint name -> the name actually stored.
// The encoder's prefix (`bert.`) is the first word of the family's first name; the
// names without it are the heads' (`classifier.`...).
function canonicalNames(ckpt: Checkpoint, c: HfModelConfig): Map<string, string> {
  const names = checkpointNames(c.arch, c.task).filter((n) => n !== "");
  const basePrefix = names[0].slice(0, names[0].indexOf(".") + 1);
  const heads = [...new Set(names.filter((n) => !n.startsWith(basePrefix)).map((n) => n.slice(0, n.indexOf(".") + 1)))];
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

// positions: see PositionSource. "none" keeps the table's place in the format (the
// runtime always adds it) but all zeros, so adding it changes nothing, exactly.
export async function mapWeights(
  ckpt: Checkpoint, c: HfModelConfig, storage: Storage, layers: LayerState[], positions: PositionSource = "stored",
): Promise<MappedWeights> {
  const byCanonical = canonicalNames(ckpt, c);
  const used = new Set<string>();
  const tensors = new Map<string, Tensor>();
  for (const w of wantedTensors(c, layers)) {
    const stored = byCanonical.get(w.hf);
    const isPositions = w.row === W_POSITION_EMBEDDINGS;
    if (isPositions && positions === "none") {
      if (stored !== undefined) used.add(stored); // read by no forward pass
      tensors.set(w.name, { shape: w.shape, data: new Float32Array(w.shape[0] * w.shape[1]), storage: "f32" });
      continue;
    }
    if (stored === undefined && isPositions && positions === "sinusoidal") {
      tensors.set(w.name, { shape: w.shape, data: sinusoidalPositions(w.shape[0], w.shape[1]), storage: w.quantizable ? storage : "f32" });
      continue;
    }
    if (stored === undefined)
      throw new ConvertError(`checkpoint (${ckpt.files.join(", ")}) has no tensor ${w.hf}, needed for ${w.name}`);
    used.add(stored);
    const { file, entry } = ckpt.entries.get(stored)!;
    const where = `${basename(file.path)}: tensor ${stored}`;
    if (entry.shape.join(",") !== w.shape.join(","))
      throw new ConvertError(`${where} has shape [${entry.shape}] but config.json implies [${w.shape}]` +
        (w.shape.length === 2 && w.shape.includes(c.hiddenSize) && layers.some((l) => l.heads.length < c.numHeads)
          ? " (with the heads config.json pruned_heads removes)" : ""));
    const data = await readCheckpointTensor(ckpt, stored);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new ConvertError(`${where} holds ${data[i]} at flat index ${i}; weights must be finite`);
    }
    tensors.set(w.name, { shape: w.shape, data, storage: w.quantizable ? storage : "f32" });
  }
  const ignored = [...ckpt.entries.keys()].filter((n) => !used.has(n));
  return { tensors, ignored };
}
