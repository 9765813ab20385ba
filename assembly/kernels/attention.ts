import { expScaled } from "./softmax";
import { topK } from "./topk";
import { broadcast16, broadcastNarrow, matmulRows } from "./matmul";

// context[nq, h*D] = softmax(Q K^T / sqrt(D)) V for each of h heads, for the first
// nq <= n queries; q, k, v and context are [n, h*D] with head j in columns
// [j*D, (j+1)*D) (q and context need only nq rows). One sequence, no padding, so no
// mask. A query's row is computed the same way whatever nq is (encoder/forward.ts
// asks for [CLS] alone in the last layer of a classifier). hardK > 0 and n > hardK: after the softmax only the hardK
// largest probabilities of each query row are kept (no renormalisation) and only
// their value rows are summed. n <= hardK runs the dense code, so the result is
// bit-identical to dense attention.
//
// Per head, QUERY_BLOCK queries at a time, both products run through the matmul's
// broadcast kernel, on copies of the head's K and V laid out as weight panels
// (16 outputs contiguous at each step, each panel contiguous; reading the rows
// of K and V in place would step through memory at the row stride, which maps
// a panel onto a few cache sets at n = 512):
//   scores = Q Kᵀ: kt holds K transposed in panels of 16 keys; the last n % 16
//     keys are dot products of K rows;
//   context = P V: vt holds V in panels of 16 columns; the last D % 16 columns
//     come from V's rows.
//
// scores: f32[QUERY_BLOCK * n]; kt, vt: f32[D * n]; idx: u32[n], the kept keys of one row.
export const QUERY_BLOCK: u32 = 32;
const rowScale = memory.data(QUERY_BLOCK << 2, 16); // f32[QUERY_BLOCK]: 1 / sum of each row's exps

// x[0, d) *= s
@inline function scaleRow(x: usize, d: u32, s: f32): void {
  const sv = f32x4.splat(s);
  let o: usize = 0;
  for (const e4 = <usize>(d & ~3) << 2; o < e4; o += 16) v128.store(x + o, f32x4.mul(v128.load(x + o), sv));
  for (const e = <usize>d << 2; o < e; o += 4) store<f32>(x + o, load<f32>(x + o) * s);
}

export function attention(ctx: usize, q: usize, k: usize, v: usize, n: u32, heads: u32, d: u32,
                          hardK: u32, scores: usize, kt: usize, vt: usize, idx: usize, nq: u32): void {
  const stride = <usize>(heads * d) << 2; // bytes per token row of q, k, v, ctx
  const rowBytes = <usize>n << 2;         // bytes per row of scores and of kt
  const sqrtD = <f32>Math.sqrt(<f64>d);
  const hard = hardK > 0 && n > hardK;
  const keyPanels = n >> 4, keysFull = keyPanels << 4;
  const colPanels = d >> 4, colsFull = colPanels << 4;
  for (let h: u32 = 0; h < heads; h++) {
    const off = <usize>(h * d) << 2;
    keyPanels16(kt, k + off, stride, keyPanels, d);
    if (!hard) valuePanels16(vt, v + off, stride, n, colPanels);
    for (let i0: u32 = 0; i0 < nq; i0 += QUERY_BLOCK) {
      const m = min(QUERY_BLOCK, nq - i0);
      const qi = q + <usize>i0 * stride + off;
      const ci = ctx + <usize>i0 * stride + off;
      // scores[m, n] = Q_h K_hᵀ, then each row softmax(row / sqrt(D)).
      broadcast16(scores, rowBytes, qi, stride, kt, 64, <usize>d << 6, 0, m, d, keyPanels);
      if (keysFull < n) {
        matmulRows(scores + (<usize>keysFull << 2), rowBytes, qi, stride, k + <usize>keysFull * stride + off, stride, 0, m, d, n - keysFull);
      }
      if (hard) {
        // Each row: E = exp(row / sqrt(D) - max), the hardK largest (the largest
        // probabilities: they differ from E by one positive factor), their value
        // rows weighted by E, then the factor.
        for (let i: u32 = 0; i < m; i++) {
          const p = scores + <usize>i * rowBytes;
          const inv = expScaled(p, n, sqrtD);
          const kept = topK(p, n, hardK, idx, idx);
          sparseSum(ci + <usize>i * stride, p, idx, kept, v + off, stride, d);
          scaleRow(ci + <usize>i * stride, d, inv);
        }
      } else {
        // ctx[m, D] = (E[m, n] V_h[n, D]) / rowsum(E), E = exp(scores / sqrt(D) - max).
        for (let i: u32 = 0; i < m; i++) store<f32>(rowScale + (<usize>i << 2), expScaled(scores + <usize>i * rowBytes, n, sqrtD));
        broadcast16(ci, stride, scores, rowBytes, vt, 64, <usize>n << 6, 0, m, n, colPanels);
        if (colsFull < d) {
          broadcastNarrow(ci + (<usize>colsFull << 2), stride, scores, rowBytes, v + off + (<usize>colsFull << 2), stride, 0, m, n, d - colsFull);
        }
        for (let i: u32 = 0; i < m; i++) scaleRow(ci + <usize>i * stride, d, load<f32>(rowScale + (<usize>i << 2)));
      }
    }
  }
}

