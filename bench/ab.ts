// A/B of two runtime builds, side by side in one process: the same random model
// (bench/models.ts) loaded into an engine of each build, both warmed up by time
// (host/cli/warmup.ts), then many alternating repetitions (A B, B A, ...), so load
// from elsewhere on the machine hits both alike. Prints per case the medians, the
// ratio B / A of the medians, the median of the per-pair ratios, and the load
// average; and whether the two builds' logits are bit-identical.
//
//   node --import tsx bench/ab.ts A.wasm B.wasm [--shape MiniLM] [--seqs 16,128] [--reps 200] [--int8]
//   node --import tsx bench/ab.ts X.wasm --full-last-layer [...]
// --full-last-layer: one build; A is forward (a classifier's last layer computes [CLS]
// alone, encoder/forward.ts runToHead), B the same pass in pieces, embed + run_layers(0, L)
// + run_head, whose last layer computes every row (plus two copies of the hidden state).
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { instantiate } from "../host/runtime/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { asInt8, buildModel, inputs, SHAPES } from "./models.ts";
import { median, warmUp } from "../host/cli/warmup.ts";

const { values: o, positionals } = parseArgs({ allowPositionals: true, options: {
  shape: { type: "string", default: "MiniLM" }, seqs: { type: "string", default: "16,128" },
  reps: { type: "string", default: "200" }, int8: { type: "boolean", default: false }, "warmup-ms": { type: "string", default: "2500" },
  "full-last-layer": { type: "boolean", default: false },
} });
if (positionals.length !== (o["full-last-layer"] ? 1 : 2)) {
  console.error("usage: bench/ab.ts A.wasm B.wasm | X.wasm --full-last-layer [--shape MiniLM] [--seqs 16,128] [--reps 200] [--int8] [--warmup-ms 2500]");
  process.exit(2);
}
const shape = SHAPES.find((s) => s.name.startsWith(o.shape!));
if (!shape) throw new Error(`--shape: one of ${SHAPES.map((s) => s.name).join(", ")}`);
const model = buildModel(shape);
const file = writeModel(o.int8 ? asInt8(model) : model);
const loaded = await Promise.all(positionals.map(async (p) => {
  const e = await instantiate(readFileSync(p));
  e.defaultMaxMemoryMb = Infinity;
  return e.loadModel(file);
}));
type Run = (ids: Int32Array, typeIds: Int32Array) => Float32Array;
const engines: Array<{ logits: Run }> = o["full-last-layer"]
  ? [loaded[0], { logits: (ids, typeIds) => { const m = loaded[0]; return m.runHead(m.runLayers(m.embedTokens(ids, typeIds), ids.length, 0, m.numLayers), ids.length); } }]
  : loaded;
const load0 = loadavg()[0];
const names = o["full-last-layer"] ? [`${positionals[0]} forward`, "the same in pieces (full last layer)"] : positionals;
console.log(`A ${names[0]}, B ${names[1]}; ${shape.name} ${o.int8 ? "int8" : "f32"}; load average ${load0.toFixed(2)}`);
for (const seq of o.seqs!.split(",").map(Number)) {
  const { ids, typeIds } = inputs(seq);
  const [la, lb] = engines.map((m) => m.logits(ids, typeIds));
  const identical = la.length === lb.length && la.every((v, i) => Object.is(v, lb[i]));
  for (const m of engines) await warmUp(() => m.logits(ids, typeIds), { minMs: Number(o["warmup-ms"]) });
  const ta: number[] = [], tb: number[] = [], ratios: number[] = [];
  for (let r = 0; r < Number(o.reps); r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    const t = [0, 0];
    for (const k of order) {
      const s = performance.now();
      engines[k].logits(ids, typeIds);
      t[k] = performance.now() - s;
    }
    ta.push(t[0]); tb.push(t[1]); ratios.push(t[1] / t[0]);
  }
  console.log(`seq ${seq}: A ${median(ta).toFixed(3)} ms, B ${median(tb).toFixed(3)} ms, B/A ${(median(tb) / median(ta)).toFixed(3)} ` +
    `(median of pair ratios ${median(ratios).toFixed(3)}), logits ${identical ? "bit-identical" : "DIFFER"}; load ${loadavg()[0].toFixed(2)}`);
}
