// Softmax over one row of len scores (one head, one query), as PyTorch computes
// it: exp(x - max) / sum. exp runs 4 lanes at a time (exp4), the sum is
// accumulated in f64. Three passes: the max, the exps, their sum; attention
// normalises by 1 / sum itself (folded into its output).

// e^x for 4 lanes, Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in
// two constants so r is exact), e^r by a degree-7 polynomial, 2^n through the
// exponent bits. Within 2 ulp of e^x (test/kernels.test.ts checks it); lanes below
// -87.33 (where 2^n would leave the normal range) give exactly 0, as e^x
// underflows to at most a subnormal there; x is never above 0 here.
//
// n = round(x log2 e) comes from adding 1.5 * 2^23, which leaves n in the low
// mantissa bits: no nearest() or float-to-int conversion (V8 expands the
// saturating one into a long sequence), and pmax maps to one maxps.
@inline export function exp4(x0: v128): v128 {
  const x = f32x4.pmax(x0, f32x4.splat(-87.3365447505531));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // t's bits are 0x4b400000 + n; 2^n is (n + 127) << 23.
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  const e = f32x4.mul(p, scale);
  return v128.andnot(e, f32x4.lt(x0, f32x4.splat(-87.3365447505531)));
}

// The unnormalised softmax: x[i] = exp(x[i] / div - max / div) in place; returns
// 1 / sum, the factor that normalises. (Rounding is monotonic, so max(x) / div
// is the max of the x[i] / div.) Dense attention scales its output by it
// instead of scaling every probability. (A multiply by 1 / div would be 10%
// faster here but not bit-identical, and test/fixtures pin logits bit for bit.)
export function expScaled(x: usize, len: u32, div: f32): f32 {
  const len4 = len & ~3, rest = len - len4;
  const end4 = x + (<usize>len4 << 2);
  let mv = f32x4.splat(-Infinity);
  for (let p = x; p < end4; p += 16) mv = f32x4.pmax(mv, v128.load(p));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let p = end4, e = x + (<usize>len << 2); p < e; p += 4) m = max(m, load<f32>(p));
  const dv = f32x4.splat(div);
  const mm = f32x4.splat(m / div);
  // The exps (8 at a time: two independent chains), then their sum in a second
  // pass: in one loop the two f64 sums do not fit in registers next to exp4's
  // constants, and V8 keeps them on the stack, a store and a reload on the
  // loop-carried chain of every step (22% slower in all, measured at n = 256).
  let q = x;
  for (const end8 = x + (<usize>(len & ~7) << 2); q < end8; q += 32) {
    const a = exp4(f32x4.sub(f32x4.div(v128.load(q), dv), mm));
    const b = exp4(f32x4.sub(f32x4.div(v128.load(q, 16), dv), mm));
    v128.store(q, a);
    v128.store(q, b, 16);
  }
  if (q < end4) v128.store(q, exp4(f32x4.sub(f32x4.div(v128.load(q), dv), mm)));
  let s0 = f64x2.splat(0), s1 = s0;
  for (let p = x; p < end4; p += 16) {
    const e = v128.load(p);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
  }
  let sum = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1)) + (f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1));
  if (rest) {
    // The tail through the same exp4, so every element is computed the same way.
    let t = f32x4.splat(-Infinity);
    t = f32x4.replace_lane(t, 0, load<f32>(end4));
    if (rest > 1) t = f32x4.replace_lane(t, 1, load<f32>(end4, 4));
    if (rest > 2) t = f32x4.replace_lane(t, 2, load<f32>(end4, 8));
    t = exp4(f32x4.sub(f32x4.div(t, dv), mm));
    store<f32>(end4, f32x4.extract_lane(t, 0)); sum += <f64>f32x4.extract_lane(t, 0);
    if (rest > 1) { store<f32>(end4, f32x4.extract_lane(t, 1), 4); sum += <f64>f32x4.extract_lane(t, 1); }
    if (rest > 2) { store<f32>(end4, f32x4.extract_lane(t, 2), 8); sum += <f64>f32x4.extract_lane(t, 2); }
  }
  return <f32>(1.0 / sum);
}
