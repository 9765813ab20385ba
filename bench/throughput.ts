// Throughput of the default model (models/spam) on the 872 SST-2 dev sentences:
// texts per second one call per text, and through classifyBatch (texts grouped by
// token count, several sequences per matmul). f32 and int8 side by side, alternating.
//   node --import tsx bench/throughput.ts [--rounds 5]
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { asInt8 } from "../host/model/model.ts";
import { loadEngine } from "../host/runtime/node.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DEV = resolve(ROOT, "../shared/data/sst2/dev.tsv");
if (!existsSync(DEV)) {
  console.error("throughput.ts: ../shared/data/sst2/dev.tsv is absent; this benchmark reads the SST-2 dev sentences");
  process.exit(1);
}
const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 5;
const texts = readFileSync(DEV, "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t")[0]);
const hf = await convertHfDir(join(ROOT, "models/spam"));
const variants = { f32: hf, int8: asInt8(hf) };
const models = Object.fromEntries(
  await Promise.all(Object.entries(variants).map(async ([k, m]) => [k, (await loadEngine()).loadModel(writeModel(m))] as const)),
);

const best: Record<string, number> = {};
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, model] of Object.entries(models)) {
    let t0 = performance.now();
    for (const t of texts) model.classify(t);
    const single = texts.length / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    model.classifyBatch(texts);
    const batch = texts.length / ((performance.now() - t0) / 1000);
    if (r === 0) continue; // warm-up round
    best[`${name} one by one`] = Math.max(best[`${name} one by one`] ?? 0, single);
    best[`${name} classifyBatch`] = Math.max(best[`${name} classifyBatch`] ?? 0, batch);
  }
}
console.log(`default model (models/spam) on ${texts.length} SST-2 dev sentences, single thread, best of ${rounds} rounds:`);
console.log("| mode | texts/s |\n|---|---:|");
for (const [k, v] of Object.entries(best)) console.log(`| ${k} | ${v.toFixed(0)} |`);
