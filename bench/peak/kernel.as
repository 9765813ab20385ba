// WASM SIMD128 peak of one core, the yardstick the bench divides by.
// AssemblyScript, compiled by bench/peak.ts at bench start (the .as extension
// keeps it out of the host's tsc run).
//
// Each loop body makes 12 independent dependency chains, enough to cover the
// latency of the vector units, so the loop runs at the throughput of the ports.
// Every chain depends on its own accumulator, so no compiler can hoist work out
// of the loop.

// acc = acc * m + c on 12 f32x4 accumulators: 12 * 4 * 2 = 96 flops per iteration.
// m < 1 and c > 0 keep the values near 1 (no overflow, no denormals).
export function f32_mul_add(iters: i32, m0: f32, c0: f32): f32 {
  const m = f32x4.splat(m0), c = f32x4.splat(c0);
  let a0 = f32x4.splat(1.00), a1 = f32x4.splat(1.01), a2 = f32x4.splat(1.02), a3 = f32x4.splat(1.03);
  let a4 = f32x4.splat(1.04), a5 = f32x4.splat(1.05), a6 = f32x4.splat(1.06), a7 = f32x4.splat(1.07);
  let a8 = f32x4.splat(1.08), a9 = f32x4.splat(1.09), a10 = f32x4.splat(1.10), a11 = f32x4.splat(1.11);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), c);
    a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c);
    a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c);
    a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c);
    a7 = f32x4.add(f32x4.mul(a7, m), c);
    a8 = f32x4.add(f32x4.mul(a8, m), c);
    a9 = f32x4.add(f32x4.mul(a9, m), c);
    a10 = f32x4.add(f32x4.mul(a10, m), c);
    a11 = f32x4.add(f32x4.mul(a11, m), c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const t = f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11));
  const u = f32x4.add(s, t);
  return f32x4.extract_lane(u, 0) + f32x4.extract_lane(u, 1) + f32x4.extract_lane(u, 2) + f32x4.extract_lane(u, 3);
}

// acc += dot_i16x8_s(acc, b) on 12 accumulators: 12 * 8 = 96 multiply-adds per
// iteration (int32 wraps; the values do not matter, only the time).
export function i16_dot(iters: i32, b0: i32): i32 {
  const b = i16x8.splat(<i16>b0);
  let a0 = i32x4.splat(1), a1 = i32x4.splat(2), a2 = i32x4.splat(3), a3 = i32x4.splat(4);
  let a4 = i32x4.splat(5), a5 = i32x4.splat(6), a6 = i32x4.splat(7), a7 = i32x4.splat(8);
  let a8 = i32x4.splat(9), a9 = i32x4.splat(10), a10 = i32x4.splat(11), a11 = i32x4.splat(12);
  for (let i = 0; i < iters; i++) {
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(a0, b));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(a1, b));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(a2, b));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(a3, b));
    a4 = i32x4.add(a4, i32x4.dot_i16x8_s(a4, b));
    a5 = i32x4.add(a5, i32x4.dot_i16x8_s(a5, b));
    a6 = i32x4.add(a6, i32x4.dot_i16x8_s(a6, b));
    a7 = i32x4.add(a7, i32x4.dot_i16x8_s(a7, b));
    a8 = i32x4.add(a8, i32x4.dot_i16x8_s(a8, b));
    a9 = i32x4.add(a9, i32x4.dot_i16x8_s(a9, b));
    a10 = i32x4.add(a10, i32x4.dot_i16x8_s(a10, b));
    a11 = i32x4.add(a11, i32x4.dot_i16x8_s(a11, b));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  const u = i32x4.add(s, i32x4.add(i32x4.add(a8, a9), i32x4.add(a10, a11)));
  return i32x4.extract_lane(u, 0) ^ i32x4.extract_lane(u, 1) ^ i32x4.extract_lane(u, 2) ^ i32x4.extract_lane(u, 3);
}
