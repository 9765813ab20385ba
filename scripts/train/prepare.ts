// Data preparation for train.py: reads a task, builds its vocab, tokenizes every split with Hugging
// Face's BertTokenizer (transformers.js, offline) and writes token ids as JSON.
//
//   node --import tsx scripts/train/prepare.ts --task sst2 --max-len 64 --min-count 2 --out DIR
//
// DIR/vocab.txt              the model's vocab (see vocab.ts)
// DIR/{train,val,eval}.json  { input_ids: number[][], token_type_ids: number[][], labels: number[] }
// DIR/meta.json              task, labels, split sizes, tokenization settings (for the model card)

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getTask, type Example } from "./tasks.ts";
import { readBaseVocab } from "./wordpiece.ts";
import { buildSubsetTokenizer } from "./vocab.ts";

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function majorityShare(rows: Example[], numLabels: number): number {
  const counts = new Array(numLabels).fill(0);
  for (const r of rows) counts[r.label]++;
  return Math.max(...counts) / rows.length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      task: { type: "string" },
      "max-len": { type: "string", default: "128" },
      "min-count": { type: "string", default: "1" },
      out: { type: "string" },
    },
  });
  if (!values.task || !values.out) {
    throw new Error("usage: prepare.ts --task NAME --out DIR [--max-len 128] [--min-count 1]");
  }
  const maxLen = Number(values["max-len"]);
  const minCount = Number(values["min-count"]);
  if (!Number.isInteger(maxLen) || maxLen < 8) throw new Error(`--max-len: expected an integer >= 8, got ${values["max-len"]}`);
  if (!Number.isInteger(minCount) || minCount < 1) throw new Error(`--min-count: expected an integer >= 1, got ${values["min-count"]}`);

  const task = getTask(values.task);
  const t0 = Date.now();
  const data = await task.load();
  const tok = buildSubsetTokenizer(readBaseVocab(), data.train, maxLen, minCount);
  mkdirSync(values.out, { recursive: true });
  writeAtomic(join(values.out, "vocab.txt"), tok.vocab.join("\n") + "\n");

  const unk = tok.vocab.indexOf("[UNK]");
  // token ids of some rows, and what the model card says about them
  const encode = (rows: Example[]) => {
    const enc = rows.map((r) => tok.encode(r.a, r.b, maxLen));
    const ids = enc.map((e) => e.input_ids);
    const tokens = ids.reduce((n, x) => n + x.length, 0);
    const json = { input_ids: ids, token_type_ids: enc.map((e) => e.token_type_ids), labels: rows.map((r) => r.label) };
    const stats = {
      rows: rows.length,
      mean_tokens: +(tokens / rows.length).toFixed(1),
      truncated: enc.filter((e) => e.input_ids.length === maxLen).length,
      unk_share: +(ids.flat().filter((i) => i === unk).length / tokens).toFixed(5),
      majority_share: +majorityShare(rows, task.labels.length).toFixed(4),
    };
    return { json, stats };
  };
  const splits: Record<string, object> = {};
  for (const split of ["train", "val", "eval"] as const) {
    const { json, stats } = encode(split === "train" ? data.trainViews ?? data.train : data[split]);
    writeAtomic(join(values.out, `${split}.json`), JSON.stringify(json));
    splits[split] = stats;
  }
  const slices: Record<string, Record<string, object>> = {};
  for (const split of ["val", "eval"] as const) {
    const named = split === "val" ? data.valSlices : data.evalSlices;
    if (!named) continue;
    const out: Record<string, object> = {};
    slices[split] = {};
    for (const [name, rows] of Object.entries(named)) {
      const { json, stats } = encode(rows);
      out[name] = json;
      slices[split][name] = stats;
    }
    writeAtomic(join(values.out, `${split}-slices.json`), JSON.stringify(out));
  }
  const meta = {
    task: task.name,
    labels: task.labels,
    eval_split: task.evalSplit,
    metric: task.metric,
    pair: data.train.some((r) => r.b !== undefined),
    max_len: maxLen,
    min_count: minCount,
    vocab_size: tok.vocab.length,
    splits,
    slices,
  };
  writeAtomic(join(values.out, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  console.log(`prepare ${task.name}: vocab ${tok.vocab.length}, ${JSON.stringify(splits)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
