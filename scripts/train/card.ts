// Writes models/NAME/README.md, the model card, from what train.py measured (DATA/results.json).

import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS, type ModelRecipe } from "./recipe.ts";
import { getTask } from "./tasks.ts";

interface Metrics {
  accuracy: number;
  f1?: number;
  mcc?: number;
}
interface Results {
  eval_split: string;
  metric: "accuracy" | "f1" | "mcc";
  eval: Metrics;
  val: Metrics;
  majority_share: { val: number; eval: number };
  best_epoch: number;
  history: { epoch: number; train_loss: number; val: Metrics }[];
  // train.py --calibrate: the temperature fitted on val, and each slice before and after it
  calibration: null | {
    temperature: number;
    val: Record<string, SliceMetrics>;
    eval: Record<string, SliceMetrics>;
  };
  parameters: number;
  train_seconds: number;
  threads: number;
  args: { val_rows: number };
  command: string;
  data: {
    vocab_size: number;
    max_len: number;
    min_count: number;
    splits: Record<string, { rows: number; mean_tokens: number; truncated: number; majority_share: number }>;
  };
}

interface SliceMetrics extends Metrics {
  rows: number;
  ece: number; // expected calibration error, 15 bins, of softmax(logits)
  ece_t: number; // the same of softmax(logits / temperature)
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function metricCells(m: Metrics): string {
  return [pct(m.accuracy), m.f1 === undefined ? "" : pct(m.f1), m.mcc === undefined ? "" : m.mcc.toFixed(4)].join(" | ");
}

export function headline(r: Results): string {
  const name = { accuracy: "accuracy", f1: "F1", mcc: "Matthews correlation" }[r.metric];
  const value = r.metric === "mcc" ? r.eval.mcc!.toFixed(4) : pct(r.eval[r.metric]!);
  const acc = r.metric === "accuracy" ? "" : `, accuracy ${pct(r.eval.accuracy)}`;
  return `${r.eval_split} ${name} ${value}${acc} (majority class: accuracy ${pct(r.majority_share.eval)}${r.metric === "mcc" ? ", MCC 0" : ""})`;
}

function calibrationSection(r: Results, name: string): string {
  const c = r.calibration;
  if (!c) return "";
  const rows = (split: "val" | "eval") => Object.entries(c[split]).map(([slice, m]) =>
    `| ${split === "eval" ? r.eval_split : "val"} | ${slice} | ${m.rows} | ${pct(m.accuracy)} | ${m.f1 === undefined ? "" : pct(m.f1)} | ${m.ece.toFixed(4)} | ${m.ece_t.toFixed(4)} |`);
  return `
## Short inputs and calibration

The same held-out messages, seen as a user would send them: the subject line alone, the first
sentence of the body, the first 200 characters, and the whole message (subject + body). Scores are
calibrated by one temperature, **T = ${c.temperature.toFixed(4)}**, fitted on val (its slices pooled) by
minimizing the negative log-likelihood. It is stored in \`calibration.json\`; \`axformer convert\` writes it
into the model file (CONFIG word 27, docs/format.md) and every host reports softmax(logits / T) as the
scores. Accuracy does not change with T. ECE is the expected calibration error over 15 equal-width
confidence bins, before (T = 1) and after the temperature.

| split | slice | rows | accuracy | F1 (label 1) | ECE, T = 1 | ECE, T = ${c.temperature.toFixed(2)} |
|---|---|---|---|---|---|---|
${[...rows("eval"), ...rows("val")].join("\n")}

Measured by the recipe on the float16 weights in this folder (\`models/${name}\`), in torch; \`npm start\` measures
the same test slices again in the wasm runtime, for the optimized models too.
`;
}

export function writeCard(name: string, recipe: ModelRecipe, dataDir: string, dir: string): void {
  const task = getTask(recipe.task);
  const r = JSON.parse(readFileSync(join(dataDir, "results.json"), "utf8")) as Results;
  const bytes = statSync(join(dir, "model.safetensors")).size;
  const s = r.data.splits;
  const card = `---
language: en
library_name: transformers
pipeline_tag: text-classification
tags: [bert, text-classification, axformer, trained-from-scratch]
---

# ${name}: ${task.title}

**Trained here, from random weights, by this project's recipe. This is not a Hugging Face Hub model**
and it starts from no pretrained weights: there was no pre-training, only fine-tuning on the task's own
training split. Expect accuracy well below a pretrained BERT's. ${recipe.why}

It is an ordinary Hugging Face checkpoint (\`config.json\`, \`model.safetensors\` in float16, \`vocab.txt\`,
\`tokenizer_config.json\`) that \`transformers\` loads with \`AutoModelForSequenceClassification\`.

## Result

**${headline(r)}**, measured by the recipe on the float16 weights in this folder.

| split | rows | accuracy | F1 (label 1) | MCC |
|---|---|---|---|---|
| val (picks the epoch) | ${s.val.rows} | ${metricCells(r.val)} |
| ${r.eval_split} (reported) | ${s.eval.rows} | ${metricCells(r.eval)} |
${calibrationSection(r, name)}
## Model

| | |
|---|---|
| architecture | \`BertForSequenceClassification\` (post-norm BERT, GELU, pooler on [CLS]) |
| layers / hidden / heads / intermediate | ${recipe.layers} / ${recipe.hidden} / ${recipe.heads} / ${recipe.intermediate} |
| max positions = \`model_max_length\` | ${recipe.maxLen} tokens (longer inputs are truncated, pairs longest-first) |
| vocab | ${r.data.vocab_size} WordPiece tokens, uncased: the bert-base-uncased tokens used at least ${r.data.min_count} time(s) by the training text, plus every single character and its \`##\` form (docs/training.md) |
| labels | ${task.labels.map((l, i) => `${i} = ${l}`).join(", ")} |
| parameters | ${r.parameters.toLocaleString("en-US")} (${(bytes / 1e6).toFixed(2)} MB float16 safetensors) |

## Data

${task.data}

| split | rows | mean tokens | truncated at ${recipe.maxLen} | majority label share |
|---|---|---|---|---|
${(["train", "val", "eval"] as const)
  .map((k) => `| ${k === "eval" ? r.eval_split : k} | ${s[k].rows} | ${s[k].mean_tokens} | ${s[k].truncated} | ${pct(s[k].majority_share)} |`)
  .join("\n")}

## Training

AdamW (weight decay 0.01, none on biases and LayerNorm), learning rate ${recipe.lr} with a linear warm-up
over the first 10% of steps and a linear decay, batch ${recipe.batch}, ${recipe.epochs} epochs, dropout 0.1,
seed 0; the epoch with the best val ${r.metric} is kept (epoch ${r.best_epoch}). ${r.train_seconds} s on ${r.threads}
CPU threads (torch 1.13).${recipe.init ? ` This is a second stage: it starts from the weights of the recipe's \`${recipe.init}\` (${MODELS[recipe.init].epochs} epochs from random weights, learning rate ${MODELS[recipe.init].lr}, on task \`${MODELS[recipe.init].task}\`, same vocab and sizes; the recipe makes it first if its checkpoint is missing).` : ""}

\`\`\`
${r.command}
\`\`\`

| epoch | train loss | val accuracy${r.args.val_rows && r.args.val_rows < s.val.rows ? ` (first ${r.args.val_rows} val rows)` : ""} |
|---|---|---|
${r.history.map((h) => `| ${h.epoch} | ${h.train_loss.toFixed(4)} | ${pct(h.val.accuracy)} |`).join("\n")}
`;
  const path = join(dir, "README.md");
  writeFileSync(path + ".tmp", card);
  renameSync(path + ".tmp", path);
}
