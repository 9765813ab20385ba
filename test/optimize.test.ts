// The AxFormer optimizer: transformations against the masked dense computation,
// FFN group boundaries, the strict test, the search order (with a scripted
// evaluator), reuse of hidden states, and end-to-end determinism on the wasm
// runtime with one and two workers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { layerPrefix, type Model, type Tensor } from "../host/model/model.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { Row } from "../host/optimize/datasets.ts";
import { createEvaluator, type Evaluator } from "../host/optimize/evaluator.ts";
import { optimize, tokenizeRows } from "../host/optimize/index.ts";
import { renderReport } from "../host/optimize/report.ts";
import { rowsNoWorse, search, strictAccept, type SearchOptions } from "../host/optimize/search.ts";
import {
  ffnGroupBounds, removeAttentionBlock, removeFfnBlock, removeFfnGroup, removeHead, setHardK, setLayerStorage,
} from "../host/optimize/transforms.ts";
import { prng, randomModel } from "./helpers/random-model.ts";
import { referenceForward } from "./helpers/reference-forward.ts";

// ---- FFN group boundaries ----

test("FFN groups: 12 contiguous groups, the first (width mod 12) one neuron larger", () => {
  for (const width of [1024, 100, 3072, 37, 12, 5]) {
    const b = ffnGroupBounds(width);
    assert.is(b.length, 12);
    assert.is(b[0][0], 0);
    assert.is(b[11][1], width);
    const base = Math.floor(width / 12), extra = width % 12;
    b.forEach(([s, e], g) => {
      if (g > 0) assert.is(s, b[g - 1][1], `group ${g} starts where ${g - 1} ends`);
      assert.is(e - s, g < extra ? base + 1 : base, `width ${width} group ${g}`);
    });
  }
  const sizes = ffnGroupBounds(1024).map(([s, e]) => e - s);
  assert.equal(sizes.slice(0, 4), [86, 86, 86, 86]);
  assert.ok(sizes.slice(4).every((s) => s === 85));
});

// ---- transformations against the masked dense computation ----

// Masked dense: the original shapes with the removed parts' contributions zeroed.
// A removed head's context is zeroed by zeroing its columns of the output projection;
// a removed neuron's activation by its column of the second FFN dense; a removed
// block by its whole output projection, bias included, which leaves LayerNorm(x).
function cloneModel(m: Model): Model {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of m.tensors) tensors.set(k, { ...t, data: t.data.slice() });
  return { ...m, layers: m.layers.map((l) => ({ ...l })), tensors };
}

function zeroCols(m: Model, name: string, cols: number[]) {
  const t = m.tensors.get(name)!;
  const [rows, n] = t.shape;
  for (let r = 0; r < rows; r++) for (const c of cols) t.data[r * n + c] = 0;
}

function maskHead(m: Model, layer: number, head: number) {
  const D = m.config.headDim;
  const pos = m.layers[layer].heads.indexOf(head);
  zeroCols(m, layerPrefix(layer) + "attention.output.dense.weight", Array.from({ length: D }, (_, d) => pos * D + d));
}

function maskNeurons(m: Model, layer: number, neurons: number[]) {
  const pos = neurons.map((j) => m.layers[layer].ffnNeurons.indexOf(j)).filter((p) => p >= 0);
  zeroCols(m, layerPrefix(layer) + "output.dense.weight", pos);
}

function maskBlock(m: Model, layer: number, linear: string) {
  for (const s of [".weight", ".bias"]) m.tensors.get(layerPrefix(layer) + linear + s)!.data.fill(0);
}

const SEQS: Array<[number[], number[]]> = [
  [[2, 40, 41, 9, 3], [0, 0, 0, 0, 0]],
  [[2, 11, 50, 60, 61, 62, 7, 3, 44, 45, 3], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]],
  [[2, 3], [0, 0]],
];

