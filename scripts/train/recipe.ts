// The training recipe: every committed model, its hyper-parameters, and the steps that make it.
//
//   node --import tsx scripts/train/recipe.ts [NAME ...]     (all models when no name is given)
//
// For each model: prepare.ts (data, vocab, token ids) -> train.py (fit, pick the epoch on val,
// report eval, save the checkpoint to models/NAME) -> card.ts (models/NAME/README.md).
// Work files go to $AXFORMER_TRAIN_TMP or /tmp/axformer-train. Run time on 2 cores: docs/training.md.

import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCard } from "./card.ts";

export interface ModelRecipe {
  task: string;
  maxLen: number; // tokenizer model_max_length = max_position_embeddings
  minCount: number; // vocab: keep training tokens used at least this often (vocab.ts)
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  epochs: number;
  lr: number;
  batch: number;
  why: string; // the model's role, for the card
}

export const MODELS: Record<string, ModelRecipe> = {
  spam: {
    task: "spam", maxLen: 128, minCount: 3, layers: 4, hidden: 128, heads: 2, intermediate: 512,
    epochs: 4, lr: 1e-3, batch: 32,
    why: "The project's embedded default model: small, sized for its data.",
  },
  sst2: {
    task: "sst2", maxLen: 128, minCount: 2, layers: 4, hidden: 128, heads: 2, intermediate: 512,
    epochs: 3, lr: 1e-3, batch: 64,
    why: "Sized for its data (the full SST-2 training set).",
  },
  "sst2-2k": {
    task: "sst2-2k", maxLen: 128, minCount: 2, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 15, lr: 1e-3, batch: 32,
    why: "Deliberately over-sized (8 layers for 2,000 training rows): the situation AxFormer targets.",
  },
  rte: {
    task: "rte", maxLen: 128, minCount: 3, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 10, lr: 5e-4, batch: 32,
    why: "Deliberately over-sized (8 layers for 2,127 training pairs): the situation AxFormer targets.",
  },
  mrpc: {
    task: "mrpc", maxLen: 128, minCount: 3, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 10, lr: 5e-4, batch: 32,
    why: "Deliberately over-sized (8 layers for 3,297 training pairs): the situation AxFormer targets.",
  },
  cola: {
    task: "cola", maxLen: 64, minCount: 2, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 10, lr: 5e-4, batch: 32,
    why: "Deliberately over-sized (8 layers for 7,250 short training sentences): the situation AxFormer targets.",
  },
};

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit status ${r.status ?? r.signal}`);
}

export function trainArgs(name: string, r: ModelRecipe, dataDir: string): string[] {
  return [
    "scripts/train/train.py", "--data", dataDir, "--out", join("models", name),
    "--layers", String(r.layers), "--hidden", String(r.hidden), "--heads", String(r.heads),
    "--intermediate", String(r.intermediate), "--epochs", String(r.epochs), "--lr", String(r.lr),
    "--batch", String(r.batch), "--seed", "0",
    "--command", `node --import tsx scripts/train/recipe.ts ${name}`,
  ];
}

function main(names: string[]): void {
  const unknown = names.filter((n) => !MODELS[n]);
  if (unknown.length) throw new Error(`unknown model ${unknown.join(", ")} (known: ${Object.keys(MODELS).join(", ")})`);
  const work = process.env.AXFORMER_TRAIN_TMP ?? join(tmpdir(), "axformer-train");
  const times: string[] = [];
  const t0 = Date.now();
  for (const name of names.length ? names : Object.keys(MODELS)) {
    const r = MODELS[name];
    const dataDir = join(work, name);
    const t = Date.now();
    run(process.execPath, ["--import", "tsx", "scripts/train/prepare.ts", "--task", r.task, "--max-len", String(r.maxLen),
      "--min-count", String(r.minCount), "--out", dataDir]);
    run("/usr/bin/python3", trainArgs(name, r, dataDir));
    writeCard(name, r, dataDir);
    times.push(`${name}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  console.log(`recipe done in ${((Date.now() - t0) / 1000).toFixed(0)} s (${times.join(", ")})`);
}

if (process.argv[1]?.endsWith("recipe.ts")) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
