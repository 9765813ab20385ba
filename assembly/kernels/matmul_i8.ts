// The int8 weight path of nn.Linear: y[n, out] = x[n, in] · W[out, in]^T + b with
// W = Wq * scale[row] (int8, one f32 scale per row). The activations are quantised
// per token row to 16-bit integers (x ~ xq * xs[t]), the dot products run exactly
// in integers (i32x4.dot_i16x8_s), and each result is rescaled once, the same way
// in every code path: y = (f32(sum) * xs[t]) * scale[r] + b[r].
//
// Panels (layout 1): panels of 8 rows, columns in pairs (docs/format.md), so one
// step loads the 8 rows x 2 columns of weights (2 x load8x8_s), broadcasts a pair
// of activations per token (load32_splat) and dot_i16x8_s gives 4 outputs each.
// A block of 4 tokens x 8 outputs: 8 i32x4 accumulators, the fastest block
// measured here (x64 has 16 XMM registers). Rows (layout 0): dot products of
// contiguous rows, 2 tokens x 4 rows per block.
//
// Overflow cannot happen: a sum has `in` products of at most qmax * 128, and
// quantMax(in) keeps in * qmax * 128 below 2^31.
import { LAYOUT_PANELS, PANEL_ROWS_INT8 } from "../format/constants";

const P: u32 = PANEL_ROWS_INT8; // 8: the block code below is written for it

export function quantMax(inDim: u32): f32 {
  const bound = <u32>(<u64>0x7fffffff / (<u64>128 * <u64>max<u32>(inDim, 1)));
  return <f32>min<u32>(bound, 32767);
}

// xq[n, in] (i16), xs[n] (f32) from x[n, in] (f32): xq = round(x / xs) (to
// nearest, ties to even) with xs = max|x| / qmax per row (0 for a zero row).
//
// The rounding adds 1.5 * 2^23, which leaves round(v) in the low bits of the
// float's pattern (|v| <= 32767 < 2^22); one shuffle then packs the low 16 bits of
// 8 lanes. (V8 expands the saturating float-to-int conversion into a long
// sequence, and f32x4.max into a NaN-handling one; pmax is one maxps.)
export function quantizeRows(xq: usize, xs: usize, x: usize, n: u32, inDim: u32): void {
  const qmax = quantMax(inDim);
  const in4 = inDim & ~3, in8 = inDim & ~7;
  const magic = f32x4.splat(12582912.0);
  for (let t: u32 = 0; t < n; t++) {
    const row = x + ((<usize>t * inDim) << 2);
    const qrow = xq + ((<usize>t * inDim) << 1);
    let m = f32x4.splat(0);
    for (let c: u32 = 0; c < in4; c += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(row + (<usize>c << 2))));
    let amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    for (let c = in4; c < inDim; c++) amax = max(amax, abs(load<f32>(row + (<usize>c << 2))));
    const scale: f32 = amax / qmax;
    const inv: f32 = scale > 0 ? 1 / scale : 0;
    const iv = f32x4.splat(inv);
    for (let c: u32 = 0; c < in8; c += 8) {
      const p = row + (<usize>c << 2);
      const lo = f32x4.add(f32x4.mul(v128.load(p), iv), magic);
      const hi = f32x4.add(f32x4.mul(v128.load(p, 16), iv), magic);
      v128.store(qrow + (<usize>c << 1), v128.shuffle<i16>(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
    }
    for (let c = in8; c < inDim; c++) {
      store<i16>(qrow + (<usize>c << 1), <i16>nearest(load<f32>(row + (<usize>c << 2)) * inv));
    }
    store<f32>(xs + (<usize>t << 2), scale);
  }
}

export function matmulI8(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
                         n: u32, inDim: u32, outDim: u32, layout: u32): void {
  if (layout == LAYOUT_PANELS) matmulI8Panels(y, xq, xs, w, ws, b, n, inDim, outDim);
  else matmulI8Rows(y, xq, xs, w, ws, b, n, inDim, outDim, <usize>outDim << 2);
}

@inline function step(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

// ---- panels

// y[0..8) of one token: (f32(acc) * xs) * scales + bias.
@inline function finish8(y: usize, a0: v128, a1: v128, xs: f32, ws: usize, b: usize): void {
  const s = f32x4.splat(xs);
  const b0 = b ? v128.load(b) : f32x4.splat(0), b1 = b ? v128.load(b, 16) : f32x4.splat(0);
  v128.store(y, f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(a0), s), v128.load(ws)), b0));
  v128.store(y, f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(a1), s), v128.load(ws, 16)), b1), 16);
}

