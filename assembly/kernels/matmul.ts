// y[n, out] = x[n, in] · W[out, in]^T + b[out]: nn.Linear, for W in either layout
// of docs/format.md ("Weight layout").
//
// Panels (layout 1, what the writer produces): the broadcast form. W's rows come in
// panels of 16, stored transposed, so one step along `in` loads the 16 weights of
// that column (4 v128) and multiplies them by one broadcast activation per token.
// A block of 2 tokens x 16 outputs keeps 8 f32x4 accumulators + 4 weights + 2
// broadcasts in registers: x64 has 16 XMM registers and V8 keeps one for itself,
// so the 4 x 4 dot-product block (16 accumulators) spills; this one runs at the
// SIMD peak (mul + add, no FMA in WASM SIMD128). Each output is a plain sequential
// sum over `in` in f32, then + bias, in every code path.
//
// Rows (layout 0: version 1 files, and the < 16 rows after the last panel): dot
// products of contiguous rows, 2 tokens x 4 rows per block; every (token, row)
// is accumulated the same way whichever block it falls in: 4 lanes over in & ~3,
// lanes summed (0+1)+(2+3), then the scalar tail, then the bias.
//
// In both, a token's output does not depend on n or on where the token sits in a
// block, and no shape needs padding.
import { LAYOUT_PANELS, PANEL_ROWS_F32 } from "../format/constants";

const P: u32 = PANEL_ROWS_F32; // 16: the block code below is written for it

// a * b + c in each lane. The plain build: a rounded multiply, then a rounded
// add (WASM SIMD128 has no FMA). The relaxed build (build/axformer-relaxed.wasm,
// ASC_FEATURE_RELAXED_SIMD): f32x4.relaxed_madd, one rounding where the CPU has
// FMA (x64 with FMA3, arm64), else the same two; so relaxed results may differ
// from plain ones by the rounding of each product, a relative 2^-24 per term.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

export function matmul(y: usize, x: usize, w: usize, b: usize, n: u32, inDim: u32, outDim: u32, layout: u32): void {
  if (layout == LAYOUT_PANELS) matmulPanels(y, x, w, b, n, inDim, outDim);
  else matmulRows(y, <usize>outDim << 2, x, <usize>inDim << 2, w, <usize>inDim << 2, b, n, inDim, outDim);
}

// ---- panels

@inline function biasVec(b: usize, at: usize): v128 {
  return b ? v128.load(b + at) : f32x4.splat(0);
}

function matmulPanels(y: usize, x: usize, w: usize, b: usize, n: u32, inDim: u32, outDim: u32): void {
  const stride = <usize>inDim << 2;      // bytes per row of x
  const yStride = <usize>outDim << 2;    // bytes per row of y
  const full = outDim / P * P;
  broadcast16(y, yStride, x, stride, w, P << 2, stride * P, b, n, inDim, full / P);
  // The last outDim % 16 rows are row-major.
  if (full < outDim) {
    const col = <usize>full << 2;
    matmulRows(y + col, yStride, x, stride, w + <usize>full * stride, stride, b ? b + col : 0, n, inDim, outDim - full);
  }
}

