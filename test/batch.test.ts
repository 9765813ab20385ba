// The throughput paths of the runtime: classifyBatch / forward_batch (several
// sequences through the model at once) against one-at-a-time classify, bit for
// bit; and the two weight layouts (and version 1 files) against each other.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError, type AxformerExports, type LoadedModel } from "../host/runtime/index.ts";
import { randomModel, type RandomModelOptions } from "./helpers/random-model.ts";
import { asOldVersion } from "./helpers/old-version.ts";

async function load(opts: RandomModelOptions, layout: "panels" | "rows" = "panels"): Promise<LoadedModel> {
  return (await loadEngine()).loadModel(writeModel(randomModel(opts), { layout }));
}

const bits = (a: ArrayLike<number>) => Array.from(a, (v) => new Uint32Array(new Float32Array([v]).buffer)[0]);

// Sentences of many lengths over the random model's vocabulary, some repeated
// lengths (so groups form), some pairs.
function texts(count: number): Array<string | [string, string]> {
  const words = ["the", "movie", "was", "very", "good", "bad", "not", "great", "film", "and", "it", "is", "terrible", "love", "hate"];
  let s = 7;
  const next = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s >>> 8; };
  return Array.from({ length: count }, (_, i) => {
    const sentence = (len: number) => Array.from({ length: len }, () => words[next() % words.length]).join(" ");
    const len = 1 + (next() % 9);
    return i % 5 === 3 ? [sentence(len), sentence(1 + (next() % 4))] as [string, string] : sentence(len);
  });
}

const CASES: [string, RandomModelOptions][] = [
  ["bert", { hiddenSize: 32, numHeads: 2, intermediateSize: 48, seed: 3 }],
  ["distilbert, int8, hard attention", { arch: "distilbert", storage: "int8", seed: 5, layers: [{ hardK: 3 }, {}] }],
  ["bert, max_len 16 (batches split by rows), 3 labels", { maxPosition: 16, numLabels: 3, seed: 9 }],
];

for (const [name, opts] of CASES) {
  test(`classifyBatch equals classify on each text, bit for bit, in input order: ${name}`, async () => {
    const m = await load(opts);
    const input = texts(40);
    const batch = m.classifyBatch(input);
    assert.is(batch.length, input.length);
    input.forEach((t, i) => {
      const one = Array.isArray(t) ? m.classify(t[0], t[1]) : m.classify(t);
      assert.equal(bits(batch[i].logits), bits(one.logits), `text ${i}`);
      assert.is(batch[i].label, one.label);
    });
    assert.equal(m.classifyBatch([]), []);
  });
}

test("forward_batch: b sequences of n tokens, each one's logits as forward gives them", async () => {
  const m = await load({ hiddenSize: 24, numHeads: 3, intermediateSize: 40, seed: 11, maxPosition: 32 });
  const x = (m as unknown as { x: AxformerExports }).x;
  const C = m.numLabels;
  const maxBatch = x.max_batch();
  assert.is(maxBatch, 32, "max_len sequences of one token");
  for (const [n, b] of [[1, 32], [3, 10], [7, 4], [16, 2], [32, 1]]) {
    const seqs = Array.from({ length: b }, (_, i) => Array.from({ length: n }, (_, t) => (t === 0 ? 2 : 5 + ((i * 7 + t * 3) % 50))));
    const alone = seqs.map((ids) => bits(m.logits(ids)));
    const ids = new Int32Array(x.memory.buffer, x.ids_ptr() >>> 0, n * b);
    const types = new Int32Array(x.memory.buffer, x.type_ids_ptr() >>> 0, n * b);
    seqs.forEach((s, i) => { ids.set(s, i * n); types.fill(0, i * n, (i + 1) * n); });
    assert.is(x.forward_batch(n, b), 0, `n ${n} b ${b}`);
    const logits = new Float32Array(x.memory.buffer, x.logits_ptr() >>> 0, b * C);
    seqs.forEach((_, i) => assert.equal(bits(logits.subarray(i * C, (i + 1) * C)), alone[i], `n ${n} b ${b} sequence ${i}`));
  }
  const error = () => new TextDecoder().decode(new Uint8Array(x.memory.buffer, x.error_ptr() >>> 0, x.error_len()));
  assert.ok(x.forward_batch(4, 0) < 0);
  assert.match(error(), /b = 0 sequences, must be in 1\.\.32/);
  assert.ok(x.forward_batch(4, 9) < 0);
  assert.match(error(), /9 sequences of 4 tokens do not fit the 32 token rows/);
  new Int32Array(x.memory.buffer, x.ids_ptr() >>> 0, 8).set([2, 5, 5, 5, 2, 5, 1 << 20, 5]);
  assert.ok(x.forward_batch(4, 2) < 0);
  assert.match(error(), /input id 1048576 at position 2 of sequence 1 is out of range/);
});

test("classifyBatch: bad items name their index", async () => {
  const m = await load({ seed: 13 });
  assert.throws(() => m.classifyBatch("text" as unknown as string[]), (e: unknown) => e instanceof AxformerError && /must be an array/.test((e as Error).message));
  assert.throws(() => m.classifyBatch(["ok", ["a"] as unknown as [string, string]]), /texts\[1\] is an array of 1/);
  assert.throws(() => m.classifyBatch(["ok", 5 as unknown as string]), /texts\[1\]: tokenize: text must be a string/);
});

test("running allocates nothing: memory stays at its size after load", async () => {
  const m = await load({ hiddenSize: 32, numHeads: 2, intermediateSize: 48, seed: 17, maxPosition: 64 });
  m.classify("warm up the text buffer with a sentence of some length");
  const after = m.memoryBytes();
  m.classifyBatch(texts(60));
  for (const n of [1, 17, 64]) m.logits(Array.from({ length: n }, () => 7));
  assert.is(m.memoryBytes(), after);
});

test("the panel and row-major layouts, and a version 1 file, give the same logits (to f32 rounding)", async () => {
  for (const opts of [
    { hiddenSize: 40, numHeads: 5, intermediateSize: 37, numLayers: 2, seed: 19, numLabels: 3 },
    { storage: "int8", hiddenSize: 24, numHeads: 2, intermediateSize: 35, seed: 23 },
    { storage: "f16", arch: "distilbert", hiddenSize: 48, numHeads: 3, intermediateSize: 70, seed: 29 },
  ] as RandomModelOptions[]) {
    const panels = await load(opts, "panels"), rows = await load(opts, "rows");
    const v1 = asOldVersion(writeModel(randomModel(opts), { layout: "rows" }), 1);
    const old = (await loadEngine()).loadModel(v1);
    for (const n of [1, 2, 5, 16, 31]) {
      const ids = Array.from({ length: n }, (_, t) => (t === 0 ? 2 : 5 + ((t * 13) % 60)));
      const a = panels.logits(ids), b = rows.logits(ids);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 2e-5 * (1 + Math.abs(b[i])), `n ${n}: ${a[i]} vs ${b[i]}`);
      assert.equal(bits(old.logits(ids)), bits(b), "version 1 runs as row-major");
    }
  }
});

test.run();
