// `axformer bench`: single-thread latency of one forward pass. The median over
// many runs after a warm-up by time (host/cli/warmup.ts: the first runs pay for
// V8's baseline tier, tier-up and page faults).
import { openModel, printJson } from "./util.ts";
import type { LoadedModel } from "../runtime/index.ts";
import { warmUpSync, type WarmupOptions, type WarmupResult } from "./warmup.ts";

interface BenchOptions { seq: number; runs: number; warmupMs: number; json?: boolean }

export interface LatencyStats {
  median_ms: number; min_ms: number; p90_ms: number; runs: number; seq: number; memory_bytes: number;
  warmup: { runs: number; ms: number; settled: boolean };
}

// Times one forward pass on `seq` random ids, single thread (one wasm instance),
// after warming up by time until the timings settle.
export function measureLatency(model: LoadedModel, seq: number, runs = 30, warmup: WarmupOptions = {}): LatencyStats {
  if (runs < 20) throw new Error(`--runs must be at least 20, got ${runs}`);
  if (seq > model.maxLen) throw new Error(`--seq ${seq} is longer than the model's maximum length ${model.maxLen}`);
  const ids = randomIds(seq, model.vocabSize);
  const w: WarmupResult = warmUpSync(() => model.logits(ids), warmup);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    model.logits(ids);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  return {
    median_ms: round(median),
    min_ms: round(times[0]),
    p90_ms: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.9))]),
    runs,
    seq,
    memory_bytes: model.memoryBytes(),
    warmup: { runs: w.runs, ms: Math.round(w.ms), settled: w.settled },
  };
}

export async function benchCommand(modelPath: string, opts: BenchOptions): Promise<void> {
  const model = await openModel(modelPath);
  const summary = measureLatency(model, opts.seq, opts.runs, { minMs: opts.warmupMs });
  const w = summary.warmup;
  if (opts.json) printJson(summary);
  else process.stdout.write(`seq ${opts.seq}: median ${summary.median_ms} ms (min ${summary.min_ms}, p90 ${summary.p90_ms}) over ${opts.runs} runs ` +
    `after ${w.runs} warm-up runs in ${(w.ms / 1000).toFixed(1)} s${w.settled ? "" : " (timings had not settled)"}\n`);
}

// Deterministic ids (a fixed LCG), so two bench runs time the same input; [CLS]
// and [SEP] are not needed, the cost does not depend on which ids they are.
function randomIds(n: number, vocabSize: number): number[] {
  let s = 12345;
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids.push(s % vocabSize);
  }
  return ids;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
