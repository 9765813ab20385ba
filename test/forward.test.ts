// The wasm forward pass against the f64 reference (test/helpers/reference-forward.ts)
// on random models of every shape the optimizer produces: removed blocks, fewer
// heads, narrower FFN, hard attention; plus the bit-for-bit promises of the ABI
// (pieces == forward, hard attention with n <= K == dense) and error handling.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { readModel, type FormatExports } from "../host/format/read.ts";
import type { Model } from "../host/model/model.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError, type LoadedModel } from "../host/runtime/index.ts";
import { prng, randomModel, type RandomModelOptions } from "./helpers/random-model.ts";
import { withTask } from "./helpers/task-model.ts";
import { referenceEmbed, referenceForward, referenceHead, referenceLayers } from "./helpers/reference-forward.ts";

const F32_BOUND = 1e-4;

// The model as the file stores it (f16 / int8 rounding applied), read back
// through the runtime's own parser, and the same model loaded for running.
async function load(opts: RandomModelOptions): Promise<{ model: Model; m: LoadedModel }> {
  const bytes = writeModel(randomModel(opts));
  const reader = await loadEngine();
  const model = readModel(bytes, reader.exports as unknown as FormatExports);
  const m = (await loadEngine()).loadModel(bytes);
  return { model, m };
}

function randomInput(model: Model, n: number, seed: number): { ids: number[]; types: number[] } {
  const rand = prng(seed);
  const ids = Array.from({ length: n }, (_, i) => (i === 0 ? model.config.tokenizer.clsId : Math.floor(rand() * model.config.vocabSize)));
  const T = model.config.typeVocabSize;
  const types = Array.from({ length: n }, (_, i) => (T > 1 && i > n / 2 ? Math.floor(rand() * T) : 0));
  return { ids, types };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, "lengths");
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const CASES: [string, RandomModelOptions][] = [
  ["bert, dense", {}],
  ["distilbert, dense", { arch: "distilbert", seed: 7 }],
  ["bert, odd sizes (H 20, 4 heads of 5, FFN 37, 3 labels)", { hiddenSize: 20, numHeads: 4, intermediateSize: 37, numLabels: 3, numLayers: 3, seed: 3 }],
  ["bert, pruned heads / FFN neurons, removed blocks, hard attention", {
    hiddenSize: 24, numHeads: 4, intermediateSize: 40, seed: 5, maxPosition: 40,
    layers: [
      { heads: [1, 3], hardK: 3 },
      { hasAttention: false, ffnNeurons: [0, 5, 6, 7, 20, 39] },
      { hasFfn: false, heads: [2], hardK: 1 },
      { hasAttention: false, hasFfn: false },
      { hardK: 7 },
    ],
  }],
  ["distilbert, removed blocks and hard attention", { arch: "distilbert", seed: 11, layers: [{ hasFfn: false, hardK: 2 }, { hasAttention: false }, {}] }],
  ["bert, relu, regression", { hiddenAct: "relu", problemType: "regression", seed: 13 }],
  ["bert, gelu_tanh, multi-label", { hiddenAct: "gelu_tanh", problemType: "multi_label_classification", numLabels: 4, seed: 17 }],
  ["bert, H 64, 4 heads, FFN 256, 3 layers", { hiddenSize: 64, numHeads: 4, intermediateSize: 256, numLayers: 3, seed: 19, maxPosition: 64 }],
  ["bert, f16 weights", { storage: "f16", seed: 23 }],
  ["distilbert, f16 word embedding only", { arch: "distilbert", storage: (n) => (n.startsWith("embeddings.word") ? "f16" : "f32"), seed: 29 }],
];

for (const [name, opts] of CASES) {
  test(`forward matches the f64 reference: ${name}`, async () => {
    const { model, m } = await load(opts);
    const lengths = [1, 2, 3, 5, 8, 17, m.maxLen];
    let worst = 0;
    for (const n of lengths) {
      const { ids, types } = randomInput(model, n, n);
      const got = m.logits(ids, types);
      const want = referenceForward(model, ids, types);
      worst = Math.max(worst, maxDiff(got, want));
    }
    if (process.env.SHOW_DIFF) console.log(name, worst);
    assert.ok(worst <= F32_BOUND, `max |logit diff| = ${worst}`);
  });
}