// The odd last column of a panel: 8 int8 weights, one per row, paired with 0 so
// that dot_i16x8_s multiplies them by the one activation.
@inline function oddLo(w: v128): v128 { return v128.shuffle<i16>(w, i16x8.splat(0), 0, 8, 1, 9, 2, 10, 3, 11); }
@inline function oddHi(w: v128): v128 { return v128.shuffle<i16>(w, i16x8.splat(0), 4, 12, 5, 13, 6, 14, 7, 15); }

function matmulI8Panels(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
                        n: u32, inDim: u32, outDim: u32): void {
  const xStride = <usize>inDim << 1, yStride = <usize>outDim << 2;
  const pairs = <usize>(inDim & ~1) << 1; // bytes of x covered by column pairs
  const odd = (inDim & 1) != 0;
  const full = outDim / P * P;
  for (let p: u32 = 0; p < full; p += P) {
    const panel = w + <usize>p * <usize>inDim;
    const tail = panel + <usize>(inDim & ~1) * P; // the odd column, if any
    const col = <usize>p << 2;
    const wsp = ws + col, bp = b ? b + col : 0;
    let t: u32 = 0;
    for (; t + 4 <= n; t += 4) {
      const x0 = xq + <usize>t * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
      let a00 = i32x4.splat(0), a01 = a00, a10 = a00, a11 = a00;
      let a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      let pw = panel;
      for (let o: usize = 0; o < pairs; o += 4) {
        const w0 = v128.load8x8_s(pw), w1 = v128.load8x8_s(pw, 8);
        let u = v128.load32_splat(x0 + o);
        a00 = step(a00, u, w0); a01 = step(a01, u, w1);
        u = v128.load32_splat(x1 + o);
        a10 = step(a10, u, w0); a11 = step(a11, u, w1);
        u = v128.load32_splat(x2 + o);
        a20 = step(a20, u, w0); a21 = step(a21, u, w1);
        u = v128.load32_splat(x3 + o);
        a30 = step(a30, u, w0); a31 = step(a31, u, w1);
        pw += 16;
      }
      if (odd) {
        const wt = v128.load8x8_s(tail), lo = oddLo(wt), hi = oddHi(wt);
        let u = v128.load16_splat(x0 + pairs);
        a00 = step(a00, u, lo); a01 = step(a01, u, hi);
        u = v128.load16_splat(x1 + pairs);
        a10 = step(a10, u, lo); a11 = step(a11, u, hi);
        u = v128.load16_splat(x2 + pairs);
        a20 = step(a20, u, lo); a21 = step(a21, u, hi);
        u = v128.load16_splat(x3 + pairs);
        a30 = step(a30, u, lo); a31 = step(a31, u, hi);
      }
      const y0 = y + <usize>t * yStride + col;
      const s = xs + (<usize>t << 2);
      finish8(y0, a00, a01, load<f32>(s), wsp, bp);
      finish8(y0 + yStride, a10, a11, load<f32>(s, 4), wsp, bp);
      finish8(y0 + 2 * yStride, a20, a21, load<f32>(s, 8), wsp, bp);
      finish8(y0 + 3 * yStride, a30, a31, load<f32>(s, 12), wsp, bp);
    }
    for (; t < n; t++) {
      const x0 = xq + <usize>t * xStride;
      let a00 = i32x4.splat(0), a01 = a00;
      let pw = panel;
      for (let o: usize = 0; o < pairs; o += 4) {
        const u = v128.load32_splat(x0 + o);
        a00 = step(a00, u, v128.load8x8_s(pw)); a01 = step(a01, u, v128.load8x8_s(pw, 8));
        pw += 16;
      }
      if (odd) {
        const wt = v128.load8x8_s(tail), u = v128.load16_splat(x0 + pairs);
        a00 = step(a00, u, oddLo(wt)); a01 = step(a01, u, oddHi(wt));
      }
      finish8(y + <usize>t * yStride + col, a00, a01, load<f32>(xs + (<usize>t << 2)), wsp, bp);
    }
  }
  // The last outDim % 8 rows are row-major.
  if (full < outDim) {
    const col = <usize>full << 2;
    matmulI8Rows(y + col, xq, xs, w + <usize>full * <usize>inDim, ws + col, b ? b + col : 0, n, inDim, outDim - full, yStride);
  }
}

// ---- rows

