// Sentence embeddings: sentence-transformers' Pooling and Normalize modules on
// the last hidden states of one sequence of n tokens.
//   Pooling._forward_padded: https://github.com/UKPLab/sentence-transformers/blob/v6.0.1/sentence_transformers/sentence_transformer/modules/pooling.py#L171-L243
//   Normalize.forward:       https://github.com/UKPLab/sentence-transformers/blob/v6.0.1/sentence_transformers/base/modules/normalize.py#L39-L43
// The runtime never pads, so the attention mask is 1 on each of the n tokens:
// the masked sums there are plain sums over the n rows, the first real token is
// row 0 and the last is row n - 1.
import { POOL_CLS, POOL_MAX, POOL_MEAN, POOL_MEAN_SQRT_LEN, POOL_WEIGHTED_MEAN, POOL_LAST_TOKEN } from "../format/constants";

// out[E] = the pooled vectors of the POOL_* bits set in `modes`, concatenated in
// bit order (sentence-transformers' order: cls, max, mean, mean_sqrt_len_tokens,
// weightedmean, lasttoken), each H long. hidden: f32[n, H].
export function pool(out: usize, hidden: usize, n: u32, H: u32, modes: u32): void {
  const rowBytes = <usize>H << 2;
  let o = out;
  for (let bit: u32 = 1; bit <= <u32>POOL_LAST_TOKEN; bit <<= 1) {
    if (!(modes & bit)) continue;
    if (bit == POOL_CLS) memory.copy(o, hidden, rowBytes);
    else if (bit == POOL_LAST_TOKEN) memory.copy(o, hidden + <usize>(n - 1) * rowBytes, rowBytes);
    else if (bit == POOL_MAX) maxRows(o, hidden, n, H);
    else if (bit == POOL_WEIGHTED_MEAN) weightedSum(o, hidden, n, H, 1, <f32>(<f64>n * (n + 1) / 2)); // weights 1..n
    else weightedSum(o, hidden, n, H, 0, bit == POOL_MEAN ? <f32>n : Mathf.sqrt(<f32>n)); // mean, mean_sqrt_len_tokens
    o += rowBytes;
  }
}

// out[H] = the largest value of each column of x[n, H].
function maxRows(out: usize, x: usize, n: u32, H: u32): void {
  memory.copy(out, x, <usize>H << 2);
  for (let t: u32 = 1; t < n; t++) {
    const row = x + ((<usize>t * H) << 2);
    for (let c: usize = 0; c < <usize>H; c++) store<f32>(out + (c << 2), max(load<f32>(out + (c << 2)), load<f32>(row + (c << 2))));
  }
}

// out[H] = sum over t of w_t x[t] / divisor, w_t = 1 (step 0) or t + 1 (step 1).
function weightedSum(out: usize, x: usize, n: u32, H: u32, step: u32, divisor: f32): void {
  memory.fill(out, 0, <usize>H << 2);
  for (let t: u32 = 0; t < n; t++) {
    const w = <f32>(<u32>1 + step * t), row = x + ((<usize>t * H) << 2);
    for (let c: usize = 0; c < <usize>H; c++) store<f32>(out + (c << 2), load<f32>(out + (c << 2)) + w * load<f32>(row + (c << 2)));
  }
  for (let c: usize = 0; c < <usize>H; c++) store<f32>(out + (c << 2), load<f32>(out + (c << 2)) / divisor);
}

// torch.nn.functional.normalize(x, p=2): x / max(||x||_2, 1e-12), in place.
export function l2Normalize(x: usize, len: u32): void {
  let sum: f64 = 0;
  for (let i: usize = 0; i < <usize>len; i++) { const v = <f64>load<f32>(x + (i << 2)); sum += v * v; }
  const norm = <f32>max(Math.sqrt(sum), 1e-12);
  for (let i: usize = 0; i < <usize>len; i++) store<f32>(x + (i << 2), load<f32>(x + (i << 2)) / norm);
}
