// Early rejection on the committed models: the strict search (and a 1-point budget
// search) with and without it, checking that every decision and the accepted /
// rejected list are identical, and counting row and layer evaluations.
//   node --import tsx scripts/optimize/early-reject.ts [--rows N] [--workers N] [--max-len N] [--strict-only] [sst2 sst2-2k spam]
// sst2 and sst2-2k search SST-2 val.tsv (the first N rows), spam its own val split.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertHfDir } from "../../host/convert/index.ts";
import { parseDataset, resolveTask } from "../../host/optimize/datasets.ts";
import { optimize } from "../../host/optimize/index.ts";
import { loadSpamSplits, toTsv } from "../../host/data/spam.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i >= 0 ? Number(process.argv[i + 1]) : dflt; };
const ROWS = arg("--rows", 1000), WORKERS = arg("--workers", 2), MAX_LEN = arg("--max-len", 128);
const sst2Val = readFileSync(join(ROOT, "../shared/data/sst2/val.tsv"), "utf8");
const spamVal = "text\tlabel\n" + toTsv((await loadSpamSplits()).val);

const lines: string[] = [];
const picked = process.argv.slice(2).filter((a) => ["sst2", "sst2-2k", "spam"].includes(a));
for (const name of picked.length ? picked : ["sst2", "sst2-2k", "spam"]) {
  const model = await convertHfDir(join(ROOT, "models", name));
  const spec = name === "spam"
    ? { task: "generic", textCol: "text", labelCol: "label", labels: model.labels, problemType: model.config.problemType }
    : { task: "sst2", labels: model.labels, problemType: model.config.problemType };
  const ds = parseDataset(name === "spam" ? spamVal : sst2Val, `${name}-val.tsv`, spec);
  const rows = ds.rows.slice(0, ROWS);
  const task = resolveTask({ ...spec, problemType: model.config.problemType });
  for (const maxDrop of process.argv.includes("--strict-only") ? [null] : [null, 1]) {
    const run = (earlyReject: boolean) => optimize(model, rows, { task, maxLen: MAX_LEN, workers: WORKERS, maxDrop, earlyReject, measureSpeed: false });
    const on = (await run(true)).summary, off = (await run(false)).summary;
    const list = (s: typeof on) => JSON.stringify(s.candidates.map((c) => [c.layer, c.step, c.accepted]));
    const same = JSON.stringify(on.decisions) === JSON.stringify(off.decisions) && list(on) === list(off);
    const pct = (a: number, b: number) => `${(100 * (1 - a / b)).toFixed(1)}%`;
    const line = `| ${name} | ${maxDrop === null ? "strict" : `budget ${maxDrop}`} | ${rows.length} | ${on.candidates.length} | ${on.candidates.filter((c) => c.accepted).length} | ${same ? "identical" : "DIFFERENT"} | ${off.row_evaluations} -> ${on.row_evaluations} (${pct(on.row_evaluations, off.row_evaluations)}) | ${off.layer_evaluations} -> ${on.layer_evaluations} (${pct(on.layer_evaluations, off.layer_evaluations)}) | ${off.seconds.toFixed(0)} s -> ${on.seconds.toFixed(0)} s |`;
    console.log(line);
    lines.push(line);
    if (!same) process.exitCode = 1;
  }
}
console.log("\n| model | mode | val rows | candidates | accepted | decisions | row evaluations (off -> on) | layer evaluations (off -> on) | time |\n|---|---|---:|---:|---:|---|---:|---:|---:|");
console.log(lines.join("\n"));
