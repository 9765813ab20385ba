// The optimizer's real runs on the GLUE models trained here (models/sst2,
// models/sst2-2k): the same pipeline as `npm start`, with ../shared/data's SST-2
// val split for the search and its dev split for reporting.
//   node --import tsx scripts/experiments/glue.ts [sst2|sst2-2k ...] [--out DIR]
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runPipeline } from "../../host/cli/pipeline.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const DATA = resolve(ROOT, "../shared/data");
const RUNS: Record<string, { task: string; dir: string }> = {
  sst2: { task: "sst2", dir: "sst2" },
  "sst2-2k": { task: "sst2", dir: "sst2" },
};

const args = process.argv.slice(2);
const outArg = args.indexOf("--out");
const outDir = resolve(outArg >= 0 ? args[outArg + 1] : join(ROOT, "out/glue"));
const names = args.filter((a, i) => !a.startsWith("--") && (outArg < 0 || i !== outArg + 1));
if (!existsSync(DATA)) {
  console.error(`glue.ts: ${relative(process.cwd(), DATA)} is absent; these runs need ../shared/data`);
  process.exit(1);
}
await mkdir(outDir, { recursive: true });
const started = performance.now();
for (const name of names.length ? names : Object.keys(RUNS)) {
  const run = RUNS[name];
  if (!run) throw new Error(`unknown run "${name}": one of ${Object.keys(RUNS).join(", ")}`);
  const result = await runPipeline({
    modelDir: join(ROOT, "models", name),
    name,
    data: { task: run.task },
    valFile: join(DATA, run.dir, "val.tsv"),
    heldOutFile: join(DATA, run.dir, "dev.tsv"),
    heldOutName: "dev",
    outDir,
    seq: 128,
    maxDrop: 1,
    log: (t) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${name}: ${t}\n`),
  });
  const text = `### ${name}\n\n${result.table}\n`;
  process.stdout.write(`\n${text}\n`);
  await writeFile(join(outDir, `${name}.md`), text);
}
