// The product's whole path on one model and task, shared by `npm start` (the spam
// filter) and scripts/experiments/glue.ts (the GLUE models): convert -> AxFormer
// search in strict mode and with a 1-point budget on val -> int8 copies ->
// evaluate everything on the held-out split (and on named slices of it: accuracy and
// calibration error of the scores the runtime prints) -> single-thread latency -> one table.
import { statSync } from "node:fs";
import { join } from "node:path";
import { convertHfDir } from "../convert/index.ts";
import { writeModelFile } from "../format/write-file.ts";
import { asInt8, type Model } from "../model/model.ts";
import { readModelFile } from "../format/read.ts";
import { runEvalCommand, runOptimizeCommand } from "../optimize/commands.ts";
import type { Summary } from "../optimize/index.ts";
import { measureLatency } from "./bench.ts";
import { describeWarmup } from "./warmup.ts";
import { openModel } from "./util.ts";
import type { LoadedModel } from "../runtime/index.ts";

export interface PipelineOptions {
  modelDir: string;        // Hugging Face checkpoint folder
  name: string;            // file name stem in outDir
  data: { task: string; textCol?: string; pairCol?: string; labelCol?: string };
  valFile: string;         // the search looks only at this
  heldOutFile: string;     // reported, never used for a decision
  heldOutName: string;     // "test" or "dev", for the table
  outDir: string;
  seq: number;             // latency at this many tokens
  maxDrop: number;         // the budget run's points
  log: (text: string) => void;
  // views of the held-out rows a user would send (spam: subject, first sentence, ...), each
  // reported as accuracy and expected calibration error (15 bins) of the printed scores
  slices?: { name: string; rows: { text: string; label: string }[] }[];
}

export interface SliceResult { name: string; rows: number; accuracy: number; ece: number }

export interface PipelineRow {
  name: string; file: string; metric: number; bytes: number; ms: number; searchSeconds: number | null; what: string;
  slices: SliceResult[];
}

export interface PipelineResult { rows: PipelineRow[]; metricName: string; table: string; strictFile: string; budgetFile: string }

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const file = (suffix: string) => join(o.outDir, `${o.name}${suffix}.axf`);
  o.log(`converting ${o.modelDir} (Hugging Face checkpoint) to ${file("")}`);
  const model = await convertHfDir(o.modelDir);
  await writeModelFile(file(""), model);
  await writeModelFile(file("-int8"), asInt8(model));

  o.log("AxFormer search, strict test (the paper's acceptance rule) on val");
  const strict = await runOptimizeCommand({ ...o.data, model: file(""), val: o.valFile, out: file("-strict"),
    json: join(o.outDir, `${o.name}-strict.json`), report: join(o.outDir, `${o.name}-strict-report.html`), progress: true });
  o.log(`AxFormer search, accuracy budget --max-drop ${o.maxDrop} on val`);
  const budget = await runOptimizeCommand({ ...o.data, model: file(""), val: o.valFile, out: file("-budget"), maxDrop: o.maxDrop,
    json: join(o.outDir, `${o.name}-budget.json`), report: join(o.outDir, `${o.name}-budget-report.html`), progress: true });
  await writeModelFile(file("-budget-int8"), asInt8(await readModelFile(file("-budget"))));

  const models = [
    { name: "dense f32", file: file(""), searchSeconds: null, what: "the converted checkpoint" },
    { name: "dense int8", file: file("-int8"), searchSeconds: null, what: "int8 weights, per-row scales" },
    { name: "strict f32", file: file("-strict"), searchSeconds: strict.summary.seconds, what: describe(strict.summary) },
    { name: `budget ${o.maxDrop} f32`, file: file("-budget"), searchSeconds: budget.summary.seconds, what: describe(budget.summary) },
    { name: `budget ${o.maxDrop} int8`, file: file("-budget-int8"), searchSeconds: null, what: "the budget model with int8 weights" },
  ];
  o.log(`evaluating ${models.length} models on ${o.heldOutName}`);
  const rows: PipelineRow[] = [];
  let metricName = "";
  for (const m of models) {
    const { result } = await runEvalCommand({ ...o.data, model: m.file, data: o.heldOutFile });
    metricName = result.metric_name;
    rows.push({ ...m, metric: result.metric, bytes: statSync(m.file).size, ms: 0, slices: [] });
  }
  if (o.slices?.length) {
    o.log(`evaluating ${models.length} models on ${o.slices.length} slices of ${o.heldOutName}: ${o.slices.map((s) => s.name).join(", ")}`);
    for (const r of rows) {
      const loaded = await openModel(r.file);
      r.slices = o.slices.map((s) => ({ name: s.name, ...sliceMetrics(loaded, s.rows) }));
    }
  }
  const seq = Math.min(o.seq, model.config.tokenizer.maxLen);
  o.log(`single-thread latency at seq ${seq} (median of 30 runs, each model; ${describeWarmup()})`);
  for (const r of rows) r.ms = measureLatency(await openModel(r.file), seq, 30).median_ms;

  const base = rows[0];
  const sliceHead = (o.slices ?? []).map((s) => ` ${s.name} (${s.rows.length}): accuracy, ECE |`).join("");
  const table = [
    `| model | ${o.heldOutName} ${metricName} |${sliceHead} file size | latency seq ${seq} | speed-up | search time | what |`,
    `|---|---:|${"---:|".repeat(o.slices?.length ?? 0)}---:|---:|---:|---:|---|`,
    ...rows.map((r) =>
      `| ${r.name} | ${r.metric.toFixed(2)} |${r.slices.map((s) => ` ${(100 * s.accuracy).toFixed(2)}, ${s.ece.toFixed(3)} |`).join("")} ` +
      `${(r.bytes / 1e6).toFixed(2)} MB | ${r.ms.toFixed(2)} ms | ${(base.ms / r.ms).toFixed(2)}x | ` +
      `${r.searchSeconds === null ? "" : `${r.searchSeconds.toFixed(0)} s`} | ${r.what} |`),
  ].join("\n");
  return { rows, metricName, table, strictFile: file("-strict"), budgetFile: file("-budget") };
}