// The physically pruned model gives the masked dense model's logits: in the f64
// reference (exactly: every removed term is a multiplication by zero) and in the
// wasm runtime loading the written file (to f32 rounding).
async function assertSameLogits(pruned: Model, masked: Model, what: string) {
  const engine = await loadEngine();
  const lm = engine.loadModel(writeModel(pruned));
  for (const [ids, bertTypes] of SEQS) {
    const types = pruned.config.typeVocabSize >= 2 ? bertTypes : bertTypes.map(() => 0);
    const want = referenceForward(masked, ids, types);
    const ref = referenceForward(pruned, ids, types);
    const got = lm.logits(ids, types);
    for (let c = 0; c < want.length; c++) {
      assert.ok(Math.abs(ref[c] - want[c]) <= 1e-12 * (1 + Math.abs(want[c])), `${what}: reference ${ref[c]} vs masked ${want[c]}`);
      assert.ok(Math.abs(got[c] - want[c]) <= 1e-4 * (1 + Math.abs(want[c])), `${what}: wasm ${got[c]} vs masked ${want[c]}`);
    }
  }
}

const T_OPTS = { hiddenSize: 16, numHeads: 4, intermediateSize: 30, numLayers: 3 };

for (const arch of ["bert", "distilbert", "roberta", "electra"] as const) {
  test(`${arch}: each removal equals its masked dense computation`, async () => {
    const m = randomModel({ ...T_OPTS, arch, seed: 11 });
    {
      const masked = cloneModel(m); maskHead(masked, 1, 2);
      const pruned = removeHead(m, 1, 2);
      assert.equal(pruned.layers[1].heads, [0, 1, 3]);
      assert.equal(pruned.tensors.get(layerPrefix(1) + "attention.self.query.weight")!.shape, [12, 16]);
      assert.equal(pruned.tensors.get(layerPrefix(1) + "attention.output.dense.weight")!.shape, [16, 12]);
      assert.equal(pruned.tensors.get(layerPrefix(1) + "attention.output.dense.bias")!.shape, [16]);
      await assertSameLogits(pruned, masked, "head");
    }
    {
      const [s, e] = ffnGroupBounds(30)[7];
      const masked = cloneModel(m); maskNeurons(masked, 0, Array.from({ length: e - s }, (_, k) => s + k));
      const pruned = removeFfnGroup(m, 0, 7);
      assert.is(pruned.layers[0].ffnNeurons.length, 30 - (e - s));
      assert.ok(!pruned.layers[0].ffnNeurons.some((j) => j >= s && j < e));
      assert.equal(pruned.tensors.get(layerPrefix(0) + "intermediate.dense.weight")!.shape, [30 - (e - s), 16]);
      assert.equal(pruned.tensors.get(layerPrefix(0) + "output.dense.weight")!.shape, [16, 30 - (e - s)]);
      await assertSameLogits(pruned, masked, "ffn group");
    }
    {
      const masked = cloneModel(m); maskBlock(masked, 2, "attention.output.dense");
      const pruned = removeAttentionBlock(m, 2);
      assert.not.ok(pruned.tensors.has(layerPrefix(2) + "attention.self.key.weight"));
      assert.ok(pruned.tensors.has(layerPrefix(2) + "attention.output.LayerNorm.weight"));
      await assertSameLogits(pruned, masked, "attention block");
    }
    {
      const masked = cloneModel(m); maskBlock(masked, 0, "output.dense");
      const pruned = removeFfnBlock(m, 0);
      assert.not.ok(pruned.tensors.has(layerPrefix(0) + "intermediate.dense.weight"));
      await assertSameLogits(pruned, masked, "ffn block");
    }
    {
      const masked = cloneModel(m); masked.layers[1].hardK = 3;
      await assertSameLogits(setHardK(m, 1, 3), masked, "hard attention");
    }
    {
      // int8 weights in one layer: the file shrinks, the logits move by quantization only.
      const q = setLayerStorage(m, 1, "int8");
      assert.ok(writeModel(q).length < writeModel(m).length);
      assert.is(q.tensors.get(layerPrefix(1) + "intermediate.dense.weight")!.storage, "int8");
      assert.is(q.tensors.get(layerPrefix(0) + "intermediate.dense.weight")!.storage, "f32");
      const lm = (await loadEngine()).loadModel(writeModel(q));
      const types = SEQS[0][1];
      const want = referenceForward(m, SEQS[0][0], types), got = lm.logits(SEQS[0][0], types);
      for (let c = 0; c < want.length; c++) assert.ok(Math.abs(got[c] - want[c]) < 0.05, `int8 ${got[c]} vs ${want[c]}`);
    }
    assert.is(m.layers[1].heads.length, 4, "the input model is left alone");
  });
}

