// LayerNorm over rows of h values, as PyTorch computes it: biased variance, eps
// inside the square root. Mean and variance are accumulated in f64 (two passes),
// which is at least as accurate as PyTorch's f32 cascade sums.

// x[n, h] = LayerNorm(x[n, h] + y[n, h]): the post-LN residual of BERT. y = 0
// (null pointer) normalises x alone, for removed blocks and the embeddings.
export function addLayerNorm(x: usize, y: usize, n: u32, h: u32, gamma: usize, beta: usize, eps: f32): void {
  const rowBytes = <usize>h << 2;
  for (let t: u32 = 0; t < n; t++) {
    const row = x + <usize>t * rowBytes;
    if (y) {
      const yrow = y + <usize>t * rowBytes;
      for (let o: usize = 0; o < rowBytes; o += 4) store<f32>(row + o, load<f32>(row + o) + load<f32>(yrow + o));
    }
    let sum: f64 = 0;
    for (let o: usize = 0; o < rowBytes; o += 4) sum += <f64>load<f32>(row + o);
    const mean = sum / <f64>h;
    let sq: f64 = 0;
    for (let o: usize = 0; o < rowBytes; o += 4) {
      const d = <f64>load<f32>(row + o) - mean;
      sq += d * d;
    }
    const rstd = 1.0 / Math.sqrt(sq / <f64>h + <f64>eps);
    for (let o: usize = 0; o < rowBytes; o += 4) {
      const v = (<f64>load<f32>(row + o) - mean) * rstd;
      store<f32>(row + o, <f32>(v * <f64>load<f32>(gamma + o) + <f64>load<f32>(beta + o)));
    }
  }
}
