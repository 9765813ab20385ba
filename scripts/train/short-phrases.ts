// Issue 12's question for the SST-2 models: are they, like the old spam model, weak on very short
// inputs? Scores models/sst2 and models/sst2-2k in the wasm runtime on the held-out SST-2 val split
// (val.tsv, which picked the epoch but was never trained on): all rows, the phrases of five words or
// fewer, and, among those, the ones with a negation word.
//
//   node --import tsx scripts/train/short-phrases.ts [NAME ...]      (default: sst2 sst2-2k)

import { readFileSync } from "node:fs";
import { convertHfDir } from "../../host/convert/index.ts";
import { writeModel } from "../../host/format/writer.ts";
import { loadEngine } from "../../host/runtime/node.ts";
import { expectedCalibrationError } from "../../host/cli/pipeline.ts";

const VAL = "../shared/data/sst2/val.tsv";
const NEGATION = /\b(not|no|never|nothing|neither|nor|none|n't|without)\b|n't\b/i;

const rows = readFileSync(VAL, "utf8").split("\n").slice(1).filter((l) => l.trim() !== "").map((l) => {
  const [sentence, label] = l.split("\t");
  return { text: sentence.trim(), label: label.trim() === "1" ? "positive" : "negative" };
});
const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
const groups: [string, typeof rows][] = [
  ["all val rows", rows],
  ["5 words or fewer", rows.filter((r) => words(r.text) <= 5)],
  ["5 words or fewer, with a negation", rows.filter((r) => words(r.text) <= 5 && NEGATION.test(r.text))],
  ["more than 5 words", rows.filter((r) => words(r.text) > 5)],
];

const engine = await loadEngine();
console.log("| model | rows | accuracy | majority label share | ECE (15 bins) |\n|---|---|---:|---:|---:|");
for (const name of process.argv.slice(2).length ? process.argv.slice(2) : ["sst2", "sst2-2k"]) {
  const model = engine.loadModel(writeModel(await convertHfDir(`models/${name}`)));
  for (const [what, g] of groups) {
    const out = model.classifyBatch(g.map((r) => r.text));
    const correct = out.map((c, i) => c.label === g[i].label);
    const pos = g.filter((r) => r.label === "positive").length / g.length;
    const acc = correct.filter(Boolean).length / g.length;
    const ece = expectedCalibrationError(out.map((c) => Math.max(...c.scores)), correct);
    console.log(`| ${name} | ${what} (${g.length}) | ${(100 * acc).toFixed(2)}% | ${(100 * Math.max(pos, 1 - pos)).toFixed(2)}% | ${ece.toFixed(3)} |`);
  }
}
