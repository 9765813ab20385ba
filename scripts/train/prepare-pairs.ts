// Data preparation for train_embed.py (a sentence-embedding model trained on scored sentence pairs):
// reads STS-B, builds the model's vocab from the training sentences, tokenizes every sentence on its
// own ([CLS] s [SEP], as sentence-transformers encodes each side of a pair) and writes token ids.
//
//   node --import tsx scripts/train/prepare-pairs.ts --max-len 128 --min-count 2 --out DIR
//
// DIR/vocab.txt              the model's vocab (vocab.ts: bert-base-uncased tokens the training text uses)
// DIR/{train,val,eval}.json  { a: number[][], b: number[][], scores: number[] } (scores 0..5)
// DIR/meta.json              task, split sizes, tokenization settings (for the model card)
//
// Splits (../shared/data/stsb/SOURCE.md): train = train.tsv (4,249 pairs), val = val.tsv (1,500; picks
// the epoch, the optimizer's split), eval = dev.tsv = GLUE STS-B dev (1,500, reported).

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { column, readTsv } from "./tasks.ts";
import { readBaseVocab } from "./wordpiece.ts";
import { buildSubsetTokenizer } from "./vocab.ts";

export interface ScoredPair {
  a: string;
  b: string;
  score: number; // 0..5
}

const STSB = "../shared/data/stsb";

/** One STS-B TSV: columns 7, 8, 9 are sentence1, sentence2, score. */
export function readStsb(path: string, header: boolean): ScoredPair[] {
  return readTsv(path).slice(header ? 1 : 0).map((row, i) => {
    const line = i + (header ? 2 : 1);
    const score = Number(column(path, row, 9, line));
    if (!Number.isFinite(score) || score < 0 || score > 5) throw new Error(`${path}: line ${line}: score "${row[9]}" is not a number in 0..5`);
    return { a: column(path, row, 7, line), b: column(path, row, 8, line), score };
  });
}

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      "max-len": { type: "string", default: "128" },
      "min-count": { type: "string", default: "2" },
      out: { type: "string" },
    },
  });
  if (!values.out) throw new Error("usage: prepare-pairs.ts --out DIR [--max-len 128] [--min-count 2]");
  const maxLen = Number(values["max-len"]);
  const minCount = Number(values["min-count"]);
  if (!Number.isInteger(maxLen) || maxLen < 8) throw new Error(`--max-len: expected an integer >= 8, got ${values["max-len"]}`);
  if (!Number.isInteger(minCount) || minCount < 1) throw new Error(`--min-count: expected an integer >= 1, got ${values["min-count"]}`);
  const t0 = Date.now();
  const data = {
    train: readStsb(`${STSB}/train.tsv`, false),
    val: readStsb(`${STSB}/val.tsv`, false),
    eval: readStsb(`${STSB}/dev.tsv`, true),
  };
  // the vocab comes from the training sentences only, each side on its own
  const tok = buildSubsetTokenizer(readBaseVocab(), data.train.flatMap((p) => [{ a: p.a }, { a: p.b }]), maxLen, minCount);
  mkdirSync(values.out, { recursive: true });
  writeAtomic(join(values.out, "vocab.txt"), tok.vocab.join("\n") + "\n");
  const unk = tok.vocab.indexOf("[UNK]");
  const splits: Record<string, object> = {};
  for (const split of ["train", "val", "eval"] as const) {
    const rows = data[split];
    const a = rows.map((p) => tok.encode(p.a, undefined, maxLen).input_ids);
    const b = rows.map((p) => tok.encode(p.b, undefined, maxLen).input_ids);
    writeAtomic(join(values.out, `${split}.json`), JSON.stringify({ a, b, scores: rows.map((p) => p.score) }));
    const all = [...a, ...b];
    const tokens = all.reduce((n, x) => n + x.length, 0);
    splits[split] = {
      rows: rows.length,
      mean_tokens: +(tokens / all.length).toFixed(1),
      truncated: all.filter((x) => x.length === maxLen).length,
      unk_share: +(all.flat().filter((i) => i === unk).length / tokens).toFixed(5),
    };
  }
  const meta = { task: "stsb", eval_split: "dev", metric: "spearman", max_len: maxLen, min_count: minCount, vocab_size: tok.vocab.length, splits };
  writeAtomic(join(values.out, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  console.log(`prepare stsb: vocab ${tok.vocab.length}, ${JSON.stringify(splits)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

if (process.argv[1]?.endsWith("prepare-pairs.ts")) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
