// Per-row losses in float32, computed exactly as PyTorch's CPU kernels compute them,
// because the AxFormer reference takes its per-sample losses from PyTorch on
// float32 logits and its strict test compares them row by row
// (../shared/axformer-method.md, "The acceptance test"; docs/optimizer.md).
//
// Every float32 operation is Math.fround of the f64 result, which is the correctly
// rounded f32 result for +, -, *, /. exp and log are not correctly rounded in
// PyTorch: its vectorised kernels call SLEEF (Sleef_expf8_u10, Sleef_logf8_u10 in
// the AVX2 build), so both are re-derived here from SLEEF's published algorithm
// (sleefsimdsp.c xexpf / xlogf_u1 and df.h, the FMA variants), step by step in
// float32. A fused multiply-add is a*b + c in f64 (a*b is exact for f32 inputs)
// rounded once to f32; a double rounding can in principle differ from a true FMA,
// which the torch-computed fixture (test/fixtures/optimize/f32-losses.json) has
// never shown.

const f = Math.fround;
const fma = (a: number, b: number, c: number) => f(a * b + c);
const fms = (a: number, b: number, c: number) => f(a * b - c);  // SLEEF vfmapn: a*b - c
const fnma = (a: number, b: number, c: number) => f(c - a * b); // SLEEF vfmanp: c - a*b

// Round half to even, as the AVX2 float -> int conversion does.
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const R_LN2F = f(1.442695040888963407359924681001892137426645954152985934135449406931);
const L2UF = f(0.693145751953125);
const L2LF = f(1.428606765330187045e-6);

// SLEEF xexpf (1.0 ulp): exp(d) = 2^q * e^s, s = d - q ln 2 in two parts, a degree-6 polynomial.
export function expf(d: number): number {
  const q = rint(f(d * R_LN2F));
  let s = fma(q, -L2UF, d);
  s = fma(q, -L2LF, s);
  let u = f(0.000198527617612853646278381);
  u = fma(u, s, f(0.00139304355252534151077271));
  u = fma(u, s, f(0.00833336077630519866943359));
  u = fma(u, s, f(0.0416664853692054748535156));
  u = fma(u, s, f(0.166666671633720397949219));
  u = fma(u, s, 0.5);
  u = f(1 + fma(f(s * s), u, s));
  const h = q >> 1; // vldexp2: two steps, so 2^q never overflows on its own
  u = f(f(u * 2 ** h) * 2 ** (q - h));
  if (d < -104) return 0;
  if (d > 100) return Infinity;
  return u;
}

// Double-float helpers of SLEEF's df.h (FMA build): a value is [hi, lo] in float32.
type F2 = [number, number];
const view = new DataView(new ArrayBuffer(4));
const bitsOf = (x: number) => { view.setFloat32(0, x); return view.getInt32(0); };
const fromBits = (i: number) => { view.setInt32(0, i); return view.getFloat32(0); };
const dfmul21 = (x: F2, y: number): F2 => { const s = f(x[0] * y); return [s, fma(x[1], y, fms(x[0], y, s))]; };
const dfadd2_11 = (x: number, y: number): F2 => { const s = f(x + y), v = f(s - x); return [s, f(f(x - f(s - v)) + f(y - v))]; };
const dfadd22 = (x: F2, y: F2): F2 => { const s = f(x[0] + y[0]); return [s, f(f(f(f(x[0] - s) + y[0]) + x[1]) + y[1])]; };
const dfadd21 = (x: F2, y: number): F2 => { const s = f(x[0] + y); return [s, f(f(f(x[0] - s) + y) + x[1])]; };
function dfdiv(n: F2, d: F2): F2 {
  const t = f(1 / d[0]), s = f(n[0] * t), u = fms(t, n[0], s);
  const v = fnma(d[1], t, fnma(d[0], t, 1));
  return [s, fma(s, v, fma(n[1], t, u))];
}

// SLEEF xlogf_u1 (1.0 ulp): log(d) = e ln 2 + 2 atanh((m - 1) / (m + 1)), in double-float.
export function logf(d: number): number {
  if (Number.isNaN(d) || d < 0) return NaN;
  if (d === 0) return -Infinity;
  if (d === Infinity) return Infinity;
  const tiny = d < 1.17549435e-38;
  if (tiny) d = f(d * 18446744073709551616); // 2^64
  let e = ((bitsOf(f(d * f(1 / 0.75))) >> 23) & 0xff) - 0x7f;
  const m = fromBits(bitsOf(d) + ((-e) << 23));
  if (tiny) e -= 64;
  let s = dfmul21([f(0.69314718246459960938), f(-1.904654323148236017e-9)], e);
  const x = dfdiv(dfadd2_11(-1, m), dfadd2_11(1, m));
  const x2 = f(x[0] * x[0]);
  let t = f(0.3027294874);
  t = fma(t, x2, f(0.3996108174));
  t = fma(t, x2, f(0.666669488));
  s = dfadd22(s, [f(x[0] * 2), f(x[1] * 2)]);
  s = dfadd21(s, f(f(x2 * x[0]) * t));
  return f(s[0] + s[1]);
}

