// An entry point that exposes the kernels one by one, for test/kernels.test.ts
// (compiled there on the fly; never part of build/axformer.wasm).
import { matmul } from "./matmul";
import { matmulI8, quantizeRows, quantMax } from "./matmul_i8";
import { addLayerNorm } from "./layernorm";
import { erf as erf1, gelu as gelu1, geluTanh as geluTanh1, relu as relu1 } from "./gelu";
import { expScaled, exp4 } from "./softmax";
import { topK } from "./topk";
import { attention as attention1 } from "./attention";

export function alloc(bytes: usize): usize { return heap.alloc(max<usize>(bytes, 16)); }
export function free(p: usize): void { heap.free(p); }
// layout: LAYOUT_ROWS or LAYOUT_PANELS (docs/format.md), w stored accordingly.
export function mm(y: usize, x: usize, w: usize, b: usize, n: u32, i: u32, o: u32, layout: u32): void { matmul(y, x, w, b, n, i, o, layout); }
export function quant_max(i: u32): f32 { return quantMax(i); }
export function quantize(xq: usize, xs: usize, x: usize, n: u32, i: u32): void { quantizeRows(xq, xs, x, n, i); }
export function mm_i8(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize, n: u32, i: u32, o: u32, layout: u32): void {
  matmulI8(y, xq, xs, w, ws, b, n, i, o, layout);
}
export function layer_norm(x: usize, y: usize, n: u32, h: u32, g: usize, b: usize, eps: f32): void { addLayerNorm(x, y, n, h, g, b, eps); }
export function erf(x: f32): f32 { return erf1(x); }
export function gelu(x: usize, n: u32): void { gelu1(x, n); }
export function gelu_tanh(x: usize, n: u32): void { geluTanh1(x, n); }
export function relu(x: usize, n: u32): void { relu1(x, n); }
export function exp_scaled(x: usize, n: u32, div: f32): f32 { return expScaled(x, n, div); }
export function exp(x: f32): f32 { return f32x4.extract_lane(exp4(f32x4.splat(x)), 0); }
export function top_k(p: usize, n: u32, k: u32, idx: usize, scratch: usize): u32 { return topK(p, n, k, idx, scratch); }
// s: f32[QUERY_BLOCK * n], kt and vt: f32[d * n], idx: u32[n]
export function attention(c: usize, q: usize, k: usize, v: usize, n: u32, h: u32, d: u32, hardK: u32, s: usize, kt: usize, vt: usize, idx: usize): void {
  attention1(c, q, k, v, n, h, d, hardK, s, kt, vt, idx, n);
}
