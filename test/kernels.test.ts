// The SIMD kernels one by one against plain f64 references, on shapes that are
// not multiples of the SIMD width or the register blocks. The kernels are
// compiled on the fly from assembly/kernels/test_exports.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import asc from "assemblyscript/asc";
import { erf, gelu, geluTanh, hardTopK } from "./helpers/reference-forward.ts";
import { panelPermutation } from "../host/format/layout.ts";
import * as F from "../assembly/format/constants.ts";

interface Kernels {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(p: number): void;
  mm(y: number, x: number, w: number, b: number, n: number, i: number, o: number, layout: number): void;
  quant_max(i: number): number;
  quantize(xq: number, xs: number, x: number, n: number, i: number): void;
  mm_i8(y: number, xq: number, xs: number, w: number, ws: number, b: number, n: number, i: number, o: number, layout: number): void;
  layer_norm(x: number, y: number, n: number, h: number, g: number, b: number, eps: number): void;
  erf(x: number): number;
  gelu(x: number, n: number): void;
  gelu_tanh(x: number, n: number): void;
  relu(x: number, n: number): void;
  exp_scaled(x: number, n: number, div: number): number;
  exp(x: number): number;
  top_k(p: number, n: number, k: number, idx: number, scratch: number): number;
  attention(c: number, q: number, k: number, v: number, n: number, h: number, d: number, hardK: number, s: number, kt: number, vt: number, idx: number): void;
}

async function compileKernels(): Promise<Kernels> {
  const out: { wasm?: Uint8Array } = {};
  const { error, stderr } = await asc.main(
    ["assembly/kernels/test_exports.ts", "--enable", "simd", "-O3", "--bindings", "raw", "--runtime", "incremental",
      "--outFile", "kernels.wasm", "--config", "none"],
    { writeFile: (name, contents) => { if (name.endsWith(".wasm")) out.wasm = contents as Uint8Array; } });
  if (error || !out.wasm) throw new Error(`compiling the kernels failed: ${error?.message}\n${stderr.toString()}`);
  const module = await WebAssembly.compile(out.wasm as Uint8Array<ArrayBuffer>);
  const instance = await WebAssembly.instantiate(module, { env: { abort: () => { throw new Error("abort"); } } });
  return instance.exports as unknown as Kernels;
}

const K = await compileKernels();

// Deterministic pseudo-random numbers in [-1, 1).
let seed = 1;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 31 - 1;
}
function randArray(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rand() * scale);
}

