// The int8 weight path of nn.Linear in the relaxed-SIMD build (build/axformer-relaxed.wasm):
// y[n, out] = x[n, in] · W[out, in]^T + b with W = Wq * scale[row], as in
// matmul_i8.ts, but the products run through i32x4.relaxed_dot_i8x16_i7x16_add_s
// (4 int8 x int8 products per lane and the add in one instruction: pmaddubsw +
// pmaddwd on x64, sdot on arm64).
//
// That instruction's second operand is "i7": its result is defined only for 0..127
// (x64 reads a byte with the top bit set as unsigned, arm64 as signed). So the
// weights (int8, -127..127) are the first operand and the activations the second,
// quantised per token row to unsigned 7 bits with a zero point:
//   x ~ (xq - zp) * xs,  xq in 0..127,  xs = (hi - lo) / 127,  zp = round(-lo / xs),
// with [lo, hi] the row's range widened to include 0 (so 0 is exact and a
// constant row is representable). Then, exactly in integers,
//   sum_k w[r, k] (xq[t, k] - zp[t]) = dot(w[r], xq[t]) - zp[t] * rowsum(w[r]),
// rowsum computed by the same instruction against a vector of ones, once per panel
// (1/n of the work). The result is rescaled as in matmul_i8.ts:
//   y = (f32(sum) * xs[t]) * scale[r] + b[r].
// 7-bit activations carry a quantisation error of up to (hi - lo) / 254 per
// element where the 16-bit path's is (max|x|) / 65534: the accuracy cost is
// measured (README, "Relaxed SIMD"), not assumed.
//
// No overflow: |dot| and |zp * rowsum| are at most in * 127 * 128 < 2^31 for
// in < 132,000, and the x64 pmaddubsw pairs at most 2 * 127 * 128 < 2^15.
//
// The activations' buffer (RunState.xq, 2 * max_len * in_max bytes) holds, for
// row t, the u8 row at xq + t * (in + 4) and its zero point (i32) right after it:
// n * (in + 4) <= 2 * n * in bytes whenever in >= 4 (the caller checks).
//
// Weights: the int8 panels of docs/format.md (8 rows, columns in pairs), read two
// pairs at a time; interleaving the 16-bit pairs of two steps (one punpck{l,h}wd
// each) gives rows 0..3 and rows 4..7 with 4 consecutive columns per lane, the
// order the instruction wants. Columns past cols & ~3 are added in scalar code.
import { LAYOUT_PANELS, PANEL_ROWS_INT8 } from "../format/constants";

const P: u32 = PANEL_ROWS_INT8; // 8

// acc + (4 products of w's bytes with x's bytes) per lane; x's bytes must be in 0..127.
@inline export function dot7(acc: v128, w: v128, x: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
}

export function rowStride7(inDim: u32): usize { return <usize>inDim + 4; }

export function quantizeRows7(xq: usize, xs: usize, x: usize, n: u32, inDim: u32): void {
  const in4 = inDim & ~3, in16 = inDim & ~15;
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23: round(v) in the low bits of v + magic
  const bias = i32x4.splat(0x4b400000), zero = i32x4.splat(0), top = i32x4.splat(127);
  for (let t: u32 = 0; t < n; t++) {
    const row = x + ((<usize>t * inDim) << 2);
    const qrow = xq + <usize>t * rowStride7(inDim);
    let vlo = f32x4.splat(0), vhi = vlo;
    for (let c: u32 = 0; c < in4; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      vlo = f32x4.pmin(vlo, v); vhi = f32x4.pmax(vhi, v);
    }
    let lo = min(min(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)), min(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
    let hi = max(max(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)), max(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
    for (let c = in4; c < inDim; c++) {
      const v = load<f32>(row + (<usize>c << 2));
      lo = min(lo, v); hi = max(hi, v);
    }
    const scale: f32 = (hi - lo) / 127;
    const inv: f32 = scale > 0 ? 1 / scale : 0;
    const zp: f32 = nearest(-lo * inv); // 0..127
    const iv = f32x4.splat(inv), zv = f32x4.add(f32x4.splat(zp), magic);
    for (let c: u32 = 0; c < in16; c += 16) {
      const p = row + (<usize>c << 2);
      // round(x * inv + zp), clamped to 0..127 (rounding can step past an end).
      const q0 = i32x4.min_s(i32x4.max_s(i32x4.sub(f32x4.add(f32x4.mul(v128.load(p), iv), zv), bias), zero), top);
      const q1 = i32x4.min_s(i32x4.max_s(i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 16), iv), zv), bias), zero), top);
      const q2 = i32x4.min_s(i32x4.max_s(i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 32), iv), zv), bias), zero), top);
      const q3 = i32x4.min_s(i32x4.max_s(i32x4.sub(f32x4.add(f32x4.mul(v128.load(p, 48), iv), zv), bias), zero), top);
      v128.store(qrow + c, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    }
    for (let c = in16; c < inDim; c++) {
      const q = nearest(load<f32>(row + (<usize>c << 2)) * inv + zp);
      store<u8>(qrow + c, <u8>min<f32>(max<f32>(q, 0), 127));
    }
    store<i32>(qrow + inDim, <i32>zp);
    store<f32>(xs + (<usize>t << 2), scale);
  }
}

