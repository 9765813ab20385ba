// This core's memory read bandwidth, measured now with the wasm streaming kernel of
// bench/peak/stream.as over a buffer far larger than the last-level cache: the
// yardstick of short sequences, which are bound by streaming the weights.
// The figure is the best of `reps` passes (after one untimed pass that faults the
// pages in), the usual reading of a peak.
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";

interface StreamKernel { memory: WebAssembly.Memory; stream_read(p: number, bytes: number): number }

export interface Bandwidth { gbPerS: number; bufferMiB: number; reps: number }

async function compile(): Promise<StreamKernel> {
  const source = readFileSync(new URL("./peak/stream.as", import.meta.url), "utf8");
  const out = await asc.compileString({ "stream.ts": source }, { optimizeLevel: 3, enable: ["simd"], runtime: "stub" });
  if (out.error || !out.binary) throw new Error(`bench/peak/stream.as does not compile: ${out.error?.message}\n${out.stderr.toString()}`);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(out.binary)));
  return instance.exports as unknown as StreamKernel;
}

export async function measureBandwidth(bufferMiB = 256, reps = 10): Promise<Bandwidth> {
  const k = await compile();
  const bytes = bufferMiB * 2 ** 20;
  const base = k.memory.buffer.byteLength;
  k.memory.grow(Math.ceil(bytes / 65536) + 1);
  const p = (base + 63) & ~63;
  new Uint8Array(k.memory.buffer, p, bytes).fill(1); // fault the pages in
  let sink = k.stream_read(p, bytes), best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    sink ^= k.stream_read(p, bytes);
    best = Math.min(best, performance.now() - t);
  }
  if (!Number.isFinite(sink)) throw new Error("unreachable");
  return { gbPerS: bytes / best / 1e6, bufferMiB, reps };
}
