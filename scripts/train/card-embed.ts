// Writes models/NAME/README.md for a sentence-embedding model, from what train_embed.py
// measured (DATA/results.json).

import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelRecipe } from "./recipe.ts";

interface Scores { spearman: number; pearson: number; loss: number }
interface Results {
  eval: Scores;
  val: Scores;
  best_epoch: number;
  history: { epoch: number; train_loss: number; val: Scores }[];
  parameters: number;
  train_seconds: number;
  threads: number;
  torch: string;
  command: string;
  data: { vocab_size: number; max_len: number; min_count: number; splits: Record<string, { rows: number; mean_tokens: number; truncated: number }> };
}

const x100 = (v: number) => (100 * v).toFixed(2);

export function writeEmbeddingCard(name: string, recipe: ModelRecipe, dataDir: string, dir: string): void {
  const r = JSON.parse(readFileSync(join(dataDir, "results.json"), "utf8")) as Results;
  const bytes = statSync(join(dir, "model.safetensors")).size;
  const s = r.data.splits;
  const card = `---
language: en
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags: [bert, sentence-transformers, feature-extraction, sentence-similarity, axformer, trained-from-scratch]
---

# ${name}: English sentence embeddings trained on STS-B

**Trained here, from random weights, by this project's recipe. This is not a Hugging Face Hub model**
and it starts from no pretrained weights: no pre-training, only the ${s.train.rows.toLocaleString("en-US")} scored
sentence pairs of STS-B train. Expect far less than a pretrained sentence encoder (all-MiniLM-L6-v2 reaches
about 82 Spearman on STS-B). ${recipe.why}

It is a sentence-transformers folder as the hub ships one: \`modules.json\` (Transformer, Pooling,
Normalize), \`sentence_bert_config.json\`, \`1_Pooling/config.json\` (mean pooling), and in the root a
\`BertModel\` checkpoint (\`config.json\`, \`model.safetensors\` in float16, keys without the \`bert.\` prefix,
no pooler) with its tokenizer files. transformers' \`AutoModel\` loads the root checkpoint (checked with transformers 5.18:
mean-pooled and normalised, its dev Spearman is the one below); sentence-transformers reads the same layout.

## Result

**GLUE STS-B dev: Spearman ${x100(r.eval.spearman)}** (Pearson ${x100(r.eval.pearson)}) of the cosine of the two
sentences' embeddings with the gold score, measured by the recipe in torch ${r.torch} on the float16 weights
in this folder.

| split | pairs | Spearman x 100 | Pearson x 100 | mean (cos - score/5)^2 |
|---|---|---|---|---|
| val (picks the epoch) | ${s.val.rows} | ${x100(r.val.spearman)} | ${x100(r.val.pearson)} | ${r.val.loss.toFixed(4)} |
| dev (reported) | ${s.eval.rows} | ${x100(r.eval.spearman)} | ${x100(r.eval.pearson)} | ${r.eval.loss.toFixed(4)} |

## Model

| | |
|---|---|
| architecture | \`BertModel\` (post-norm BERT, GELU), then mean pooling over the tokens ([CLS] and [SEP] included), then L2 normalisation |
| layers / hidden / heads / intermediate | ${recipe.layers} / ${recipe.hidden} / ${recipe.heads} / ${recipe.intermediate} |
| max positions = \`max_seq_length\` | ${recipe.maxLen} tokens |
| vocab | ${r.data.vocab_size} WordPiece tokens, uncased: the bert-base-uncased tokens used at least ${r.data.min_count} times by the training sentences, plus every single character and its \`##\` form (docs/training.md) |
| embedding | ${recipe.hidden} floats, unit length |
| parameters | ${r.parameters.toLocaleString("en-US")} (${(bytes / 1e6).toFixed(2)} MB float16 safetensors) |

## Data

GLUE STS-B (Cer et al., SemEval 2017; annotations CC BY-SA 4.0, each source corpus under its own terms: see
\`../shared/data/stsb/LICENSE.txt\`), sentence pairs scored 0 to 5. train = the 4,249 rows of \`train.tsv\`,
val = \`val.tsv\` (1,500; together GLUE train), dev = GLUE STS-B dev (1,500, reported). Each sentence is
tokenized on its own, \`[CLS] sentence [SEP]\`.

| split | pairs | mean tokens per sentence | truncated at ${recipe.maxLen} |
|---|---|---|---|
${(["train", "val", "eval"] as const).map((k) => `| ${k === "eval" ? "dev" : k} | ${s[k].rows} | ${s[k].mean_tokens} | ${s[k].truncated} |`).join("\n")}

## Training

sentence-transformers' CosineSimilarityLoss written in plain torch: per pair (cos(u, v) - score / 5)^2,
the mean over a batch. AdamW (weight decay 0.01, none on biases and LayerNorm), learning rate ${recipe.lr}
with a linear warm-up over the first 10% of steps and a linear decay, batch ${recipe.batch} pairs,
${recipe.epochs} epochs, dropout 0.1, seed 0; the epoch with the best val Spearman is kept (epoch ${r.best_epoch}).
${r.train_seconds} s on ${r.threads} CPU thread(s) of a shared 2-core machine.

\`\`\`
${r.command}
\`\`\`

| epoch | train loss | val Spearman x 100 |
|---|---|---|
${r.history.map((h) => `| ${h.epoch} | ${h.train_loss.toFixed(4)} | ${x100(h.val.spearman)} |`).join("\n")}
`;
  const path = join(dir, "README.md");
  writeFileSync(path + ".tmp", card);
  renameSync(path + ".tmp", path);
}
