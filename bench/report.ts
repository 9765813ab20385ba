// bench/RESULTS.md: markdown tables from the measurements of bench/run.ts.
import type { Shape } from "./models.ts";
import type { Peak } from "./peak.ts";
import type { Bandwidth } from "./bandwidth.ts";
import type { WorkerdResult } from "./workerd.ts";

export const ENGINES = ["ours f32", "ours int8", "onnxruntime-web", "TF.js wasm"];
const PEERS = ["onnxruntime-web", "TF.js wasm"];
const INT8_FLAG = 0.05; // int8 vs f32 logits: marked "large" above this, not an error

export interface RunInfo {
  date: string;
  quick: boolean;
  tiny: boolean;
  nproc: number;
  cpu: string;
  node: string;
  loadStart: number; // 1-minute load average
  loadEnd: number;
  versions: Record<string, string>;
  wasmBytes: number;
  wasmLimit: number;
  wasmStale: boolean;
  peaks: Peak[];     // at the start and at the end of the run
  bandwidth: Bandwidth[]; // likewise
  warmup: string;    // the warm-up rule, in words
  simd: string;      // the runtime build this Node chose, and why
  workerd: Array<WorkerdResult & { storage: string }> | null;
  workerdError?: string; // the workerd part failed: why
  plan: {
    seqs: number[]; budgetMs: number; minSamples: number; maxSamples: number;
    slowRoundMs: number; slowBudgetMs: number; slowMinSamples: number;
  };
  minutes: number;
}

export interface CaseResult {
  shape: Shape;
  seq: number;
  samples: number;                // per engine
  medians: Record<string, number>; // ms, by engine name
  mins: Record<string, number>;    // ms, the fastest sample
  diffs: Record<string, number>;   // max |logit - ours f32| by engine name
  flops: number;                  // of one forward pass
  memory: { f32: number; int8: number }; // our wasm memory, bytes
  files: { f32: number; int8: number; onnx: number };
  weightBytes: { f32: number; int8: number }; // linear weights streamed per forward pass
}

export interface CapRow {
  model: string;
  maxLen: number;
  fileBytes: number;
  ok: boolean;
  memoryBytes: number;
  error?: string;
  diff?: number; // vs the same model without the cap
}