test("removals compose, a partly removed group loses what remains, and emptied blocks keep their bias", async () => {
  const m = randomModel({ ...T_OPTS, seed: 5, layers: [{}, { ffnNeurons: Array.from({ length: 30 }, (_, j) => j).filter((j) => j !== 1 && j !== 20) }, {}] });
  let pruned = m;
  const masked = cloneModel(m);
  const step = (f: (x: Model) => Model, mask: (x: Model) => void) => { mask(masked); pruned = f(pruned); };
  step((x) => removeHead(x, 0, 0), (x) => maskHead(x, 0, 0));
  step((x) => removeHead(x, 0, 3), (x) => maskHead(x, 0, 3));
  step((x) => removeFfnGroup(x, 1, 0), (x) => maskNeurons(x, 1, [0, 1, 2])); // neuron 1 was already gone
  step((x) => removeFfnGroup(x, 1, 11), (x) => maskNeurons(x, 1, [28, 29]));
  step((x) => setHardK(x, 1, 2), (x) => { x.layers[1].hardK = 2; });
  step((x) => removeFfnBlock(x, 2), (x) => maskBlock(x, 2, "output.dense"));
  assert.equal(pruned.layers[1].ffnNeurons, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27]);
  await assertSameLogits(pruned, masked, "composed");

  // Every head of layer 2 one by one: the block computes LayerNorm(x + output bias),
  // not LayerNorm(x) as a removed block would.
  let noHeads = m;
  const maskedNoHeads = cloneModel(m);
  zeroCols(maskedNoHeads, layerPrefix(2) + "attention.output.dense.weight", Array.from({ length: 16 }, (_, c) => c));
  for (const h of [0, 1, 2, 3]) noHeads = removeHead(noHeads, 2, h);
  await assertSameLogits(noHeads, maskedNoHeads, "all heads");
  // Likewise every FFN group of layer 0.
  let noFfn = m;
  const maskedNoFfn = cloneModel(m);
  maskNeurons(maskedNoFfn, 0, Array.from({ length: 30 }, (_, j) => j));
  for (let g = 0; g < 12; g++) noFfn = removeFfnGroup(noFfn, 0, g);
  await assertSameLogits(noFfn, maskedNoFfn, "all groups");
});

// ---- the strict test ----

test("strict test: mean loss below Lmin AND more than floor(n/2) rows no worse", () => {
  const l0 = [0.5, 0.2, 0.9, 0.1, 0.7];
  const lower = [0.4, 0.2, 0.9, 0.3, 0.5];  // mean lower; rows 0, 1, 2, 4 no worse (equal counts)
  const half = [0.1, 0.1, 1.0, 0.2, 0.8];   // mean lower; rows 0, 1 no worse
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const L0 = mean(l0);
  assert.is(rowsNoWorse(lower, l0), 4);
  assert.is(rowsNoWorse(half, l0), 2);
  assert.ok(mean(lower) < L0 && mean(half) < L0);
  assert.ok(strictAccept(mean(lower), L0, rowsNoWorse(lower, l0), 5));
  assert.not.ok(strictAccept(mean(half), L0, rowsNoWorse(half, l0), 5), "2 rows is not more than floor(5/2)");
  assert.not.ok(strictAccept(mean(lower), L0, 2, 5));
  assert.ok(strictAccept(mean(lower), L0, 3, 5));
  assert.not.ok(strictAccept(mean(lower), L0, 2, 4), "4 rows need 3");
  assert.not.ok(strictAccept(L0, L0, 5, 5), "an equal loss is not lower");
  assert.not.ok(strictAccept(L0 + 1e-9, L0, 5, 5));
});