test("int8 weights: forward matches the f64 reference on the dequantised weights", async () => {
  // The only approximation left is the 15-bit-or-better activation quantisation.
  for (const opts of [{ storage: "int8", seed: 31 }, { arch: "distilbert", storage: "int8", seed: 37, layers: [{ hardK: 2 }, { hasAttention: false }] }] as RandomModelOptions[]) {
    const { model, m } = await load(opts);
    let worst = 0;
    for (const n of [1, 4, 9, m.maxLen]) {
      const { ids, types } = randomInput(model, n, 100 + n);
      worst = Math.max(worst, maxDiff(m.logits(ids, types), referenceForward(model, ids, types)));
    }
    if (process.env.SHOW_DIFF) console.log("int8", worst);
    assert.ok(worst <= 5e-4, `max |logit diff| = ${worst}`);
  }
});

test("embed, runLayers and runHead match the reference and reproduce forward bit for bit", async () => {
  const { model, m } = await load(CASES[3][1]);
  const L = m.numLayers;
  for (const n of [1, 6, 23]) {
    const { ids, types } = randomInput(model, n, 50 + n);
    const h0 = m.embedTokens(ids, types);
    assert.ok(maxDiff(h0, referenceEmbed(model, ids, types)) <= 1e-5, "embed");
    const h2 = m.runLayers(h0, n, 0, 2);
    assert.ok(maxDiff(h2, referenceLayers(model, h0, n, 0, 2)) <= 1e-4, "layers 0..2");
    const hL = m.runLayers(h2, n, 2, L);
    const logits = m.runHead(hL, n);
    assert.ok(maxDiff(logits, referenceHead(model, hL)) <= 1e-5, "head");
    assert.equal(Array.from(logits), Array.from(m.logits(ids, types)), "pieces == forward");
    assert.equal(Array.from(m.runLayers(h0, n, 0, L)), Array.from(hL), "one call == two calls");
    assert.equal(Array.from(m.runLayers(h0, n, 1, 1)), Array.from(h0), "an empty range changes nothing");
  }
});

test("a [CLS] head's last layer computes [CLS] alone: forward and runToHead give the full layer's logits bit for bit", async () => {
  // The full layer is runLayers(0, L) + runHead; forward (and the optimizer's runToHead)
  // skip every row but [CLS] after the keys and values of the last layer.
  const lastLayers: [string, RandomModelOptions][] = [
    ["dense", { seed: 51 }],
    ["pruned heads, hard attention (n > K and n <= K)", { ...CASES[3][1], seed: 52 }],
    ["attention removed", { seed: 53, layers: [{}, { hasAttention: false }] }],
    ["FFN removed, one head, hard attention", { seed: 54, layers: [{ hardK: 2 }, { hasFfn: false, heads: [1], hardK: 2 }] }],
    ["both removed", { seed: 55, layers: [{}, { hasAttention: false, hasFfn: false }] }],
    ["int8", { storage: "int8", seed: 56, layers: [{}, { heads: [0], hardK: 3 }] }],
    ["distilbert, int8 and f32 mixed", { arch: "distilbert", seed: 57, storage: (name) => (name.includes("query") || name.includes("output.dense") ? "f32" : "int8") }],
    ["electra, f16", { arch: "electra", storage: "f16", seed: 58 }],
  ];
  for (const [name, opts] of lastLayers) {
    const { model, m } = await load(opts);
    const L = m.numLayers;
    for (const n of [1, 2, 3, 8, 17, m.maxLen]) {
      const { ids, types } = randomInput(model, n, 70 + n);
      const h0 = m.embedTokens(ids, types);
      const full = Array.from(m.runHead(m.runLayers(h0, n, 0, L), n));
      assert.equal(Array.from(m.logits(ids, types)), full, `${name}, n = ${n}: forward`);
      assert.equal(Array.from(m.runToHead(h0, n, 0)), full, `${name}, n = ${n}: runToHead from 0`);
      assert.equal(Array.from(m.runToHead(m.runLayers(h0, n, 0, L - 1), n, L - 1)), full, `${name}, n = ${n}: runToHead from L - 1`);
      const hL = m.runLayers(h0, n, 0, L);
      assert.equal(Array.from(m.runToHead(hL, n, L)), Array.from(m.runHead(hL, n)), `${name}, n = ${n}: runToHead from L is the head`);
      assert.ok(maxDiff(full, referenceForward(model, ids, types)) <= (opts.storage ? 5e-4 : F32_BOUND), `${name}, n = ${n}: reference`);
    }
  }
});

