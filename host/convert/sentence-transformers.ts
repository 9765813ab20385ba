// A sentence-transformers folder, as the hub ships it: modules.json lists the
// modules run one after the other, and this converter takes the ones the runtime
// computes: a Transformer (the encoder, in the folder's root or a subfolder, with
// sentence_bert_config.json), then a Pooling (its config.json), then optionally a
// Normalize. config_sentence_transformers.json is read for what changes the output.
//
// Both generations of the files are read: sentence-transformers 2.x/3.x
// (`pooling_mode_mean_tokens: true`..., `max_seq_length` in sentence_bert_config.json)
// and 5.x/6.x (`pooling_mode: "mean"` or a list; the length in tokenizer_config.json).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, isAbsolute } from "node:path";
import { POOLING_MODES, type PoolingMode } from "../model/model.ts";
import { ConvertError } from "./errors.ts";

export interface SentenceTransformer {
  transformerDir: string;    // the folder holding the encoder's config.json, weights and tokenizer
  pooling: PoolingMode[];    // in POOLING_MODES order
  poolingDimension: number | null; // the Pooling's embedding_dimension, checked against hidden_size
  poolingFile: string;       // the Pooling's config.json, relative to the folder
  normalize: boolean;
  maxSeqLength: number | null; // sentence_bert_config.json max_seq_length
  doLowerCase: boolean;      // sentence_bert_config.json do_lower_case: lowercase before the tokenizer
  files: string[];           // the files read, relative to the folder
  warnings: string[];
  similarity: string | null; // config_sentence_transformers.json similarity_fn_name
}

const MODULES = "modules.json";

// The legacy Pooling keys, in the order sentence-transformers concatenates them.
const LEGACY_POOLING_KEYS: Record<string, PoolingMode> = {
  pooling_mode_cls_token: "cls",
  pooling_mode_max_tokens: "max",
  pooling_mode_mean_tokens: "mean",
  pooling_mode_mean_sqrt_len_tokens: "mean_sqrt_len_tokens",
  pooling_mode_weightedmean_tokens: "weightedmean",
  pooling_mode_lasttoken: "lasttoken",
};

type Json = Record<string, unknown>;

function readJson(dir: string, file: string, files: string[]): unknown {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, file), "utf8").replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new ConvertError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  files.push(file);
  return raw;
}

function object(raw: unknown, file: string): Json {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConvertError(`${file}: not a JSON object`);
  return raw as Json;
}

// The module's class name: the last part of its dotted type
// ("sentence_transformers.models.Pooling", "sentence_transformers.base.modules.transformer.Transformer").
const className = (type: string) => type.slice(type.lastIndexOf(".") + 1);

