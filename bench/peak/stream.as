// Single-core memory read bandwidth: the weight streaming of a short sequence is
// a read of every weight once, so the yardstick is a read of a buffer much larger
// than the caches, through 128-bit loads into 4 independent accumulators (the loop
// is load-bound, not add-bound). Compiled by bench/bandwidth.ts.
export function stream_read(p: usize, bytes: usize): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end = p + bytes;
  for (; p < end; p += 64) {
    a0 = i32x4.add(a0, v128.load(p));
    a1 = i32x4.add(a1, v128.load(p, 16));
    a2 = i32x4.add(a2, v128.load(p, 32));
    a3 = i32x4.add(a3, v128.load(p, 48));
  }
  const s = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 1) ^ i32x4.extract_lane(s, 2) ^ i32x4.extract_lane(s, 3);
}
