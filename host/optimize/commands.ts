// The work behind `axformer optimize` and `axformer eval`, so the CLI stays a thin
// shell: each function reads its inputs, runs, writes its outputs atomically and
// returns the text to print.

import { readFile, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { asInt8, type Model } from "../model/model.ts";
import { readModelFile } from "../format/read.ts";
import { writeFileAtomic, writeModelFile } from "../format/write-file.ts";
import { loadEngine } from "../runtime/node.ts";
import { loadDataset, resolveTask } from "./datasets.ts";
import { evaluate, optimize, optimizeTask, type EvaluateResult, type Summary } from "./index.ts";
import { loadTaggedSentences } from "./data-token.ts";
import { loadSquad } from "./data-squad.ts";
import { loadTexts } from "./data-texts.ts";
import { driftTask, pairTask, qaTask, tokenTask, type PreparedTask } from "./task-scoring.ts";
import type { RuntimeModel } from "./shard.ts";
import { renderReport } from "./report.ts";

export interface DataOptions {
  task?: string;            // required for sequence classifiers; embeddings: "pairs" (default) or "texts"
  textCol?: string;
  pairCol?: string;
  labelCol?: string;
  maxLen?: number;
  workers?: number;
}

export interface OptimizeCommandOptions extends DataOptions {
  model: string;           // input .axf
  val: string;             // val data file
  out: string;             // output .axf
  maxDrop?: number | string;
  hardK?: number;
  hardKChoices?: number[] | string; // "8,16,30,64"
  passes?: number;
  int8?: boolean;          // store the result's weight matrices as int8
  int8Layers?: boolean;    // search: int8 per layer where the test accepts it
  report?: string;         // HTML report path
  json?: string;           // JSON summary path
  progress?: boolean;      // bar on stderr (default: when stderr is a terminal)
  lossPrecision?: string;  // "f32" (default) or "f64"
  earlyReject?: boolean;   // default true
  resume?: boolean;        // continue from the checkpoint next to `out`
  docStride?: number;      // question answering: overlap of the windows, in tokens
}

// The search's checkpoint lives next to the output, in a hidden folder, so an
// interrupted run leaves no file that looks like an output (see checkpoint.ts).
export const checkpointPath = (out: string) => join(dirname(out), ".axformer-resume", `${basename(out)}.json`);

function parseLossPrecision(v: string | undefined): "f32" | "f64" {
  if (v === undefined || v === "f32" || v === "f64") return v ?? "f32";
  throw new Error(`--loss-precision must be f32 or f64, got "${v}"`);
}

export interface EvalCommandOptions extends DataOptions {
  model: string;
  data: string;
  json?: boolean;
}

function loadRows(file: string, model: Model, o: DataOptions) {
  const spec = { task: o.task, textCol: o.textCol, pairCol: o.pairCol, labelCol: o.labelCol, labels: model.labels, problemType: model.config.problemType };
  return loadDataset(file, spec);
}

function parseMaxDrop(v: number | string | undefined): number | null {
  if (v === undefined) return null;
  const x = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(x) || x < 0) throw new Error(`--max-drop must be a non-negative number of metric points, got "${v}"`);
  return x;
}

function parseKChoices(v: number[] | string | undefined): number[] | null {
  if (v === undefined) return null;
  const ks = typeof v === "string" ? v.split(",").map((s) => Number(s.trim())) : v;
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k <= 0)) throw new Error(`--hard-k-choices must be positive integers, got "${v}"`);
  return [...new Set(ks)].sort((a, b) => a - b);
}

const fmt = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

export function describeSummary(s: Summary, out: string): string {
  const d = s.decisions;
  const lines: string[] = [];
  lines.push(`${s.mode === "strict" ? "strict test" : `budget ${s.max_drop} points`}: ${s.candidates.filter((c) => c.accepted).length} of ${s.candidates.length} candidates accepted (${s.val_rows} val rows, ${fmt(s.seconds, 1)} s)`);
  lines.push(`val loss ${fmt(s.original_val_loss)} -> ${fmt(s.final_val_loss)}, ${s.metric_name} ${fmt(s.original_val_metric, 2)} -> ${fmt(s.final_val_metric, 2)}`);
  for (let i = 0; i < d.hard_attention.length; i++) {
    const parts: string[] = [];
    if (d.hard_attention[i]) parts.push(`hard attention K=${d.hard_attention_k[i]}`);
    if (d.attention_block_removed[i]) parts.push("attention block removed");
    if (d.heads_removed[i].length) parts.push(`heads removed ${d.heads_removed[i].join(",")}`);
    if (d.ffn_block_removed[i]) parts.push("FFN block removed");
    if (d.ffn_groups_removed[i].length) parts.push(`FFN groups removed ${d.ffn_groups_removed[i].join(",")}`);
    if (d.int8_layers[i]) parts.push("int8 weights");
    lines.push(`  layer ${i}: ${parts.length ? parts.join("; ") : "unchanged"}`);
  }
  lines.push(`${s.row_evaluations} row evaluations (${s.row_evaluations_without_early_reject} without early rejection), ${s.layer_evaluations} layer evaluations (${s.layer_evaluations_without_early_reject} without)${s.resumed_candidates ? `; resumed after ${s.resumed_candidates} decided candidates` : ""}`);
  lines.push(`size ${s.size_bytes.before} -> ${s.size_bytes.after} bytes`);
  if (s.speed) lines.push(`latency at ${s.speed.seq_len} tokens ${fmt(s.speed.ms_before, 2)} -> ${fmt(s.speed.ms_after, 2)} ms`);
  lines.push(`wrote ${out}`);
  return lines.join("\n") + "\n";
}

