// The relaxed-SIMD int8 kernels one by one, for test/relaxed-simd.test.ts (compiled
// there on the fly with --enable relaxed-simd, run on workerd; never part of a build).
import { matmulI8Relaxed, quantizeRows7, rowStride7 } from "./matmul_i8_relaxed";

export function alloc(bytes: usize): usize { return heap.alloc(max<usize>(bytes, 16)); }
export function quantize7(xq: usize, xs: usize, x: usize, n: u32, i: u32): void { quantizeRows7(xq, xs, x, n, i); }
export function row_stride7(i: u32): usize { return rowStride7(i); }
export function mm_i8_relaxed(y: usize, xq: usize, xs: usize, w: usize, ws: usize, b: usize, n: u32, i: u32, o: u32, layout: u32): void {
  matmulI8Relaxed(y, xq, xs, w, ws, b, n, i, o, layout);
}
