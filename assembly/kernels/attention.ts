import { softmax } from "./softmax";
import { topK } from "./topk";

// context[n, h*D] = softmax(Q K^T / sqrt(D)) V for each of h heads; q, k, v and
// context are [n, h*D] with head j in columns [j*D, (j+1)*D). One sequence, no
// padding, so no mask. hardK > 0 and n > hardK: after the softmax only the hardK
// largest probabilities of each query row are kept (no renormalisation) and only
// their value rows are summed. n <= hardK runs the dense code, so the result is
// bit-identical to dense attention.
//
// scores: f32[n] scratch for one query row; idx: u32[n] scratch for the kept keys.
export function attention(ctx: usize, q: usize, k: usize, v: usize, n: u32, heads: u32, d: u32,
                          hardK: u32, scores: usize, idx: usize): void {
  const stride = <usize>(heads * d) << 2; // bytes per token row
  const sqrtD = <f32>Math.sqrt(<f64>d);
  const hard = hardK > 0 && n > hardK;
  for (let h: u32 = 0; h < heads; h++) {
    const off = <usize>(h * d) << 2;
    for (let i: u32 = 0; i < n; i++) {
      const qi = q + <usize>i * stride + off;
      queryScores(scores, qi, k + off, stride, n, d, sqrtD);
      softmax(scores, n);
      const ci = ctx + <usize>i * stride + off;
      if (hard) {
        const m = topK(scores, n, hardK, idx, idx);
        weightedSum(ci, scores, idx, m, v + off, stride, d);
      } else {
        weightedSum(ci, scores, 0, n, v + off, stride, d);
      }
    }
  }
}

@inline function lanes(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// The dot product of one q and one k row, finished like matmul's: lanes, tail.
@inline function finish(acc: v128, q: usize, k: usize, d4: u32, d: u32): f32 {
  let s = lanes(acc);
  for (let e = d4; e < d; e++) s += load<f32>(q + (<usize>e << 2)) * load<f32>(k + (<usize>e << 2));
  return s;
}

// scores[j] = q . k_j / sqrt(D) for j < n, four keys per pass over q.
function queryScores(scores: usize, q: usize, k: usize, stride: usize, n: u32, d: u32, sqrtD: f32): void {
  const d4 = d & ~3;
  const e4 = <usize>d4 << 2;
  let j: u32 = 0;
  for (; j + 4 <= n; j += 4) {
    const k0 = k + <usize>j * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let o: usize = 0; o < e4; o += 16) {
      const u = v128.load(q + o);
      a0 = f32x4.add(a0, f32x4.mul(u, v128.load(k0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(u, v128.load(k1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(u, v128.load(k2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(u, v128.load(k3 + o)));
    }
    const s = scores + (<usize>j << 2);
    store<f32>(s, finish(a0, q, k0, d4, d) / sqrtD);
    store<f32>(s, finish(a1, q, k1, d4, d) / sqrtD, 4);
    store<f32>(s, finish(a2, q, k2, d4, d) / sqrtD, 8);
    store<f32>(s, finish(a3, q, k3, d4, d) / sqrtD, 12);
  }
  for (; j < n; j++) {
    const k0 = k + <usize>j * stride;
    let a0 = f32x4.splat(0);
    for (let o: usize = 0; o < e4; o += 16) a0 = f32x4.add(a0, f32x4.mul(v128.load(q + o), v128.load(k0 + o)));
    store<f32>(scores + (<usize>j << 2), finish(a0, q, k0, d4, d) / sqrtD);
  }
}

// out[D] = sum over keys of p_j * v_j, in increasing j: all n keys (idx = 0) or
// the m listed in idx. Each output lane accumulates from 0 in key order, so the
// sum is the same however the columns are blocked.
function weightedSum(out: usize, p: usize, idx: usize, m: u32, v: usize, stride: usize, d: u32): void {
  let c: u32 = 0;
  // 16 columns (one cache line of a value row) per pass over the keys.
  for (; c + 16 <= d; c += 16) {
    const o = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let t: u32 = 0; t < m; t++) {
      const j = idx ? load<u32>(idx + (<usize>t << 2)) : t;
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
      const j = idx ? load<u32>(idx + (<usize>t << 2)) : t;
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(p + (<usize>j << 2)), v128.load(v + <usize>j * stride + o)));
    }
    v128.store(out + o, a0);
  }
  for (; c < d; c++) {
    const o = <usize>c << 2;
    let s: f32 = 0;
    for (let t: u32 = 0; t < m; t++) {
      const j = idx ? load<u32>(idx + (<usize>t << 2)) : t;
      s += load<f32>(p + (<usize>j << 2)) * load<f32>(v + <usize>j * stride + o);
    }
    store<f32>(out + o, s);
  }
}
