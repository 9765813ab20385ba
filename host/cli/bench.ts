// `axformer bench`: single-thread latency of one forward pass. The median over
// many runs after a warm-up, because the first runs pay for tier-up and page faults.
import { openModel, printJson } from "./util.ts";
import type { LoadedModel } from "../runtime/index.ts";

interface BenchOptions { seq: number; runs: number; warmup: number; json?: boolean }

export interface LatencyStats { median_ms: number; min_ms: number; p90_ms: number; runs: number; seq: number; memory_bytes: number }

// Times one forward pass on `seq` random ids, single thread (one wasm instance).
export function measureLatency(model: LoadedModel, seq: number, runs = 30, warmup = 5): LatencyStats {
  if (runs < 20) throw new Error(`--runs must be at least 20, got ${runs}`);
  if (seq > model.maxLen) throw new Error(`--seq ${seq} is longer than the model's maximum length ${model.maxLen}`);
  const ids = randomIds(seq, model.vocabSize);
  for (let i = 0; i < warmup; i++) model.logits(ids);
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
  };
}

export async function benchCommand(modelPath: string, opts: BenchOptions): Promise<void> {
  const model = await openModel(modelPath);
  const summary = measureLatency(model, opts.seq, opts.runs, opts.warmup);
  if (opts.json) printJson(summary);
  else process.stdout.write(`seq ${opts.seq}: median ${summary.median_ms} ms (min ${summary.min_ms}, p90 ${summary.p90_ms}) over ${opts.runs} runs\n`);
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
