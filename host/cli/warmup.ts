// Warm-up by time and until the timings settle, the one warm-up of every latency
// figure (`axformer bench`, `npm run bench`, the main job's latency column).
//
// Why not a count: V8 first runs wasm through its baseline compiler and tiers a
// function up only after it has run for a while in the background; a few runs at a
// short sequence length time the baseline code (the MiniLM shape at seq 16: 14.8 ms
// after 5 runs, 10.8 ms after 300). So: run for at least minMs (onnxruntime-web's
// own bench warms for 2.5 s), then until the median of the last window of runs is
// within `tolerance` of the median of the window before it. A window is the runs of
// the last windowMs, at least 3 of them, so a 1 ms and a 1 s forward pass settle alike.
// maxMs caps it; the result says whether it settled.

export interface WarmupOptions {
  minMs?: number;     // run at least this long (default 2500)
  maxMs?: number;     // and at most this long (default 20000), settled or not
  windowMs?: number;  // a window is the runs of this long (default 500), at least minWindow runs
  minWindow?: number; // default 3
  tolerance?: number; // settled: |median(last) / median(previous) - 1| < tolerance (default 0.02)
  now?: () => number; // the clock, in ms (default performance.now; tests pass a fake one)
}

export interface WarmupResult {
  runs: number;
  ms: number;        // time spent warming up
  settled: boolean;  // false: maxMs ran out first
  lastMedianMs: number;
  change: number;    // |median(last) / median(previous) - 1| at the end
}

export const WARMUP_DEFAULTS: Required<WarmupOptions> = {
  minMs: 2500, maxMs: 20_000, windowMs: 500, minWindow: 3, tolerance: 0.02, now: () => performance.now(),
};

// The options with their defaults; an option given as undefined takes its default
// (callers pass optional settings through, e.g. `{ minMs: opts.warmupMs }`).
function withDefaults(o: WarmupOptions): Required<WarmupOptions> {
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return { ...WARMUP_DEFAULTS, ...given };
}

// A one-line statement of the rule, for reports.
export function describeWarmup(o: WarmupOptions = {}): string {
  const p = withDefaults(o);
  return `warm-up by time: at least ${p.minMs / 1000} s and until the median of the last ${p.windowMs} ms of runs ` +
    `(>= ${p.minWindow} runs) is within ${(p.tolerance * 100).toFixed(0)}% of the window before (at most ${p.maxMs / 1000} s)`;
}

export async function warmUp(run: () => unknown, opts: WarmupOptions = {}): Promise<WarmupResult> {
  return settle(run, opts, true);
}

// The synchronous form, for callers that are (the CLI's measureLatency).
export function warmUpSync(run: () => unknown, opts: WarmupOptions = {}): WarmupResult {
  return settle(run, opts, false) as unknown as WarmupResult;
}

// One loop for both: awaits run()'s promise only when asked to (a sync caller's
// run() returns no promise, and the loop then never awaits).
function settle(run: () => unknown, opts: WarmupOptions, awaitRuns: true): Promise<WarmupResult>;
function settle(run: () => unknown, opts: WarmupOptions, awaitRuns: false): WarmupResult;
function settle(run: () => unknown, opts: WarmupOptions, awaitRuns: boolean): WarmupResult | Promise<WarmupResult> {
  const p = withDefaults(opts);
  if (!(p.minMs >= 0 && p.maxMs >= p.minMs && p.windowMs > 0 && p.minWindow >= 1 && p.tolerance > 0)) {
    throw new Error(`warm-up options out of range: ${JSON.stringify(p)}`);
  }
  const times: number[] = [];
  const start = p.now();
  let change = Infinity;
  // True when warm-up may stop after the runs timed so far.
  const done = (): boolean => {
    const elapsed = p.now() - start;
    if (elapsed >= p.maxMs) return true;
    if (elapsed < p.minMs) return false;
    const w = windowSize(times, p.windowMs, p.minWindow);
    if (times.length < 2 * w) return false;
    const last = median(times.slice(-w)), prev = median(times.slice(-2 * w, -w));
    change = Math.abs(last / prev - 1);
    return change < p.tolerance;
  };
  const result = (): WarmupResult => {
    const w = windowSize(times, p.windowMs, p.minWindow);
    return { runs: times.length, ms: p.now() - start, settled: change < p.tolerance,
      lastMedianMs: median(times.slice(-w)), change };
  };
  if (!awaitRuns) {
    do {
      const t = p.now();
      run();
      times.push(p.now() - t);
    } while (!done());
    return result();
  }
  return (async () => {
    do {
      const t = p.now();
      await run();
      times.push(p.now() - t);
    } while (!done());
    return result();
  })();
}

// How many of the latest runs make up windowMs (at least minWindow, at most all).
function windowSize(times: number[], windowMs: number, minWindow: number): number {
  let w = 0, sum = 0;
  while (w < times.length && (w < minWindow || sum < windowMs)) sum += times[times.length - 1 - w++];
  return w;
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