export function renderReport(info: RunInfo, cases: CaseResult[], caps: CapRow[], failures: string[]): string {
  const peakF32 = Math.max(...info.peaks.map((p) => p.f32Gflops));
  const peakI16 = Math.max(...info.peaks.map((p) => p.i16Gmacs));
  const out: string[] = [];
  const line = (s = "") => out.push(s);

  const bw = Math.max(...info.bandwidth.map((b) => b.gbPerS));
  const flag = info.tiny ? " -- --tiny" : info.quick ? " -- --quick" : "";
  line(`# Benchmark${flag ? ` (${flag.slice(4)}${info.tiny ? ": a check that it runs, not figures to read" : ""})` : ""}`);
  line();
  line(`${info.date.slice(0, 10)} (${info.date}), \`npm run bench${info.quick ? " -- --quick" : ""}\`, ${info.minutes.toFixed(1)} minutes.`);
  line();
  line(`- Machine: ${info.nproc} cores (\`nproc\`), ${info.cpu}, Node ${info.node}; every engine single-threaded, WASM SIMD128.`);
  line(`- Load average (1 min) ${info.loadStart.toFixed(2)} at the start, ${info.loadEnd.toFixed(2)} at the end: other jobs shared the machine, ` +
    `so absolute times are noisy; the engines were timed in rotation so that noise hits all of them alike, and the ratios are the figures to read.`);
  line(`- Peers: ${Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(", ")} (TF.js: tfjs-core with the wasm backend, XNNPACK, SIMD build without threads).`);
  line(`- Runtime wasm: build/axformer.wasm ${kib(info.wasmBytes)} (limit ${kib(info.wasmLimit)}: ${info.wasmBytes <= info.wasmLimit ? "within" : "OVER"})` +
    `${info.wasmStale ? ", OLDER than the sources in assembly/ (run `npm run asbuild`)" : ""}.`);
  line(`- SIMD128 peak of one core, measured in this run by bench/peak/kernel.as (12 independent accumulators), start / end: ` +
    `f32x4 mul+add ${info.peaks.map((p) => p.f32Gflops.toFixed(1)).join(" / ")} GFLOP/s; ` +
    `i32x4.dot_i16x8_s ${info.peaks.map((p) => p.i16Gmacs.toFixed(1)).join(" / ")} GMAC/s. The fractions below use the higher of each.`);
  line(`- Models: random weights (test/helpers/random-model.ts), vocab 30522, max_position 512, 2 labels; the same f32 weights in every engine. ` +
    `"ours int8" is the same model written with int8 weights (per-row scales) and int8 word embeddings; the peers run f32.`);
  line(`- Memory read bandwidth of one core, measured in this run by bench/peak/stream.as (128-bit loads over a ${info.bandwidth[0]?.bufferMiB} MiB buffer, best of ` +
    `${info.bandwidth[0]?.reps}), start / end: ${info.bandwidth.map((b) => b.gbPerS.toFixed(1)).join(" / ")} GB/s.`);
  line(`- Runtime build in this Node: ${info.simd}. The relaxed-SIMD build is timed on workerd (below), where it runs.`);
  line(`- Inputs: one sentence pair of seq tokens, batch 1, no padding. Timing: ${info.warmup}, per engine and case; then N samples per engine ` +
    `(N in the table: as many as fit in ${(info.plan.budgetMs / 1000).toFixed(0)} s per case, ${info.plan.minSamples}..${info.plan.maxSamples}; ` +
    `a case whose round of the 4 engines takes over ${(info.plan.slowRoundMs / 1000).toFixed(0)} s gets as many as fit in ${(info.plan.slowBudgetMs / 1000).toFixed(0)} s, ` +
    `at least ${info.plan.slowMinSamples}, to keep the run short), in rotation; the median of one forward pass including the copy of ids in and logits out.`);
  line();

  if (failures.length) {
    line(`## FAILED: logits disagree`);
    line();
    for (const f of failures) line(`- ${f}`);
    line();
  }

  line(`## Latency (median ms) and our speed relative to the peers`);
  line();
  line(`Speed ratio = peer median / our median: above 1 means ours is faster.`);
  line();
  line(`| model | seq | N | ours f32 | ours int8 | onnxruntime-web | TF.js wasm | f32 vs ORT | f32 vs TF.js | int8 vs ORT | int8 vs TF.js |`);
  line(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const c of cases) {
    const m = c.medians;
    const ratios = ["ours f32", "ours int8"].flatMap((o) => PEERS.map((p) => `${(m[p] / m[o]).toFixed(2)}x`));
    line(`| ${c.shape.name} | ${c.seq} | ${c.samples} | ${ENGINES.map((e) => ms(m[e])).join(" | ")} | ${ratios.join(" | ")} |`);
  }
  line();

  line(`## Fastest sample (ms)`);
  line();
  line(`With other jobs on the machine, a run that lasts longer than a scheduler time slice is more likely to be preempted, ` +
    `which inflates the medians of the slower engines more; the fastest of the N samples is closer to the time on an idle core.`);
  line();
  line(`| model | seq | ours f32 | ours int8 | onnxruntime-web | TF.js wasm | f32 vs ORT | f32 vs TF.js | int8 vs ORT | int8 vs TF.js |`);
  line(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const c of cases) {
    const m = c.mins;
    const ratios = ["ours f32", "ours int8"].flatMap((o) => PEERS.map((p) => `${(m[p] / m[o]).toFixed(2)}x`));
    line(`| ${c.shape.name} | ${c.seq} | ${ENGINES.map((e) => ms(m[e])).join(" | ")} | ${ratios.join(" | ")} |`);
  }
  line();

  line(`## Arithmetic rate: GFLOP/s and fraction of the measured SIMD peak`);
  line();
  line(`FLOPs of one forward pass: 2 per multiply-add of the linear layers (8nH^2 + 4nHF per layer), attention scores and context (4n^2H per layer), ` +
    `pooler and classifier; embeddings, LayerNorm, softmax and GELU are not counted. f32 engines are divided by the f32 peak ` +
    `(${peakF32.toFixed(1)} GFLOP/s); ours int8 by the i16 dot peak counted as 2 ops per multiply-add (${(2 * peakI16).toFixed(1)} GOP/s), ` +
    `although its attention still runs in f32.`);
  line();
  line(`| model | seq | GFLOP | ours f32 | ours int8 | onnxruntime-web | TF.js wasm |`);
  line(`|---|---:|---:|---:|---:|---:|---:|`);
  for (const c of cases) {
    const cells = ENGINES.map((e) => {
      const rate = c.flops / (c.medians[e] / 1000) / 1e9;
      const peak = e === "ours int8" ? 2 * peakI16 : peakF32;
      return `${rate.toFixed(1)} (${((100 * rate) / peak).toFixed(0)}%)`;
    });
    line(`| ${c.shape.name} | ${c.seq} | ${(c.flops / 1e9).toFixed(3)} | ${cells.join(" | ")} |`);
  }
  line();

  line(`## Short sequences: share of the memory bandwidth the weight streaming reaches`);
  line();
  line(`At short lengths a forward pass reads every linear weight once from memory and does little arithmetic per byte, so its yardstick is ` +
    `the bandwidth measured above (${bw.toFixed(1)} GB/s, the higher of start / end): weight bytes of the linear layers / our median time / bandwidth. ` +
    `(Attention, LayerNorm and GELU are left in the time, so this is a lower bound of the streaming rate.)`);
  line();
  line(`| model | seq | weights f32 | f32 GB/s (share) | weights int8 | int8 GB/s (share) |`);
  line(`|---|---:|---:|---:|---:|---:|`);
  for (const c of cases.filter((c) => c.seq <= 32)) {
    const rate = (bytes: number, msv: number) => bytes / (msv / 1000) / 1e9;
    const f = rate(c.weightBytes.f32, c.medians["ours f32"]), i = rate(c.weightBytes.int8, c.medians["ours int8"]);
    line(`| ${c.shape.name} | ${c.seq} | ${mib(c.weightBytes.f32)} | ${f.toFixed(1)} (${((100 * f) / bw).toFixed(0)}%) | ${mib(c.weightBytes.int8)} | ${i.toFixed(1)} (${((100 * i) / bw).toFixed(0)}%) |`);
  }
  line();

  line(`## workerd: the default model per request`);
  line();
  if (info.workerdError) {
    line(`Failed in this run: ${info.workerdError}`);
  } else if (!info.workerd) {
    line(`Not run (--no-workerd).`);
  } else {
    line(`The Worker of \`axformer deploy workers\` for models/spam (converted in the run), bundled by wrangler, under Miniflare (the real workerd), ` +
      `one request at a time timed from outside (POST /classify, JSON in and out, so this includes tokenization, the HTTP round trip through Miniflare and JSON). ` +
      `Two Workers side by side, one shipping the relaxed-SIMD build and one the plain build only, requests alternating between them after the warm-up.`);
    line();
    line(`"p50 - round trip" subtracts the p50 of GET /health timed the same way (no inference): an estimate of the inference's own share.`);
    line();
    line(`| model | message tokens | Worker | build chosen | p50 ms | p90 ms | round trip p50 ms | p50 - round trip | requests | plain p50 / this p50 |`);
    line(`|---|---:|---|---|---:|---:|---:|---:|---:|---:|`);
    for (const r of info.workerd) {
      for (const [name, t] of [["relaxed shipped", r.relaxed], ["plain only", r.plain]] as const) {
        line(`| ${r.model} (${r.storage}) | ${r.tokens} | ${name} | ${t.build} | ${ms(t.p50Ms)} | ${ms(t.p90Ms)} | ${ms(t.overheadP50Ms)} | ${ms(t.p50Ms - t.overheadP50Ms)} | ${t.requests} | ${(r.plain.p50Ms / t.p50Ms).toFixed(2)}x |`);
      }
    }
    const reason = info.workerd[0]?.relaxed.reason;
    if (reason) line(`
The relaxed Worker's choice: ${reason}. The message: "${info.workerd[0].text}".`);
  }
  line();

  line(`## Agreement: max |logit - ours f32| (first warm-up run, same input)`);
  line();
  line(`f32 engines must agree within 1e-3 (the bench fails otherwise); int8 shows the quantization error of the int8 model.`);
  line();
  line(`| model | seq | onnxruntime-web | TF.js wasm | ours int8 |`);
  line(`|---|---:|---:|---:|---:|`);
  for (const c of cases) {
    line(`| ${c.shape.name} | ${c.seq} | ${sci(c.diffs["onnxruntime-web"])} | ${sci(c.diffs["TF.js wasm"])} | ${sci(c.diffs["ours int8"])}${c.diffs["ours int8"] > INT8_FLAG ? " (large)" : ""} |`);
  }
  line();

  line(`## Memory`);
  line();
  line(`Our wasm memory (\`model.memoryBytes()\`, the whole linear memory: model file, heap, activations) after the runs at each seq. ` +
    `The activations are sized once per model for max_len (512 here), so the figure does not change with seq. Model file sizes: ours f32 / int8, and the ONNX protobuf given to onnxruntime-web.`);
  line();
  line(`| model | seq | ours f32 wasm memory | ours int8 wasm memory | .axf f32 | .axf int8 | .onnx |`);
  line(`|---|---:|---:|---:|---:|---:|---:|`);
  for (const c of cases) {
    line(`| ${c.shape.name} | ${c.seq} | ${mib(c.memory.f32)} | ${mib(c.memory.int8)} | ${mib(c.files.f32)} | ${mib(c.files.int8)} | ${mib(c.files.onnx)} |`);
  }
  line();

  line(`## bert-base int8 inside a 128 MiB memory cap`);
  line();
  if (!caps.length) {
    line(`Not run (${info.quick ? "--quick skips bert-base" : "no bert-base shape in this run"}).`);
  } else {
    line(`Checked by instantiating build/axformer.wasm with its memory section given a maximum of 2048 pages (128 MiB), then loading the model and running ` +
      `one forward pass at seq 128: any memory.grow past the cap fails. This caps the wasm memory only; a Workers isolate's JS heap counts against the same 128 MB.`);
    line();
    line(`| model | max_len | .axf int8 | result | wasm memory | logits vs the same file uncapped |`);
    line(`|---|---:|---:|---|---:|---:|`);
    for (const r of caps) {
      line(`| ${r.model} | ${r.maxLen} | ${mib(r.fileBytes)} | ${r.ok ? "runs" : `fails: ${r.error?.replace(/\|/g, "\\|")}`} | ${mib(r.memoryBytes)} | ${r.diff === undefined ? "-" : sci(r.diff)} |`);
    }
  }
  line();
  return out.join("\n");
}

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
function sci(x: number | undefined): string {
  return x === undefined ? "-" : x === 0 ? "0" : x.toExponential(1);
}
function kib(b: number): string {
  return `${(b / 1024).toFixed(1)} KiB`;
}
function mib(b: number): string {
  return `${(b / 2 ** 20).toFixed(1)} MiB`;
}
