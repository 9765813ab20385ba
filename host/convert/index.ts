// A Hugging Face model folder, as the hub ships it, -> the in-memory Model:
// config.json, model.safetensors (or shards), vocab.txt or tokenizer.json and the
// tokenizer config files. Every layer comes out dense (all heads, all neurons),
// but for the heads config.json's pruned_heads names.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { Model, PoolingMode, Storage, TokenizerConfig } from "../model/model.ts";
import { denseLayers } from "../model/tensors.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { ConvertError } from "./errors.ts";
import { parseHfConfig, type HfModelConfig } from "./hf-config.ts";
import { readHfTokenizer } from "./hf-tokenizer.ts";
import { mapWeights } from "./weights.ts";
import { readSentenceTransformer, type SentenceTransformer } from "./sentence-transformers.ts";

export { ConvertError } from "./errors.ts";

export interface ConvertOptions {
  // How the writer stores weight matrices and the word embedding (int8: the writer
  // quantizes). Vectors and the position / token-type tables stay f32.
  storage?: Storage;
}

export async function convertHfDir(dir: string, opts: ConvertOptions = {}): Promise<Model> {
  if (!existsSync(dir)) throw new ConvertError(`${dir}: no such folder (expected a Hugging Face model folder with config.json)`);
  if (!statSync(dir).isDirectory()) throw new ConvertError(`${dir}: not a folder (give the Hugging Face model folder that holds config.json, not a file in it)`);
  // A sentence-transformers folder: the encoder may sit in a subfolder (modules.json).
  const st = readSentenceTransformer(dir);
  const encoderDir = st ? st.transformerDir : dir;
  const at = st && encoderDir !== dir ? `${relative(dir, encoderDir)}/` : "";
  const configPath = join(encoderDir, "config.json");
  if (!existsSync(configPath)) throw new ConvertError(`${encoderDir}: no config.json`);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (e) {
    throw new ConvertError(`${at}config.json: not valid JSON (${(e as Error).message})`);
  }
  const hf = parseHfConfig(rawConfig, `${at}config.json`, { embedding: st !== null });
  // RoBERTa's positions start at positionOffset: maxLen tokens need positions up to offset - 1 + maxLen.
  const tok = readHfTokenizer(encoderDir, hf.config.vocabSize, hf.config.maxPosition - (hf.config.positionOffset ?? 0));
  const ckpt = await openCheckpoint(encoderDir);
  const storage: Storage = opts.storage ?? "f32";
  const warnings: string[] = [];
  const c = hf.config;
  if (c.task === "embedding") Object.assign(c, embeddingHead(st, c, hf.architecture, tok.tokenizer, warnings));
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
        files: [...(st?.files ?? []), ...["config.json", ...tok.files].map((f) => at + f), ...ckpt.files,
          ...(temperature === undefined ? [] : [CALIBRATION])],
        ...(ignored.length > 0 ? { ignored_tensors: ignored } : {}),
        ...(st?.similarity ? { similarity_fn_name: st.similarity } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      },
      converted_by: "axformer",
    },
  };
}

// The pooling and normalisation of an embedding model, and what the
// sentence-transformers folder says of the tokenizer (max_seq_length, do_lower_case).
// A bare encoder folder (BertModel, RobertaModel, ElectraModel...) gets mean pooling, said in a warning.
function embeddingHead(st: SentenceTransformer | null, c: HfModelConfig, architecture: string, tok: TokenizerConfig, warnings: string[]) {
  if (!st) {
    warnings.push(`${architecture} folder without sentence-transformers files (modules.json, 1_Pooling/config.json): ` +
      "converted as an embedding model with mean pooling over the tokens and no normalisation");
    return { pooling: ["mean"] as PoolingMode[], normalize: false };
  }
  warnings.push(...st.warnings);
  if (st.poolingDimension !== null && st.poolingDimension !== c.hiddenSize)
    throw new ConvertError(`${st.poolingFile}: field embedding_dimension is ${st.poolingDimension} but the encoder's hidden size is ${c.hiddenSize}`);
  // max_seq_length replaces the tokenizer's model_max_length; the position table bounds it.
  if (st.maxSeqLength !== null) tok.maxLen = Math.min(st.maxSeqLength, c.maxPosition - (c.positionOffset ?? 0));
  if (st.doLowerCase && !tok.doLowerCase) {
    // sentence-transformers puts a Lowercase in front of the tokenizer's normalizer,
    // which keeps its accent setting: stripped only if it stripped them before.
    tok.stripAccents = tok.stripAccents ?? false;
    tok.doLowerCase = true;
  }
  return { pooling: st.pooling, normalize: st.normalize };
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