export function matmulI8Relaxed(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
                                n: u32, inDim: u32, outDim: u32, layout: u32): void {
  const full = layout == LAYOUT_PANELS ? outDim / P * P : 0;
  if (full) panels(y, xq, xs, w, ws, b, n, inDim, full, <usize>outDim << 2);
  // The last outDim % 8 rows (or all of a layout 0 matrix) are row-major.
  if (full < outDim) {
    const col = <usize>full << 2;
    rows(y + col, xq, xs, w + <usize>full * <usize>inDim, ws + col, b ? b + col : 0, n, inDim, outDim - full, <usize>outDim << 2);
  }
}

// ---- panels

// Rows 0..3 and 4..7 of a panel at 4 consecutive columns, from the pair steps at pw and pw + 16.
@inline function rowsLo(pw: usize): v128 { return v128.shuffle<i16>(v128.load(pw), v128.load(pw, 16), 0, 8, 1, 9, 2, 10, 3, 11); }
@inline function rowsHi(pw: usize): v128 { return v128.shuffle<i16>(v128.load(pw), v128.load(pw, 16), 4, 12, 5, 13, 6, 14, 7, 15); }

// Element (j, c) of a panel (docs/format.md, int8 layout 1), for the scalar columns.
@inline function panelAt(panel: usize, inDim: u32, j: u32, c: u32): i32 {
  const even = inDim & ~1;
  return <i32>load<i8>(panel + (c < even ? <usize>(c & ~1) * P + 2 * j + (c & 1) : <usize>even * P + j));
}

// y[0..8) of one token: the 8 sums (minus zp * rowsum, plus the scalar columns), rescaled.
@inline function finish8(y: usize, a0: v128, a1: v128, x: usize, panel: usize, inDim: u32, c4: u32,
                         zp: i32, rs0: v128, rs1: v128, xs: f32, ws: usize, b: usize): void {
  const z = i32x4.splat(zp);
  a0 = i32x4.sub(a0, i32x4.mul(z, rs0));
  a1 = i32x4.sub(a1, i32x4.mul(z, rs1));
  if (c4 < inDim) {
    // Scalar columns: 4 outputs at a time through memory, kept short (at most 3 columns).
    for (let c = c4; c < inDim; c++) {
      const xv = <i32>load<u8>(x + c) - zp;
      a0 = i32x4.add(a0, i32x4.mul(i32x4.splat(xv), i32x4(panelAt(panel, inDim, 0, c), panelAt(panel, inDim, 1, c), panelAt(panel, inDim, 2, c), panelAt(panel, inDim, 3, c))));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.splat(xv), i32x4(panelAt(panel, inDim, 4, c), panelAt(panel, inDim, 5, c), panelAt(panel, inDim, 6, c), panelAt(panel, inDim, 7, c))));
    }
  }
  const s = f32x4.splat(xs);
  const b0 = b ? v128.load(b) : f32x4.splat(0), b1 = b ? v128.load(b, 16) : f32x4.splat(0);
  v128.store(y, f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(a0), s), v128.load(ws)), b0));
  v128.store(y, f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(a1), s), v128.load(ws, 16)), b1), 16);
}

