// The SIMD128 peak of one core, measured now, on this machine, with the
// micro-kernels of bench/peak/kernel.as (compiled here with asc, so what is
// timed is exactly that source). tinybench times each kernel; the peak is the
// fastest sample, the usual reading of a peak.
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { Bench } from "tinybench";

export interface Peak {
  f32Gflops: number; // f32x4 mul + add, 2 flops per lane
  i16Gmacs: number;  // i32x4.dot_i16x8_s, 8 multiply-adds per instruction
}

interface PeakKernels {
  f32_mul_add(iters: number, m: number, c: number): number;
  i16_dot(iters: number, b: number): number;
}

const OPS_PER_ITER = 96; // 12 accumulators x 4 lanes x (mul + add); 12 x 8 MACs for the dot
const ITERS = 2_000_000;  // about 3-5 ms per call

let kernels: Promise<PeakKernels> | null = null;

function compile(): Promise<PeakKernels> {
  kernels ??= (async () => {
    const source = readFileSync(new URL("./peak/kernel.as", import.meta.url), "utf8");
    const out = await asc.compileString({ "kernel.ts": source }, { optimizeLevel: 3, enable: ["simd"], runtime: "stub" });
    if (out.error || !out.binary) throw new Error(`bench/peak/kernel.as does not compile: ${out.error?.message}\n${out.stderr.toString()}`);
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(out.binary)));
    return instance.exports as unknown as PeakKernels;
  })();
  return kernels;
}

export async function measurePeak(timeMs = 600): Promise<Peak> {
  const k = await compile();
  let sink = 0;
  const bench = new Bench({ time: timeMs, iterations: 20, warmupIterations: 5 });
  bench.add("f32", () => { sink += k.f32_mul_add(ITERS, 0.9999, 0.0001); });
  bench.add("i16", () => { sink ^= k.i16_dot(ITERS, 3); });
  await bench.run();
  if (!Number.isFinite(sink)) throw new Error("peak kernel produced a non-finite value");
  const best = (name: string) => {
    const r = bench.getTask(name)?.result;
    if (!r || !("latency" in r)) throw new Error(`peak kernel ${name} did not run`);
    return r.latency.min; // ms per call
  };
  return {
    f32Gflops: (OPS_PER_ITER * ITERS) / best("f32") / 1e6,
    i16Gmacs: (OPS_PER_ITER * ITERS) / best("i16") / 1e6,
  };
}
