// LayerNorm over rows of h values, as PyTorch computes it: biased variance, eps
// inside the square root. Mean, variance and the normalisation run in f64
// (f64x2, two lanes per f32 lane pair), which is at least as accurate as
// PyTorch's f32 cascade sums; the result is rounded to f32 once.

@inline function lo(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
@inline function hi(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)); }

// x[n, h] = LayerNorm(x[n, h] + y[n, h]): the post-LN residual of BERT. y = 0
// (null pointer) normalises x alone, for removed blocks and the embeddings.
export function addLayerNorm(x: usize, y: usize, n: u32, h: u32, gamma: usize, beta: usize, eps: f32): void {
  const rowBytes = <usize>h << 2;
  const end4 = <usize>(h & ~3) << 2;
  for (let t: u32 = 0; t < n; t++) {
    const row = x + <usize>t * rowBytes;
    if (y) {
      const yrow = y + <usize>t * rowBytes;
      let o: usize = 0;
      for (; o < end4; o += 16) v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(yrow + o)));
      for (; o < rowBytes; o += 4) store<f32>(row + o, load<f32>(row + o) + load<f32>(yrow + o));
    }
    let s0 = f64x2.splat(0), s1 = s0;
    let o: usize = 0;
    for (; o < end4; o += 16) {
      const v = v128.load(row + o);
      s0 = f64x2.add(s0, lo(v));
      s1 = f64x2.add(s1, hi(v));
    }
    let sum = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0)) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
    for (; o < rowBytes; o += 4) sum += <f64>load<f32>(row + o);
    const mean = sum / <f64>h;
    const mv = f64x2.splat(mean);
    s0 = f64x2.splat(0); s1 = s0;
    for (o = 0; o < end4; o += 16) {
      const v = v128.load(row + o);
      const d0 = f64x2.sub(lo(v), mv), d1 = f64x2.sub(hi(v), mv);
      s0 = f64x2.add(s0, f64x2.mul(d0, d0));
      s1 = f64x2.add(s1, f64x2.mul(d1, d1));
    }
    let sq = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0)) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
    for (; o < rowBytes; o += 4) {
      const d = <f64>load<f32>(row + o) - mean;
      sq += d * d;
    }
    const rstd = 1.0 / Math.sqrt(sq / <f64>h + <f64>eps);
    const rv = f64x2.splat(rstd);
    for (o = 0; o < end4; o += 16) {
      const v = v128.load(row + o), g = v128.load(gamma + o), b = v128.load(beta + o);
      const r0 = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(lo(v), mv), rv), lo(g)), lo(b));
      const r1 = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(hi(v), mv), rv), hi(g)), hi(b));
      v128.store(row + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(r0), f32x4.demote_f64x2_zero(r1), 0, 1, 4, 5));
    }
    for (; o < rowBytes; o += 4) {
      const v = (<f64>load<f32>(row + o) - mean) * rstd;
      store<f32>(row + o, <f32>(v * <f64>load<f32>(gamma + o) + <f64>load<f32>(beta + o)));
    }
  }
}