// ---- the search order, with a scripted evaluator ----

// Regression with target 0, so a row's loss is its prediction squared: the script
// chooses losses directly. It also checks the hidden-state reuse contract: a
// candidate at layer i matches the base below layer i.
class ScriptedEvaluator implements Evaluator {
  calls: string[] = [];
  private base: Model | null = null;
  private baseLayer = -1;
  constructor(private losses: (m: Model, layer: number) => number[]) {}
  async setBase(m: Model, layer: number) { this.base = m; this.baseLayer = layer; }
  async candidate(m: Model, layer: number, rows?: ArrayLike<number>) {
    assert.is(layer, this.baseLayer, "candidate at the cached layer");
    for (let i = 0; i < layer; i++) assert.equal(m.layers[i], this.base!.layers[i], `layer ${i} below the candidate's is the base's`);
    const all = this.losses(m, layer);
    return Float32Array.from(rows ? Array.from(rows, (r) => all[r]) : all, Math.sqrt);
  }
  layerEvaluations() { return 0; }
  async close() {}
}

const SOPTS: SearchOptions = {
  maxDrop: null, hardK: 30, hardKChoices: null, passes: 1, int8Layers: false, metric: "pearson", regression: true, numLabels: 1,
};
const label = (c: { layer: number; step: string }) => `${c.layer}:${c.step}`;

test("search order: hard attention first to last, then per layer last to first FFN then attention; fine-grained only under 1.1 x Lmin", async () => {
  const m = randomModel({ numLayers: 2, numHeads: 2, seed: 3 });
  const rows = new Array(4).fill(0);
  // Everything is rejected. Layer 1's FFN block comes within 10% of Lmin (so its
  // groups are tried), its attention block does not (so its heads are not); layer
  // 0's attention block is within 10% (heads tried), its FFN block is not.
  const ev = new ScriptedEvaluator((x) => {
    const st = x.layers;
    let v = 1;
    if (!st[1].hasFfn) v = 1.05;
    if (!st[1].hasAttention) v = 1.2;
    if (!st[0].hasFfn) v = 1.3;
    if (!st[0].hasAttention) v = 1.09;
    if (st[0].hardK || st[1].hardK || st[1].ffnNeurons.length < 32 || st[0].heads.length < 2) v = 1.01;
    return [v, v, v, v];
  });
  const r = await search(m, rows, ev, SOPTS);
  const want = ["0:hard_attention", "1:hard_attention", "1:ffn_block",
    ...Array.from({ length: 12 }, (_, g) => `1:ffn_group:${g}`), "1:attention_block", "0:ffn_block", "0:attention_block", "0:head:0", "0:head:1"];
  assert.equal(r.candidates.map(label), want);
  assert.ok(r.candidates.every((c) => !c.accepted));
  assert.is(r.model, m);
  assert.is(r.evaluations, want.length + 1);
});

test("search: an accepted change lowers Lmin; rows are compared with the ORIGINAL losses; both parts of the test matter", async () => {
  const m = randomModel({ numLayers: 2, numHeads: 2, seed: 3 });
  const current = [0.8, 0.8, 0.8, 0.2];
  const ev = new ScriptedEvaluator((x) => {
    const st = x.layers;
    // Layer 1 attention (block or a head) changes nothing: equal to Lmin, rejected.
    if (!st[1].hasAttention || st[1].heads.length < 2) return current;
    // Mean 0.7 < 0.75, but only 2 of 4 rows no worse than the original: rejected.
    if (st[1].hardK) return [0, 0, 1.4, 1.4];
    // Mean 0.65 < 0.75 and every row no worse than the original's 1 (though 3 rows
    // are worse than under the accepted model): accepted.
    if (!st[1].hasFfn) return current;
    // Mean 0.75 < 1, every row better: accepted.
    if (st[0].hardK) return [0.75, 0.75, 0.75, 0.75];
    return [1, 1, 1, 1];
  });
  const r = await search(m, [0, 0, 0, 0], ev, SOPTS);
  assert.equal(r.candidates.filter((c) => c.accepted).map(label), ["0:hard_attention", "1:ffn_block"]);
  const hard1 = r.candidates.find((c) => label(c) === "1:hard_attention")!;
  assert.ok(hard1.loss < hard1.lmin && hard1.rows_no_worse === 2);
  const ffn = r.candidates.find((c) => label(c) === "1:ffn_block")!;
  assert.is(ffn.rows_no_worse, 4);
  assert.ok(Math.abs(ffn.lmin - 0.75) < 1e-6);
  const attn = r.candidates.find((c) => label(c) === "1:attention_block")!;
  assert.is(attn.loss, attn.lmin);
  assert.ok(r.candidates.some((c) => label(c) === "1:head:0"), "a loss equal to Lmin is under 1.1 x Lmin: heads are tried");
  assert.equal(r.decisions.hard_attention, [true, false]);
  assert.equal(r.decisions.ffn_block_removed, [false, true]);
  assert.equal(r.decisions.attention_block_removed, [false, false]);
  assert.ok(Math.abs(r.finalLoss - 0.65) < 1e-6);
  assert.is(r.model.layers[0].hardK, 30);
  assert.not.ok(r.model.layers[1].hasFfn);
});

