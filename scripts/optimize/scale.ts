// Cost of the strict search at real scale, on random weights (timing only: the
// decisions of a random model mean nothing): SST-2 dev (872 rows) at --max-len 64,
// 2 workers, a bert-base shape (12 layers, hidden 768, 12 heads, FFN 3072) or a
// MiniLM-L6-H384 shape (6 layers, hidden 384, 12 heads, FFN 1536), with the
// bert-base-uncased vocabulary from ../shared/models.
//   node --import tsx scripts/optimize/scale.ts minilm
//   node --import tsx scripts/optimize/scale.ts bert-base --max-candidates 12
//   node --import tsx scripts/optimize/scale.ts bert-base --int8
// With --int8 the model's matrices are stored as int8 (as `axformer convert --int8`
// writes them), so every candidate runs the int8 kernels: the search a user asks for by
// optimizing an int8 file, whose decisions are taken on the int8 model's logits.
// With --max-candidates N the search stops after N candidates and the time of the
// whole search is projected from the work done (layers run per val row, as the
// progress bar counts them) for two plans: no 1.1 x Lmin gate opens (L + 2L
// candidates) and every gate opens (L + L (2 + heads + 12)).
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDataset } from "../../host/optimize/datasets.ts";
import { optimize } from "../../host/optimize/index.ts";
import { asInt8 } from "../../host/model/model.ts";
import { randomModel, SPECIAL_TOKENS } from "../../test/helpers/random-model.ts";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const SHAPES = {
  minilm: { numLayers: 6, hiddenSize: 384, numHeads: 12, intermediateSize: 1536 },
  "bert-base": { numLayers: 12, hiddenSize: 768, numHeads: 12, intermediateSize: 3072 },
};
const shape = SHAPES[process.argv[2] as keyof typeof SHAPES];
if (!shape) throw new Error(`shape: ${Object.keys(SHAPES).join(" or ")}`);
const i = process.argv.indexOf("--max-candidates");
const maxCandidates = i >= 0 ? Number(process.argv[i + 1]) : Infinity;
const earlyReject = !process.argv.includes("--no-early-reject");

const vocab = readFileSync(join(ROOT, "../shared/models/bert-base-uncased-vocab/vocab.txt"), "utf8").split("\n").filter((w) => w && !SPECIAL_TOKENS.includes(w));
const dense = randomModel({ ...shape, maxPosition: 512, words: vocab, seed: 3 });
const model = process.argv.includes("--int8") ? asInt8(dense) : dense;
const spec = { task: "sst2", labels: model.labels, problemType: model.config.problemType };
const rows = parseDataset(readFileSync(join(ROOT, "../shared/data/sst2/dev.tsv"), "utf8"), "dev.tsv", spec).rows;

const t0 = performance.now();
let seen = 0, lastDone = 0;
class Stop extends Error {}
let summary;
try {
  summary = (await optimize(model, rows, {
    task: { name: "sst2", metric: "accuracy", regression: false }, maxLen: 64, workers: 2, measureSpeed: false, earlyReject,
    progress: {
      update(done, total, label) {
        lastDone = done;
        process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${seen + 1}: ${label} (${done} of ${total} work units)\n`);
        if (++seen >= maxCandidates) throw new Stop();
      },
      stop() {},
    },
  })).summary;
} catch (e) {
  if (!(e instanceof Stop)) throw e;
}
const s = (performance.now() - t0) / 1000;
// The machine may be shared: the load average says how much of it this run had.
console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(", ")} (1, 5, 15 min) on ${cpus().length} cores`);
const L = shape.numLayers, H = shape.numHeads;
const units = (perLayer: number) => { let u = L; for (let l = 0; l < L; l++) u += perLayer * (L - l); return u; };
if (summary) {
  console.log(`${process.argv[2]}${model === dense ? "" : " int8"}: ${rows.length} rows, ${summary.evaluations} evaluations (${summary.candidates.length} candidates), ${summary.row_evaluations} row evaluations (${summary.row_evaluations_without_early_reject} without early rejection), ${summary.layer_evaluations} layer evaluations (${summary.layer_evaluations_without_early_reject} without), ${s.toFixed(0)} s wall; ` +
    `workers busy ${summary.thread_seconds?.workers.map((x) => x.toFixed(0)).join(" and ")} s, the main thread writing candidates ${summary.thread_seconds?.writing_models.toFixed(0)} s`);
} else {
  const rate = s / lastDone;
  console.log(`${process.argv[2]}: stopped after ${seen} candidates, ${s.toFixed(0)} s wall for ${lastDone} work units (layers per row, the original model included); ` +
    `projection: no gate opens ${units(3)} units -> ${(rate * units(3) / 60).toFixed(0)} min; every gate opens ${units(3 + H + 12)} units -> ${(rate * units(3 + H + 12) / 60).toFixed(0)} min`);
}
