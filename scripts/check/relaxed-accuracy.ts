// The accuracy cost of the relaxed-SIMD build (7-bit activations in int8 matmuls,
// fused multiply-add in f32): the reported metric of every committed model (models/*)
// with f32 and int8 weights, on the plain build (this Node) and on the relaxed build
// (workerd through Miniflare, where it runs; Node 20 computes it wrongly).
//
//   node --import tsx scripts/check/relaxed-accuracy.ts        (needs ../shared/data; a few minutes)
//
// Prints a markdown table (the README's, "Relaxed SIMD") and exits 1 when relaxed
// int8 loses more than 0.3 points against plain int8 on any model.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertHfDir } from "../../host/convert/index.ts";
import { writeModel } from "../../host/format/writer.ts";
import { asInt8 } from "../../host/model/model.ts";
import { loadEngine } from "../../host/runtime/node.ts";
import { loadDataset } from "../../host/optimize/datasets.ts";
import { loadSpamSplits } from "../../host/data/spam.ts";
import { startRelaxedWorker } from "../../test/helpers/relaxed-harness.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const SST2_DEV = resolve(ROOT, "../shared/data/sst2/dev.tsv");
const MAX_DROP = 0.3; // points

interface Eval { name: string; split: string; rows: { text: string; gold: number }[] }

async function evalSet(name: string, labels: string[]): Promise<Eval> {
  if (name === "spam") {
    const test = (await loadSpamSplits()).test;
    return { name, split: "test", rows: test.map((r) => ({ text: r.text, gold: labels.indexOf(r.label) })) };
  }
  if (!existsSync(SST2_DEV)) throw new Error(`${SST2_DEV} is absent: this script reads the SST-2 dev set`);
  const ds = loadDataset(SST2_DEV, { task: "sst2", labels, problemType: "single_label_classification" });
  return { name, split: "dev", rows: ds.rows.map((r) => ({ text: r.text, gold: r.label })) };
}

const argmax = (xs: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};
const accuracy = (logits: (number[] | Float32Array)[], rows: Eval["rows"]) =>
  (100 * logits.filter((l, i) => argmax(l) === rows[i].gold).length) / rows.length;

const worker = await startRelaxedWorker();

async function workerdLogits(file: Uint8Array, inputs: { ids: number[]; types: number[] }[]): Promise<number[][]> {
  const out: number[][] = [];
  const model = Buffer.from(file).toString("base64");
  for (let i = 0; i < inputs.length; i += 250) {
    const part = inputs.slice(i, i + 250);
    const json = await worker.post("/logits?build=relaxed", { model, inputs: part.map((p) => p.ids), types: part.map((p) => p.types) });
    if (json.build !== "relaxed") throw new Error(`workerd: ${json.reason}`);
    out.push(...json.logits);
  }
  return out;
}

const lines = [
  `| model | split (rows) | f32 | int8 | relaxed f32 (workerd) | relaxed int8 (workerd) | relaxed int8 - int8 |`,
  `|---|---|---:|---:|---:|---:|---:|`,
];
let worst = 0;
try {
  for (const name of ["spam", "sst2", "sst2-2k"]) {
    const model = await convertHfDir(join(ROOT, "models", name));
    const files = { f32: writeModel(model), int8: writeModel(asInt8(model)) };
    const plain = (await loadEngine("simd")).loadModel(files.f32);
    const set = await evalSet(name, plain.labels);
    const inputs = set.rows.map((r) => { const e = plain.tokenize(r.text); return { ids: e.inputIds, types: e.tokenTypeIds }; });
    const acc: Record<string, number> = {};
    for (const storage of ["f32", "int8"] as const) {
      const m = (await loadEngine("simd")).loadModel(files[storage]);
      acc[storage] = accuracy(inputs.map((x) => m.logits(x.ids, x.types)), set.rows);
      acc[`relaxed ${storage}`] = accuracy(await workerdLogits(files[storage], inputs), set.rows);
      process.stderr.write(`${name} ${storage}: ${acc[storage].toFixed(2)} plain, ${acc[`relaxed ${storage}`].toFixed(2)} relaxed\n`);
    }
    const drop = acc.int8 - acc["relaxed int8"];
    worst = Math.max(worst, drop);
    lines.push(`| ${name} | ${set.split} (${set.rows.length}) | ${acc.f32.toFixed(2)} | ${acc.int8.toFixed(2)} | ${acc["relaxed f32"].toFixed(2)} | ` +
      `${acc["relaxed int8"].toFixed(2)} | ${(-drop >= 0 ? "+" : "") + (-drop).toFixed(2)} |`);
  }
} finally {
  await worker.dispose();
}
process.stdout.write(lines.join("\n") + "\n");
if (worst > MAX_DROP) {
  process.stdout.write(`\nrelaxed int8 loses ${worst.toFixed(2)} points on some model (> ${MAX_DROP}): keep relaxed SIMD for f32 only\n`);
  process.exitCode = 1;
}
