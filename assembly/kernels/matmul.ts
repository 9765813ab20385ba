// y[n, out] = x[n, in] · W[out, in]^T + b[out]: nn.Linear with W in PyTorch's layout,
// so every output is a dot product of two contiguous rows.
//
// Register blocking: 4 tokens x 4 weight rows share their loads (16 f32x4
// accumulators). Every (token, row) dot product is accumulated the same way
// whichever block it falls in: 4 lanes over in & ~3, lanes summed (0+1)+(2+3),
// then the scalar tail, then the bias. So a token's output does not depend on N
// or on where the token sits in a block, and no shape needs padding.

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

export function matmul(y: usize, x: usize, w: usize, b: usize, n: u32, inDim: u32, outDim: u32): void {
  const in4 = inDim & ~3;
  const stride = <usize>inDim << 2;          // bytes per row of x and of W
  const yStride = <usize>outDim << 2;        // bytes per row of y
  let r: u32 = 0;
  // Row blocks outside, token blocks inside: W streams from memory once, the
  // activations (at most a few hundred KiB) stay in cache.
  for (; r + 4 <= outDim; r += 4) {
    const w0 = w + <usize>r * stride, w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
    const b0 = biasAt(b, r), b1 = biasAt(b, r + 1), b2 = biasAt(b, r + 2), b3 = biasAt(b, r + 3);
    let t: u32 = 0;
    for (; t + 4 <= n; t += 4) {
      const x0 = x + <usize>t * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      let a20 = a00, a21 = a00, a22 = a00, a23 = a00;
      let a30 = a00, a31 = a00, a32 = a00, a33 = a00;
      for (let o: usize = 0, e = <usize>in4 << 2; o < e; o += 16) {
        const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o), v2 = v128.load(w2 + o), v3 = v128.load(w3 + o);
        let u = v128.load(x0 + o);
        a00 = f32x4.add(a00, f32x4.mul(u, v0)); a01 = f32x4.add(a01, f32x4.mul(u, v1));
        a02 = f32x4.add(a02, f32x4.mul(u, v2)); a03 = f32x4.add(a03, f32x4.mul(u, v3));
        u = v128.load(x1 + o);
        a10 = f32x4.add(a10, f32x4.mul(u, v0)); a11 = f32x4.add(a11, f32x4.mul(u, v1));
        a12 = f32x4.add(a12, f32x4.mul(u, v2)); a13 = f32x4.add(a13, f32x4.mul(u, v3));
        u = v128.load(x2 + o);
        a20 = f32x4.add(a20, f32x4.mul(u, v0)); a21 = f32x4.add(a21, f32x4.mul(u, v1));
        a22 = f32x4.add(a22, f32x4.mul(u, v2)); a23 = f32x4.add(a23, f32x4.mul(u, v3));
        u = v128.load(x3 + o);
        a30 = f32x4.add(a30, f32x4.mul(u, v0)); a31 = f32x4.add(a31, f32x4.mul(u, v1));
        a32 = f32x4.add(a32, f32x4.mul(u, v2)); a33 = f32x4.add(a33, f32x4.mul(u, v3));
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2), y1 = y0 + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
      store<f32>(y0, finish(a00, x0, w0, in4, inDim, b0)); store<f32>(y0, finish(a01, x0, w1, in4, inDim, b1), 4);
      store<f32>(y0, finish(a02, x0, w2, in4, inDim, b2), 8); store<f32>(y0, finish(a03, x0, w3, in4, inDim, b3), 12);
      store<f32>(y1, finish(a10, x1, w0, in4, inDim, b0)); store<f32>(y1, finish(a11, x1, w1, in4, inDim, b1), 4);
      store<f32>(y1, finish(a12, x1, w2, in4, inDim, b2), 8); store<f32>(y1, finish(a13, x1, w3, in4, inDim, b3), 12);
      store<f32>(y2, finish(a20, x2, w0, in4, inDim, b0)); store<f32>(y2, finish(a21, x2, w1, in4, inDim, b1), 4);
      store<f32>(y2, finish(a22, x2, w2, in4, inDim, b2), 8); store<f32>(y2, finish(a23, x2, w3, in4, inDim, b3), 12);
      store<f32>(y3, finish(a30, x3, w0, in4, inDim, b0)); store<f32>(y3, finish(a31, x3, w1, in4, inDim, b1), 4);
      store<f32>(y3, finish(a32, x3, w2, in4, inDim, b2), 8); store<f32>(y3, finish(a33, x3, w3, in4, inDim, b3), 12);
    }
    // Leftover tokens: one token against the same 4 rows.
    for (; t < n; t++) {
      const x0 = x + <usize>t * stride;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let o: usize = 0, e = <usize>in4 << 2; o < e; o += 16) {
        const u = v128.load(x0 + o);
        a0 = f32x4.add(a0, f32x4.mul(u, v128.load(w0 + o)));
        a1 = f32x4.add(a1, f32x4.mul(u, v128.load(w1 + o)));
        a2 = f32x4.add(a2, f32x4.mul(u, v128.load(w2 + o)));
        a3 = f32x4.add(a3, f32x4.mul(u, v128.load(w3 + o)));
      }
      const y0 = y + <usize>t * yStride + (<usize>r << 2);
      store<f32>(y0, finish(a0, x0, w0, in4, inDim, b0)); store<f32>(y0, finish(a1, x0, w1, in4, inDim, b1), 4);
      store<f32>(y0, finish(a2, x0, w2, in4, inDim, b2), 8); store<f32>(y0, finish(a3, x0, w3, in4, inDim, b3), 12);
    }
  }
  // Leftover rows: one row against every token.
  for (; r < outDim; r++) {
    const w0 = w + <usize>r * stride;
    const b0 = biasAt(b, r);
    for (let t: u32 = 0; t < n; t++) {
      const x0 = x + <usize>t * stride;
      let a0 = f32x4.splat(0);
      for (let o: usize = 0, e = <usize>in4 << 2; o < e; o += 16) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(x0 + o), v128.load(w0 + o)));
      }
      store<f32>(y + <usize>t * yStride + (<usize>r << 2), finish(a0, x0, w0, in4, inDim, b0));
    }
  }
}
