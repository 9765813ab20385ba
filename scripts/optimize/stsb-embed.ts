// STS-B dev Spearman, size and latency of embedding model files in the wasm runtime
// (the numbers of the README's "Sentence embeddings" table):
//
//   node --import tsx scripts/optimize/stsb-embed.ts MODEL.axf [MORE.axf ...]
//
// Spearman of cos(u, v) with the gold scores over the 1,500 GLUE STS-B dev pairs
// (../shared/data/stsb/dev.tsv), each sentence embedded on its own by model.embed; latency:
// the median of model.embed([sentence]) over the dev sentences, single thread.
import { readFileSync, statSync } from "node:fs";
import { loadEngine } from "../../host/runtime/node.ts";
import { cosine, pairSpearman } from "../../host/optimize/task-pairs.ts";
import { readStsb } from "../train/prepare-pairs.ts";

const pairs = readStsb("../shared/data/stsb/dev.tsv", true);
const engine = await loadEngine();
for (const file of process.argv.slice(2)) {
  const m = engine.loadModel(new Uint8Array(readFileSync(file)));
  const a = m.embed(pairs.map((p) => p.a)), b = m.embed(pairs.map((p) => p.b));
  const rho = pairSpearman(pairs.map((_, i) => cosine(a[i], b[i])), pairs.map((p) => p.score));
  const times: number[] = [];
  for (const p of pairs.slice(0, 500)) { const t = performance.now(); m.embed([p.a]); times.push(performance.now() - t); }
  times.sort((x, y) => x - y);
  console.log(`${file}: dev Spearman ${(100 * rho).toFixed(2)}, ${(statSync(file).size / 1e6).toFixed(2)} MB, median embed ${times[times.length >> 1].toFixed(3)} ms per sentence`);
}
