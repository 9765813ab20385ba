// The .axf writer (host/format/writer.ts) against the only reader
// (assembly/format/reader.ts, compiled here with a small test entry), both ways:
// round trips that compare every field and tensor, and damaged files the
// reader must reject with a message naming the problem.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, existsSync } from "node:fs";
import { mkdtemp, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 as zlibCrc32 } from "node:zlib";
import asc from "assemblyscript/asc";
import * as F from "../assembly/format/constants.ts";
import { storedAs, writeModel, writeModelUnchecked, compactRanges } from "../host/format/writer.ts";
import { expectedTensors } from "../host/model/tensors.ts";
import { panelIndex, panelPermutation } from "../host/format/layout.ts";
import { writeModelFile } from "../host/format/write-file.ts";
import { readModel, loadIntoWasm, parseRanges, type FormatExports } from "../host/format/read.ts";
import { crc32, crc32Portable } from "../host/format/crc32.ts";
import type { Model, Storage } from "../host/model/model.ts";
import { randomModel, prng, type RandomModelOptions } from "./helpers/random-model.ts";
import { asOldVersion } from "./helpers/old-version.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// The reader plus what readModel needs from assembly/index.ts (alloc_model,
// load_model, errors, labels), and a peek at the Weights the engine will use.
const ENTRY = "test/wasm/format_entry.ts";
const ENTRY_SOURCE = `
import { loadModel, unloadModel, labels, weights, stringPtr, stringLen } from "../../assembly/format/reader";
import { errorPtr, errorLen } from "../../assembly/errors";
import { Matrix } from "../../assembly/model/model";
import { DTYPE_F16 } from "../../assembly/format/constants";
export * from "../../assembly/format/exports";

let buf: usize = 0;
export function alloc_model(size: u32): usize {
  unloadModel();
  if (buf) heap.free(buf);
  buf = heap.alloc(max<usize>(size, 16));
  return buf;
}
export function load_model(ptr: usize, size: u32): i32 { return loadModel(ptr, size); }
export function error_ptr(): usize { return errorPtr(); }
export function error_len(): i32 { return errorLen(); }
export function label_ptr(i: u32): usize { return i < labels.count ? stringPtr(labels, i) : 0; }
export function label_len(i: u32): u32 { return i < labels.count ? stringLen(labels, i) : 0; }

// layer < 0: 0 word embeddings, 1 pooler, 2 pre_classifier, 3 classifier; else
// 0 query, 1 key, 2 value, 3 attn_out, 4 intermediate, 5 output of that layer.
// f: 0 rows, 1 cols, 2 dtype, 3 data, 4 scales.
export function test_matrix(layer: i32, k: u32, f: u32): usize {
  let m: Matrix;
  if (layer < 0) m = k == 0 ? weights.embeddings.word_embeddings : k == 1 ? weights.pooler.weight : k == 2 ? weights.pre_classifier.weight : weights.classifier.weight;
  else {
    let l = weights.layers[layer];
    let a = l.attention.self;
    m = k == 0 ? a.query.weight : k == 1 ? a.key.weight : k == 2 ? a.value.weight : k == 3 ? l.attention.output.dense.weight : k == 4 ? l.intermediate.dense.weight : l.output.dense.weight;
  }
  return f == 0 ? <usize>m.rows : f == 1 ? <usize>m.cols : f == 2 ? <usize>m.dtype : f == 3 ? m.data : m.scales;
}
export function test_word_embeddings_f16(): bool { return weights.embeddings.word_embeddings.dtype == DTYPE_F16; }
export function test_query_bias(layer: u32): usize { return weights.layers[layer].attention.self.query.bias; }
export function test_ffn_ln_weight(layer: u32): usize { return weights.layers[layer].output.LayerNorm.weight; }
`;

type TestExports = FormatExports & {
  tensor_layout(i: number): number;
  test_matrix(layer: number, k: number, f: number): number;
  test_word_embeddings_f16(): number;
  test_query_bias(layer: number): number;
  test_ffn_ln_weight(layer: number): number;
};

