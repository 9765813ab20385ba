// The warm-up rule of host/cli/warmup.ts on a fake clock: each run() advances the
// clock by a scripted duration, so the test is exact and takes no time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { warmUp, warmUpSync } from "../host/cli/warmup.ts";

// A run whose duration is durations(i) ms on its i-th call, on a fake clock.
function scripted(durations: (i: number) => number) {
  let clock = 0, calls = 0;
  return { now: () => clock, run: () => { clock += durations(calls++); }, calls: () => calls };
}

test("fast-settled runs still warm up for minMs", () => {
  const s = scripted(() => 1);
  const r = warmUpSync(s.run, { now: s.now });
  assert.ok(r.settled);
  assert.ok(r.ms >= 2500, `warmed ${r.ms} ms`);
  assert.ok(r.ms <= 2502, `stopped at once after minMs, got ${r.ms}`);
  assert.is(r.runs, s.calls());
  assert.is(r.lastMedianMs, 1);
});

test("a slow start (baseline tier) is waited out until the timings settle", () => {
  // V8 tiers functions up one by one: 14.8 ms falling evenly to 10.8 ms over the
  // first 300 runs (3.8 s, past minMs), then flat. A count of 5, or 2.5 s alone,
  // would stop on the slope; the rule waits for two flat windows.
  const s = scripted((i) => (i < 300 ? 14.8 - (4 * i) / 300 : 10.8));
  const r = warmUpSync(s.run, { now: s.now });
  assert.ok(r.settled);
  assert.ok(r.lastMedianMs < 10.8 * 1.02, `last median ${r.lastMedianMs}`);
  assert.ok(r.runs > 300, `runs ${r.runs}`);
});

test("timings that keep drifting stop at maxMs, reported as not settled", () => {
  const s = scripted((i) => 1 + i * 0.01);
  const r = warmUpSync(s.run, { now: s.now, maxMs: 5000 });
  assert.not.ok(r.settled);
  assert.ok(r.ms >= 5000 && r.ms < 5000 + 1 + r.runs * 0.01 + 1);
});

test("slow runs: windows of at least 3 runs, and the async form awaits each run", async () => {
  let clock = 0, inFlight = 0, maxInFlight = 0;
  const r = await warmUp(async () => {
    inFlight++; maxInFlight = Math.max(maxInFlight, inFlight);
    await Promise.resolve();
    clock += 1000;
    inFlight--;
  }, { now: () => clock });
  assert.is(maxInFlight, 1);
  assert.ok(r.settled);
  assert.is(r.runs, 6); // 2.5 s passes after 3 runs, but two windows of 3 need 6
});

test("an option passed as undefined takes its default (the full bench's workerd warm-up)", () => {
  const s = scripted(() => 1);
  const r = warmUpSync(s.run, { minMs: undefined, now: s.now });
  assert.ok(r.settled);
  assert.ok(r.ms >= 2500 && r.ms <= 2502, `warmed ${r.ms} ms, the default minMs is 2500`);
});

test("options out of range are refused", () => {
  assert.throws(() => warmUpSync(() => {}, { minMs: 10, maxMs: 5 }), /out of range/);
});

test.run();
