// The bounds a model file is held to (issue 10, items 1, 2, 5, 6, 7;
// docs/format.md "Magnitude bound", "Resource bounds", "META"): huge finite
// weights, nonzero padding, many extra tensor entries, files whose activations
// would not fit the host's memory limit, and hostile META.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as F from "../assembly/format/constants.ts";
import { MAX_ABS_WEIGHT } from "../assembly/model/tensors.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError, instantiate, DEFAULT_MAX_MEMORY_MB } from "../host/runtime/index.ts";
import { compileRuntime } from "../host/runtime/node.ts";
import { writeModel, writeModelUnchecked } from "../host/format/writer.ts";
import { readModel } from "../host/format/read.ts";
import { parseLayout, fixCrcs, replaceSection, tensorsWithExtraEntries } from "../scripts/fuzz/axf-layout.ts";
import { randomModel } from "./helpers/random-model.ts";

const engine = await loadEngine();
const throwsTyped = (fn: () => unknown, re: RegExp) => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, AxformerError, `not an AxformerError: ${(err as Error).message}`);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`no error (expected ${re})`);
};

// ---- item 1: magnitudes

test("a LayerNorm weight of 3.4e38 (finite) is refused at load and by the writer", () => {
  const m = randomModel({ seed: 3 });
  m.tensors.get("embeddings.LayerNorm.weight")!.data[1] = 3.4e38;
  throwsTyped(() => engine.loadModel(writeModelUnchecked(m)), /embeddings\.LayerNorm\.weight' holds a value of magnitude above 65504/);
  assert.throws(() => writeModel(m), /embeddings\.LayerNorm\.weight' holds 3\.\d+e\+38 .*bound of 65504/);
});

test("int8 scales above the bound / 127 are refused", () => {
  const m = randomModel({ seed: 4, storage: "int8" });
  const bytes = writeModel(m);
  const l = parseLayout(bytes);
  const e = l.tensors.find((t) => t.dtype === F.DTYPE_INT8)!;
  new DataView(bytes.buffer).setFloat32(e.scaleOffset, 1e6, true);
  fixCrcs(bytes);
  throwsTyped(() => engine.loadModel(bytes), /holds a value of magnitude above 65504/);
});

test("every weight at the bound (±65504): the model loads and its outputs stay finite", () => {
  const m = randomModel({ seed: 5, hiddenSize: 32, numHeads: 1, intermediateSize: 64 });
  let sign = 1;
  for (const t of m.tensors.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = (sign = -sign) * MAX_ABS_WEIGHT;
  const model = engine.loadModel(writeModel(m));
  for (const text of ["a", "the film was great", "x ".repeat(40)]) {
    const r = model.classify(text);
    assert.ok(r.logits.every(Number.isFinite), `logits ${r.logits}`);
  }
});

test("non-finite logits or hidden states are a typed error, never a label", () => {
  const model = engine.loadModel(writeModel(randomModel({ seed: 6 })));
  const hidden = new Float32Array(3 * model.hiddenSize).fill(0.5);
  assert.ok(model.runHead(hidden, 3).every(Number.isFinite));
  hidden[0] = NaN; // the [CLS] row
  throwsTyped(() => model.runHead(hidden, 3), /run_head: the model produced a non-finite value \(NaN or Inf\) in the logits/);
  hidden[0] = Infinity;
  throwsTyped(() => model.runLayers(hidden, 3, 0, 1), /run_layers: .*non-finite value .* in the hidden states/);
  // The engine still works.
  assert.ok(model.classify("good").logits.every(Number.isFinite));
});

// ---- item 2: padding

test("nonzero padding between sections or between tensors in DATA is refused", () => {
  const bytes = writeModel(randomModel({ seed: 7 }));
  const l = parseLayout(bytes);
  const s = l.sections.find((x) => x.size % F.ALIGN !== 0)!;
  const a = bytes.slice();
  a[s.offset + s.size] = 1;
  fixCrcs(a);
  throwsTyped(() => engine.loadModel(a), new RegExp(`^model file: padding byte ${s.offset + s.size} \\(outside every section\\) is not 0`));
  // After the section table, before the first section.
  const b = bytes.slice();
  const first = Math.min(...l.sections.map((x) => x.offset));
  const tableEnd = F.HEADER_SIZE + l.sections.length * F.SECTION_ENTRY_SIZE;
  if (first > tableEnd) { b[tableEnd] = 7; fixCrcs(b); throwsTyped(() => engine.loadModel(b), /padding byte/); }
  // Inside DATA, after a tensor's bytes that end off a 16-byte boundary (int8
  // scales of a 2-row classifier: 8 bytes, followed by the classifier bias).
  const q = writeModel(randomModel({ seed: 7, storage: "int8" }));
  const ql = parseLayout(q);
  const data = ql.byKind.get(F.SECTION_DATA)!;
  const ends = ql.tensors.flatMap((x) => x.scaleSize ? [x.dataOffset + x.dataSize, x.scaleOffset + x.scaleSize] : [x.dataOffset + x.dataSize])
    .filter((end) => end % F.ALIGN !== 0 && end < data.offset + data.size);
  assert.ok(ends.length > 0);
  const c = q.slice();
  c[ends[0]] = 0x80;
  fixCrcs(c);
  throwsTyped(() => engine.loadModel(c), new RegExp(`^DATA: padding byte ${ends[0] - data.offset} \\(outside every tensor\\) is not 0`));
  // The unmodified files still load.
  engine.loadModel(bytes);
  engine.loadModel(q);
});

// ---- item 5: the tensor-name lookup is linear

test("50,000 extra tensor entries: refused by name with a linear number of comparisons", () => {
  const bytes = writeModel(randomModel({ seed: 8 }));
  const l = parseLayout(bytes);
  const count = (extra: number) => {
    const tensors = tensorsWithExtraEntries(bytes, l, extra, l.tensors.length - 1, (k) => `encoder.layer.0.attention.self.query.weigh${k}`);
    const file = replaceSection(bytes, F.SECTION_TENSORS, tensors);
    throwsTyped(() => engine.loadModel(file), /is not part of this model/);
    return engine.exports.name_compares() >>> 0;
  };
  const small = count(500), large = count(50_000);
  const entries = l.tensors.length;
  // Every entry is compared with each table name at most once: at most the
  // table's total name bytes per entry (27 names of at most 52 bytes).
  assert.ok(large <= (entries + 50_000) * 27 * 52, `${large} comparisons`);
  // Linear: 100x the entries, about 100x the comparisons (quadratic would be 10,000x).
  assert.ok(large / small < 150, `${small} -> ${large}`);
});

test("a duplicate or out-of-range layer name is still refused by name", () => {
  const bytes = writeModel(randomModel({ seed: 9 }));
  const l = parseLayout(bytes);
  for (const name of ["encoder.layer.2.output.dense.bias", "encoder.layer.01.output.dense.bias", "classifier.bias", "encoder.layer..output.dense.bias"]) {
    const file = replaceSection(bytes, F.SECTION_TENSORS, tensorsWithExtraEntries(bytes, l, 1, l.tensors.length - 1, () => name));
    throwsTyped(() => engine.loadModel(file), new RegExp(`tensor '${name.replace(/\./g, "\\.")}' is not part of this model`));
  }
});

// ---- item 6: resource bounds

// hidden 1, FFN 1024, max_len 65,536: a 270 KB file whose FFN activations alone are 256 MiB.
const wide = () => writeModel(randomModel({ seed: 10, hiddenSize: 1, numHeads: 1, intermediateSize: 1024, maxPosition: 65_536, numLayers: 1 }));

test("a small file with huge activations is refused before allocating, naming the need and the limit", async () => {
  const bytes = wide();
  assert.ok(bytes.length < 300_000);
  const fresh = await instantiate(await compileRuntime());
  const before = fresh.exports.memory.buffer.byteLength;
  throwsTyped(() => fresh.loadModel(bytes), new RegExp(`^model needs 2\\d\\d\\.\\d MB of memory \\(file 0\\.3, .*activations for max_len 65536 tokens 2\\d\\d\\.\\d.*the limit is ${DEFAULT_MAX_MEMORY_MB}\\.0 MB$`));
  // Only the file was placed in memory; nothing else was allocated.
  assert.ok(fresh.exports.memory.buffer.byteLength - before < 4 << 20, `${fresh.exports.memory.buffer.byteLength - before} bytes grown`);
  throwsTyped(() => fresh.loadModel(bytes, { maxMemoryMb: 200 }), /the limit is 200\.0 MB/);
  throwsTyped(() => fresh.loadModel(bytes, { maxMemoryMb: 0 }), /maxMemoryMb must be a positive number/);
});

test("the stated need bounds the memory a model really takes", async () => {
  for (const m of [randomModel({ seed: 11 }), randomModel({ seed: 12, storage: "f16", maxPosition: 512, hiddenSize: 64, intermediateSize: 256 }),
    randomModel({ seed: 13, storage: "int8", arch: "distilbert" })]) {
    const fresh = await instantiate(await compileRuntime());
    const model = fresh.loadModel(writeModel(m));
    model.classify("a long enough text ".repeat(50));
    const needKb = fresh.exports.memory_needed_kb() >>> 0;
    // The wasm memory holds the need (plus the text buffer and the runtime's first pages).
    assert.ok(model.memoryBytes() <= needKb * 1024 + (1 << 20), `${model.memoryBytes()} bytes used, ${needKb} KiB stated`);
    // A limit just below the need refuses it, at the need loads it.
    const mb = Math.ceil(needKb / 1024);
    fresh.loadModel(writeModel(m), { maxMemoryMb: mb });
    if (mb > 1) throwsTyped(() => fresh.loadModel(writeModel(m), { maxMemoryMb: Math.floor((needKb - 1) / 1024) }), /^model needs/);
  }
});

// ---- item 7: META

const withMeta = (json: string) => replaceSection(writeModel(randomModel({ seed: 14, layers: [{ ffnNeurons: [0, 1, 2, 5] }, {}] })), F.SECTION_META, new TextEncoder().encode(json));

test("META null, an array, a string: typed errors", () => {
  throwsTyped(() => readModel(withMeta("null"), engine.exports), /^model file: META must be a JSON object, not null/);
  throwsTyped(() => readModel(withMeta("[1]"), engine.exports), /META must be a JSON object, not an array/);
  throwsTyped(() => readModel(withMeta('"x"'), engine.exports), /META must be a JSON object, not string/);
  throwsTyped(() => readModel(withMeta("{"), engine.exports), /META is not valid UTF-8 JSON/);
});

test("META layers of the wrong shape: typed errors naming the field", () => {
  const bad: [string, RegExp][] = [
    ['{"layers": null}', /META\.layers must be an array of 2 entries .*got null/],
    ['{"layers": [{}]}', /META\.layers must be an array of 2 entries/],
    ['{"layers": [null, {}]}', /META\.layers\[0\] must be an object, got null/],
    ['{"layers": [{"heads": 3}, {}]}', /META\.layers\[0\]\.heads must be an array/],
    ['{"layers": [{"heads": [0, 7]}, {}]}', /META\.layers\[0\]\.heads does not match the 2 heads/],
    ['{"layers": [{"ffnNeurons": 5}, {}]}', /META\.layers\[0\]\.ffnNeurons must be a string/],
    ['{"layers": [{"ffnNeurons": "3-1"}, {}]}', /ends before it starts/],
    ['{"layers": [{"ffnNeurons": "a-b"}, {}]}', /is not an index or an a-b range/],
    ['{"layers": [{"ffnNeurons": "0-2"}, {}]}', /ffnNeurons does not match the 4 neurons/],
  ];
  for (const [json, re] of bad) throwsTyped(() => readModel(withMeta(json), engine.exports), re);
  // The writer's own META reads back.
  assert.equal(readModel(withMeta('{"layers": [{"heads": [0, 1], "ffnNeurons": "0-2,5"}, {}]}'), engine.exports).layers[0].ffnNeurons, [0, 1, 2, 5]);
});

test("64 huge ranges in 747 bytes of META: refused after at most the record's count of indices", () => {
  const huge = Array.from({ length: 64 }, () => "0-16777215").join(",");
  const file = withMeta(JSON.stringify({ layers: [{ heads: [0, 1], ffnNeurons: huge }, {}] }));
  // Counted, not timed: parseRanges produces at most `limit` indices.
  throwsTyped(() => readModel(file, engine.exports), /more than the 4 indices the layer record holds/);
});

test.run();
