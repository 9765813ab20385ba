// The FFN activations, in place over len values. GELU is the exact (erf) form
// PyTorch uses for hidden_act "gelu"; gelu_tanh is "gelu_new" /
// "gelu_pytorch_tanh".

// erf(x) for 4 lanes: x * P(x^2) / Q(x^2) on x clamped to [-4, 4] (outside it erf
// is +-1 to f32 precision). The rational minimax approximation used by Eigen and
// XLA for f32; max abs error 4.5e-7 over the reals (test/kernels.test.ts checks it),
// no exp, no branches. The clamp uses pmin / pmax (one minps / maxps each; V8
// expands min / max into NaN-handling sequences).
@inline function erf4(x0: v128): v128 {
  const x = f32x4.pmax(f32x4.pmin(x0, f32x4.splat(4.0)), f32x4.splat(-4.0));
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-2.72614225801306e-10);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.77068142495902e-08));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-2.10102402082508e-06));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.69250639462346e-05));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-7.34990630326855e-04));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-2.95459980854025e-03));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-1.60960333262415e-02));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(-1.45660718464996e-05);
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(-2.13374055278905e-04));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(-1.68282697438203e-03));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(-7.37332916720468e-03));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(-1.42647390514189e-02));
  return f32x4.div(p, q);
}

// gelu(x) = x / 2 * (1 + erf(x / sqrt(2)))
@inline function gelu4(x: v128): v128 {
  const e = erf4(f32x4.mul(x, f32x4.splat(0.7071067811865476)));
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.add(e, f32x4.splat(1.0)));
}

// Lanes of a partial vector: load the tail into a zeroed v128, apply, store back
// only the live lanes, so every value goes through the same arithmetic.
@inline function loadTail(p: usize, count: u32): v128 {
  let v = f32x4.splat(0);
  if (count > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline function storeTail(p: usize, v: v128, count: u32): void {
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

export function erf(x: f32): f32 {
  return f32x4.extract_lane(erf4(f32x4.splat(x)), 0);
}

export function gelu(x: usize, len: u32): void {
  const len4 = len & ~3;
  for (let o: usize = 0, e = <usize>len4 << 2; o < e; o += 16) v128.store(x + o, gelu4(v128.load(x + o)));
  const p = x + (<usize>len4 << 2);
  storeTail(p, gelu4(loadTail(p, len - len4)), len - len4);
}

export function relu(x: usize, len: u32): void {
  const len4 = len & ~3;
  const zero = f32x4.splat(0);
  for (let o: usize = 0, e = <usize>len4 << 2; o < e; o += 16) v128.store(x + o, f32x4.max(v128.load(x + o), zero));
  for (let o = <usize>len4 << 2, e = <usize>len << 2; o < e; o += 4) store<f32>(x + o, max<f32>(load<f32>(x + o), 0));
}

// gelu_tanh(x) = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))), scalar in
// f64: only a few checkpoints use it.
export function geluTanh(x: usize, len: u32): void {
  for (let o: usize = 0, e = <usize>len << 2; o < e; o += 4) {
    const v = <f64>load<f32>(x + o);
    const u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    store<f32>(x + o, <f32>(0.5 * v * (1.0 + Math.tanh(u))));
  }
}

// tanh in place (the BERT pooler).
export function tanhInPlace(x: usize, len: u32): void {
  for (let o: usize = 0, e = <usize>len << 2; o < e; o += 4) {
    store<f32>(x + o, <f32>Math.tanh(<f64>load<f32>(x + o)));
  }
}
