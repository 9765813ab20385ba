// A Hugging Face model folder, as the hub ships it, -> the in-memory Model:
// config.json, model.safetensors (or shards), vocab.txt or tokenizer.json and the
// tokenizer config files. Every layer comes out dense (all heads, all neurons),
// but for the heads config.json's pruned_heads names.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Model, Storage } from "../model/model.ts";
import { denseLayers } from "../model/tensors.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { ConvertError } from "./errors.ts";
import { parseHfConfig } from "./hf-config.ts";
import { readHfTokenizer } from "./hf-tokenizer.ts";
import { mapWeights } from "./weights.ts";

export { ConvertError } from "./errors.ts";

export interface ConvertOptions {
  // How the writer stores weight matrices and the word embedding (int8: the writer
  // quantizes). Vectors and the position / token-type tables stay f32.
  storage?: Storage;
}

export async function convertHfDir(dir: string, opts: ConvertOptions = {}): Promise<Model> {
  if (!existsSync(dir)) throw new ConvertError(`${dir}: no such folder (expected a Hugging Face model folder with config.json)`);
  if (!statSync(dir).isDirectory()) throw new ConvertError(`${dir}: not a folder (give the Hugging Face model folder that holds config.json, not a file in it)`);
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) throw new ConvertError(`${dir}: no config.json`);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (e) {
    throw new ConvertError(`config.json: not valid JSON (${(e as Error).message})`);
  }
  const hf = parseHfConfig(rawConfig);
  const tok = readHfTokenizer(dir, hf.config.vocabSize, hf.config.maxPosition);
  const ckpt = await openCheckpoint(dir);
  const storage: Storage = opts.storage ?? "f32";
  const c = hf.config;
  // Every layer dense but for the heads pruned_heads removed.
  const layers = denseLayers(c).map((l, i) => ({ ...l, heads: hf.heads[i] }));
  const { tensors, ignored } = await mapWeights(ckpt, c, storage, layers, hf.positions);
  const temperature = readCalibration(dir);

  return {
    config: { ...c, ...(temperature === undefined ? {} : { temperature }), tokenizer: tok.tokenizer },
    layers,
    vocab: tok.vocab,
    labels: hf.labels,
    ...(tok.addedTokens.length ? { addedTokens: tok.addedTokens } : {}),
    ...(tok.merges ? { merges: tok.merges } : {}),
    tensors,
    meta: {
      source: {
        architecture: hf.architecture,
        model_type: hf.modelType,
        files: ["config.json", ...tok.files, ...ckpt.files, ...(temperature === undefined ? [] : [CALIBRATION])],
        ...(ignored.length > 0 ? { ignored_tensors: ignored } : {}),
      },
      converted_by: "axformer",
    },
  };
}

const CALIBRATION = "calibration.json";

// calibration.json {"temperature": T}: the temperature fitted on validation data (not a Hugging Face
// file; the project's training recipe writes it). Scores become softmax(logits / T). Absent: none.
function readCalibration(dir: string): number | undefined {
  const path = join(dir, CALIBRATION);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8").replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new ConvertError(`${CALIBRATION}: not valid JSON (${(e as Error).message})`);
  }
  const t = (raw as { temperature?: unknown } | null)?.temperature;
  if (typeof t !== "number" || !Number.isFinite(Math.fround(t)) || Math.fround(t) <= 0) {
    throw new ConvertError(`${CALIBRATION}: field temperature must be a positive finite number, got ${JSON.stringify(t)}`);
  }
  return t;
}