// Copies data into wasm memory; returns the pointer.
function put(data: Float32Array | Int8Array | Int16Array | Uint32Array): number {
  const p = K.alloc(data.byteLength);
  new Uint8Array(K.memory.buffer, p, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return p;
}
function f32(p: number, n: number): Float32Array { return new Float32Array(K.memory.buffer, p, n).slice(); }

function refMatmul(x: Float32Array, w: Float32Array, b: Float32Array | null, n: number, inDim: number, out: number) {
  const y = new Float64Array(n * out), mag = new Float64Array(n * out);
  for (let t = 0; t < n; t++) for (let r = 0; r < out; r++) {
    let s = b ? b[r] : 0, m = b ? Math.abs(b[r]) : 0;
    for (let k = 0; k < inDim; k++) { s += x[t * inDim + k] * w[r * inDim + k]; m += Math.abs(x[t * inDim + k] * w[r * inDim + k]); }
    y[t * out + r] = s;
    mag[t * out + r] = m;
  }
  return { y, mag };
}

const SHAPES: [number, number, number][] = [ // [n, in, out]; out = 16k + r exercises panels and the row-major rest
  [1, 1, 1], [3, 5, 2], [4, 4, 4], [5, 7, 9], [2, 3, 5], [8, 16, 12], [17, 33, 13], [6, 768, 7], [64, 768, 64], [9, 130, 70],
  [1, 3, 16], [3, 1, 17], [7, 9, 35], [2, 64, 48], [5, 17, 33], [128, 96, 80],
];
const LAYOUTS: [string, number][] = [["rows", F.LAYOUT_ROWS], ["panels", F.LAYOUT_PANELS]];

// W [out, in] (logical, row-major) as the format stores it in `layout`.
function stored<T extends Float32Array | Int8Array>(w: T, out: number, inDim: number, layout: number): T {
  if (layout === F.LAYOUT_ROWS) return w;
  const perm = panelPermutation(out, inDim, w instanceof Int8Array);
  const s = new (w.constructor as { new(n: number): T })(w.length);
  for (let i = 0; i < w.length; i++) s[perm[i]] = w[i];
  return s;
}

test("matmul matches f64 on odd shapes, both layouts, with and without bias", () => {
  for (const [name, layout] of LAYOUTS) {
    for (const [n, inDim, out] of SHAPES) {
      for (const withBias of [true, false]) {
        const x = randArray(n * inDim), w = randArray(out * inDim), b = withBias ? randArray(out) : null;
        const px = put(x), pw = put(stored(w, out, inDim, layout)), pb = b ? put(b) : 0, py = K.alloc(n * out * 4);
        K.mm(py, px, pw, pb, n, inDim, out, layout);
        const y = f32(py, n * out);
        const ref = refMatmul(x, w, b, n, inDim, out);
        for (let i = 0; i < y.length; i++) {
          const tol = 1e-6 * ref.mag[i] + 1e-7;
          if (!(Math.abs(y[i] - ref.y[i]) <= tol)) assert.unreachable(`${name} [${n},${inDim},${out}] y[${i}] = ${y[i]}, expected ${ref.y[i]}`);
        }
        [px, pw, py].forEach(K.free);
        if (pb) K.free(pb);
      }
    }
  }
});

test("matmul: a token's output does not depend on n or on its place in a block", () => {
  for (const [name, layout] of LAYOUTS) {
    for (const [inDim, out, n] of [[37, 11, 7], [19, 37, 5]]) {
      const x = randArray(n * inDim), w = randArray(out * inDim), b = randArray(out);
      const px = put(x), pw = put(stored(w, out, inDim, layout)), pb = put(b), py = K.alloc(n * out * 4);
      K.mm(py, px, pw, pb, n, inDim, out, layout);
      const all = f32(py, n * out);
      for (let t = 0; t < n; t++) {
        K.mm(py, px + t * inDim * 4, pw, pb, 1, inDim, out, layout);
        assert.equal(Array.from(f32(py, out)), Array.from(all.subarray(t * out, (t + 1) * out)), `${name} token ${t}`);
      }
      [px, pw, pb, py].forEach(K.free);
    }
  }
});

test("int8 matmul: exact integer dot products, per-row quantisation within half a step, both layouts", () => {
  for (const [n, inDim, out, layout] of [
    [1, 1, 1, 0], [3, 5, 2, 0], [5, 9, 7, 0], [17, 33, 13, 0], [6, 768, 9, 0], [5, 3072, 6, 0],
    [1, 1, 1, 1], [3, 5, 2, 1], [5, 9, 7, 1], [17, 33, 13, 1], [6, 768, 9, 1], [5, 3072, 6, 1],
    [4, 2, 8, 1], [7, 3, 8, 1], [9, 1, 17, 1], [3, 16, 16, 1], [13, 31, 29, 1], [2, 767, 35, 1], [33, 64, 24, 1],
  ] as [number, number, number, number][]) {
    const x = randArray(n * inDim, 3), b = randArray(out);
    const wq = Int8Array.from({ length: out * inDim }, () => Math.round(rand() * 127.4));
    const ws = Float32Array.from({ length: out }, () => 0.001 + Math.abs(rand()) * 0.01);
    const px = put(x), pw = put(stored(wq, out, inDim, layout)), pws = put(ws), pb = put(b);
    const pq = K.alloc(n * inDim * 2), pxs = K.alloc(n * 4), py = K.alloc(n * out * 4);
    K.quantize(pq, pxs, px, n, inDim);
    const xq = new Int16Array(K.memory.buffer, pq, n * inDim).slice(), xs = f32(pxs, n);
    const qmax = K.quant_max(inDim);
    for (let t = 0; t < n; t++) {
      let amax = 0;
      for (let k = 0; k < inDim; k++) amax = Math.max(amax, Math.abs(x[t * inDim + k]));
      assert.ok(Math.abs(xs[t] - amax / qmax) <= 1e-6 * xs[t], "row scale");
      for (let k = 0; k < inDim; k++) {
        const i = t * inDim + k;
        assert.ok(Math.abs(xq[i]) <= qmax, "within qmax");
        assert.ok(Math.abs(xq[i] * xs[t] - x[i]) <= 0.501 * xs[t], `quantised x[${i}] = ${x[i]}: ${xq[i]} * ${xs[t]}, qmax ${qmax}`);
      }
    }
    K.mm_i8(py, pq, pxs, pw, pws, pb, n, inDim, out, layout);
    const y = f32(py, n * out);
    for (let t = 0; t < n; t++) for (let r = 0; r < out; r++) {
      let s = 0;
      for (let k = 0; k < inDim; k++) s += xq[t * inDim + k] * wq[r * inDim + k];
      const ref = s * xs[t] * ws[r] + b[r];
      assert.ok(Math.abs(y[t * out + r] - ref) <= 1e-6 * (Math.abs(ref) + 1), `layout ${layout} [${n},${inDim},${out}] y[${t},${r}] = ${y[t * out + r]}, expected ${ref}`);
    }
    [px, pw, pws, pb, pq, pxs, py].forEach(K.free);
  }
});

test("int8 matmul: no integer overflow at the extremes, even for very wide rows", () => {
  const n = 5, out = 13;
  for (const [inDim, layout] of [[3072, 0], [4096, 0], [10000, 0], [3072, 1], [10001, 1]]) {
    const x = new Float32Array(n * inDim).fill(-1); // every activation quantises to -qmax
    const wq = new Int8Array(out * inDim).fill(-128);
    const ws = new Float32Array(out).fill(1), b = new Float32Array(out);
    const px = put(x), pw = put(wq), pws = put(ws), pb = put(b);
    const pq = K.alloc(n * inDim * 2), pxs = K.alloc(n * 4), py = K.alloc(n * out * 4);
    K.quantize(pq, pxs, px, n, inDim);
    K.mm_i8(py, pq, pxs, pw, pws, pb, n, inDim, out, layout);
    const y = f32(py, n * out);
    for (const v of y) assert.ok(Math.abs(v - 128 * inDim) <= 1e-5 * 128 * inDim, `in ${inDim}: ${v}, expected ${128 * inDim}`);
    [px, pw, pws, pb, pq, pxs, py].forEach(K.free);
  }
});

test("layerNorm (alone and with a residual) matches f64", () => {
  for (const [n, h] of [[1, 1], [1, 5], [3, 17], [4, 768], [2, 33]]) {
    for (const residual of [false, true]) {
      const x = randArray(n * h, 4).map((v) => v + 3), y = randArray(n * h), g = randArray(h), b = randArray(h);
      const px = put(x), py = residual ? put(y) : 0, pg = put(g), pb = put(b);
      K.layer_norm(px, py, n, h, pg, pb, 1e-12);
      const out = f32(px, n * h);
      for (let t = 0; t < n; t++) {
        const row = Array.from({ length: h }, (_, c) => x[t * h + c] + (residual ? y[t * h + c] : 0)).map(Math.fround);
        const mean = row.reduce((a, v) => a + v, 0) / h;
        const v = row.reduce((a, u) => a + (u - mean) ** 2, 0) / h;
        for (let c = 0; c < h; c++) {
          const ref = ((row[c] - mean) / Math.sqrt(v + 1e-12)) * g[c] + b[c];
          assert.ok(Math.abs(out[t * h + c] - ref) <= 1e-6 * (1 + Math.abs(ref)), `[${n},${h}] ${out[t * h + c]} vs ${ref}`);
        }
      }
      [px, pg, pb].forEach(K.free);
      if (py) K.free(py);
    }
  }
});

test("erf is accurate to 5e-7 over the reals", () => {
  let worst = 0;
  for (let x = -7; x <= 7; x += 0.000731) worst = Math.max(worst, Math.abs(K.erf(Math.fround(x)) - erf(Math.fround(x))));
  for (const x of [0, -0, 1e-30, -1e-8, 1e30, -1e30, Infinity, -Infinity]) worst = Math.max(worst, Math.abs(K.erf(x) - erf(x)));
  assert.ok(worst <= 5e-7, `max |erf error| = ${worst}`);
  assert.is(K.erf(0), 0);
});

test("activations match f64 on every length (SIMD body and tail)", () => {
  for (const len of [1, 2, 3, 4, 5, 7, 17, 1000]) {
    const x = randArray(len, 8);
    const cases: [string, (p: number, n: number) => void, (v: number) => number, number][] = [
      ["gelu", K.gelu, gelu, 1e-6], ["gelu_tanh", K.gelu_tanh, geluTanh, 1e-6], ["relu", K.relu, (v) => Math.max(v, 0), 0],
    ];
    for (const [name, fn, ref, tol] of cases) {
      const p = put(x);
      fn(p, len);
      const y = f32(p, len);
      for (let i = 0; i < len; i++) {
        assert.ok(Math.abs(y[i] - ref(x[i])) <= tol * (1 + Math.abs(x[i])), `${name}(${x[i]}) = ${y[i]}, expected ${ref(x[i])}`);
      }
      K.free(p);
    }
  }
});

test("exp (x <= 0) is within 2 ulp, and exactly 0 below the normal range", () => {
  let worst = 0;
  for (let x = -87.3; x <= 0; x += 0.00137) {
    const xf = Math.fround(x), e = Math.exp(xf);
    const ulp = 2 ** (Math.floor(Math.log2(e)) - 23);
    worst = Math.max(worst, Math.abs(K.exp(xf) - e) / ulp);
  }
  assert.ok(worst <= 2, `max error ${worst} ulp`);
  assert.is(K.exp(0), 1);
  for (const x of [-87.34, -100, -1e30, -Infinity]) assert.is(K.exp(x), 0, `exp(${x})`);
});

// Attention's softmax: expScaled leaves exp(x / div - max / div) in place and
// returns 1 / sum, the factor that normalises.
function softmax(p: number, len: number, div = 1): Float32Array {
  const inv = K.exp_scaled(p, len, div);
  return f32(p, len).map((v) => v * inv);
}

test("softmax (exp and its normalising factor) matches f64, including large scores", () => {
  for (const len of [1, 2, 5, 33, 512]) {
    const x = randArray(len, 30).map((v) => v + 50);
    const p = put(x);
    const y = softmax(p, len);
    const m = Math.max(...x);
    const e = Array.from(x, (v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    for (let i = 0; i < len; i++) assert.ok(Math.abs(y[i] - e[i] / s) <= 1e-6 * (e[i] / s) + 1e-9, `softmax[${i}]`);
    K.free(p);
  }
  // Divided by sqrt(D) as attention does.
  const x = Float32Array.from({ length: 64 }, (_, i) => Math.fround(Math.sin(i * 1.7) * 30));
  const p8 = put(x);
  const y8 = softmax(p8, 64, 8);
  const m8 = Math.max(...x) / 8;
  const e8 = Array.from(x, (v) => Math.exp(v / 8 - m8));
  const s8 = e8.reduce((a, v) => a + v, 0);
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(y8[i] - e8[i] / s8) <= 1e-6 * (e8[i] / s8) + 1e-9, `softmax / 8 [${i}]`);
  K.free(p8);
  // A spread wider than f32's range: the far-below entries are exactly 0.
  const p = put(Float32Array.from([0, -200, 5, -1e30, 4.5]));
  const y = softmax(p, 5);
  const e0 = Math.exp(-5), e2 = 1, e4 = Math.exp(-0.5), s = e0 + e2 + e4;
  assert.ok(Math.abs(y[0] - e0 / s) < 1e-7 && Math.abs(y[2] - e2 / s) < 1e-7 && Math.abs(y[4] - e4 / s) < 1e-7);
  assert.is(y[1], 0);
  assert.is(y[3], 0);
  K.free(p);
});

test("topK picks the k largest, ties to the lower index, in index order", () => {
  for (const [n, k, levels] of [[2, 1, 2], [5, 3, 2], [10, 4, 3], [33, 7, 4], [64, 30, 1000], [100, 99, 5], [128, 30, 3], [57, 1, 1]]) {
    for (let trial = 0; trial < 20; trial++) {
      const p = Float32Array.from({ length: n }, () => Math.floor((rand() + 1) * levels / 2) / levels);
      const pp = put(p), idx = K.alloc(n * 4);
      const m = K.top_k(pp, n, k, idx, idx);
      const got = Array.from(new Uint32Array(K.memory.buffer, idx, m));
      const kept = hardTopK(Float64Array.from(p), k);
      const want = [...kept.keys()].filter((j) => {
        const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b).slice(0, k);
        return order.includes(j);
      });
      assert.equal(got, want, `n=${n} k=${k}`);
      assert.equal(Array.from(f32(pp, n)), Array.from(p), "input untouched");
      K.free(pp);
      K.free(idx);
    }
  }
});

function refAttention(q: Float32Array, k: Float32Array, v: Float32Array, n: number, h: number, d: number, hardK: number) {
  const ctx = new Float64Array(n * h * d);
  for (let hd = 0; hd < h; hd++) for (let i = 0; i < n; i++) {
    const s = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let e = 0; e < d; e++) dot += q[i * h * d + hd * d + e] * k[j * h * d + hd * d + e];
      s[j] = dot / Math.sqrt(d);
    }
    let m = -Infinity;
    for (const u of s) m = Math.max(m, u);
    const ex = s.map((u) => Math.exp(u - m));
    const sum = ex.reduce((a, u) => a + u, 0);
    const p = hardTopK(ex.map((u) => u / sum), hardK);
    for (let j = 0; j < n; j++) for (let e = 0; e < d; e++) ctx[i * h * d + hd * d + e] += p[j] * v[j * h * d + hd * d + e];
  }
  return ctx;
}