test("an embedding with CLS pooling computes [CLS] alone in the last layer, batched too: bit for bit the full layer's", async () => {
  for (const [pooling, seed] of [[["cls"], 61], [["cls", "mean"], 62], [["mean"], 63]] as const) {
    const base = withTask(randomModel({ seed, layers: [{}, { hardK: 2 }] }), "embedding");
    const bytes = writeModel({ ...base, config: { ...base.config, pooling: [...pooling] } });
    const m = (await loadEngine()).loadModel(bytes);
    const L = m.numLayers;
    for (const n of [1, 2, 5, 9]) {
      // Three sequences of one length run as one batch of 3 (forward_batch).
      const lists = [0, 1, 2].map((k) => randomInput(base, n, 80 + 3 * n + k).ids);
      const batch = m.embedIds(lists);
      lists.forEach((ids, k) => {
        const types = new Array(n).fill(0);
        const full = Array.from(m.runHead(m.runLayers(m.embedTokens(ids, types), n, 0, L), n));
        assert.equal(Array.from(batch[k]), full, `${pooling}, n = ${n}, sequence ${k} of the batch`);
        assert.equal(Array.from(m.runToHead(m.embedTokens(ids, types), n, 0)), full, `${pooling}, n = ${n}: runToHead`);
      });
    }
  }
});

test("hard attention with n <= K is bit-identical to dense; with n > K it is not", async () => {
  const K = 6;
  const dense = (await load({ seed: 41, numLayers: 3, maxPosition: 20 })).m;
  const hardOpts: RandomModelOptions = { seed: 41, numLayers: 3, maxPosition: 20, layers: [{ hardK: K }, {}, { hardK: K }] };
  const { model, m: hard } = await load(hardOpts);
  for (let n = 1; n <= K; n++) {
    const { ids, types } = randomInput(model, n, 60 + n);
    assert.equal(Array.from(hard.logits(ids, types)), Array.from(dense.logits(ids, types)), `n = ${n}`);
  }
  const { ids, types } = randomInput(model, 20, 99);
  const h = hard.logits(ids, types), d = dense.logits(ids, types);
  assert.ok(maxDiff(h, d) > 1e-6, "top-K changes a long input");
  assert.ok(maxDiff(h, referenceForward(model, ids, types)) <= F32_BOUND, "and matches the reference");
});

test("a token's logits do not depend on anything but its sequence", async () => {
  // Same input twice, and after other inputs of other lengths: identical bits.
  const { model, m } = await load({ seed: 43 });
  const { ids, types } = randomInput(model, 9, 7);
  const first = Array.from(m.logits(ids, types));
  m.logits(randomInput(model, 30, 8).ids);
  m.logits(randomInput(model, 2, 9).ids);
  assert.equal(Array.from(m.logits(ids, types)), first);
});

test("bad calls throw AxformerError with a message and leave the instance working", async () => {
  const { model, m } = await load({ seed: 47 });
  const { ids, types } = randomInput(model, 7, 3);
  const good = Array.from(m.logits(ids, types));
  const bad: [string, () => unknown, RegExp][] = [
    ["id = vocab_size", () => m.logits([2, model.config.vocabSize]), /input id \d+ at position 1 is out of range/],
    ["negative id", () => m.logits([2, -1]), /input id -1 at position 1 is out of range/],
    ["type id 2", () => m.logits([2, 5], [0, 2]), /token type id 2 at position 1 is out of range/],
    ["n = 0", () => m.logits([]), /0 input ids/],
    ["n > max_len", () => m.logits(new Array(m.maxLen + 1).fill(5)), /input ids; the model takes 1\.\./],
    ["non-integer id", () => m.logits([2, 1.5]), /not an integer/],
    ["type ids of the wrong length", () => m.logits([2, 5], [0]), /1 token type ids for 2 input ids/],
    ["layer range", () => m.runLayers(new Float32Array(16 * 3), 3, 1, 3), /layer range \[1, 3\)/],
    ["short hidden", () => m.runHead(new Float32Array(5), 1), /hidden state of 5 values/],
  ];
  for (const [what, fn, re] of bad) {
    try {
      fn();
      assert.unreachable(`${what}: no error`);
    } catch (err) {
      assert.instance(err, AxformerError, what);
      assert.match((err as Error).message, re, what);
    }
    assert.equal(Array.from(m.logits(ids, types)), good, `still working after: ${what}`);
  }
  // The raw ABI checks n itself, whatever the host does.
  const x = (m as unknown as { x: { forward(n: number): number; embed(n: number): number; run_head(n: number): number; error_len(): number } }).x;
  for (const n of [0, m.maxLen + 1, -1]) {
    assert.ok(x.forward(n) < 0 && x.embed(n) < 0 && x.run_head(n) < 0, `raw n = ${n}`);
    assert.ok(x.error_len() > 0);
  }
  assert.equal(Array.from(m.logits(ids, types)), good, "still working after raw calls");
});

