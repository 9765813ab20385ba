// `npm run bench [-- --quick | --tiny [--roberta]] [-- --out FILE]`: ours (f32 and int8) against
// onnxruntime-web and TF.js wasm, single thread, same random weights, BERT
// shapes bert-tiny / MiniLM / bert-base at seq 8, 16, 32, 64, 128, 256; in the same
// run this core's memory bandwidth (bench/bandwidth.ts: short sequences stream the
// weights) and the default model's request latency on workerd (bench/workerd.ts).
// --tiny: bert-tiny at seq 8 and 16, short warm-ups, a few samples: checks that
// everything runs (a minute or two), nothing to read numbers from. --tiny --roberta
// (or --quick --roberta): the roberta-base shape alone, at seq 128 (its one length;
// the full run has it after bert-base).
//
// The engines are timed in rotation (sample i starts with engine i mod 4), so
// a burst of load from elsewhere on the machine hits all of them alike; that is
// why this loop is ours and not tinybench's, which runs one task to the end
// before the next (tinybench times the SIMD peak micro-kernels, bench/peak.ts).
// Progress goes to stderr; the report to stdout and (full run) bench/RESULTS.md.
import { cpus, loadavg, tmpdir } from "node:os";
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { writeModel } from "../host/format/writer.ts";
import { WASM_URL } from "../host/runtime/node.ts";
import type { Engine } from "./engines/engine.ts";
import { oursEngine } from "./engines/ours.ts";
import { ORT_VERSION, ortEngine } from "./engines/ort.ts";
import { TFJS_VERSION, tfjsEngine } from "./engines/tfjs.ts";
import { runCapped } from "./memcap.ts";
import { asInt8, buildModel, forwardFlops, inputs, linearWeightBytes, SHAPES } from "./models.ts";
import { bertToOnnx } from "./onnx/bert.ts";
import { measurePeak } from "./peak.ts";
import { runTaskBench } from "./tasks.ts";
import { renderReport, type CapRow, type CaseResult, type RunInfo } from "./report.ts";
import { measureBandwidth } from "./bandwidth.ts";
import { measureWorkerd, SHORT_MESSAGE } from "./workerd.ts";
import { describeWarmup, warmUp, type WarmupOptions } from "../host/cli/warmup.ts";
import { chooseEngine, loadEngine } from "../host/runtime/node.ts";
import { convertHfDir } from "../host/convert/index.ts";

const { values: opts } = parseArgs({ options: {
  quick: { type: "boolean", default: false }, tiny: { type: "boolean", default: false }, out: { type: "string" },
  roberta: { type: "boolean", default: false }, // with --tiny or --quick: the roberta-base shape alone (its seqs)
  "no-workerd": { type: "boolean", default: false },
} });
const tiny = opts.tiny!;
const quick = opts.quick! || tiny;
const ROOT = new URL("../", import.meta.url);
const OUT = opts.out ?? (quick ? null : new URL("RESULTS.md", import.meta.url).pathname);

const F32_TOLERANCE = 1e-3;     // max |logit difference| between f32 engines
const CAP_BYTES = 128 * 2 ** 20; // the Workers isolate limit
const WASM_LIMIT = 150 * 1024;
// Samples per engine: as many as fit in budgetMs, within [minSamples, maxSamples];
// a case whose round of 4 engines takes over slowRoundMs (bert-base at 512) gets
// as many as fit in slowBudgetMs instead, at least slowMinSamples, to keep the
// full run near 10 minutes.
// Warm-up: host/cli/warmup.ts, per engine and case (by time, until the timings settle).
const SEQS = [8, 16, 32, 64, 128, 256];
const plan: { shapes: typeof SHAPES; seqs: number[]; warmup: WarmupOptions; budgetMs: number; minSamples: number; maxSamples: number;
  slowRoundMs: number; slowBudgetMs: number; slowMinSamples: number; bandwidthMiB: number; peakMs: number; workerdRequests: number } = tiny
  ? { shapes: SHAPES.slice(0, 1), seqs: [8, 16], warmup: { minMs: 100, maxMs: 1_000 }, budgetMs: 500, minSamples: 3, maxSamples: 5,
      slowRoundMs: 4_000, slowBudgetMs: 2_000, slowMinSamples: 3, bandwidthMiB: 16, peakMs: 100, workerdRequests: 5 }
  : quick
  ? { shapes: SHAPES.slice(0, 2), seqs: [16, 128], warmup: {}, budgetMs: 6_000, minSamples: 10, maxSamples: 30,
      slowRoundMs: 4_000, slowBudgetMs: 30_000, slowMinSamples: 5, bandwidthMiB: 256, peakMs: 600, workerdRequests: 50 }
  : { shapes: SHAPES, seqs: SEQS, warmup: {}, budgetMs: 30_000, minSamples: 20, maxSamples: 100,
      slowRoundMs: 4_000, slowBudgetMs: 120_000, slowMinSamples: 5, bandwidthMiB: 256, peakMs: 600, workerdRequests: 300 };

