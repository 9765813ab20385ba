// Which runtime build to run: build/axformer-relaxed.wasm (relaxed SIMD: f32x4.relaxed_madd
// and i32x4.relaxed_dot_i8x16_i7x16_add_s, assembly/kernels/matmul*.ts) where the engine
// both accepts it and computes it right, else build/axformer.wasm (plain SIMD128, the
// reference). Universal: no Node built-ins (Node, Workers, browsers).
//
// Two checks, because either alone is not enough: an engine without relaxed SIMD
// refuses the module (Node 20 validates it only behind --experimental-wasm-relaxed-simd),
// and an engine may accept it yet compute it wrongly (Node 20 with that flag returns
// twice the dot product and drops the accumulator). So after instantiating the
// relaxed build, its export simd_selftest() runs the very helpers the kernels inline
// on known inputs, and the host compares with answers computed here.
import { instantiate, type Engine } from "./index.ts";

export type SimdBuild = "relaxed" | "simd";
export type SimdPreference = "auto" | SimdBuild;

export interface RuntimeChoice {
  engine: Engine;
  build: SimdBuild;
  reason: string; // why this build: "relaxed SIMD validated and passed its self-test (...)" or why not
}

// A module of two functions (v128, v128, v128) -> v128: f32x4.relaxed_madd and
// i32x4.relaxed_dot_i8x16_i7x16_add_s (opcodes 0xfd 0x105 and 0xfd 0x113).
export const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x03, 0x02, 0x00, 0x00,                               // two functions of that type
  0x0a, 0x19, 0x02,                                           // code
  0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
  0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x93, 0x02, 0x0b,
]);

export function relaxedValidates(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

// The known answers (layout: assembly/index.ts, simd_selftest). The i8 operand spans
// -128..127, the i7 one 0..127 with its extremes (the kernels keep it there), the
// accumulator is non-zero. relaxed_madd may fuse or not: lane 3 is a * b + c with
// a = b = 1 + 2^-12, c = -(1 + 2^-11), whose answer is 2^-24 fused and 0 unfused;
// the other lanes are exact either way.
const W = [-127, 127, -1, 5, 100, -100, 64, -64, 1, 2, 3, 4, -128, 127, 0, 7];
const X = [127, 127, 127, 127, 0, 1, 64, 127, 100, 50, 25, 12, 127, 127, 1, 0];
const ACC = [0, 1000, -2000, 123456];
const MA = [1.5, -2, 0, 1 + 2 ** -12], MB = [2, 3, 5, 1 + 2 ** -12], MC = [0.25, 1, 7, -(1 + 2 ** -11)];

// null when the engine computes the relaxed build's instructions as the kernels need, else what went wrong.
export function relaxedSelfTest(engine: Engine): string | null {
  const x = engine.exports;
  const p = x.simd_selftest_ptr() >>> 0;
  const m = new DataView(x.memory.buffer);
  W.forEach((v, i) => m.setInt8(p + i, v));
  X.forEach((v, i) => m.setUint8(p + 16 + i, v));
  ACC.forEach((v, i) => m.setInt32(p + 32 + 4 * i, v, true));
  [MA, MB, MC].forEach((vs, k) => vs.forEach((v, i) => m.setFloat32(p + 48 + 16 * k + 4 * i, v, true)));
  if (x.simd_selftest() !== 1) return "the module is not the relaxed build (simd_selftest() ran nothing)";
  const problems: string[] = [];
  const dot = [0, 1, 2, 3].map((i) => m.getInt32(p + 96 + 4 * i, true));
  const wantDot = ACC.map((a, i) => a + [0, 1, 2, 3].reduce((s, k) => s + W[4 * i + k] * X[4 * i + k], 0));
  if (dot.some((v, i) => v !== wantDot[i])) problems.push(`i32x4.relaxed_dot_i8x16_i7x16_add_s gave [${dot}], expected [${wantDot}]`);
  const madd = [0, 1, 2, 3].map((i) => m.getFloat32(p + 112 + 4 * i, true));
  const wantMadd = [3.25, -5, 7];
  if (madd.slice(0, 3).some((v, i) => v !== wantMadd[i]) || !(madd[3] === 0 || madd[3] === 2 ** -24)) {
    problems.push(`f32x4.relaxed_madd gave [${madd}], expected [${wantMadd}, 0 or 2^-24]`);
  }
  return problems.length ? problems.join("; ") : null;
}

// Instantiates the relaxed build when asked for ("relaxed"), or when it may ("auto")
// and both checks pass; the plain build otherwise, with the reason. "relaxed" throws
// rather than fall back. A WebAssembly.Module source (Workers) is already compiled,
// which is its validation; bytes are validated through the probe first.
export async function instantiateBest(plain: WebAssembly.Module | BufferSource, relaxed: WebAssembly.Module | BufferSource | null,
                                      prefer: SimdPreference = "auto"): Promise<RuntimeChoice> {
  const fallback = async (reason: string): Promise<RuntimeChoice> => {
    if (prefer === "relaxed") throw new Error(`the relaxed-SIMD runtime cannot be used here: ${reason}`);
    return { engine: await instantiate(plain), build: "simd", reason };
  };
  if (prefer === "simd") return fallback("the plain SIMD build was asked for");
  if (!relaxed) return fallback("no relaxed-SIMD build was given");
  if (!(relaxed instanceof WebAssembly.Module) && !relaxedValidates()) {
    return fallback("this engine does not accept relaxed SIMD (a module with relaxed_madd and relaxed_dot_i8x16_i7x16_add_s does not validate)");
  }
  let engine: Engine;
  try {
    engine = await instantiate(relaxed);
  } catch (err) {
    return fallback(`the relaxed-SIMD build does not instantiate: ${(err as Error).message}`);
  }
  const problem = relaxedSelfTest(engine);
  if (problem) return fallback(`relaxed SIMD is accepted but computes wrongly here: ${problem}`);
  const fused = new DataView(engine.exports.memory.buffer).getFloat32((engine.exports.simd_selftest_ptr() >>> 0) + 124, true) !== 0;
  return { engine, build: "relaxed", reason: `relaxed SIMD validated and passed its self-test (relaxed_madd ${fused ? "fused" : "not fused"})` };
}
