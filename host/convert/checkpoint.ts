// Finds the weights of a Hugging Face folder: model.safetensors, or the shards
// listed by model.safetensors.index.json. Like transformers, a single
// model.safetensors wins over an index when both are present.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { ConvertError } from "./errors.ts";
import { readSafetensorsHeader, readTensorF32, type SafetensorsFile, type TensorEntry } from "./safetensors.ts";

export interface Checkpoint {
  files: string[];                                  // file names read, relative to the folder
  entries: Map<string, { file: SafetensorsFile; entry: TensorEntry }>;
}

const SINGLE = "model.safetensors";
const INDEX = "model.safetensors.index.json";
const OTHER_FORMATS = [
  "pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "tf_model.h5.index.json", "flax_model.msgpack",
];

export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  if (existsSync(join(dir, SINGLE))) {
    const file = await readSafetensorsHeader(join(dir, SINGLE));
    const entries = new Map([...file.tensors].map(([name, entry]) => [name, { file, entry }]));
    return { files: [SINGLE], entries };
  }
  if (existsSync(join(dir, INDEX))) return openSharded(dir);
  const others = OTHER_FORMATS.filter((f) => existsSync(join(dir, f)));
  if (others.length > 0)
    throw new ConvertError(
      `${dir}: found ${others.join(", ")} but no ${SINGLE}; axformer reads safetensors only (pickle files can run code). ` +
        `Convert with Python: from transformers import AutoModelForSequenceClassification as M; ` +
        `M.from_pretrained("${dir}").save_pretrained("${dir}", safe_serialization=True)`,
    );
  throw new ConvertError(`${dir}: no ${SINGLE} or ${INDEX} found`);
}

async function openSharded(dir: string): Promise<Checkpoint> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(join(dir, INDEX), "utf8"));
  } catch (e) {
    throw new ConvertError(`${INDEX}: not valid JSON (${(e as Error).message})`);
  }
  const weightMap = (index as { weight_map?: unknown })?.weight_map;
  if (weightMap === null || typeof weightMap !== "object" || Array.isArray(weightMap))
    throw new ConvertError(`${INDEX}: field weight_map is missing or not an object`);
  const map = Object.entries(weightMap as Record<string, unknown>);
  for (const [name, shard] of map) {
    // Shard names are plain file names; anything with a path in it would read outside the folder.
    if (typeof shard !== "string" || shard !== basename(shard) || shard === "." || shard === "..")
      throw new ConvertError(`${INDEX}: weight_map entry for ${name} is not a file name in the folder: ${JSON.stringify(shard)}`);
  }
  const shards = new Map<string, SafetensorsFile>();
  const entries: Checkpoint["entries"] = new Map();
  for (const [name, shard] of map as [string, string][]) {
    let file = shards.get(shard);
    if (!file) {
      if (!existsSync(join(dir, shard))) throw new ConvertError(`${INDEX}: shard ${shard} (holding ${name}) does not exist`);
      file = await readSafetensorsHeader(join(dir, shard));
      shards.set(shard, file);
    }
    const entry = file.tensors.get(name);
    if (!entry) throw new ConvertError(`${INDEX}: weight_map puts ${name} in ${shard}, which has no such tensor`);
    entries.set(name, { file, entry });
  }
  return { files: [INDEX, ...shards.keys()], entries };
}

export function readCheckpointTensor(ckpt: Checkpoint, name: string): Promise<Float32Array> {
  const hit = ckpt.entries.get(name);
  if (!hit) throw new ConvertError(`checkpoint has no tensor ${name}`);
  return readTensorF32(hit.file, name);
}