async function compileReader(): Promise<Uint8Array> {
  let binary: Uint8Array | null = null;
  const entryPath = resolve(ROOT, ENTRY);
  const { error, stderr } = await asc.main([ENTRY, "--enable", "simd", "-O3", "--outFile", "format-test.wasm"], {
    stdout: asc.createMemoryStream(),
    stderr: asc.createMemoryStream(),
    readFile: (name, baseDir) => {
      const p = resolve(ROOT, baseDir, name);
      if (p === entryPath) return ENTRY_SOURCE;
      return existsSync(p) ? readFileSync(p, "utf8") : null;
    },
    writeFile: (name, contents) => {
      if (name.endsWith(".wasm")) binary = contents as Uint8Array;
    },
    listFiles: () => [],
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  return binary!;
}

let wasm: TestExports;

// uvu reports a failing before-hook only as "0 passed", so say why here.
test.before(async () => {
  try {
    const module = await WebAssembly.compile((await compileReader()) as Uint8Array<ArrayBuffer>);
    const imports = WebAssembly.Module.imports(module);
    const env: Record<string, WebAssembly.ImportValue> = {
      abort: () => { throw new Error("wasm abort (the reader trapped)"); },
      seed: () => 1,
    };
    for (const i of imports) {
      if (i.module !== "env" || !(i.name in env)) throw new Error(`unexpected wasm import ${i.module}.${i.name}`);
    }
    const instance = await WebAssembly.instantiate(module, { env });
    wasm = instance.exports as unknown as TestExports;
  } catch (e) {
    console.error("format.test.ts: could not build the reader:", e);
    throw e;
  }
});

// ---- helpers -------------------------------------------------------------------

function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

// Per-row symmetric int8 as the format defines it, recomputed here.
function int8Expected(data: Float32Array, rows: number): Float32Array {
  const cols = data.length / rows, out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    let maxabs = 0;
    for (let c = 0; c < cols; c++) maxabs = Math.max(maxabs, Math.abs(data[r * cols + c]));
    const scale = Math.fround(maxabs / 127);
    for (let c = 0; c < cols && scale > 0; c++) {
      const w = data[r * cols + c];
      const q = Math.min(127, Math.round(Math.abs(w) / scale)) * Math.sign(w);
      out[r * cols + c] = q * scale;
    }
  }
  return out;
}

// b is what a reader gives back for a model written from a.
function assertRoundTrip(a: Model, b: Model) {
  assert.equal(b.config, { ...a.config, layerNormEps: Math.fround(a.config.layerNormEps) });
  assert.equal(b.layers, a.layers);
  assert.equal(b.vocab, a.vocab);
  assert.equal(b.labels, a.labels);
  assert.equal(b.meta, a.meta);
  const specs = expectedTensors(a.config, a.layers);
  assert.equal([...b.tensors.keys()], specs.map((s) => s.name), "tensor names, in file order");
  for (const spec of specs) {
    const ta = a.tensors.get(spec.name)!, tb = b.tensors.get(spec.name)!;
    const storage = storedAs(spec, ta);
    assert.equal(tb.shape, ta.shape, spec.name);
    assert.is(tb.storage, storage, spec.name);
    if (storage === "f32") {
      assert.ok(tb.data.every((v, i) => Object.is(v, ta.data[i])), `${spec.name}: f32 values differ`);
    } else if (storage === "f16") {
      for (let i = 0; i < ta.data.length; i++) {
        const err = Math.abs(tb.data[i] - ta.data[i]);
        if (err > Math.max(Math.abs(ta.data[i]) * 2 ** -11, 2 ** -25)) assert.unreachable(`${spec.name}[${i}]: f16 ${tb.data[i]} for ${ta.data[i]}`);
      }
    } else {
      const want = int8Expected(ta.data, ta.shape[0]);
      assert.ok(tb.data.every((v, i) => v === want[i]), `${spec.name}: int8 values differ from the per-row quantization`);
    }
  }
}

function expectReject(bytes: Uint8Array, pattern: RegExp) {
  let message = "";
  try {
    loadIntoWasm(bytes, wasm);
  } catch (e) {
    message = (e as Error).message;
  }
  assert.ok(message !== "", `the reader accepted a bad file (expected ${pattern})`);
  assert.match(message, pattern);
  assert.is(wasm.tensor_count(), 0, "nothing stays loaded after a failed load");
  // The instance stays usable.
  const good = randomModel({ seed: 99 });
  assertRoundTrip(good, readModel(writeModel(good), wasm));
}

interface SectionEntry { at: number; kind: number; offset: number; size: number }

function sectionTable(bytes: Uint8Array): SectionEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return Array.from({ length: v.getUint32(F.HDR_SECTION_COUNT, true) }, (_, i) => {
    const at = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    return { at, kind: v.getUint32(at + F.SEC_KIND, true), offset: v.getUint32(at + F.SEC_OFFSET, true), size: v.getUint32(at + F.SEC_SIZE, true) };
  });
}

function section(bytes: Uint8Array, kind: number): SectionEntry {
  return sectionTable(bytes).find((s) => s.kind === kind)!;
}

// Recomputes every in-bounds section CRC and the header CRC, so a patch reaches
// the check it is aimed at instead of tripping a CRC first.
function fixCrcs(bytes: Uint8Array): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const table = sectionTable(bytes);
  for (const s of table) {
    if (s.offset + s.size <= bytes.length) v.setUint32(s.at + F.SEC_CRC, crc32(bytes.subarray(s.offset, s.offset + s.size)), true);
  }
  v.setUint32(F.HDR_CRC, 0, true);
  v.setUint32(F.HDR_CRC, crc32(bytes.subarray(0, F.HEADER_SIZE + table.length * F.SECTION_ENTRY_SIZE)), true);
  return bytes;
}

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value >>> 0, true);
  return out;
}

// Address of field `at` of the tensor table entry named `name`.
function tensorEntry(bytes: Uint8Array, name: string): number {
  const s = section(bytes, F.SECTION_TENSORS);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const count = v.getUint32(s.offset, true);
  const names = s.offset + F.TENSOR_COUNT_SIZE + count * F.TENSOR_ENTRY_SIZE;
  for (let i = 0; i < count; i++) {
    const e = s.offset + F.TENSOR_COUNT_SIZE + i * F.TENSOR_ENTRY_SIZE;
    const n = new TextDecoder().decode(bytes.subarray(names + v.getUint32(e + F.TE_NAME_OFFSET, true), names + v.getUint32(e + F.TE_NAME_OFFSET, true) + v.getUint32(e + F.TE_NAME_LEN, true)));
    if (n === name) return e;
  }
  throw new Error(`no tensor ${name}`);
}

const base = () => writeModel(randomModel({ seed: 5 }));

test("host CRC-32 (portable and as the writer calls it) agrees with zlib, whole and continued", () => {
  const rand = prng(3);
  for (const f of [crc32, crc32Portable])
    for (const n of [0, 1, 7, 8, 9, 63, 64, 1000, 4099]) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
      assert.is(f(bytes), zlibCrc32(bytes), `length ${n}`);
      const cut = Math.floor(n / 3);
      assert.is(f(bytes.subarray(cut), f(bytes.subarray(0, cut))), zlibCrc32(bytes), `length ${n} in two parts`);
    }
});

// ---- round trips -----------------------------------------------------------------