// null when the folder has no modules.json (not a sentence-transformers folder).
export function readSentenceTransformer(dir: string): SentenceTransformer | null {
  if (!existsSync(join(dir, MODULES))) return null;
  const files: string[] = [];
  const warnings: string[] = [];
  const modules = readJson(dir, MODULES, files);
  if (!Array.isArray(modules)) throw new ConvertError(`${MODULES}: must be a list of modules, got ${JSON.stringify(modules)?.slice(0, 80)}`);
  const expected = ["Transformer", "Pooling", "Normalize"];
  const paths: string[] = [];
  modules.forEach((m, i) => {
    const at = `${MODULES}: module ${i}`;
    if (m === null || typeof m !== "object" || typeof (m as Json).type !== "string")
      throw new ConvertError(`${at}: field type must be a string (the module's class)`);
    const type = (m as Json).type as string;
    if (className(type) !== expected[i] || i >= expected.length)
      throw new ConvertError(`${at}: field type is ${JSON.stringify(type)}; supported: a Transformer, then a Pooling, then optionally a Normalize` +
        ` (sentence-transformers' ${expected.slice(i, i + 1).join("") || "end of the list"} expected here)`);
    const path = (m as Json).path ?? "";
    if (typeof path !== "string") throw new ConvertError(`${at}: field path must be a string`);
    paths.push(insideFolder(dir, path, `${at}: field path`, expected[i] !== "Normalize")); // Normalize has no files
  });
  if (modules.length < 2) throw new ConvertError(`${MODULES}: lists ${modules.length} module(s); a sentence embedding model needs a Transformer and a Pooling`);

  const transformerDir = join(dir, paths[0]);
  const rel = (f: string) => (paths[0] === "" ? f : `${paths[0]}/${f}`);
  let maxSeqLength: number | null = null;
  let doLowerCase = false;
  const sbert = rel("sentence_bert_config.json");
  if (existsSync(join(dir, sbert))) {
    const c = object(readJson(dir, sbert, files), sbert);
    const len = c.max_seq_length ?? null;
    if (len !== null && !(Number.isSafeInteger(len) && (len as number) >= 2))
      throw new ConvertError(`${sbert}: field max_seq_length must be an integer >= 2 or null, got ${JSON.stringify(len)}`);
    maxSeqLength = len as number | null;
    const lower = c.do_lower_case ?? false;
    if (typeof lower !== "boolean") throw new ConvertError(`${sbert}: field do_lower_case must be true or false, got ${JSON.stringify(lower)}`);
    doLowerCase = lower;
    const task = c.transformer_task ?? "feature-extraction";
    if (task !== "feature-extraction")
      throw new ConvertError(`${sbert}: field transformer_task is ${JSON.stringify(task)}; only "feature-extraction" (token embeddings) is supported`);
  }

  const poolingFile = `${paths[1] === "" ? "" : `${paths[1]}/`}config.json`;
  if (!existsSync(join(dir, poolingFile))) throw new ConvertError(`${poolingFile}: missing (the Pooling module's configuration)`);
  const pc = object(readJson(dir, poolingFile, files), poolingFile);
  const pooling = poolingModes(pc, poolingFile);
  const dim = pc.embedding_dimension ?? pc.word_embedding_dimension ?? null;
  if (dim !== null && !(Number.isSafeInteger(dim) && (dim as number) > 0))
    throw new ConvertError(`${poolingFile}: field ${"embedding_dimension" in pc ? "embedding_dimension" : "word_embedding_dimension"} must be a positive integer, got ${JSON.stringify(dim)}`);
  if (pc.include_prompt === false)
    warnings.push(`${poolingFile}: include_prompt is false; the runtime adds no prompt, so every token is pooled (as sentence-transformers does without a prompt)`);

  let similarity: string | null = null;
  const stFile = "config_sentence_transformers.json";
  if (existsSync(join(dir, stFile))) {
    const c = object(readJson(dir, stFile, files), stFile);
    if (typeof c.similarity_fn_name === "string") similarity = c.similarity_fn_name;
    const name = c.default_prompt_name;
    const prompts = (c.prompts ?? {}) as Json;
    if (typeof name === "string" && typeof prompts[name] === "string" && prompts[name] !== "")
      warnings.push(`${stFile}: default_prompt_name ${JSON.stringify(name)} makes sentence-transformers prepend ${JSON.stringify(prompts[name])} to every text; ` +
        "the converted model does not: prepend it to your texts yourself");
  }
  return {
    transformerDir, pooling, poolingDimension: dim as number | null, poolingFile, normalize: modules.length === 3,
    maxSeqLength, doLowerCase, files, warnings, similarity,
  };
}

// A module's path must name the folder itself or a folder inside it.
function insideFolder(dir: string, path: string, what: string, mustExist: boolean): string {
  const rel = relative(dir, join(dir, path));
  if (isAbsolute(path) || rel.startsWith("..") || isAbsolute(rel))
    throw new ConvertError(`${what} is ${JSON.stringify(path)}; it must be a folder inside the model folder`);
  if (mustExist && rel !== "" && !(existsSync(join(dir, rel)) && statSync(join(dir, rel)).isDirectory()))
    throw new ConvertError(`${what} is ${JSON.stringify(path)}, which is not a folder of the model folder`);
  return rel;
}

// The modes of a Pooling config, as sentence-transformers reads them: `pooling_mode`
// (a name or a list) wins; else the legacy booleans, none set meaning mean.
function poolingModes(c: Json, file: string): PoolingMode[] {
  let modes: unknown[];
  let field = "pooling_mode";
  if ("pooling_mode" in c) {
    modes = Array.isArray(c.pooling_mode) ? c.pooling_mode : [c.pooling_mode];
  } else {
    for (const key of Object.keys(LEGACY_POOLING_KEYS)) {
      if (key in c && typeof c[key] !== "boolean") throw new ConvertError(`${file}: field ${key} must be true or false, got ${JSON.stringify(c[key])}`);
    }
    modes = Object.keys(LEGACY_POOLING_KEYS).filter((k) => c[k] === true).map((k) => LEGACY_POOLING_KEYS[k]);
    if (modes.length === 0) modes = ["mean"];
    field = "pooling_mode_*";
  }
  if (modes.length === 0) throw new ConvertError(`${file}: field ${field} lists no mode`);
  for (const m of modes) {
    if (!POOLING_MODES.includes(m as PoolingMode))
      throw new ConvertError(`${file}: field ${field} has mode ${JSON.stringify(m)}; supported: ${POOLING_MODES.join(", ")}`);
  }
  // The file stores the modes as bits, concatenated in sentence-transformers' legacy order.
  const sorted = [...new Set(modes as PoolingMode[])].sort((a, b) => POOLING_MODES.indexOf(a) - POOLING_MODES.indexOf(b));
  if (sorted.length !== modes.length || sorted.some((m, i) => m !== modes[i]))
    throw new ConvertError(`${file}: field ${field} is ${JSON.stringify(c.pooling_mode)}; several modes must be distinct and in the order ${POOLING_MODES.join(", ")} ` +
      "(the order their vectors are concatenated in)");
  return sorted;
}