// Sum of the 4 lanes, plus the columns [in8, inDim), rescaled.
@inline function finishRow(acc: v128, xq: usize, wq: usize, in8: u32, inDim: u32, xs: f32, ws: f32, bias: f32): f32 {
  let s = (i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1)) + (i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3));
  for (let c = in8; c < inDim; c++) {
    s += <i32>load<i16>(xq + (<usize>c << 1)) * <i32>load<i8>(wq + <usize>c);
  }
  return (<f32>s * xs) * ws + bias;
}

@inline function f32At(p: usize, i: u32): f32 {
  return p ? load<f32>(p + (<usize>i << 2)) : 0;
}

function matmulI8Rows(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
                      n: u32, inDim: u32, outDim: u32, yStride: usize): void {
  const in8 = inDim & ~7;
  const xStride = <usize>inDim << 1, wStride = <usize>inDim;
  let r: u32 = 0;
  for (; r + 4 <= outDim; r += 4) {
    const w0 = w + <usize>r * wStride, w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
    const s0 = f32At(ws, r), s1 = f32At(ws, r + 1), s2 = f32At(ws, r + 2), s3 = f32At(ws, r + 3);
    const b0 = f32At(b, r), b1 = f32At(b, r + 1), b2 = f32At(b, r + 2), b3 = f32At(b, r + 3);
    let t: u32 = 0;
    for (; t + 2 <= n; t += 2) {
      const x0 = xq + <usize>t * xStride, x1 = x0 + xStride;
      let a00 = i32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (let c: usize = 0; c < <usize>in8; c += 8) {
        const v0 = v128.load8x8_s(w0 + c), v1 = v128.load8x8_s(w1 + c), v2 = v128.load8x8_s(w2 + c), v3 = v128.load8x8_s(w3 + c);
        let u = v128.load(x0 + (c << 1));
        a00 = step(a00, u, v0); a01 = step(a01, u, v1); a02 = step(a02, u, v2); a03 = step(a03, u, v3);
        u = v128.load(x1 + (c << 1));
        a10 = step(a10, u, v0); a11 = step(a11, u, v1); a12 = step(a12, u, v2); a13 = step(a13, u, v3);
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2), y1 = y0 + yStride;
      const xs0 = f32At(xs, t), xs1 = f32At(xs, t + 1);
      store<f32>(y0, finishRow(a00, x0, w0, in8, inDim, xs0, s0, b0)); store<f32>(y0, finishRow(a01, x0, w1, in8, inDim, xs0, s1, b1), 4);
      store<f32>(y0, finishRow(a02, x0, w2, in8, inDim, xs0, s2, b2), 8); store<f32>(y0, finishRow(a03, x0, w3, in8, inDim, xs0, s3, b3), 12);
      store<f32>(y1, finishRow(a10, x1, w0, in8, inDim, xs1, s0, b0)); store<f32>(y1, finishRow(a11, x1, w1, in8, inDim, xs1, s1, b1), 4);
      store<f32>(y1, finishRow(a12, x1, w2, in8, inDim, xs1, s2, b2), 8); store<f32>(y1, finishRow(a13, x1, w3, in8, inDim, xs1, s3, b3), 12);
    }
    if (t < n) {
      const x0 = xq + <usize>t * xStride;
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let c: usize = 0; c < <usize>in8; c += 8) {
        const u = v128.load(x0 + (c << 1));
        a0 = step(a0, u, v128.load8x8_s(w0 + c)); a1 = step(a1, u, v128.load8x8_s(w1 + c));
        a2 = step(a2, u, v128.load8x8_s(w2 + c)); a3 = step(a3, u, v128.load8x8_s(w3 + c));
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2);
      const xs0 = f32At(xs, t);
      store<f32>(y0, finishRow(a0, x0, w0, in8, inDim, xs0, s0, b0)); store<f32>(y0, finishRow(a1, x0, w1, in8, inDim, xs0, s1, b1), 4);
      store<f32>(y0, finishRow(a2, x0, w2, in8, inDim, xs0, s2, b2), 8); store<f32>(y0, finishRow(a3, x0, w3, in8, inDim, xs0, s3, b3), 12);
    }
  }
  for (; r < outDim; r++) {
    const w0 = w + <usize>r * wStride;
    const s0 = f32At(ws, r), b0 = f32At(b, r);
    for (let t: u32 = 0; t < n; t++) {
      const x0 = xq + <usize>t * xStride;
      let a0 = i32x4.splat(0);
      for (let c: usize = 0; c < <usize>in8; c += 8) a0 = step(a0, v128.load(x0 + (c << 1)), v128.load8x8_s(w0 + c));
      store<f32>(y + <usize>t * yStride + (<usize>r << 2), finishRow(a0, x0, w0, in8, inDim, f32At(xs, t), s0, b0));
    }
  }
}
