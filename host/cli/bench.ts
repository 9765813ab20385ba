// `axformer bench`: single-thread latency of one forward pass. The median over
// many runs after a warm-up, because the first runs pay for tier-up and page faults.
import { openModel, printJson } from "./util.ts";

interface BenchOptions { seq: number; runs: number; warmup: number; json?: boolean }

export async function benchCommand(modelPath: string, opts: BenchOptions): Promise<void> {
  if (opts.runs < 20) throw new Error(`--runs must be at least 20, got ${opts.runs}`);
  const model = await openModel(modelPath);
  if (opts.seq > model.maxLen) throw new Error(`--seq ${opts.seq} is longer than the model's maximum length ${model.maxLen}`);
  const ids = randomIds(opts.seq, model.vocabSize);
  for (let i = 0; i < opts.warmup; i++) model.logits(ids);
  const times: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const t0 = performance.now();
    model.logits(ids);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  const summary = {
    median_ms: round(median),
    min_ms: round(times[0]),
    p90_ms: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.9))]),
    runs: opts.runs,
    seq: opts.seq,
    memory_bytes: model.memoryBytes(),
  };
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
