// The int8 weight path of nn.Linear: y[n, out] = x[n, in] · W[out, in]^T + b with
// W = Wq * scale[row] (int8, one f32 scale per row). The activations are quantised
// per token row to 16-bit integers (x ~ xq * xs[t]), the dot products run exactly
// in integers (i32x4.dot_i16x8_s), and each result is rescaled once.
//
// Overflow cannot happen: each i32 lane adds 2 products of at most qmax * 128
// per 8 columns, and quantMax(in) bounds qmax so that ceil(in / 8) steps fit in
// an i32; the four lanes and the tail are summed in i64.

export function quantMax(inDim: u32): f32 {
  const steps = (inDim + 7) >> 3;
  const bound = <u32>(<u64>0x7fffffff / (<u64>256 * <u64>max<u32>(steps, 1)));
  return <f32>min<u32>(bound, 32767);
}

// xq[n, in] (i16), xs[n] (f32) from x[n, in] (f32).
export function quantizeRows(xq: usize, xs: usize, x: usize, n: u32, inDim: u32): void {
  const qmax = quantMax(inDim);
  for (let t: u32 = 0; t < n; t++) {
    const row = x + ((<usize>t * inDim) << 2);
    const qrow = xq + ((<usize>t * inDim) << 1);
    let amax: f32 = 0;
    for (let c: u32 = 0; c < inDim; c++) amax = max(amax, abs(load<f32>(row + (<usize>c << 2))));
    const scale: f32 = amax / qmax;
    for (let c: u32 = 0; c < inDim; c++) {
      const v = load<f32>(row + (<usize>c << 2));
      store<i16>(qrow + (<usize>c << 1), scale > 0 ? <i16>nearest(v / scale) : 0);
    }
    store<f32>(xs + (<usize>t << 2), scale);
  }
}

@inline function finishI8(acc: v128, xq: usize, wq: usize, in8: u32, inDim: u32, scale: f64, bias: f32): f32 {
  let s: i64 = (<i64>i32x4.extract_lane(acc, 0) + <i64>i32x4.extract_lane(acc, 1)) +
               (<i64>i32x4.extract_lane(acc, 2) + <i64>i32x4.extract_lane(acc, 3));
  for (let c = in8; c < inDim; c++) {
    s += <i64>(<i32>load<i16>(xq + (<usize>c << 1)) * <i32>load<i8>(wq + <usize>c));
  }
  return <f32>(<f64>s * scale) + bias;
}

@inline function rowScale(xs: usize, t: u32, ws: usize, r: u32): f64 {
  return <f64>load<f32>(xs + (<usize>t << 2)) * <f64>load<f32>(ws + (<usize>r << 2));
}

@inline function biasAt(b: usize, r: u32): f32 {
  return b ? load<f32>(b + (<usize>r << 2)) : 0;
}

@inline function step(acc: v128, x: v128, w: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}

