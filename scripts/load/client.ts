// The load generator: `requests` POST /classify requests, `concurrency` at a
// time over keep-alive connections (Node's fetch), each answer checked against
// the expected JSON (the same runtime run in this process), each latency
// recorded. Bounded: a per-request timeout and a deadline for the whole run.
import type { Body } from "./texts.ts";

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

export async function runLoad(
  url: string,
  bodies: Body[],
  expected: unknown[] | null,     // the expected parsed JSON answer of bodies[i]; null: any 200 will do
  opts: { requests: number; concurrency: number; requestTimeoutMs?: number; deadlineMs?: number },
): Promise<LoadResult> {
  const latencies = new Float64Array(opts.requests);
  const payloads = bodies.map((b) => JSON.stringify(b));
  const expectedText = expected?.map((e) => JSON.stringify(e)) ?? null;
  let next = 0, ok = 0, errors = 0;
  const errorSamples: string[] = [];
  const fail = (i: number, why: string) => {
    errors++;
    if (errorSamples.length < 10) errorSamples.push(`request ${i}: ${why}`);
  };
  const deadline = Date.now() + (opts.deadlineMs ?? 600_000);
  const t0 = performance.now();
  async function lane(): Promise<void> {
    while (next < opts.requests && Date.now() < deadline) {
      const i = next++;
      const b = i % payloads.length;
      const start = performance.now();
      try {
        const res = await fetch(`${url}/classify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: payloads[b],
          signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 30_000),
        });
        const text = await res.text();
        latencies[i] = performance.now() - start;
        if (res.status !== 200) fail(i, `HTTP ${res.status}: ${text.slice(0, 200)}`);
        else if (expectedText && JSON.stringify(JSON.parse(text)) !== expectedText[b]) fail(i, `wrong answer: ${text.slice(0, 200)}`);
        else ok++;
      } catch (err) {
        latencies[i] = performance.now() - start;
        fail(i, (err as Error).message);
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const seconds = (performance.now() - t0) / 1000;
  const done = Math.min(next, opts.requests);
  if (done < opts.requests) fail(done, `deadline reached after ${done} of ${opts.requests} requests`);
  const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return {
    requests: done,
    ok,
    errors,
    errorSamples,
    seconds,
    latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[sorted.length - 1], mean: sorted.reduce((a, v) => a + v, 0) / sorted.length },
  };
}