// The model's task (CONFIG.task); absent in files of format v1-v2: sequence classification.
const taskOf = (model: Model) => (model.config as { task?: string }).task ?? "sequence-classification";

// The length of an embedding model's output: sentence-transformers concatenates its pooling modes.
function embeddingWidth(model: Model): number {
  const c = model.config as { hiddenSize: number; pooling?: string[]; embeddingSize?: number };
  return c.embeddingSize || c.hiddenSize * Math.max(1, c.pooling?.length ?? 1);
}

// The data of a task beyond sequence classification, read and made ready for the search
// (task-scoring.ts), chosen by the model's task.
function prepareTask(model: Model, o: OptimizeCommandOptions, precision: "f32" | "f64"): ((m: RuntimeModel, maxLen: number) => PreparedTask) | null {
  const t = taskOf(model);
  if (t === "token-classification") {
    const sents = loadTaggedSentences(o.val, model.labels);
    return (m, maxLen) => tokenTask(m, sents, model.labels, maxLen, precision);
  }
  if (t === "question-answering") {
    const qs = loadSquad(o.val);
    return (m, maxLen) => qaTask(m, qs, { maxLen, stride: o.docStride }, precision);
  }
  if (t !== "embedding") return null;
  const E = embeddingWidth(model);
  const name = (o.task ?? "pairs").toLowerCase();
  if (name === "texts" || o.val.toLowerCase().endsWith(".txt")) {
    const texts = loadTexts(o.val, o.textCol);
    return (m, maxLen) => driftTask(m, texts, E, maxLen, precision);
  }
  if (name !== "pairs" && name !== "stsb" && name !== "generic")
    throw new Error(`--task ${o.task}: an embedding model takes scored pairs (--task pairs or stsb) or a text list (--task texts)`);
  const rows = loadDataset(o.val, { task: name === "generic" ? "generic" : "stsb", textCol: o.textCol, pairCol: o.pairCol, labelCol: o.labelCol, labels: [], problemType: "regression" }).rows;
  const pairs = rows.map((r) => {
    if (r.pair === null) throw new Error(`${o.val}:${r.line}: no second sentence (--pair-col)`);
    if (!(r.label >= 0 && r.label <= 5)) throw new Error(`${o.val}:${r.line}: score ${r.label} is outside 0..5 (STS-B scale)`);
    return { a: r.text, b: r.pair, score: r.label };
  });
  return (m, maxLen) => pairTask(m, pairs, E, maxLen, precision);
}

export async function runOptimizeCommand(o: OptimizeCommandOptions): Promise<{ summary: Summary; text: string }> {
  const model = await readModelFile(o.model);
  const lossPrecision = parseLossPrecision(o.lossPrecision);
  const prepare = prepareTask(model, o, lossPrecision);
  if (!prepare && o.task === undefined) throw new Error("--task is required for a sequence classifier (sst2, cola, rte, mrpc, wnli, qnli, stsb, or generic)");
  const task = prepare ? { name: taskOf(model), metric: "accuracy" as const, regression: false } : resolveTask({ ...o, task: o.task, problemType: model.config.problemType });
  const common = {
    maxLen: o.maxLen,
    maxDrop: parseMaxDrop(o.maxDrop),
    hardK: o.hardK,
    hardKChoices: parseKChoices(o.hardKChoices),
    passes: o.passes,
    int8Layers: o.int8Layers,
    workers: o.workers,
    progress: o.progress ?? Boolean(process.stderr.isTTY),
    lossPrecision,
    earlyReject: o.earlyReject ?? true,
    checkpoint: checkpointPath(o.out),
    resume: o.resume ?? false,
  };
  const { model: optimized, summary } = prepare
    ? await optimizeTask(model, prepare, common)
    : await optimize(model, loadRows(o.val, model, o).rows, { ...common, task });
  const bytes = await writeModelFile(o.out, o.int8 ? asInt8(optimized) : optimized);
  summary.size_bytes.after = bytes;
  if (o.json) await writeFileAtomic(o.json, JSON.stringify(summary, null, 2) + "\n");
  if (o.report) await writeFileAtomic(o.report, renderReport(summary, `AxFormer: ${basename(o.model)} on ${summary.task}`));
  // Every output is written: nothing left to resume.
  await rm(checkpointPath(o.out), { force: true });
  await rmdir(dirname(checkpointPath(o.out))).catch(() => {}); // only when empty (other searches' checkpoints stay)
  return { summary, text: describeSummary(summary, o.out) };
}

export async function runEvalCommand(o: EvalCommandOptions): Promise<{ result: EvaluateResult; text: string }> {
  const model = await readModelFile(o.model);
  const task = resolveTask({ ...o, problemType: model.config.problemType });
  const rows = loadRows(o.data, model, o).rows;
  const result = await evaluate(model, rows, { task, maxLen: o.maxLen, workers: o.workers });
  const text = o.json
    ? JSON.stringify(result) + "\n"
    : `${result.rows} rows: loss ${fmt(result.loss)}, ${Object.entries(result.metrics).map(([k, v]) => `${k} ${fmt(100 * v, 2)}`).join(", ")}\n`;
  return { result, text };
}