export function matmulI8(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize,
                         n: u32, inDim: u32, outDim: u32): void {
  const in8 = inDim & ~7;
  const xStride = <usize>inDim << 1, wStride = <usize>inDim, yStride = <usize>outDim << 2;
  let r: u32 = 0;
  for (; r + 4 <= outDim; r += 4) {
    const w0 = w + <usize>r * wStride, w1 = w0 + wStride, w2 = w1 + wStride, w3 = w2 + wStride;
    const b0 = biasAt(b, r), b1 = biasAt(b, r + 1), b2 = biasAt(b, r + 2), b3 = biasAt(b, r + 3);
    let t: u32 = 0;
    for (; t + 4 <= n; t += 4) {
      const x0 = xq + <usize>t * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
      let a00 = i32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      let a20 = a00, a21 = a00, a22 = a00, a23 = a00;
      let a30 = a00, a31 = a00, a32 = a00, a33 = a00;
      for (let c: usize = 0; c < <usize>in8; c += 8) {
        const v0 = v128.load8x8_s(w0 + c), v1 = v128.load8x8_s(w1 + c), v2 = v128.load8x8_s(w2 + c), v3 = v128.load8x8_s(w3 + c);
        const o = c << 1;
        let u = v128.load(x0 + o);
        a00 = step(a00, u, v0); a01 = step(a01, u, v1); a02 = step(a02, u, v2); a03 = step(a03, u, v3);
        u = v128.load(x1 + o);
        a10 = step(a10, u, v0); a11 = step(a11, u, v1); a12 = step(a12, u, v2); a13 = step(a13, u, v3);
        u = v128.load(x2 + o);
        a20 = step(a20, u, v0); a21 = step(a21, u, v1); a22 = step(a22, u, v2); a23 = step(a23, u, v3);
        u = v128.load(x3 + o);
        a30 = step(a30, u, v0); a31 = step(a31, u, v1); a32 = step(a32, u, v2); a33 = step(a33, u, v3);
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2), y1 = y0 + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
      store<f32>(y0, finishI8(a00, x0, w0, in8, inDim, rowScale(xs, t, ws, r), b0));
      store<f32>(y0, finishI8(a01, x0, w1, in8, inDim, rowScale(xs, t, ws, r + 1), b1), 4);
      store<f32>(y0, finishI8(a02, x0, w2, in8, inDim, rowScale(xs, t, ws, r + 2), b2), 8);
      store<f32>(y0, finishI8(a03, x0, w3, in8, inDim, rowScale(xs, t, ws, r + 3), b3), 12);
      store<f32>(y1, finishI8(a10, x1, w0, in8, inDim, rowScale(xs, t + 1, ws, r), b0));
      store<f32>(y1, finishI8(a11, x1, w1, in8, inDim, rowScale(xs, t + 1, ws, r + 1), b1), 4);
      store<f32>(y1, finishI8(a12, x1, w2, in8, inDim, rowScale(xs, t + 1, ws, r + 2), b2), 8);
      store<f32>(y1, finishI8(a13, x1, w3, in8, inDim, rowScale(xs, t + 1, ws, r + 3), b3), 12);
      store<f32>(y2, finishI8(a20, x2, w0, in8, inDim, rowScale(xs, t + 2, ws, r), b0));
      store<f32>(y2, finishI8(a21, x2, w1, in8, inDim, rowScale(xs, t + 2, ws, r + 1), b1), 4);
      store<f32>(y2, finishI8(a22, x2, w2, in8, inDim, rowScale(xs, t + 2, ws, r + 2), b2), 8);
      store<f32>(y2, finishI8(a23, x2, w3, in8, inDim, rowScale(xs, t + 2, ws, r + 3), b3), 12);
      store<f32>(y3, finishI8(a30, x3, w0, in8, inDim, rowScale(xs, t + 3, ws, r), b0));
      store<f32>(y3, finishI8(a31, x3, w1, in8, inDim, rowScale(xs, t + 3, ws, r + 1), b1), 4);
      store<f32>(y3, finishI8(a32, x3, w2, in8, inDim, rowScale(xs, t + 3, ws, r + 2), b2), 8);
      store<f32>(y3, finishI8(a33, x3, w3, in8, inDim, rowScale(xs, t + 3, ws, r + 3), b3), 12);
    }
    for (; t < n; t++) {
      const x0 = xq + <usize>t * xStride;
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let c: usize = 0; c < <usize>in8; c += 8) {
        const u = v128.load(x0 + (c << 1));
        a0 = step(a0, u, v128.load8x8_s(w0 + c)); a1 = step(a1, u, v128.load8x8_s(w1 + c));
        a2 = step(a2, u, v128.load8x8_s(w2 + c)); a3 = step(a3, u, v128.load8x8_s(w3 + c));
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2);
      store<f32>(y0, finishI8(a0, x0, w0, in8, inDim, rowScale(xs, t, ws, r), b0));
      store<f32>(y0, finishI8(a1, x0, w1, in8, inDim, rowScale(xs, t, ws, r + 1), b1), 4);
      store<f32>(y0, finishI8(a2, x0, w2, in8, inDim, rowScale(xs, t, ws, r + 2), b2), 8);
      store<f32>(y0, finishI8(a3, x0, w3, in8, inDim, rowScale(xs, t, ws, r + 3), b3), 12);
    }
  }
  for (; r < outDim; r++) {
    const w0 = w + <usize>r * wStride;
    const b0 = biasAt(b, r);
    for (let t: u32 = 0; t < n; t++) {
      const x0 = xq + <usize>t * xStride;
      let a0 = i32x4.splat(0);
      for (let c: usize = 0; c < <usize>in8; c += 8) a0 = step(a0, v128.load(x0 + (c << 1)), v128.load8x8_s(w0 + c));
      store<f32>(y + <usize>t * yStride + (<usize>r << 2), finishI8(a0, x0, w0, in8, inDim, rowScale(xs, t, ws, r), b0));
    }
  }
}