if (opts.roberta && quick) plan.shapes = SHAPES.filter((s) => s.roberta);
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void; // frees a shape's engines before the next is built

const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
const t0 = performance.now();

const info: RunInfo = {
  date: new Date().toISOString(),
  quick,
  tiny,
  nproc: cpus().length,
  cpu: (readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? "unknown").trim(),
  node: process.version,
  loadStart: loadavg()[0],
  loadEnd: 0,
  versions: { "onnxruntime-web": ORT_VERSION, "@tensorflow/tfjs-backend-wasm": TFJS_VERSION },
  wasmBytes: statSync(WASM_URL).size,
  wasmLimit: WASM_LIMIT,
  wasmStale: staleBuild(),
  peaks: [],
  bandwidth: [],
  warmup: describeWarmup(plan.warmup),
  simd: "",
  workerd: null,
  plan,
  minutes: 0,
};

log(`measuring the SIMD peak`);
info.peaks.push(await measurePeak(plan.peakMs));
log(`peak f32 ${info.peaks[0].f32Gflops.toFixed(1)} GFLOP/s, i16 dot ${info.peaks[0].i16Gmacs.toFixed(1)} GMAC/s`);
log(`measuring the memory bandwidth (${plan.bandwidthMiB} MiB buffer)`);
info.bandwidth.push(await measureBandwidth(plan.bandwidthMiB));
log(`bandwidth ${info.bandwidth[0].gbPerS.toFixed(1)} GB/s`);

{
  const c = await chooseEngine("auto");
  info.simd = `${c.build} (${c.reason})`;
  log(`runtime build in this Node: ${info.simd}`);
}

const cases: CaseResult[] = [];
const caps: CapRow[] = [];
const failures: string[] = [];

for (const shape of plan.shapes) {
  log(`${shape.name}: building the model and the engines`);
  let model: ReturnType<typeof buildModel> | null = buildModel(shape);
  const f32File = writeModel(model);
  const int8File = writeModel(asInt8(model));
  const oursF32 = await oursEngine("ours f32", f32File);
  const oursInt8 = await oursEngine("ours int8", int8File);
  let onnx: Uint8Array | null = bertToOnnx(model);
  const onnxBytes = onnx.length;
  const ort = await ortEngine(onnx);
  onnx = null;
  const tfjs = await tfjsEngine(model);
  const engines: Engine[] = [oursF32, oursInt8, ort, tfjs];
  const files = { f32: f32File.length, int8: int8File.length, onnx: onnxBytes };

  if (shape.layers === 12 && !shape.roberta && !quick) {
    // bert-base int8 under the Workers cap, at max_len 512 (the bench's) and 128.
    const { ids, typeIds } = inputs(128);
    const short = writeModel(asInt8({ ...model, config: { ...model.config, tokenizer: { ...model.config.tokenizer, maxLen: 128 } } }));
    for (const [maxLen, file] of [[512, int8File], [128, short]] as const) {
      log(`${shape.name}: int8 under a ${CAP_BYTES >> 20} MiB wasm memory cap, max_len ${maxLen}`);
      const r = await runCapped(CAP_BYTES, file, ids, typeIds);
      const ref = (await runCapped(null, file, ids, typeIds)).logits;
      caps.push({ model: shape.name, maxLen, fileBytes: file.length, ...r, diff: r.logits && ref ? maxAbsDiff(r.logits, ref) : undefined });
    }
  }
  model = null;

  for (const seq of shape.roberta?.seqs ?? plan.seqs) {
    const { ids, typeIds } = inputs(seq, undefined, !!shape.roberta);
    const times = new Map<Engine, number[]>(engines.map((e) => [e, []]));
    const first = new Map<Engine, Float32Array>();
    const lastWarm = new Map<Engine, number>();
    for (const e of engines) {
      first.set(e, await e.logits(ids, typeIds));
      lastWarm.set(e, (await warmUp(() => e.logits(ids, typeIds), plan.warmup)).lastMedianMs);
    }
    const ref = first.get(oursF32)!;
    const diffs: Record<string, number> = {};
    for (const e of engines) {
      if (e === oursF32) continue;
      const d = maxAbsDiff(first.get(e)!, ref);
      diffs[e.name] = d;
      if (e !== oursInt8 && !(d <= F32_TOLERANCE)) {
        const msg = `${shape.name} seq ${seq}: ${e.name} logits differ from ours f32 by ${d} (> ${F32_TOLERANCE}): ` +
          `ours [${Array.from(ref).join(", ")}], ${e.name} [${Array.from(first.get(e)!).join(", ")}]`;
        failures.push(msg);
        log(`ERROR ${msg}`);
      }
    }
    const round = engines.reduce((s, e) => s + lastWarm.get(e)!, 0);
    const samples = round > plan.slowRoundMs
      ? Math.max(plan.slowMinSamples, Math.min(plan.minSamples, Math.floor(plan.slowBudgetMs / round)))
      : Math.max(plan.minSamples, Math.min(plan.maxSamples, Math.floor(plan.budgetMs / round)));
    log(`${shape.name} seq ${seq}: ${samples} samples per engine (one round ~${round.toFixed(0)} ms)`);
    for (let s = 0; s < samples; s++) {
      for (let k = 0; k < engines.length; k++) {
        const e = engines[(s + k) % engines.length];
        const t = performance.now();
        await e.logits(ids, typeIds);
        times.get(e)!.push(performance.now() - t);
      }
    }
    const medians: Record<string, number> = {}, mins: Record<string, number> = {};
    for (const e of engines) {
      medians[e.name] = median(times.get(e)!);
      mins[e.name] = Math.min(...times.get(e)!);
    }
    cases.push({
      shape, seq, samples, medians, mins, diffs,
      flops: forwardFlops(shape, seq),
      memory: { f32: oursF32.model.memoryBytes(), int8: oursInt8.model.memoryBytes() },
      files,
      weightBytes: { f32: linearWeightBytes(shape, 4), int8: linearWeightBytes(shape, 1) },
    });
    log(`${shape.name} seq ${seq}: ` + engines.map((e) => `${e.name} ${medians[e.name].toFixed(1)} ms`).join(", "));
  }
  for (const e of engines) await e.dispose();
  gc();
}