const cases: Array<[string, RandomModelOptions]> = [
  ["BERT f32", {}],
  ["DistilBERT f32", { arch: "distilbert", numLayers: 3, hiddenAct: "relu" }],
  ["BERT f16", { storage: "f16", seed: 2 }],
  ["DistilBERT f16", { arch: "distilbert", storage: "f16", seed: 3 }],
  ["BERT int8", { storage: "int8", seed: 4 }],
  ["DistilBERT int8", { arch: "distilbert", storage: "int8", seed: 6, numLabels: 3 }],
  ["BERT mixed storage", { storage: (n) => (n.includes("word_") ? "f16" : n.includes("intermediate") ? "int8" : n.includes("position") ? "int8" : "f32") }],
  ["BERT regression, gelu_tanh", { problemType: "regression", hiddenAct: "gelu_tanh", doLowerCase: false }],
  ["BERT multi-label", { problemType: "multi_label_classification", numLabels: 4 }],
  ["BERT pruned", {
    hiddenSize: 24, numHeads: 4, intermediateSize: 48, storage: "int8",
    layers: [
      { heads: [1, 3], ffnNeurons: [0, 1, 2, 10, 11, 40, 47], hardK: 3 },
      { hasAttention: false, ffnNeurons: Array.from({ length: 20 }, (_, i) => 2 * i) },
      { hasFfn: false, heads: [2] },
      { hasAttention: false, hasFfn: false },
    ],
  }],
  ["DistilBERT pruned f16", {
    arch: "distilbert", storage: "f16",
    layers: [{ hasFfn: false, hardK: 30 }, { heads: [0], ffnNeurons: [5, 6, 7] }],
  }],
];

for (const [name, opts] of cases) {
  test(`round trip: ${name}`, () => {
    const model = randomModel(opts);
    const bytes = writeModel(model);
    const back = readModel(bytes, wasm);
    assertRoundTrip(model, back);
    // f32 and f16 values survive a second write exactly, so the files are identical.
    if (![...model.tensors.values()].some((t) => t.storage === "int8")) {
      assert.ok(Buffer.from(writeModel(back)).equals(Buffer.from(bytes)), "rewriting the read model gives the same file");
    }
  });
}

test("the reader's Weights: in place, f16 widened, removed blocks absent", () => {
  const model = randomModel({
    storage: (n) => (n.includes("word_") || n.includes("layer.0.attention.self.query") ? "f16" : n.includes("intermediate") ? "int8" : "f32"),
    layers: [{ heads: [1] }, { hasAttention: false, hasFfn: false }],
  });
  const back = readModel(writeModel(model), wasm);
  const mem = () => wasm.memory.buffer;
  const idx = (name: string) => [...back.tensors.keys()].indexOf(name);

  // The word embedding stays f16 in place.
  assert.is(wasm.test_word_embeddings_f16(), 1);
  assert.is(wasm.test_matrix(-1, 0, 2), F.DTYPE_F16);
  assert.is(wasm.test_matrix(-1, 0, 3) >>> 0, wasm.tensor_data_ptr(idx("embeddings.word_embeddings.weight")) >>> 0);

  // Another f16 matrix is widened to f32 by the wasm reader, bit-equal to the host's f16 decoding.
  const q = "encoder.layer.0.attention.self.query.weight";
  assert.is(wasm.test_matrix(0, 0, 2), F.DTYPE_F32);
  assert.equal([wasm.test_matrix(0, 0, 0), wasm.test_matrix(0, 0, 1)], [8, 16]);
  assert.is.not(wasm.test_matrix(0, 0, 3) >>> 0, wasm.tensor_data_ptr(idx(q)) >>> 0);
  assert.equal(new Float32Array(mem(), wasm.test_matrix(0, 0, 3) >>> 0, 8 * 16), back.tensors.get(q)!.data);

  // f32 and int8 are used where they lie in the file.
  const k = "encoder.layer.0.attention.self.key.weight";
  assert.is(wasm.test_matrix(0, 1, 3) >>> 0, wasm.tensor_data_ptr(idx(k)) >>> 0);
  const inter = "encoder.layer.0.intermediate.dense.weight";
  assert.is(wasm.test_matrix(0, 4, 2), F.DTYPE_INT8);
  assert.is(wasm.test_matrix(0, 4, 4) >>> 0, wasm.tensor_scales_ptr(idx(inter)) >>> 0);

  // Layer 1 lost both blocks: no matrices or biases, but its LayerNorms stay.
  for (let m = 0; m < 6; m++) assert.is(wasm.test_matrix(1, m, 3), 0);
  assert.is(wasm.test_query_bias(1), 0);
  assert.ok(wasm.test_ffn_ln_weight(1) !== 0);
  assert.equal([wasm.layer_field(1, 0), wasm.layer_field(1, 1), wasm.layer_field(1, 2), wasm.layer_field(1, 3)], [0, 0, 0, 0]);
  assert.equal([wasm.layer_field(0, 0), wasm.layer_field(0, 2), wasm.layer_field(0, 3)], [1, 1, 32]);
  // BERT: no pre-classifier.
  assert.is(wasm.test_matrix(-1, 2, 3), 0);
  assert.ok(wasm.test_matrix(-1, 1, 3) !== 0);
});

test("f16: round to nearest even, subnormals, overflow is an error", () => {
  const cases: Array<[number, number]> = [
    [1, 1], [-2, -2], [65504, 65504], [-65504, -65504], [65519, 65504],
    [1 + 2 ** -11, 1], [1 + 3 * 2 ** -11, 1 + 2 ** -9], [1 + 2 ** -11 + 2 ** -20, 1 + 2 ** -10],
    [2 ** -14, 2 ** -14], [2 ** -14 - 2 ** -24, 2 ** -14 - 2 ** -24], [2 ** -24, 2 ** -24],
    [2 ** -25, 0], [3 * 2 ** -25, 2 ** -23], [2 ** -25 + 2 ** -30, 2 ** -24], [1e-30, 0], [-0.1, -0.0999755859375],
    [0, 0], [2 ** -14 - 2 ** -25, 2 ** -14],
  ];
  // classifier.weight is [3, 9]: 27 values, so the wasm widening runs both its
  // 4-wide loop and its scalar tail; the cases go at the start, then at the end.
  for (const start of [0, 27 - cases.length]) {
    const model = randomModel({ hiddenSize: 9, numHeads: 3, numLabels: 3, storage: (n) => (n === "classifier.weight" ? "f16" : "f32") });
    const data = model.tensors.get("classifier.weight")!.data;
    cases.forEach(([x], i) => { data[start + i] = x; });
    const back = readModel(writeModel(model), wasm).tensors.get("classifier.weight")!.data;
    cases.forEach(([x, want], i) => assert.is(back[start + i], Math.fround(want), `f16(${x})`));
    // The wasm reader widens this matrix itself; it must agree bit for bit.
    const widened = new Float32Array(wasm.memory.buffer, wasm.test_matrix(-1, 3, 3) >>> 0, 27);
    cases.forEach(([x, want], i) => assert.is(f32Bits(widened[start + i]), f32Bits(want), `wasm f16(${x})`));
    assert.equal(widened, back);

    data[start + 5] = 65520;
    const at = `[${Math.floor((start + 5) / 9)}, ${(start + 5) % 9}]`;
    assert.throws(() => writeModel(model), (e: Error) => e.message.includes(`'classifier.weight' at ${at}: 65520 overflows f16`));
  }
});

