// The product's whole path on one model and task, shared by `npm start` (the spam
// filter) and scripts/experiments/glue.ts (the GLUE models): convert -> AxFormer
// search in strict mode and with a 1-point budget on val -> int8 copies ->
// evaluate everything on the held-out split -> single-thread latency -> one table.
import { statSync } from "node:fs";
import { join } from "node:path";
import { convertHfDir } from "../convert/index.ts";
import { writeModelFile } from "../format/write-file.ts";
import type { Model } from "../model/model.ts";
import { readModelFile } from "../format/read.ts";
import { runEvalCommand, runOptimizeCommand } from "../optimize/commands.ts";
import type { Summary } from "../optimize/index.ts";
import { measureLatency } from "./bench.ts";
import { openModel } from "./util.ts";

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
}

export interface PipelineRow { name: string; file: string; metric: number; bytes: number; ms: number; searchSeconds: number | null; what: string }

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
    rows.push({ ...m, metric: result.metric, bytes: statSync(m.file).size, ms: 0 });
  }
  const seq = Math.min(o.seq, model.config.tokenizer.maxLen);
  o.log(`single-thread latency at seq ${seq} (median of 30 runs after 5 warm-up runs, each model)`);
  for (const r of rows) r.ms = measureLatency(await openModel(r.file), seq, 30, 5).median_ms;

  const base = rows[0];
  const table = [
    `| model | ${o.heldOutName} ${metricName} | file size | latency seq ${seq} | speed-up | search time | what |`,
    "|---|---:|---:|---:|---:|---:|---|",
    ...rows.map((r) =>
      `| ${r.name} | ${r.metric.toFixed(2)} | ${(r.bytes / 1e6).toFixed(2)} MB | ${r.ms.toFixed(2)} ms | ${(base.ms / r.ms).toFixed(2)}x | ` +
      `${r.searchSeconds === null ? "" : `${r.searchSeconds.toFixed(0)} s`} | ${r.what} |`),
  ].join("\n");
  return { rows, metricName, table, strictFile: file("-strict"), budgetFile: file("-budget") };
}

export function asInt8(m: Model): Model {
  return { ...m, tensors: new Map([...m.tensors].map(([k, t]) => [k, t.shape.length === 2 ? { ...t, storage: "int8" as const } : t])) };
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