test("attention (dense and hard top-K) matches f64; n <= K is bit-identical to dense", () => {
  for (const [n, h, d] of [[1, 1, 1], [3, 2, 5], [7, 3, 4], [17, 2, 8], [40, 4, 64], [9, 1, 7], [70, 2, 37], [33, 3, 16]]) {
    const q = randArray(n * h * d, 2), k = randArray(n * h * d, 2), v = randArray(n * h * d);
    const pq = put(q), pk = put(k), pv = put(v), pc = K.alloc(n * h * d * 4), ps = K.alloc(32 * n * 4), pt = K.alloc(d * n * 4), pvt = K.alloc(d * n * 4), pi = K.alloc(n * 4);
    const run = (hardK: number) => { K.attention(pc, pq, pk, pv, n, h, d, hardK, ps, pt, pvt, pi); return f32(pc, n * h * d); };
    const dense = run(0);
    for (const hardK of [0, 1, 2, 5, 16, 30]) {
      const got = run(hardK);
      const ref = refAttention(q, k, v, n, h, d, hardK);
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 2e-6, `[${n},${h},${d}] K=${hardK} ctx[${i}] = ${got[i]} vs ${ref[i]}`);
      if (hardK >= n) assert.equal(Array.from(got), Array.from(dense), `K=${hardK} >= n=${n} equals dense bit for bit`);
    }
    [pq, pk, pv, pc, ps, pt, pvt, pi].forEach(K.free);
  }
});

test.run();