/** Accuracy, and the expected calibration error of the printed scores (top score per row, 15 equal
 *  bins over [0, 1], |accuracy - mean score| weighted by the bin's share; Guo et al. 2017). */
export function sliceMetrics(model: LoadedModel, rows: { text: string; label: string }[]): { rows: number; accuracy: number; ece: number } {
  const results = model.classifyBatch(rows.map((r) => r.text));
  const confidence = results.map((c) => Math.max(...c.scores));
  const correct = results.map((c, i) => c.label === rows[i].label);
  return { rows: rows.length, accuracy: correct.filter(Boolean).length / rows.length, ece: expectedCalibrationError(confidence, correct) };
}

export function expectedCalibrationError(confidence: number[], correct: boolean[], bins = 15): number {
  const n = new Array(bins).fill(0), conf = new Array(bins).fill(0), hits = new Array(bins).fill(0);
  confidence.forEach((c, i) => {
    const b = Math.min(bins, Math.max(1, Math.ceil(c * bins))) - 1; // bin b holds (b/bins, (b+1)/bins]
    n[b]++;
    conf[b] += c;
    hits[b] += +correct[i];
  });
  return n.reduce((e, k, b) => (k ? e + Math.abs(hits[b] - conf[b]) / confidence.length : e), 0);
}

export function describe(s: Summary): string {
  const d = s.decisions;
  const n = (xs: boolean[]) => xs.filter(Boolean).length;
  const heads = d.heads_removed.reduce((a, h) => a + h.length, 0);
  const groups = d.ffn_groups_removed.reduce((a, g) => a + g.length, 0);
  const parts = [
    n(d.hard_attention) && `hard attention in ${plural(n(d.hard_attention), "layer")}`,
    n(d.attention_block_removed) && `${plural(n(d.attention_block_removed), "attention block")} removed`,
    n(d.ffn_block_removed) && `${plural(n(d.ffn_block_removed), "FFN block")} removed`,
    heads && `${plural(heads, "head")} removed`,
    groups && `${plural(groups, "FFN neuron group")} removed`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "nothing removed";
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