if (!opts["no-workerd"]) {
  // The default model (models/spam), f32 and int8, on workerd, a short message.
  const dir = mkdtempSync(join(tmpdir(), "axformer-bench-"));
  try {
    const model = await convertHfDir(new URL("models/spam", ROOT).pathname);
    const files = [["f32", writeModel(model)], ["int8", writeModel(asInt8(model))]] as const;
    const rows = [];
    for (const [storage, bytes] of files) {
      const path = join(dir, `spam-${storage}.axf`);
      writeFileSync(path, bytes);
      const tokens = (await loadEngine("simd")).loadModel(bytes).tokenize(SHORT_MESSAGE).inputIds.length;
      log(`workerd: the default model, ${storage}, a message of ${tokens} tokens, relaxed and plain builds side by side`);
      rows.push({ storage, ...(await measureWorkerd(path, tokens, { requests: plan.workerdRequests, warmupMs: plan.warmup.minMs })) });
    }
    info.workerd = rows;
  } catch (e) {
    // A failure here must not lose the twenty minutes of tables above: it goes in the report.
    info.workerdError = (e as Error).message;
    log(`workerd: failed: ${info.workerdError}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

log(`measuring the SIMD peak and the bandwidth again`);
info.peaks.push(await measurePeak(plan.peakMs));
info.bandwidth.push(await measureBandwidth(plan.bandwidthMiB));
info.loadEnd = loadavg()[0];
info.minutes = (performance.now() - t0) / 60_000;

log(`issue 15: embeddings throughput and QA latency (bench/tasks.ts)`);
const tasks = await runTaskBench({ quick, tiny: false });
const report = renderReport(info, cases, caps, failures) + `\n## Embeddings and question answering (bench/tasks.ts)\n\n${tasks}\n`;
process.stdout.write(report);
if (OUT) {
  const tmp = `${OUT}.tmp-${process.pid}`;
  writeFileSync(tmp, report);
  renameSync(tmp, OUT);
  log(`wrote ${OUT}`);
}
if (failures.length) {
  process.stderr.write(`\nFAILED: ${failures.length} engine(s) disagree with ours on the logits:\n${failures.join("\n")}\n`);
  process.exitCode = 1;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return Number.isNaN(d) ? Infinity : d;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// True when a file under assembly/ is newer than build/axformer.wasm.
function staleBuild(): boolean {
  const built = statSync(WASM_URL).mtimeMs;
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, d) => {
    const p = join(dir, d.name);
    return Math.max(m, d.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
  return newest(new URL("assembly", ROOT).pathname) > built;
}