// The broadcast kernel, also used by attention on Kᵀ and V:
//   y[t, c] = sum over k < inDim of x[t, k] * W(k, c), + b[c]
// for t < n and c < 16 * panels, where W(k, c) is the f32 at
//   w + (c / 16) * panelStep + k * wStep + (c % 16) * 4
// (16 consecutive outputs are contiguous at each k). Rows of x and y are
// xStride / yStride bytes apart; b may be 0.
export function broadcast16(y: usize, yStride: usize, x: usize, xStride: usize, w: usize, wStep: usize, panelStep: usize,
                            b: usize, n: u32, inDim: u32, panels: u32): void {
  const xEnd = <usize>inDim << 2;
  for (let p: u32 = 0; p < panels; p++) {
    const panel = w + <usize>p * panelStep;
    const col = <usize>p << 6;           // byte offset of the panel's first output in a y row / in b
    let t: u32 = 0;
    for (; t + 2 <= n; t += 2) {
      const x0 = x + <usize>t * xStride, x1 = x0 + xStride;
      const y0 = y + <usize>t * yStride + col, y1 = y0 + yStride;
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      let pw = panel;
      for (let o: usize = 0; o < xEnd; o += 4) {
        const w0 = v128.load(pw), w1 = v128.load(pw, 16), w2 = v128.load(pw, 32), w3 = v128.load(pw, 48);
        const u = v128.load32_splat(x0 + o);
        a00 = madd(u, w0, a00); a01 = madd(u, w1, a01);
        a02 = madd(u, w2, a02); a03 = madd(u, w3, a03);
        const v = v128.load32_splat(x1 + o);
        a10 = madd(v, w0, a10); a11 = madd(v, w1, a11);
        a12 = madd(v, w2, a12); a13 = madd(v, w3, a13);
        pw += wStep;
      }
      v128.store(y0, f32x4.add(a00, biasVec(b, col)));
      v128.store(y0, f32x4.add(a01, biasVec(b, col + 16)), 16);
      v128.store(y0, f32x4.add(a02, biasVec(b, col + 32)), 32);
      v128.store(y0, f32x4.add(a03, biasVec(b, col + 48)), 48);
      v128.store(y1, f32x4.add(a10, biasVec(b, col)));
      v128.store(y1, f32x4.add(a11, biasVec(b, col + 16)), 16);
      v128.store(y1, f32x4.add(a12, biasVec(b, col + 32)), 32);
      v128.store(y1, f32x4.add(a13, biasVec(b, col + 48)), 48);
    }
    if (t < n) {
      const x0 = x + <usize>t * xStride;
      const y0 = y + <usize>t * yStride + col;
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let pw = panel;
      for (let o: usize = 0; o < xEnd; o += 4) {
        const u = v128.load32_splat(x0 + o);
        a00 = madd(u, v128.load(pw), a00); a01 = madd(u, v128.load(pw, 16), a01);
        a02 = madd(u, v128.load(pw, 32), a02); a03 = madd(u, v128.load(pw, 48), a03);
        pw += wStep;
      }
      v128.store(y0, f32x4.add(a00, biasVec(b, col)));
      v128.store(y0, f32x4.add(a01, biasVec(b, col + 16)), 16);
      v128.store(y0, f32x4.add(a02, biasVec(b, col + 32)), 32);
      v128.store(y0, f32x4.add(a03, biasVec(b, col + 48)), 48);
    }
  }
}

// broadcast16 for fewer than 16 outputs (W(k, c) at w + k * wStep + c * 4,
// c < cols): 4 at a time, then one at a time, the same sequential sums.
export function broadcastNarrow(y: usize, yStride: usize, x: usize, xStride: usize, w: usize, wStep: usize,
                                b: usize, n: u32, inDim: u32, cols: u32): void {
  const xEnd = <usize>inDim << 2;
  for (let t: u32 = 0; t < n; t++) {
    const x0 = x + <usize>t * xStride, y0 = y + <usize>t * yStride;
    let c: u32 = 0;
    for (; c + 4 <= cols; c += 4) {
      const col = <usize>c << 2;
      let a = f32x4.splat(0);
      let pw = w + col;
      for (let o: usize = 0; o < xEnd; o += 4) {
        a = madd(v128.load32_splat(x0 + o), v128.load(pw), a);
        pw += wStep;
      }
      v128.store(y0 + col, f32x4.add(a, biasVec(b, col)));
    }
    for (; c < cols; c++) {
      const col = <usize>c << 2;
      let a: f32 = 0;
      let pw = w + col;
      for (let o: usize = 0; o < xEnd; o += 4) {
        a += load<f32>(x0 + o) * load<f32>(pw);
        pw += wStep;
      }
      store<f32>(y0 + col, a + (b ? load<f32>(b + col) : 0));
    }
  }
}

// ---- rows

