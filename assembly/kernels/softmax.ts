// Softmax in place over one row of len scores (one head, one query), as PyTorch
// computes it: exp(x - max) / sum. exp runs 4 lanes at a time (exp4), the sum is
// accumulated in f64.

// e^x for 4 lanes, Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in
// two constants so r is exact), e^r by a degree-7 polynomial, 2^n through the
// exponent bits. Within 2 ulp of e^x (test/kernels.test.ts checks it); lanes below
// -87.33 (where 2^n would leave the normal range) give exactly 0, as e^x
// underflows to at most a subnormal there; x is never above 0 here.
@inline export function exp4(x0: v128): v128 {
  const x = f32x4.max(x0, f32x4.splat(-87.3365447505531));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const e = f32x4.mul(p, scale);
  return v128.andnot(e, f32x4.lt(x0, f32x4.splat(-87.3365447505531)));
}

export function softmax(x: usize, len: u32): void {
  const len4 = len & ~3, rest = len - len4;
  const end4 = x + (<usize>len4 << 2);
  let mv = f32x4.splat(-Infinity);
  for (let p = x; p < end4; p += 16) mv = f32x4.max(mv, v128.load(p));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let p = end4, e = x + (<usize>len << 2); p < e; p += 4) m = max(m, load<f32>(p));
  const mm = f32x4.splat(m);
  let s0 = f64x2.splat(0), s1 = s0;
  for (let p = x; p < end4; p += 16) {
    const e = exp4(f32x4.sub(v128.load(p), mm));
    v128.store(p, e);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
  }
  let sum = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1)) + (f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1));
  // The tail through the same exp4, so every element is computed the same way.
  let t = f32x4.splat(-Infinity);
  if (rest > 0) t = f32x4.replace_lane(t, 0, load<f32>(end4));
  if (rest > 1) t = f32x4.replace_lane(t, 1, load<f32>(end4, 4));
  if (rest > 2) t = f32x4.replace_lane(t, 2, load<f32>(end4, 8));
  t = exp4(f32x4.sub(t, mm));
  if (rest > 0) { store<f32>(end4, f32x4.extract_lane(t, 0)); sum += <f64>f32x4.extract_lane(t, 0); }
  if (rest > 1) { store<f32>(end4, f32x4.extract_lane(t, 1), 4); sum += <f64>f32x4.extract_lane(t, 1); }
  if (rest > 2) { store<f32>(end4, f32x4.extract_lane(t, 2), 8); sum += <f64>f32x4.extract_lane(t, 2); }
  const inv = f32x4.splat(<f32>(1.0 / sum));
  for (let p = x; p < end4; p += 16) v128.store(p, f32x4.mul(v128.load(p), inv));
  for (let p = end4, e = x + (<usize>len << 2); p < e; p += 4) store<f32>(p, load<f32>(p) * f32x4.extract_lane(inv, 0));
}
