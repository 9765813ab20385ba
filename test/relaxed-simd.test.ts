// The relaxed-SIMD build (build/axformer-relaxed.wasm, host/runtime/simd.ts):
//  - the choice: validation fails -> plain build; self-test fails -> plain build;
//    each with its reason; AXFORMER_SIMD=relaxed refuses rather than fall back;
//  - on workerd (Miniflare runs the real workerd): the self-test passes, the int8
//    kernels match a JS emulation of their arithmetic exactly (the 7-bit quantiser's
//    roundings and the integer sums are specified, so equality is the right test),
//    and a small random model's logits stay within the bounds stated below of the
//    plain build's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instantiateBest, relaxedSelfTest, relaxedValidates } from "../host/runtime/simd.ts";
import { chooseEngine, compileRuntime, RELAXED_WASM_URL } from "../host/runtime/node.ts";
import { instantiate, type Engine } from "../host/runtime/index.ts";
import { panelPermutation } from "../host/format/layout.ts";
import { writeModel } from "../host/format/writer.ts";
import { randomModel } from "./helpers/random-model.ts";
import { startRelaxedWorker, type RelaxedWorker } from "./helpers/relaxed-harness.ts";
import * as F from "../assembly/format/constants.ts";

// ---- the choice, in this Node

test("this Node: the choice is made and says why", async () => {
  const c = await chooseEngine("auto");
  if (relaxedValidates()) assert.ok(c.build === "relaxed" || /computes wrongly/.test(c.reason), c.reason);
  else {
    assert.is(c.build, "simd");
    assert.match(c.reason, /does not accept relaxed SIMD/);
  }
  assert.is((await chooseEngine("simd")).build, "simd");
});

test("validation fails -> plain build, with the reason; 'relaxed' then throws", async () => {
  const plain = await compileRuntime();
  const bogus = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x01]); // does not validate anywhere
  if (relaxedValidates()) {
    const c = await instantiateBest(plain, bogus);
    assert.is(c.build, "simd");
    assert.match(c.reason, /does not instantiate/);
  } else {
    const c = await instantiateBest(plain, readFileSync(RELAXED_WASM_URL));
    assert.is(c.build, "simd");
    assert.match(c.reason, /does not accept relaxed SIMD/);
    let message = "";
    try { await instantiateBest(plain, readFileSync(RELAXED_WASM_URL), "relaxed"); } catch (err) { message = (err as Error).message; }
    assert.match(message, /cannot be used here: this engine does not accept/);
  }
});

test("self-test fails -> plain build, with the reason", async () => {
  const plain = await compileRuntime();
  // The plain build passed as the relaxed one (a Module skips validation): its self-test runs nothing.
  const c = await instantiateBest(plain, plain);
  assert.is(c.build, "simd");
  assert.match(c.reason, /not the relaxed build/);
  // An engine that computes the dot product as Node 20 does behind its flag (twice the
  // dot, accumulator dropped) and one that computes it right.
  const fake = (wrong: boolean) => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = new DataView(memory.buffer);
    return { exports: { memory, simd_selftest_ptr: () => 0, simd_selftest: () => {
      for (let i = 0; i < 4; i++) {
        let d = 0;
        for (let k = 0; k < 4; k++) d += m.getInt8(4 * i + k) * m.getUint8(16 + 4 * i + k);
        m.setInt32(96 + 4 * i, wrong ? 2 * d : d + m.getInt32(32 + 4 * i, true), true);
        m.setFloat32(112 + 4 * i, Math.fround(m.getFloat32(48 + 4 * i, true) * m.getFloat32(64 + 4 * i, true)) + m.getFloat32(80 + 4 * i, true), true);
      }
      return 1;
    } } } as unknown as Engine;
  };
  assert.is(relaxedSelfTest(fake(false)), null);
  assert.match(relaxedSelfTest(fake(true)) ?? "", /relaxed_dot_i8x16_i7x16_add_s gave \[.*\], expected/);
});