@inline function lanes(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// Sum of the 4 lanes, plus the columns [in4, inDim) of x . w, plus the bias.
@inline function finish(acc: v128, x: usize, w: usize, in4: u32, inDim: u32, bias: f32): f32 {
  let s = lanes(acc);
  for (let k = in4; k < inDim; k++) {
    s += load<f32>(x + (<usize>k << 2)) * load<f32>(w + (<usize>k << 2));
  }
  return s + bias;
}

@inline function biasAt(b: usize, r: u32): f32 {
  return b ? load<f32>(b + (<usize>r << 2)) : 0;
}

// y[t, r] = x[t, :] . w[r, :] + b[r] for t < n, r < outDim, with rows of y, x
// and W yStride, xStride and wStride bytes apart (the panel path writes its last
// columns through here, attention its last keys).
export function matmulRows(y: usize, yStride: usize, x: usize, xStride: usize, w: usize, wStride: usize,
                           b: usize, n: u32, inDim: u32, outDim: u32): void {
  const in4 = inDim & ~3;
  const e4 = <usize>in4 << 2;
  let r: u32 = 0;
  // Row blocks outside, token blocks inside: W streams from memory once, the
  // activations stay in cache.
  for (; r + 4 <= outDim; r += 4) {
    const w0 = w + <usize>r * wStride, w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
    const b0 = biasAt(b, r), b1 = biasAt(b, r + 1), b2 = biasAt(b, r + 2), b3 = biasAt(b, r + 3);
    let t: u32 = 0;
    for (; t + 2 <= n; t += 2) {
      const x0 = x + <usize>t * xStride, x1 = x0 + xStride;
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (let o: usize = 0; o < e4; o += 16) {
        const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o), v2 = v128.load(w2 + o), v3 = v128.load(w3 + o);
        const u = v128.load(x0 + o);
        a00 = madd(u, v0, a00); a01 = madd(u, v1, a01);
        a02 = madd(u, v2, a02); a03 = madd(u, v3, a03);
        const v = v128.load(x1 + o);
        a10 = madd(v, v0, a10); a11 = madd(v, v1, a11);
        a12 = madd(v, v2, a12); a13 = madd(v, v3, a13);
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2), y1 = y0 + yStride;
      store<f32>(y0, finish(a00, x0, w0, in4, inDim, b0)); store<f32>(y0, finish(a01, x0, w1, in4, inDim, b1), 4);
      store<f32>(y0, finish(a02, x0, w2, in4, inDim, b2), 8); store<f32>(y0, finish(a03, x0, w3, in4, inDim, b3), 12);
      store<f32>(y1, finish(a10, x1, w0, in4, inDim, b0)); store<f32>(y1, finish(a11, x1, w1, in4, inDim, b1), 4);
      store<f32>(y1, finish(a12, x1, w2, in4, inDim, b2), 8); store<f32>(y1, finish(a13, x1, w3, in4, inDim, b3), 12);
    }
    if (t < n) {
      const x0 = x + <usize>t * xStride;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let o: usize = 0; o < e4; o += 16) {
        const u = v128.load(x0 + o);
        a0 = madd(u, v128.load(w0 + o), a0);
        a1 = madd(u, v128.load(w1 + o), a1);
        a2 = madd(u, v128.load(w2 + o), a2);
        a3 = madd(u, v128.load(w3 + o), a3);
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2);
      store<f32>(y0, finish(a0, x0, w0, in4, inDim, b0)); store<f32>(y0, finish(a1, x0, w1, in4, inDim, b1), 4);
      store<f32>(y0, finish(a2, x0, w2, in4, inDim, b2), 8); store<f32>(y0, finish(a3, x0, w3, in4, inDim, b3), 12);
    }
  }
  // Leftover rows: one row against every token.
  for (; r < outDim; r++) {
    const w0 = w + <usize>r * wStride;
    const b0 = biasAt(b, r);
    for (let t: u32 = 0; t < n; t++) {
      const x0 = x + <usize>t * xStride;
      let a0 = f32x4.splat(0);
      for (let o: usize = 0; o < e4; o += 16) {
        a0 = madd(v128.load(x0 + o), v128.load(w0 + o), a0);
      }
      store<f32>(y + <usize>t * yStride + (<usize>r << 2), finish(a0, x0, w0, in4, inDim, b0));
    }
  }
}