test("int8: per-row scale, zero rows get scale 1", () => {
  const model = randomModel({ storage: (n) => (n === "classifier.weight" ? "int8" : "f32") });
  const t = model.tensors.get("classifier.weight")!; // [2, 16]
  t.data.fill(0, 16, 32);
  t.data[3] = -2.54; // the row's maxabs: scale 0.02, q = -127
  const back = readModel(writeModel(model), wasm);
  const scales = new Float32Array(wasm.memory.buffer, wasm.test_matrix(-1, 3, 4) >>> 0, 2);
  assert.is(scales[0], Math.fround(Math.fround(2.54) / 127));
  assert.is(scales[1], 1);
  const q = new Int8Array(wasm.memory.buffer, wasm.test_matrix(-1, 3, 3) >>> 0, 32);
  assert.is(q[3], -127);
  assert.ok(q.subarray(16).every((v) => v === 0));
  assert.ok(back.tensors.get("classifier.weight")!.data.subarray(16).every((v) => v === 0));
});

test("META: compact ranges round trip, user meta kept, absent META gives 0..n-1", () => {
  assert.is(compactRanges([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
  assert.equal(parseRanges(compactRanges([0, 1, 2, 5, 7, 8])), [0, 1, 2, 5, 7, 8]);
  assert.equal(parseRanges(""), []);
  const model = randomModel({ layers: [{ heads: [1], ffnNeurons: [3, 4, 5, 9] }] });
  model.meta = { source: "x", decisions: [{ layer: 0, removed: "head 0" }] };
  assert.equal(readModel(writeModel(model), wasm).meta, model.meta);
  const s = section(writeModel(model), F.SECTION_META);
  const noMeta = fixCrcs(patch(writeModel(model), s.at, 99)); // an unknown kind: skipped
  const back = readModel(noMeta, wasm);
  assert.equal(back.meta, {});
  assert.equal(back.layers[0], { hasAttention: true, hasFfn: true, heads: [0], ffnNeurons: [0, 1, 2, 3], hardK: 0 });
});

test("config words and strings through the introspection exports", () => {
  const model = randomModel({ arch: "distilbert" });
  model.config.tokenizer.stripAccents = false;
  model.config.tokenizer.maskId = null;
  model.labels = ["négatif", "positif 👍"];
  const back = readModel(writeModel(model), wasm);
  assert.is(wasm.config_word(F.CFG_MASK_ID) >>> 0, F.NO_TOKEN);
  assert.is(wasm.config_word(F.CFG_STRIP_ACCENTS), F.STRIP_ACCENTS_NEVER);
  assert.is(wasm.config_word(F.CFG_FLAGS), 1);
  assert.is(wasm.config_word(F.CFG_TYPE_VOCAB_SIZE), 0);
  assert.is(back.config.tokenizer.maskId, null);
  assert.is(back.config.tokenizer.stripAccents, false);
  assert.equal(back.labels, model.labels);
  assert.is(wasm.vocab_count(), model.vocab.length);
  assert.is(wasm.config_word(32), 0);
  assert.is(wasm.tensor_data_ptr(wasm.tensor_count()), 0);
});

test("the writer validates the model, naming the problem", () => {
  const m = () => randomModel();
  const bad = (edit: (x: Model) => void, pattern: RegExp) => {
    const x = m();
    edit(x);
    assert.throws(() => writeModel(x), pattern);
  };
  bad((x) => { x.tensors.get("classifier.weight")!.data[3] = NaN; }, /classifier\.weight.*NaN/);
  bad((x) => { x.tensors.get("encoder.layer.1.output.dense.bias")!.data[0] = Infinity; }, /encoder\.layer\.1\.output\.dense\.bias.*Infinity/);
  bad((x) => { x.tensors.delete("pooler.dense.bias"); }, /pooler\.dense\.bias' is missing/);
  bad((x) => { x.tensors.get("classifier.weight")!.shape = [16, 2]; }, /classifier\.weight' has shape \[16,2\], expected \[2,16\]/);
  bad((x) => { x.layers[0].heads = [0]; }, /encoder\.layer\.0\.attention\.self\.query\.weight' has shape \[16,16\], expected \[8,16\]/);
  bad((x) => { x.layers[1].hasFfn = false; x.layers[1].ffnNeurons = []; }, /encoder\.layer\.1\.intermediate\.dense\.weight' is not part of this model/);
  bad((x) => { x.layers[0].heads = [1, 0]; }, /layers\[0\]\.heads\[1\]/);
  bad((x) => { x.vocab.pop(); }, /vocab tokens for config\.vocabSize/);
  bad((x) => { x.vocab[8] = x.vocab[7]; }, /vocab tokens 7 and 8 are both/);
  bad((x) => { x.labels.push("extra"); }, /3 labels for config\.numLabels = 2/);
  bad((x) => { x.config.headDim = 4; }, /headDim \* config\.numHeads/);
  bad((x) => { x.config.tokenizer.maxLen = 33; }, /maxLen = 33/);
});

test("writeModelFile writes atomically and cleans up on failure", async () => {
  const dir = await mkdtemp(join(tmpdir(), "axf-"));
  try {
    const model = randomModel();
    const path = join(dir, "m.axf");
    const n = await writeModelFile(path, model);
    const bytes = await readFile(path);
    assert.is(n, bytes.length);
    assert.ok(bytes.equals(Buffer.from(writeModel(model))));
    // Rename onto a directory fails: the error names the path and no temp file is left.
    await mkdir(join(dir, "taken.axf"));
    let message = "";
    await writeModelFile(join(dir, "taken.axf"), model).catch((e) => { message = e.message; });
    assert.match(message, /taken\.axf/);
    assert.equal((await readdir(dir)).sort(), ["m.axf", "taken.axf"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the shipped runtime (build/axformer.wasm) reads what the writer writes", async () => {
  const path = join(ROOT, "build/axformer.wasm");
  assert.ok(existsSync(path), "build/axformer.wasm is not built: run npm run asbuild (npm test does, in pretest)");
  const module = await WebAssembly.compile(readFileSync(path));
  const env: Record<string, WebAssembly.ImportValue> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.module === "env" && i.kind === "function") env[i.name] = () => { throw new Error(`wasm called env.${i.name}`); };
  }
  const shipped = (await WebAssembly.instantiate(module, { env })).exports as unknown as FormatExports;
  for (const opts of [{ arch: "distilbert", storage: "f16", layers: [{ hasFfn: false }, { heads: [1], hardK: 2 }] }, { storage: "int8" }] as RandomModelOptions[]) {
    const model = randomModel(opts);
    assertRoundTrip(model, readModel(writeModel(model), shipped));
  }
  let message = "";
  try { loadIntoWasm(writeModel(randomModel()).slice(0, 100), shipped); } catch (e) { message = (e as Error).message; }
  assert.match(message, /file_size/);
});

// ---- weight layout (version 2) ------------------------------------------------------

test("panel layout: the index formula of docs/format.md, on small cases by hand", () => {
  // f32 [18, 3]: one panel of 16 rows stored transposed (3 x 16), then rows 16, 17 row-major.
  assert.is(panelIndex(0, 0, 18, 3, false), 0);
  assert.is(panelIndex(1, 0, 18, 3, false), 1);
  assert.is(panelIndex(0, 1, 18, 3, false), 16);
  assert.is(panelIndex(15, 2, 18, 3, false), 47);
  assert.is(panelIndex(16, 0, 18, 3, false), 48);
  assert.is(panelIndex(17, 2, 18, 3, false), 53);
  // int8 [9, 5]: one panel of 8 rows, columns in pairs (0,1), (2,3), then the odd column 4; row 8 row-major.
  assert.is(panelIndex(0, 0, 9, 5, true), 0);
  assert.is(panelIndex(0, 1, 9, 5, true), 1);
  assert.is(panelIndex(1, 0, 9, 5, true), 2);
  assert.is(panelIndex(7, 1, 9, 5, true), 15);
  assert.is(panelIndex(0, 2, 9, 5, true), 16);
  assert.is(panelIndex(3, 3, 9, 5, true), 23);
  assert.is(panelIndex(0, 4, 9, 5, true), 32);
  assert.is(panelIndex(7, 4, 9, 5, true), 39);
  assert.is(panelIndex(8, 0, 9, 5, true), 40);
  // Fewer rows than a panel: row-major.
  assert.equal(Array.from(panelPermutation(2, 7, false)), Array.from({ length: 14 }, (_, i) => i));
  // Always a permutation.
  for (const [rows, cols, int8] of [[35, 9, false], [35, 9, true], [16, 1, false], [8, 1, true], [41, 32, true], [100, 3, false]] as [number, number, boolean][]) {
    const perm = panelPermutation(rows, cols, int8);
    assert.is(new Set(perm).size, rows * cols, `[${rows}, ${cols}] int8 ${int8}`);
    assert.ok(perm.every((v) => v < rows * cols));
  }
});

// Odd panel shapes: 24 and 37 rows (f32 panels of 16 + rest, int8 panels of 8 + rest), odd columns (37).
const panelCase = (storage: Storage, seed: number): RandomModelOptions => ({ hiddenSize: 24, numHeads: 4, intermediateSize: 37, numLabels: 3, storage, seed });

test("round trip with panels: f32, f16 and int8 matrices of odd shapes; linear weights in layout 1, the rest in 0", () => {
  for (const storage of ["f32", "f16", "int8"] as Storage[]) {
    const model = randomModel(panelCase(storage, 8));
    const bytes = writeModel(model);
    assertRoundTrip(model, readModel(bytes, wasm));
    const specs = expectedTensors(model.config, model.layers);
    for (let i = 0; i < wasm.tensor_count(); i++) {
      assert.is(wasm.tensor_layout(i), specs[i].linear ? F.LAYOUT_PANELS : F.LAYOUT_ROWS, specs[i].name);
    }
    if (storage !== "int8") assert.ok(Buffer.from(writeModel(readModel(bytes, wasm))).equals(Buffer.from(bytes)), "rewrite is identical");
    // The "rows" option writes every tensor in layout 0 and reads back the same.
    const rows = writeModel(model, { layout: "rows" });
    assertRoundTrip(model, readModel(rows, wasm));
    for (let i = 0; i < wasm.tensor_count(); i++) assert.is(wasm.tensor_layout(i), F.LAYOUT_ROWS);
    assert.is(rows.length, bytes.length, "same size in both layouts");
  }
});

test("panels in the file: the stored bytes follow the layout, the runtime uses them in place (f16 widened in layout)", () => {
  const model = randomModel({ ...panelCase("f32", 9), storage: (n) => (n.includes("intermediate") ? "int8" : n.includes("attention.output.dense.weight") ? "f16" : "f32") });
  const back = readModel(writeModel(model), wasm);
  const idx = (name: string) => [...back.tensors.keys()].indexOf(name);
  const mem = () => wasm.memory.buffer;
  // f32: in place, panel order.
  const q = "encoder.layer.0.attention.self.query.weight"; // [24, 24]
  const qt = model.tensors.get(q)!.data, qPerm = panelPermutation(24, 24, false);
  assert.is(wasm.test_matrix(0, 0, 3) >>> 0, wasm.tensor_data_ptr(idx(q)) >>> 0);
  const qStored = new Float32Array(mem(), wasm.tensor_data_ptr(idx(q)) >>> 0, 24 * 24);
  for (let i = 0; i < qt.length; i++) assert.is(qStored[qPerm[i]], qt[i]);
  // int8: in place, pairs of columns; scales by logical row.
  const inter = "encoder.layer.0.intermediate.dense.weight"; // [37, 24]
  const iPerm = panelPermutation(37, 24, true);
  const iq = new Int8Array(mem(), wasm.tensor_data_ptr(idx(inter)) >>> 0, 37 * 24);
  const iScales = new Float32Array(mem(), wasm.tensor_scales_ptr(idx(inter)) >>> 0, 37);
  const iBack = back.tensors.get(inter)!.data;
  for (let i = 0; i < iBack.length; i++) assert.is(Math.fround(iq[iPerm[i]] * iScales[Math.floor(i / 24)]), iBack[i]);
  // f16: the wasm reader widens it to f32 keeping the panel order.
  const o = "encoder.layer.0.attention.output.dense.weight"; // [24, 24]
  assert.is(wasm.test_matrix(0, 3, 2), F.DTYPE_F32);
  const widened = new Float32Array(mem(), wasm.test_matrix(0, 3, 3) >>> 0, 24 * 24);
  const oBack = back.tensors.get(o)!.data;
  for (let i = 0; i < oBack.length; i++) assert.is(widened[qPerm[i]], oBack[i]);
});

test("version 1 files (every tensor row-major) still load; a layout word in one is rejected", () => {
  const model = randomModel(panelCase("int8", 10));
  const v1 = asOldVersion(writeModel(model, { layout: "rows" }), 1);
  assertRoundTrip(model, readModel(v1, wasm));
  const e = tensorEntry(v1, "encoder.layer.0.attention.self.query.weight");
  expectReject(fixCrcs(patch(v1, e + F.TE_LAYOUT, 1)), /'encoder\.layer\.0\.attention\.self\.query\.weight': layout 1 in a version 1 file/);
});

test("rejects: unknown layout, panels on an embedding or a vector, reserved word", () => {
  const b = base();
  const q = tensorEntry(b, "encoder.layer.0.attention.self.query.weight");
  expectReject(fixCrcs(patch(b, q + F.TE_LAYOUT, 2)), /'encoder\.layer\.0\.attention\.self\.query\.weight': layout 2 is not 0 \(rows\) or 1 \(panels\)/);
  expectReject(fixCrcs(patch(b, q + F.TE_RESERVED, 1)), /'encoder\.layer\.0\.attention\.self\.query\.weight': reserved is not 0/);
  expectReject(fixCrcs(patch(b, tensorEntry(b, "embeddings.word_embeddings.weight") + F.TE_LAYOUT, 1)), /'embeddings\.word_embeddings\.weight' must be in layout 0/);
  expectReject(fixCrcs(patch(b, tensorEntry(b, "embeddings.position_embeddings.weight") + F.TE_LAYOUT, 1)), /'embeddings\.position_embeddings\.weight' must be in layout 0/);
  expectReject(fixCrcs(patch(b, tensorEntry(b, "classifier.bias") + F.TE_LAYOUT, 1)), /'classifier\.bias': layout 1 \(panels\) on a vector/);
});

// ---- rejections -------------------------------------------------------------------

test("rejects: too short, bad magic, version, file size, section count, header CRC", () => {
  const b = base();
  expectReject(b.slice(0, 40), /40 bytes, shorter than the 64-byte header/);
  expectReject(fixCrcs(patch(b, F.HDR_MAGIC, 0x4d465842)), /bad magic/);
  expectReject(fixCrcs(patch(b, F.HDR_VERSION, 4)), /version 4/);
  expectReject(fixCrcs(patch(b, F.HDR_VERSION, 2)), /CONFIG: 256 bytes, expected 128/);
  expectReject(fixCrcs(patch(b, F.HDR_VERSION, 0)), /version 0/);
  expectReject(b.slice(0, b.length - 16), /file_size is \d+ but \d+ bytes were loaded/);
  expectReject(new Uint8Array([...b, ...new Uint8Array(16)]), /file_size/);
  expectReject(patch(b, F.HDR_SECTION_COUNT, 0), /section_count 0 out of range/);
  expectReject(patch(b, F.HDR_SECTION_COUNT, 33), /section_count 33 out of range/);
  expectReject(patch(b, F.HDR_SECTION_COUNT, 0x10000000), /section_count 268435456 out of range/);
  const flipped = b.slice();
  flipped[30] ^= 1;
  expectReject(flipped, /header CRC mismatch/);
});

test("rejects: corrupted bytes in DATA and VOCAB (CRC)", () => {
  const b = base();
  const d = section(b, F.SECTION_DATA);
  const x = b.slice();
  x[d.offset + (d.size >> 1)] ^= 0x10;
  expectReject(x, /DATA: CRC mismatch/);
  const v = section(b, F.SECTION_VOCAB);
  const y = b.slice();
  y[v.offset + v.size - 1] ^= 1;
  expectReject(y, /VOCAB: CRC mismatch/);
});

test("rejects: sections out of bounds, misaligned, overlapping, duplicated, missing", () => {
  const b = base();
  const d = section(b, F.SECTION_DATA), v = section(b, F.SECTION_VOCAB), l = section(b, F.SECTION_LABELS);
  expectReject(fixCrcs(patch(b, d.at + F.SEC_SIZE, d.size + 1000)), /DATA: bytes \[\d+, \d+\) lie outside/);
  expectReject(fixCrcs(patch(b, d.at + F.SEC_OFFSET, 0xfffffff0)), /DATA: bytes \[4294967280, \d+\) lie outside/);
  expectReject(fixCrcs(patch(b, d.at + F.SEC_SIZE, 0xffffffff)), /DATA: bytes .* lie outside/);
  expectReject(fixCrcs(patch(b, v.at + F.SEC_OFFSET, 0)), /VOCAB: bytes \[0, \d+\) lie outside/); // over the header
  expectReject(fixCrcs(patch(b, v.at + F.SEC_OFFSET, v.offset + 4)), /VOCAB: offset \d+ is not a multiple of 16/);
  expectReject(fixCrcs(patch(b, l.at + F.SEC_OFFSET, v.offset)), /LABELS overlaps section \d/);
  expectReject(fixCrcs(patch(b, section(b, F.SECTION_META).at, F.SECTION_VOCAB)), /VOCAB: the section appears twice/);
  expectReject(fixCrcs(patch(b, l.at, 99)), /required section LABELS is missing/);
});

test("rejects: CONFIG, LAYERS and string lists out of range", () => {
  const b = base();
  const c = section(b, F.SECTION_CONFIG).offset;
  const word = (i: number) => c + 4 * i;
  expectReject(fixCrcs(patch(b, word(F.CFG_ARCH), 5)), /CONFIG\.arch = 5 is out of range/);
  expectReject(fixCrcs(patch(b, word(F.CFG_HIDDEN_SIZE), 0)), /CONFIG\.hidden_size = 0/);
  expectReject(fixCrcs(patch(b, word(F.CFG_NUM_HEADS), 4)), /head_dim \* num_heads = 32, not hidden_size 16/);
  expectReject(fixCrcs(patch(b, word(F.CFG_PROBLEM_TYPE), 7)), /CONFIG\.problem_type = 7/);
  expectReject(fixCrcs(patch(b, word(F.CFG_UNK_ID), 100000)), /CONFIG\.unk_id = 100000/);
  expectReject(fixCrcs(patch(b, word(F.CFG_MAX_LEN), 33)), /CONFIG\.max_len = 33/);
  expectReject(fixCrcs(patch(b, word(F.CFG_LAYER_NORM_EPS), f32Bits(NaN))), /CONFIG\.layer_norm_eps/);
  expectReject(fixCrcs(patch(b, word(F.CFG_RESERVED_FROM + 3), 1)), new RegExp(`CONFIG\\.reserved word ${F.CFG_RESERVED_FROM + 3}`));
  expectReject(fixCrcs(patch(b, word(F.CFG_TASK), 9)), /CONFIG\.task = 9/);
  // Issue 16's words, each only in its family: RoBERTa's position offset, ELECTRA's embedding size, a pre-classifier's activation.
  expectReject(fixCrcs(patch(b, word(F.CFG_POSITION_OFFSET), 1)), /CONFIG\.position_offset = 1 is out of range 0\.\.0/);
  expectReject(fixCrcs(patch(b, word(F.CFG_EMBEDDING_SIZE), 8)), /CONFIG\.embedding_size = 8 is out of range 0\.\.0/);
  expectReject(fixCrcs(patch(b, word(F.CFG_HEAD_ACT), 1)), /CONFIG\.head_act = 1 is out of range 0\.\.0/);
  const rb = writeModel(randomModel({ arch: "roberta", seed: 5 })); // max_position 32, position_offset 1, max_len 31
  const rw = (i: number) => section(rb, F.SECTION_CONFIG).offset + 4 * i;
  expectReject(fixCrcs(patch(rb, rw(F.CFG_POSITION_OFFSET), 0)), /CONFIG\.position_offset = 0 is out of range 1\.\.30/);
  expectReject(fixCrcs(patch(rb, rw(F.CFG_POSITION_OFFSET), 2)), /CONFIG\.max_len = 31 is out of range 2\.\.30/);
  const eb = writeModel(randomModel({ arch: "electra", seed: 5 })); // embedding_size 8, hidden 16
  const ew = (i: number) => section(eb, F.SECTION_CONFIG).offset + 4 * i;
  expectReject(fixCrcs(patch(eb, ew(F.CFG_HEAD_ACT), 4)), /CONFIG\.head_act = 4 is out of range 0\.\.3/);
  expectReject(fixCrcs(patch(eb, ew(F.CFG_EMBEDDING_SIZE), 12)), /'embeddings\.word_embeddings\.weight' has shape \[\d+, 8\], expected \[\d+, 12\]/);
  expectReject(fixCrcs(patch(eb, ew(F.CFG_EMBEDDING_SIZE), 0)), /'embeddings\.word_embeddings\.weight' has shape \[\d+, 8\], expected \[\d+, 16\]/);
  expectReject(fixCrcs(patch(eb, ew(F.CFG_HAS_PRE_CLASSIFIER), 0)), /CONFIG\.head_act = 1 is out of range 0\.\.0/);
  for (const t of [-1, NaN, Infinity, -0]) expectReject(fixCrcs(patch(b, word(F.CFG_TEMPERATURE), f32Bits(t))), /CONFIG\.temperature = .* is not a positive finite number/);
  expectReject(fixCrcs(patch(b, word(F.CFG_NUM_LAYERS), 3)), /LAYERS: 32 bytes for 3 layers/);

  const L = section(b, F.SECTION_LAYERS).offset;
  expectReject(fixCrcs(patch(b, L + F.LAYER_RECORD_SIZE, 0x00030101)), /LAYERS\[1\]\.num_heads = 3 is out of range/);
  expectReject(fixCrcs(patch(b, L + F.LR_FFN_WIDTH, 33)), /LAYERS\[0\]\.ffn_width = 33/);
  expectReject(fixCrcs(patch(b, L + F.LAYER_RECORD_SIZE, 0x00000101)), /LAYERS\[1\]\.num_heads = 0/);

  const V = section(b, F.SECTION_VOCAB).offset;
  const count = new DataView(b.buffer).getUint32(V, true);
  expectReject(fixCrcs(patch(b, V, count + 1)), /VOCAB\.count = \d+ but CONFIG calls for \d+/);
  expectReject(fixCrcs(patch(b, V + 4 * (count + 1), 0xfffffff0)), new RegExp(`VOCAB\\.offsets\\[${count}\\] points past the end`));
  expectReject(fixCrcs(patch(b, V + 4 * 3, 1)), /VOCAB\.offsets\[2\] decreases/);

  const m = randomModel({ seed: 5 });
  m.labels = ["ok", "é"];
  const lb = writeModel(m);
  const ls = section(lb, F.SECTION_LABELS);
  const bad = lb.slice();
  bad[ls.offset + ls.size - 1] = 0x41; // é = C3 A9 -> C3 41
  expectReject(fixCrcs(bad), /LABELS\[1\]: invalid UTF-8/);
});

test("rejects: tensor table entries out of bounds or inconsistent", () => {
  const b = base();
  const T = section(b, F.SECTION_TENSORS).offset;
  expectReject(fixCrcs(patch(b, T, 0x10000000)), /TENSORS\.count = 268435456: the table runs past the end/);
  expectReject(fixCrcs(patch(b, T, 0xffffffff)), /TENSORS\.count = 4294967295/);
  const e = tensorEntry(b, "pooler.dense.weight");
  expectReject(fixCrcs(patch(b, e + F.TE_DATA_OFFSET, 0xfffffff0)), /tensor 'pooler\.dense\.weight': data lies outside the DATA section/);
  expectReject(fixCrcs(patch(b, e + F.TE_DATA_OFFSET, 8)), /'pooler\.dense\.weight': data_offset 8 is not a multiple of 16/);
  expectReject(fixCrcs(patch(b, e + F.TE_DATA_SIZE, 1020)), /'pooler\.dense\.weight': data_size 1020 does not match/);
  expectReject(fixCrcs(patch(b, e + F.TE_DTYPE, 9)), /'pooler\.dense\.weight': unknown dtype 9/);
  expectReject(fixCrcs(patch(b, e + F.TE_DIMS, 0x40000000)), /'pooler\.dense\.weight': data_size/); // dims product past 2^32
  const wrap = patch(patch(patch(b, e + F.TE_DIMS, 0x80000000), e + F.TE_DIMS + 4, 0x80000000), e + F.TE_DATA_SIZE, 0); // 2^62 f32 = 2^64 bytes
  expectReject(fixCrcs(wrap), /'pooler\.dense\.weight': data_size 0 does not match/);
  expectReject(fixCrcs(patch(b, e + F.TE_NAME_OFFSET, 0xfffffff0)), /TENSORS entry \d+: name lies outside the section/);
  expectReject(fixCrcs(patch(b, e + F.TE_SCALE_OFFSET, 16)), /scale_offset\/scale_size must be 0 unless int8/);
  const q = writeModel(randomModel({ seed: 5, storage: "int8" }));
  const qe = tensorEntry(q, "pooler.dense.weight");
  expectReject(fixCrcs(patch(q, qe + F.TE_SCALE_OFFSET, 0xfffffff0)), /'pooler\.dense\.weight': scales lie outside the DATA section/);
  expectReject(fixCrcs(patch(q, qe + F.TE_SCALE_SIZE, 60)), /'pooler\.dense\.weight': scale_size 60 is not 4 x rows/);
});

test("rejects: missing, unexpected, misshapen, non-f32 and non-finite tensors", () => {
  const m = () => randomModel({ seed: 5 });
  const unchecked = (edit: (x: Model) => void) => {
    const x = m();
    edit(x);
    return writeModelUnchecked(x);
  };
  expectReject(unchecked((x) => x.tensors.delete("classifier.bias")), /tensor 'classifier\.bias' is missing/);
  expectReject(unchecked((x) => x.tensors.delete("encoder.layer.1.output.LayerNorm.weight")), /'encoder\.layer\.1\.output\.LayerNorm\.weight' is missing/);
  expectReject(unchecked((x) => { x.tensors.get("classifier.weight")!.shape = [4, 8]; }), /'classifier\.weight' has shape \[4, 8\], expected \[2, 16\]/);
  expectReject(unchecked((x) => { x.tensors.get("classifier.weight")!.shape = [32]; }), /'classifier\.weight' has shape \[32\], expected \[2, 16\]/);
  expectReject(unchecked((x) => { x.layers[1].hasFfn = false; x.layers[1].ffnNeurons = []; }),
    /tensor 'encoder\.layer\.1\.intermediate\.dense\.weight' is not part of this model/);
  expectReject(unchecked((x) => { x.tensors.get("embeddings.position_embeddings.weight")!.storage = "f16"; }),
    /'embeddings\.position_embeddings\.weight' must be stored f32/);
  expectReject(unchecked((x) => { x.tensors.get("encoder.layer.0.attention.self.query.weight")!.data[17] = NaN; }),
    /tensor 'encoder\.layer\.0\.attention\.self\.query\.weight' holds NaN or Inf/);
  expectReject(unchecked((x) => { x.tensors.get("embeddings.LayerNorm.bias")!.data[15] = -Infinity; }),
    /'embeddings\.LayerNorm\.bias' holds NaN or Inf/);
  const f16Inf = writeModel(randomModel({ seed: 5, storage: "f16" }));
  const fe = tensorEntry(f16Inf, "classifier.weight");
  const at = section(f16Inf, F.SECTION_DATA).offset + new DataView(f16Inf.buffer).getUint32(fe + F.TE_DATA_OFFSET, true);
  new DataView(f16Inf.buffer).setUint16(at + 6, 0x7c00, true);
  expectReject(fixCrcs(f16Inf), /'classifier\.weight' holds NaN or Inf/);
  const i8 = writeModel(randomModel({ seed: 5, storage: "int8" }));
  const ie = tensorEntry(i8, "classifier.weight");
  const sat = section(i8, F.SECTION_DATA).offset + new DataView(i8.buffer).getUint32(ie + F.TE_SCALE_OFFSET, true);
  new DataView(i8.buffer).setFloat32(sat, NaN, true);
  expectReject(fixCrcs(i8), /'classifier\.weight' holds NaN or Inf/);
});

test("rejects a buffer that is not 16-byte aligned", () => {
  const b = base();
  const ptr = wasm.alloc_model(b.length + 16) >>> 0;
  new Uint8Array(wasm.memory.buffer, ptr + 4, b.length).set(b);
  assert.ok(wasm.load_model(ptr + 4, b.length) < 0);
  const msg = new TextDecoder().decode(new Uint8Array(wasm.memory.buffer, wasm.error_ptr() >>> 0, wasm.error_len()));
  assert.match(msg, /not 16-byte aligned/);
});

test.run();