function panels(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
                n: u32, inDim: u32, full: u32, yStride: usize): void {
  const xStride = rowStride7(inDim);
  const c4 = inDim & ~3;
  const quads = <usize>c4 * P; // panel bytes covered by groups of 4 columns
  const ones = i8x16.splat(1);
  for (let p: u32 = 0; p < full; p += P) {
    const panel = w + <usize>p * <usize>inDim;
    const col = <usize>p << 2;
    const wsp = ws + col, bp = b ? b + col : 0;
    // rowsum over the vector columns (the scalar ones subtract zp themselves).
    let rs0 = i32x4.splat(0), rs1 = rs0;
    for (let o: usize = 0; o < quads; o += 32) {
      rs0 = dot7(rs0, rowsLo(panel + o), ones); rs1 = dot7(rs1, rowsHi(panel + o), ones);
    }
    let t: u32 = 0;
    for (; t + 4 <= n; t += 4) {
      const x0 = xq + <usize>t * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
      let a00 = i32x4.splat(0), a01 = a00, a10 = a00, a11 = a00;
      let a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      let pw = panel, o: usize = 0;
      for (; o < <usize>c4; o += 4) {
        const lo = rowsLo(pw), hi = rowsHi(pw);
        let u = v128.load32_splat(x0 + o);
        a00 = dot7(a00, lo, u); a01 = dot7(a01, hi, u);
        u = v128.load32_splat(x1 + o);
        a10 = dot7(a10, lo, u); a11 = dot7(a11, hi, u);
        u = v128.load32_splat(x2 + o);
        a20 = dot7(a20, lo, u); a21 = dot7(a21, hi, u);
        u = v128.load32_splat(x3 + o);
        a30 = dot7(a30, lo, u); a31 = dot7(a31, hi, u);
        pw += 32;
      }
      const y0 = y + <usize>t * yStride + col;
      const s = xs + (<usize>t << 2);
      finish8(y0, a00, a01, x0, panel, inDim, c4, load<i32>(x0 + inDim), rs0, rs1, load<f32>(s), wsp, bp);
      finish8(y0 + yStride, a10, a11, x1, panel, inDim, c4, load<i32>(x1 + inDim), rs0, rs1, load<f32>(s, 4), wsp, bp);
      finish8(y0 + 2 * yStride, a20, a21, x2, panel, inDim, c4, load<i32>(x2 + inDim), rs0, rs1, load<f32>(s, 8), wsp, bp);
      finish8(y0 + 3 * yStride, a30, a31, x3, panel, inDim, c4, load<i32>(x3 + inDim), rs0, rs1, load<f32>(s, 12), wsp, bp);
    }
    for (; t < n; t++) {
      const x0 = xq + <usize>t * xStride;
      let a00 = i32x4.splat(0), a01 = a00;
      let pw = panel;
      for (let o: usize = 0; o < <usize>c4; o += 4) {
        const u = v128.load32_splat(x0 + o);
        a00 = dot7(a00, rowsLo(pw), u); a01 = dot7(a01, rowsHi(pw), u);
        pw += 32;
      }
      finish8(y + <usize>t * yStride + col, a00, a01, x0, panel, inDim, c4, load<i32>(x0 + inDim), rs0, rs1,
              load<f32>(xs + (<usize>t << 2)), wsp, bp);
    }
  }
}

// ---- rows: one row against one token at a time (classifier heads, the last
// outDim % 8 rows, version 1 files).

function rows(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
              n: u32, inDim: u32, outDim: u32, yStride: usize): void {
  const xStride = rowStride7(inDim);
  const c16 = <usize>(inDim & ~15);
  const ones = i8x16.splat(1);
  for (let r: u32 = 0; r < outDim; r++) {
    const w0 = w + <usize>r * <usize>inDim;
    let rs = i32x4.splat(0);
    for (let c: usize = 0; c < c16; c += 16) rs = dot7(rs, v128.load(w0 + c), ones);
    const rowsum = (i32x4.extract_lane(rs, 0) + i32x4.extract_lane(rs, 1)) + (i32x4.extract_lane(rs, 2) + i32x4.extract_lane(rs, 3));
    const scale = load<f32>(ws + (<usize>r << 2)), bias: f32 = b ? load<f32>(b + (<usize>r << 2)) : 0;
    for (let t: u32 = 0; t < n; t++) {
      const x0 = xq + <usize>t * xStride;
      const zp = load<i32>(x0 + inDim);
      let a = i32x4.splat(0);
      for (let c: usize = 0; c < c16; c += 16) a = dot7(a, v128.load(w0 + c), v128.load(x0 + c));
      let s = (i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1)) + (i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3)) - zp * rowsum;
      for (let c = <u32>c16; c < inDim; c++) s += <i32>load<i8>(w0 + c) * (<i32>load<u8>(x0 + c) - zp);
      store<f32>(y + <usize>t * yStride + (<usize>r << 2), (<f32>s * load<f32>(xs + (<usize>t << 2))) * scale + bias);
    }
  }
}