test("DistilBERT takes only token type 0", async () => {
  const { m } = await load({ arch: "distilbert", seed: 53 });
  assert.is(m.typeVocabSize, 0);
  assert.throws(() => m.logits([2, 7], [0, 1]), /DistilBERT takes only type 0/);
  assert.is(m.logits([2, 7], [0, 0]).length, m.numLabels);
});

test("scores: softmax, sigmoid or the raw value, and the label of the best", async () => {
  for (const problemType of ["single_label_classification", "multi_label_classification", "regression"] as const) {
    const { m } = await load({ problemType, numLabels: problemType === "regression" ? 1 : 3, seed: 59 });
    assert.is(m.problemType, problemType);
    const r = m.classifyIds([2, 10, 11, 3]);
    assert.equal(r.logits, Array.from(m.logits([2, 10, 11, 3])));
    const expect = problemType === "regression" ? r.logits
      : problemType === "multi_label_classification" ? r.logits.map((v) => 1 / (1 + Math.exp(-v)))
      : r.logits.map((v) => Math.exp(v)).map((v, _, a) => v / a.reduce((s, u) => s + u, 0));
    assert.ok(maxDiff(r.scores, expect) < 1e-12, "scores");
    assert.is(r.label, m.labels[r.scores.indexOf(Math.max(...r.scores))]);
  }
});

test("classify(text) runs the tokenizer's ids through the model", async () => {
  const { m } = await load({ seed: 61 });
  const enc = m.tokenize("the movie was very good", "bad");
  assert.is(enc.inputIds.length, enc.tokenTypeIds.length);
  assert.equal(m.classify("the movie was very good", "bad"), m.classifyIds(enc.inputIds, enc.tokenTypeIds));
  assert.ok(m.tokenize("a b c d e f g h", undefined, 4).inputIds.length <= 4, "maxLen");
});

test("a loaded model costs its file, its activations and little else (no allocator doubling)", async () => {
  const opts: RandomModelOptions = { hiddenSize: 256, numHeads: 4, intermediateSize: 1024, numLayers: 4, maxPosition: 128, seed: 73 };
  const bytes = writeModel(randomModel(opts));
  const engine = await loadEngine();
  const empty = engine.exports.memory_bytes() >>> 0;
  const m = engine.loadModel(bytes);
  const activations = 128 * (6 * 256 + 1024) * 4;
  const bound = empty + bytes.length * (1 + 1 / 16) + activations + (2 << 20);
  assert.ok(m.memoryBytes() <= bound, `${m.memoryBytes()} bytes of memory for a ${bytes.length}-byte file (bound ${bound})`);
  m.logits([2, 5, 6, 3]);
  assert.is(m.memoryBytes(), engine.loadModel(bytes).memoryBytes(), "reloading reuses the memory");
});

test("loading another model replaces the engine's model; memory is reported", async () => {
  const engine = await loadEngine();
  const a = engine.loadModel(writeModel(randomModel({ seed: 67 })));
  const before = engine.exports.memory_bytes() >>> 0;
  assert.ok(a.memoryBytes() === before && before >= 65536);
  const la = Array.from(a.logits([2, 9, 3]));
  const b = engine.loadModel(writeModel(randomModel({ seed: 71, hiddenSize: 32 })));
  assert.throws(() => a.logits([2, 9, 3]), /replaced/);
  assert.is(b.hiddenSize, 32);
  assert.is(b.logits([2, 9, 3]).length, 2);
  // Reloading the first model gives its results again, and repeated loads do not leak.
  const bytes = writeModel(randomModel({ seed: 67 }));
  let again = engine.loadModel(bytes);
  const afterFirst = again.memoryBytes();
  for (let i = 0; i < 20; i++) again = engine.loadModel(bytes);
  assert.equal(Array.from(again.logits([2, 9, 3])), la);
  assert.is(again.memoryBytes(), afterFirst, "no growth from reloading");
  // A bad file unloads and says why; the engine then loads a good one.
  assert.throws(() => engine.loadModel(bytes.slice(0, 100)), (e: unknown) => e instanceof AxformerError && /model file/.test((e as Error).message));
  assert.equal(Array.from(engine.loadModel(bytes).logits([2, 9, 3])), la);
});

test.run();
