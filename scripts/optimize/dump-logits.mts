// Logits of the committed models on val rows, from the wasm runtime, for the loss
// fixture (scripts/optimize/make_loss_fixture.py): sst2 on SST-2 val rows 0-2999,
// sst2-2k on rows 3000-5999, spam on its val split. Needs ../shared and the models
// converted to /tmp/h3/<name>.axf (`axformer convert models/<name> -o ...`).
//   node --import tsx scripts/optimize/dump-logits.mts OUT.json
import { readFileSync, writeFileSync } from "node:fs";
import { loadEngine } from "../../host/runtime/node.ts";
import { loadSpamSplits } from "../../host/data/spam.ts";

const engine = await loadEngine();
const sst = readFileSync(new URL("../../../shared/data/sst2/val.tsv", import.meta.url), "utf8")
  .split("\n").slice(1).filter(Boolean).map((l) => l.split("\t"));
const spam = (await loadSpamSplits()).val;
const sets: Array<[string, Array<[string, number]>]> = [
  ["sst2", sst.slice(0, 3000).map(([t, l]) => [t, Number(l)])],
  ["sst2-2k", sst.slice(3000, 6000).map(([t, l]) => [t, Number(l)])],
  ["spam", spam.map((r) => [r.text, r.label === "spam" ? 1 : 0])],
];
const out: Record<string, { logits: number[]; labels: number[] }> = {};
for (const [name, rows] of sets) {
  const m = engine.loadModel(new Uint8Array(readFileSync(`/tmp/h3/${name}.axf`)));
  const logits: number[] = [], labels: number[] = [];
  for (const [text, label] of rows) {
    const t = m.tokenize(text, undefined, 128);
    logits.push(...m.logits(t.inputIds, t.tokenTypeIds));
    labels.push(label);
  }
  out[name] = { logits, labels };
}
writeFileSync(process.argv[2], JSON.stringify(out));