// kt[p][e][jj] = k[16p + jj, e] for p < panels, e < d, jj < 16 (k rows `stride` bytes apart).
function keyPanels16(kt: usize, k: usize, stride: usize, panels: u32, d: u32): void {
  for (let p: u32 = 0; p < panels; p++) {
    const dst = kt + ((<usize>p * d) << 6);
    for (let jj: u32 = 0; jj < 16; jj++) {
      const src = k + <usize>(p * 16 + jj) * stride, col = dst + (<usize>jj << 2);
      for (let e: u32 = 0; e < d; e++) store<f32>(col + (<usize>e << 6), load<f32>(src + (<usize>e << 2)));
    }
  }
}

// vt[p][j][cc] = v[j, 16p + cc] for p < panels, j < n, cc < 16.
function valuePanels16(vt: usize, v: usize, stride: usize, n: u32, panels: u32): void {
  for (let p: u32 = 0; p < panels; p++) {
    const dst = vt + ((<usize>p * n) << 6), src = v + (<usize>p << 6);
    for (let j: u32 = 0; j < n; j++) {
      const from = src + <usize>j * stride, to = dst + (<usize>j << 6);
      v128.store(to, v128.load(from));
      v128.store(to, v128.load(from, 16), 16);
      v128.store(to, v128.load(from, 32), 32);
      v128.store(to, v128.load(from, 48), 48);
    }
  }
}

// out[D] = sum over the m keys listed in idx (increasing) of p_j * v_j. Each
// output lane accumulates from 0 in key order.
function sparseSum(out: usize, p: usize, idx: usize, m: u32, v: usize, stride: usize, d: u32): void {
  let c: u32 = 0;
  // 16 columns (one cache line of a value row) per pass over the keys.
  for (; c + 16 <= d; c += 16) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let t: u32 = 0; t < m; t++) {
      const j = load<u32>(idx + (<usize>t << 2));
      const w = v128.load32_splat(p + (<usize>j << 2));
      const row = v + <usize>j * stride + o;
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(row)));
      a1 = f32x4.add(a1, f32x4.mul(w, v128.load(row, 16)));
      a2 = f32x4.add(a2, f32x4.mul(w, v128.load(row, 32)));
      a3 = f32x4.add(a3, f32x4.mul(w, v128.load(row, 48)));
    }
    v128.store(out + o, a0);
    v128.store(out + o, a1, 16);
    v128.store(out + o, a2, 32);
    v128.store(out + o, a3, 48);
  }
  for (; c + 4 <= d; c += 4) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0);
    for (let t: u32 = 0; t < m; t++) {
      const j = load<u32>(idx + (<usize>t << 2));
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(p + (<usize>j << 2)), v128.load(v + <usize>j * stride + o)));
    }
    v128.store(out + o, a0);
  }
  for (; c < d; c++) {
    const o = <usize>c << 2;
    let s: f32 = 0;
    for (let t: u32 = 0; t < m; t++) {
      const j = load<u32>(idx + (<usize>t << 2));
      s += load<f32>(p + (<usize>j << 2)) * load<f32>(v + <usize>j * stride + o);
    }
    store<f32>(out + o, s);
  }
}
