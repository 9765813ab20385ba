// `axformer run` and `axformer tokenize`.
import { openModel, parseIdList, printJson } from "./util.ts";
import type { LoadedModel } from "../runtime/index.ts";

interface RunOptions { json?: boolean; ids?: string; typeIds?: string }

export async function runCommand(modelPath: string, text: string | undefined, textB: string | undefined, opts: RunOptions): Promise<void> {
  const model = await openModel(modelPath);
  let result;
  if (opts.ids !== undefined) {
    if (text !== undefined) throw new Error("give either --ids or a text, not both");
    const ids = parseIdList(opts.ids, "--ids");
    const typeIds = opts.typeIds !== undefined ? parseIdList(opts.typeIds, "--type-ids") : undefined;
    if (typeIds && typeIds.length !== ids.length) throw new Error(`--type-ids has ${typeIds.length} items but --ids has ${ids.length}`);
    if (model.task !== "sequence-classification") return printTaskOutput(model, ids, typeIds, opts);
    result = model.classifyIds(ids, typeIds);
  } else {
    if (opts.typeIds !== undefined) throw new Error("--type-ids goes with --ids");
    if (text === undefined) throw new Error("nothing to run the model on: give a text (and optionally a second text) or --ids");
    if (model.task === "embedding") {
      if (textB !== undefined) throw new Error("an embedding model takes one text (or --ids)");
      return printEmbedding(model.embed([text])[0], opts);
    }
    result = model.classify(text, textB);
  }
  if (opts.json) {
    printJson({ label: result.label, scores: result.scores, logits: result.logits });
    return;
  }
  process.stdout.write(`${result.label}\n`);
  const width = Math.max(...model.labels.map((l) => l.length));
  model.labels.forEach((label, i) => {
    process.stdout.write(`  ${label.padEnd(width)}  ${result.scores[i].toFixed(4)}\n`);
  });
}

// `run --ids` on a model of another task than sequence classification, by task:
// {"embedding"}, {"logits", "labels"} (a label per token: the first highest logit),
// {"start_logits", "end_logits"}.
function printTaskOutput(model: LoadedModel, ids: number[], typeIds: number[] | undefined, opts: RunOptions): void {
  if (model.task === "embedding") {
    if (typeIds) throw new Error("--type-ids: an embedding model's input has no type ids");
    return printEmbedding(model.embedIds([ids])[0], opts);
  }
  if (model.task === "token-classification") {
    const logits = model.tokenLogits(ids, typeIds);
    const labels = logits.map((l) => model.labels[argmax(l)]);
    if (opts.json) return printJson({ logits: logits.map((l) => Array.from(l)), labels });
    process.stdout.write(labels.map((label, t) => `${ids[t]}\t${label}\n`).join(""));
    return;
  }
  const { start, end } = model.spanLogits(ids, typeIds);
  if (opts.json) return printJson({ start_logits: Array.from(start), end_logits: Array.from(end) });
  process.stdout.write(`start: ${Array.from(start, (v) => v.toFixed(4)).join(" ")}\nend:   ${Array.from(end, (v) => v.toFixed(4)).join(" ")}\n`);
}

function printEmbedding(e: Float32Array, opts: RunOptions): void {
  if (opts.json) return printJson({ embedding: Array.from(e) });
  process.stdout.write(`${Array.from(e, (v) => v.toFixed(6)).join(" ")}\n`);
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

interface TokenizeOptions { json?: boolean; maxLen?: number }

export async function tokenizeCommand(modelPath: string, text: string, textB: string | undefined, opts: TokenizeOptions): Promise<void> {
  const model = await openModel(modelPath);
  const { inputIds, tokenTypeIds } = model.tokenize(text, textB, opts.maxLen);
  if (opts.json) {
    printJson({ input_ids: inputIds, token_type_ids: tokenTypeIds });
    return;
  }
  process.stdout.write(`input_ids:      ${inputIds.join(" ")}\ntoken_type_ids: ${tokenTypeIds.join(" ")}\n`);
}