test("a second pruning pass tries heads that the 1.1 x Lmin gate hid in the first", async () => {
  const m = randomModel({ numLayers: 2, numHeads: 2, seed: 3 });
  // Removing layer 1's attention block is far worse (2 > 1.1); removing its head 1 alone helps.
  const ev = () => new ScriptedEvaluator((x) => {
    const st = x.layers;
    if (!st[1].hasAttention) return [2, 2, 2, 2];
    if (!st[1].heads.includes(1)) return [0.5, 0.5, 0.5, 0.5];
    return [1, 1, 1, 1];
  });
  const one = await search(m, [0, 0, 0, 0], ev(), { ...SOPTS, int8Layers: true });
  assert.equal(one.candidates.filter((c) => c.kind === "int8").map(label), ["0:int8", "1:int8"], "int8 (ours) comes last, first layer to last");
  assert.not.ok(one.candidates.some((c) => c.kind === "head" && c.layer === 1));
  const two = await search(m, [0, 0, 0, 0], ev(), { ...SOPTS, passes: 3 });
  assert.equal(two.candidates.filter((c) => c.accepted).map(label), ["1:head:1"]);
  assert.equal(two.decisions.heads_removed, [[], [1]]);
  assert.is(Math.max(...two.candidates.map((c) => c.pass)), 3, "pass 2 accepted something, so pass 3 ran");
});

// ---- on the wasm runtime ----

const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this"];
function randomRows(n: number, seed: number, maxWords: number): Row[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => ({
    text: Array.from({ length: 1 + Math.floor(r() * maxWords) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" "),
    pair: null,
    label: r() < 0.5 ? 0 : 1,
    line: i + 1,
  }));
}

test("a candidate evaluated from cached hidden states equals its full forward, bit for bit", async () => {
  const m = randomModel({ hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 3, seed: 8 });
  const engine = await loadEngine();
  const rows = tokenizeRows(engine.loadModel(writeModel(m)), randomRows(12, 4, 12));
  const ev = await createEvaluator(rows, { workers: 1, numLabels: 2, hiddenSize: 32, cacheBytes: 1 << 30 });
  const cand = removeHead(setHardK(m, 2, 4), 1, 3);
  await ev.setBase(m, 1);
  const got = await ev.candidate(cand, 1);
  const full = (await loadEngine()).loadModel(writeModel(cand));
  rows.forEach((r, i) => assert.equal(Array.from(got.subarray(2 * i, 2 * i + 2)), Array.from(full.logits(r.ids, r.typeIds))));
  assert.is(ev.layerEvaluations(), 12 * 1 + 12 * 2, "1 layer to fill the cache, 2 per row for the candidate");
});

const TASK = { name: "test", metric: "accuracy" as const, regression: false };