// F.cross_entropy(z, y, reduction="none") on one float32 row z = logits[o, o + C):
// log_softmax's CPU kernel (aten/src/ATen/native/cpu/SoftMaxKernel.cpp,
// _vec_log_softmax_lastdim) takes max = max_c z[c]; sum = sum_c exp(z[c] - max);
// out = (z - max) - log(sum); nll_loss returns -out[y]. The sum is vec::map_reduce_all:
// below the vector width (8 floats in the AVX2 build) in class order; from 8 classes on,
// lane by lane (class c into lane c mod 8, the last partial vector only into its first
// lanes), then the 8 lanes added as a tree (4 pairs across the halves, 2, 1), as
// expSumF32 does. Measured equal, bit for bit, to torch 1.13 on 800 rows of 9 to 384
// classes (a plain class-order sum matched 633 of them).
export function crossEntropyF32(z: ArrayLike<number>, o: number, C: number, y: number): number {
  let m = z[o];
  for (let c = 1; c < C; c++) if (z[o + c] > m) m = z[o + c];
  return -f(f(z[o + y] - m) - logf(expSumF32(z, o, C, m)));
}

// sum_c exp(z[o + c] - m) in float32, in PyTorch's order (above).
function expSumF32(z: ArrayLike<number>, o: number, C: number, m: number): number {
  if (C < 8) {
    let s = expf(f(z[o] - m));
    for (let c = 1; c < C; c++) s = f(s + expf(f(z[o + c] - m)));
    return s;
  }
  const lane = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let c = 0; c < C; c++) {
    const e = expf(f(z[o + c] - m));
    lane[c & 7] = c < 8 ? e : f(lane[c & 7] + e);
  }
  for (let l = 0; l < 4; l++) lane[l] = f(lane[l] + lane[l + 4]);
  for (let l = 0; l < 2; l++) lane[l] = f(lane[l] + lane[l + 2]);
  return f(lane[0] + lane[1]);
}

// F.nll_loss(..., reduction="mean") of a batch whose per-item losses are `nll` (ignored
// items already left out): aten/src/ATen/native/LossNLL.cpp nll_loss_out_frame sums in
// float32 with a cascade of 8 partial sums (level step 2^max(4, ceil(log2(batch)) / 8)
// over the batch's positions, ignored ones included), then divides by the count.
// `pos[k]` is item k's position in the batch (its index before ignored items were left out).
export function meanNllF32(nll: ArrayLike<number>, pos: ArrayLike<number>, batch: number): number {
  const power = Math.max(4, Math.floor(Math.ceil(Math.log2(Math.max(batch, 1))) / 8));
  const mask = (1 << power) - 1;
  const part = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let k = 0; k < nll.length; k++) {
    part[0] = f(part[0] + nll[k]);
    for (let j = 0; j + 1 < 8; j++) {
      if ((pos[k] & (mask << (j * power))) !== 0) break;
      part[j + 1] = f(part[j + 1] + part[j]);
      part[j] = 0;
    }
  }
  let s = 0;
  for (let j = 0; j < 8; j++) s = f(s + part[j]);
  return f(s / nll.length);
}

// F.mse_loss(pred, target, reduction="none") with a float32 target.
export function squaredErrorF32(pred: number, target: number): number {
  const d = f(f(pred) - f(target));
  return f(d * d);
}

// F.binary_cross_entropy_with_logits(z, t, reduction="none").mean(dim=1) for one row of
// C labels, as torch 1.13's Loss.cpp computes it element by element:
// (1 - t) x + max_val + log(exp(-max_val) + exp(-x - max_val)), max_val = max(-x, 0);
// then the row's mean over labels (float32 sum in label order, divided by C).
export function binaryCrossEntropyF32(z: ArrayLike<number>, o: number, C: number, t: ArrayLike<number>, to: number): number {
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const x = f(z[o + c]), y = f(t[to + c]);
    const mv = Math.max(-x, 0);
    const a = f(f(f(1 - y) * x) + mv);
    const l = f(a + logf(f(expf(-mv) + expf(f(-x - mv)))));
    sum = c === 0 ? l : f(sum + l);
  }
  return f(sum / C);
}