test("Node 20 with --experimental-wasm-relaxed-simd: what it does (observed, reported)", () => {
  const script = `import { chooseEngine } from ${JSON.stringify(new URL("../host/runtime/node.ts", import.meta.url).href)};
    const c = await chooseEngine("auto"); console.log(JSON.stringify({ build: c.build, reason: c.reason }));`;
  const dir = mkdtempSync(join(tmpdir(), "axf-relaxed-"));
  try {
    writeFileSync(join(dir, "probe.mts"), script);
    const out = execFileSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--import", "tsx", join(dir, "probe.mts")], { encoding: "utf8" });
    const c = JSON.parse(out.trim().split("\n").pop()!);
    // Either it computes right (a newer V8) and is chosen, or the self-test catches it.
    assert.ok(c.build === "relaxed" || /computes wrongly/.test(c.reason), c.reason);
    console.log(`  node ${process.version} --experimental-wasm-relaxed-simd: ${c.build} (${c.reason})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- workerd

let worker: RelaxedWorker;
const post = (path: string, body: unknown = {}) => worker.post(path, body);

test.before(async () => {
  worker = await startRelaxedWorker();
});

test.after(async () => {
  await worker?.dispose();
});

test("workerd: relaxed SIMD validates and passes its self-test, so the relaxed build is chosen", async () => {
  const c = await post("/choice");
  assert.is(c.build, "relaxed", c.reason);
  assert.match(c.reason, /passed its self-test/);
});

// Deterministic pseudo-random numbers in [-1, 1).
let seed = 7;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 31 - 1;
}

const fr = Math.fround;
function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// The arithmetic of assembly/kernels/matmul_i8_relaxed.ts, in JS.
function emulate(x: Float32Array, w: Int8Array, ws: Float32Array, b: Float32Array, n: number, inDim: number, outDim: number) {
  const xq: number[][] = [], zp: number[] = [], xs: number[] = [], y = new Float32Array(n * outDim);
  const in16 = inDim & ~15;
  for (let t = 0; t < n; t++) {
    const row = x.subarray(t * inDim, (t + 1) * inDim);
    const lo = Math.min(0, ...row), hi = Math.max(0, ...row);
    const scale = fr(fr(hi - lo) / 127), inv = scale > 0 ? fr(1 / scale) : 0;
    const z = roundEven(fr(-lo * inv));
    const q = Array.from(row, (v, c) => Math.min(127, Math.max(0, c < in16 ? roundEven(fr(v * inv) + z) : roundEven(fr(fr(v * inv) + z)))));
    xq.push(q); zp.push(z); xs.push(scale);
    for (let r = 0; r < outDim; r++) {
      let s = 0;
      for (let c = 0; c < inDim; c++) s += w[r * inDim + c] * (q[c] - z);
      y[t * outDim + r] = fr(fr(fr(fr(s) * scale) * ws[r]) + b[r]);
    }
  }
  return { xq, zp, xs, y };
}

test("workerd: the relaxed int8 kernels equal a JS emulation of their arithmetic, bit for bit", async () => {
  // [n, in, out]: n past the 4-token block, in not a multiple of 4 or 16, out not of 8.
  const shapes = [[1, 4, 1], [3, 5, 9], [4, 16, 8], [5, 7, 17], [7, 18, 12], [9, 33, 20], [2, 130, 11], [6, 384, 24], [17, 64, 16]];
  for (const [n, inDim, outDim] of shapes) for (const layout of [F.LAYOUT_ROWS, F.LAYOUT_PANELS]) {
    const x = Float32Array.from({ length: n * inDim }, () => rand() * 3);
    if (n > 2) {
      x.fill(0, 0, inDim);                   // a zero row
      x.fill(1.25, inDim, 2 * inDim);        // a constant row
      for (let c = 0; c < inDim; c++) x[2 * inDim + c] = -Math.abs(x[2 * inDim + c]); // all negative
    }
    const w = Int8Array.from({ length: outDim * inDim }, (_, i) => (i % 97 === 0 ? -128 : Math.round(rand() * 127)));
    const ws = Float32Array.from({ length: outDim }, () => 0.001 + Math.abs(rand()) * 0.02);
    const b = Float32Array.from({ length: outDim }, () => rand() * 0.1);
    const stored = new Int8Array(w.length);
    if (layout === F.LAYOUT_PANELS) {
      const index = panelPermutation(outDim, inDim, true);
      for (let i = 0; i < w.length; i++) stored[index[i]] = w[i];
    } else stored.set(w);
    const got = await post("/kernel", { n, inDim, outDim, layout, x: Array.from(x), w: Array.from(stored), ws: Array.from(ws), bias: Array.from(b) });
    const want = emulate(x, w, ws, b, n, inDim, outDim);
    const where = `n ${n} in ${inDim} out ${outDim} layout ${layout}`;
    assert.equal(got.zp, want.zp, `zero points, ${where}`);
    assert.equal(got.xs, want.xs.map(fr), `scales, ${where}`);
    assert.equal(got.xq, want.xq, `7-bit activations, ${where}`);
    assert.equal(got.y, Array.from(want.y), `outputs, ${where}`);
  }
});

// The logits bound of the relaxed int8 path against the plain one. Both quantise the
// weights alike; they differ in the activations: 16-bit symmetric (step max|x| / 32767)
// against 7-bit with a zero point (step (hi - lo) / 127 <= 2 max|x| / 127, about
// max|x| / 64). The weights' own step is max|w| / 127. So per linear, relative to
// its inputs' scale, the relaxed path adds an error of at most about twice the one
// the int8 weights already make, and the two are independent: the relaxed logits may
// stand up to (1 + 2) = 3 times as far from f32 as the plain int8 ones do. We assert
// |relaxed - plain int8| <= 3 * max|plain int8 - f32| + 1e-4 (max over the logits of
// all inputs) and, for relaxed f32 (fused multiply-add: one rounding less per term),
// |relaxed - plain| <= 1e-4 * (1 + max|logit|) (f32 sums of <= 256 terms of O(1)).
test("workerd: a random model's logits, relaxed vs plain, within the stated bounds", async () => {
  const inputs = [[2, 9, 14, 3], [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 3], Array.from({ length: 48 }, (_, i) => (i === 0 ? 2 : i === 47 ? 3 : 5 + ((i * 7) % 50)))];
  const opts = { seed: 11, hiddenSize: 64, numHeads: 4, numLayers: 2, intermediateSize: 128, maxPosition: 64, numLabels: 3 };
  const f32 = writeModel(randomModel(opts)), int8 = writeModel(randomModel({ ...opts, storage: "int8" }));
  const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
  const run = async (file: Uint8Array, buildName: string) => {
    const r = await post(`/logits?build=${buildName}`, { model: b64(file), inputs });
    assert.is(r.build, buildName, r.reason);
    return (r.logits as number[][]).flat();
  };
  const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  const [pf, rf, pi, ri] = [await run(f32, "simd"), await run(f32, "relaxed"), await run(int8, "simd"), await run(int8, "relaxed")];
  // The plain build computes the same on workerd as in this Node, bit for bit.
  const node = (await instantiate(await compileRuntime())).loadModel(int8, { maxMemoryMb: Infinity });
  assert.equal(pi, inputs.flatMap((ids) => Array.from(node.logits(ids))));
  const scale = Math.max(...pf.map(Math.abs));
  const int8Err = maxDiff(pi, pf);
  console.log(`  workerd logits (max |logit| ${scale.toFixed(3)}): |relaxed f32 - f32| ${maxDiff(rf, pf).toExponential(2)}, ` +
    `|int8 - f32| ${int8Err.toExponential(2)}, |relaxed int8 - int8| ${maxDiff(ri, pi).toExponential(2)}, |relaxed int8 - f32| ${maxDiff(ri, pf).toExponential(2)}`);
  assert.ok(maxDiff(rf, pf) <= 1e-4 * (1 + scale), `relaxed f32 vs f32: ${maxDiff(rf, pf)}`);
  assert.ok(maxDiff(ri, pi) <= 3 * int8Err + 1e-4, `relaxed int8 vs int8: ${maxDiff(ri, pi)} > 3 x ${int8Err}`);
});

test.run();
