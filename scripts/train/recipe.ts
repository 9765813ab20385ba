// The training recipe: every committed model, its hyper-parameters, and the steps that make it.
//
//   node --import tsx scripts/train/recipe.ts [NAME ...]     (the committed models when no name is given)
//
// For each model: prepare.ts (data, vocab, token ids) -> train.py (fit, pick the epoch on val,
// report eval, save the checkpoint to models/NAME) -> card.ts (models/NAME/README.md).
// Work files go to $AXFORMER_TRAIN_TMP or /tmp/axformer-train. Run time on 2 cores: docs/training.md.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCard } from "./card.ts";
import { writeEmbeddingCard } from "./card-embed.ts";

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
  valRows?: number; // val rows scored per epoch to pick it (train.py --val-rows; default 2000, 0 = all)
  init?: string; // a second stage: start from this recipe's trained weights (made first if missing), not random ones
  calibrate?: boolean; // fit a temperature on val and report the task's slices (train.py --calibrate)
  commit: boolean; // written to models/NAME (committed) or only to the work folder
  embedding?: boolean; // a sentence-embedding model trained on scored pairs (prepare-pairs.ts, train_embed.py)
  why: string; // the model's role, for the card
}

export const MODELS: Record<string, ModelRecipe> = {
  spam: {
    task: "spam", maxLen: 128, minCount: 3, layers: 4, hidden: 128, heads: 2, intermediate: 512,
    epochs: 3, lr: 1e-3, batch: 32, valRows: 0, calibrate: true, commit: true,
    why: "The project's embedded default model: small, sized for its data.",
  },
  // Issue 12's experiment, not committed (docs/training.md): one more epoch from models/spam with real short
  // everyday ham added (all of it, or a third). Same vocab: the same whole messages make it.
  "spam-everyday": {
    task: "spam-everyday", maxLen: 128, minCount: 3, layers: 4, hidden: 128, heads: 2, intermediate: 512,
    epochs: 1, lr: 2e-4, batch: 32, valRows: 0, init: "spam", calibrate: true, commit: false,
    why: "Issue 12's experiment: the default model continued with everyday ham.",
  },
  "spam-everyday-third": {
    task: "spam-everyday-third", maxLen: 128, minCount: 3, layers: 4, hidden: 128, heads: 2, intermediate: 512,
    epochs: 1, lr: 2e-4, batch: 32, valRows: 0, init: "spam", calibrate: true, commit: false,
    why: "Issue 12's experiment: the default model continued with a third of the everyday ham.",
  },
  sst2: {
    task: "sst2", maxLen: 128, minCount: 2, layers: 4, hidden: 128, heads: 2, intermediate: 512,
    epochs: 3, lr: 1e-3, batch: 64, commit: true,
    why: "Sized for its data (the full SST-2 training set).",
  },
  "sst2-2k": {
    task: "sst2-2k", maxLen: 128, minCount: 2, layers: 12, hidden: 128, heads: 2, intermediate: 512,
    epochs: 12, lr: 5e-4, batch: 32, commit: true,
    why: "Deliberately over-sized (12 layers, 3 million parameters for 2,000 training rows): the situation AxFormer targets.",
  },
  // Issue 15: a sentence-transformers embedding model (BertModel + mean pooling + normalisation),
  // trained on STS-B train pairs with CosineSimilarityLoss (docs/training.md).
  "stsb-embed": {
    task: "stsb", maxLen: 128, minCount: 2, layers: 4, hidden: 128, heads: 4, intermediate: 512,
    epochs: 12, lr: 5e-4, batch: 32, commit: true, embedding: true,
    why: "A small demonstration of sentence embeddings for semantic search, and of the optimizer on an embedding model.",
  },
  // Trained and measured (docs/training.md) but not committed: from random weights they do not beat
  // the majority class on dev. `recipe.ts rte` still makes them, into the work folder.
  rte: {
    task: "rte", maxLen: 128, minCount: 3, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 15, lr: 5e-4, batch: 32, commit: false,
    why: "Deliberately over-sized (8 layers for 2,127 training pairs).",
  },
  mrpc: {
    task: "mrpc", maxLen: 128, minCount: 3, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 15, lr: 5e-4, batch: 32, commit: false,
    why: "Deliberately over-sized (8 layers for 3,297 training pairs).",
  },
  cola: {
    task: "cola", maxLen: 64, minCount: 2, layers: 8, hidden: 96, heads: 3, intermediate: 384,
    epochs: 15, lr: 5e-4, batch: 32, commit: false,
    why: "Deliberately over-sized (8 layers for 7,250 short training sentences).",
  },
};

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit status ${r.status ?? r.signal}`);
}

/** Where a recipe's checkpoint goes: models/NAME when committed, else the work folder. */
function outDirOf(name: string, work: string): string {
  return MODELS[name].commit ? join("models", name) : join(work, "models", name);
}

export function trainArgs(name: string, r: ModelRecipe, dataDir: string, outDir: string, work: string): string[] {
  return [
    "scripts/train/train.py", "--data", dataDir, "--out", outDir,
    "--layers", String(r.layers), "--hidden", String(r.hidden), "--heads", String(r.heads),
    "--intermediate", String(r.intermediate), "--epochs", String(r.epochs), "--lr", String(r.lr),
    "--batch", String(r.batch), "--seed", "0",
    ...(r.init ? ["--init", outDirOf(r.init, work)] : []),
    ...(r.valRows !== undefined ? ["--val-rows", String(r.valRows)] : []), ...(r.calibrate ? ["--calibrate"] : []),
    "--command", `node --import tsx scripts/train/recipe.ts ${name}`,
  ];
}

export function embedTrainArgs(name: string, r: ModelRecipe, dataDir: string, outDir: string): string[] {
  return [
    "scripts/train/train_embed.py", "--data", dataDir, "--out", outDir,
    "--layers", String(r.layers), "--hidden", String(r.hidden), "--heads", String(r.heads),
    "--intermediate", String(r.intermediate), "--epochs", String(r.epochs), "--lr", String(r.lr),
    "--batch", String(r.batch), "--seed", "0", "--command", `node --import tsx scripts/train/recipe.ts ${name}`,
  ];
}

function main(names: string[]): void {
  const unknown = names.filter((n) => !MODELS[n]);
  if (unknown.length) throw new Error(`unknown model ${unknown.join(", ")} (known: ${Object.keys(MODELS).join(", ")})`);
  const work = process.env.AXFORMER_TRAIN_TMP ?? join(tmpdir(), "axformer-train");
  const times: string[] = [];
  const t0 = Date.now();
  const todo = names.length ? names : Object.keys(MODELS).filter((n) => MODELS[n].commit);
  // a second stage's first stage comes first, unless its checkpoint is already in the work folder
  for (let i = 0; i < todo.length; i++) {
    const init = MODELS[todo[i]].init;
    if (init && !todo.slice(0, i).includes(init) && !existsSync(join(outDirOf(init, work), "model.safetensors"))) todo.splice(i--, 0, init);
  }
  for (const name of todo) {
    const r = MODELS[name];
    const dataDir = join(work, name);
    const outDir = outDirOf(name, work);
    const t = Date.now();
    if (r.embedding) {
      run(process.execPath, ["--import", "tsx", "scripts/train/prepare-pairs.ts", "--max-len", String(r.maxLen),
        "--min-count", String(r.minCount), "--out", dataDir]);
      run("/usr/bin/python3", embedTrainArgs(name, r, dataDir, outDir));
      writeEmbeddingCard(name, r, dataDir, outDir);
    } else {
      run(process.execPath, ["--import", "tsx", "scripts/train/prepare.ts", "--task", r.task, "--max-len", String(r.maxLen),
        "--min-count", String(r.minCount), "--out", dataDir]);
      run("/usr/bin/python3", trainArgs(name, r, dataDir, outDir, work));
      writeCard(name, r, dataDir, outDir);
    }
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