test("hard attention on rows of at most K tokens gives the baseline losses bit for bit (rejected: not lower)", async () => {
  const m = randomModel({ hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 2, seed: 2 });
  const rows = randomRows(20, 9, 8);
  // Every row run (no skipping): the runtime itself gives the baseline bit for bit.
  for (const lossPrecision of ["f32", "f64"] as const) {
    const { summary } = await optimize(m, rows, { task: TASK, hardK: 16, workers: 1, measureSpeed: false, earlyReject: false, lossPrecision });
    const hard = summary.candidates.filter((c) => c.step === "hard_attention");
    assert.is(hard.length, 2);
    for (const c of hard) {
      assert.is(c.loss, summary.original_val_loss);
      assert.is(c.rows_no_worse, rows.length);
      assert.is(c.accepted, false);
      assert.is(c.rows_evaluated, rows.length);
    }
  }
  // With early rejection on, those rows are not run at all, and the outcome is the same.
  const { summary } = await optimize(m, rows, { task: TASK, hardK: 16, workers: 1, measureSpeed: false });
  for (const c of summary.candidates.filter((x) => x.step === "hard_attention")) {
    assert.is(c.rows_evaluated, 0);
    assert.is(c.loss, summary.original_val_loss);
    assert.is(c.accepted, false);
  }
});

test("the search gives the same decisions and losses with 1 and 2 workers, and a budget of 100 points removes everything", async () => {
  const m = randomModel({ hiddenSize: 32, numHeads: 4, intermediateSize: 40, numLayers: 3, maxPosition: 40, seed: 21 });
  const rows = randomRows(40, 17, 30);
  const run = (workers: number, maxDrop: number | null) =>
    optimize(m, rows, { task: TASK, hardK: 4, workers, maxDrop, measureSpeed: false });
  const one = await run(1, null), two = await run(2, null);
  assert.equal(two.summary.decisions, one.summary.decisions);
  // Early rejection shares each chunk of rows evenly among the workers, so how soon a
  // rejected candidate stops (or whether it runs to the end) depends on their number;
  // what was decided does not, nor do the accepted candidates' records. Without early
  // rejection every record is equal.
  const decided = (cs: typeof one.summary.candidates) =>
    cs.map((c) => c.accepted ? c : { step: c.step, layer: c.layer, index: c.index, pass: c.pass, accepted: c.accepted });
  assert.equal(decided(two.summary.candidates), decided(one.summary.candidates));
  assert.ok(one.summary.candidates.some((c) => c.early_rejected), "some candidates are rejected early");
  const full = (workers: number) => optimize(m, rows, { task: TASK, hardK: 4, workers, earlyReject: false, measureSpeed: false });
  assert.equal((await full(2)).summary.candidates, (await full(1)).summary.candidates);
  // Neither does the cache budget: none, room for one snapshot, room for all.
  const tokens = tokenizeRows((await loadEngine()).loadModel(writeModel(m)), rows).reduce((n, r) => n + r.ids.length, 0);
  for (const cacheBytes of [0, tokens * 32 * 4, 1 << 30]) {
    const r = await optimize(m, rows, { task: TASK, hardK: 4, workers: 2, cacheBytes, measureSpeed: false });
    assert.equal(r.summary.candidates, two.summary.candidates, `cache budget ${cacheBytes}`);
    if (cacheBytes === 0) assert.is(r.summary.layer_evaluations_without_early_reject, r.summary.layer_evaluations_without_reuse);
  }
  assert.is(two.summary.workers, 2);
  assert.ok(one.summary.candidates.length >= 3 * 3, "every layer tried at least hard attention and both blocks");
  assert.ok(one.summary.layer_evaluations < one.summary.layer_evaluations_without_reuse);

  const all = await run(2, 100);
  const d = all.summary.decisions;
  assert.equal(d.hard_attention, [true, true, true]);
  assert.equal(d.ffn_block_removed, [true, true, true]);
  assert.equal(d.attention_block_removed, [true, true, true]);
  assert.ok(all.summary.size_bytes.after < all.summary.size_bytes.before);
  const html = renderReport(all.summary);
  assert.match(html, /<svg/);
  assert.not.match(html, /<script|https?:\/\//);
});

test.run();
