// Exact early rejection (and skipping rows hard attention cannot change) changes no
// decision: the same decisions, the same accepted / rejected list and the same
// records of accepted candidates with and without it, on several models, in strict
// and budget mode, single- and multi-label; and it runs fewer rows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Row } from "../host/optimize/datasets.ts";
import { optimize, type OptimizeOptions } from "../host/optimize/index.ts";
import { evaluationOrder, scoreCandidate, type Scoring } from "../host/optimize/candidate-eval.ts";
import type { Evaluator } from "../host/optimize/evaluator.ts";
import type { Model } from "../host/model/model.ts";
import { prng, randomModel, type RandomModelOptions } from "./helpers/random-model.ts";

const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this"];
function rows(n: number, seed: number, maxWords: number, labels = 2, multi = false): Row[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => {
    const text = Array.from({ length: 1 + Math.floor(r() * maxWords) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
    if (!multi) return { text, pair: null, label: Math.floor(r() * labels), line: i + 1 };
    const set = Array.from({ length: labels }, (_, c) => c).filter(() => r() < 0.4);
    return { text, pair: null, label: -1, labels: set, line: i + 1 };
  });
}

async function compare(what: string, modelOpts: RandomModelOptions, data: Row[], opts: Omit<OptimizeOptions, "earlyReject">) {
  const m = randomModel(modelOpts);
  const run = (earlyReject: boolean) => optimize(m, data, { workers: 1, measureSpeed: false, ...opts, earlyReject });
  const on = (await run(true)).summary, off = (await run(false)).summary;
  assert.equal(on.decisions, off.decisions, `${what}: decisions`);
  const list = (s: typeof on) => s.candidates.map((c) => `${c.layer}:${c.step}:${c.accepted}`);
  assert.equal(list(on), list(off), `${what}: accepted / rejected list`);
  // Accepted candidates were evaluated in full either way: identical records.
  const strip = (s: typeof on) => s.candidates.filter((c) => c.accepted).map(({ rows_evaluated, ...c }) => c);
  assert.equal(strip(on), strip(off), `${what}: accepted records`);
  assert.is(on.final_val_loss, off.final_val_loss);
  assert.is(off.row_evaluations, off.row_evaluations_without_early_reject);
  assert.is(on.row_evaluations_without_early_reject, off.row_evaluations);
  assert.is(on.layer_evaluations_without_early_reject, off.layer_evaluations, `${what}: the counterfactual count is exact`);
  assert.ok(off.candidates.every((c) => !c.early_rejected && c.rows_evaluated === data.length));
  return { on, off };
}

const SMALL = { hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 3, maxPosition: 40 };
const TASK = { name: "test", metric: "accuracy" as const, regression: false };

test("strict test: the same decisions with and without early rejection, on three models, fewer rows run", async () => {
  let saved = 0;
  for (const [seed, arch] of [[21, "bert"], [4, "bert"], [9, "distilbert"]] as const) {
    const { on, off } = await compare(`strict seed ${seed}`, { ...SMALL, seed, arch }, rows(48, seed, 30), { task: TASK, hardK: 8 });
    assert.ok(on.candidates.some((c) => c.early_rejected), `seed ${seed}: something was rejected early`);
    saved += off.row_evaluations - on.row_evaluations;
    assert.ok(on.layer_evaluations < off.layer_evaluations);
  }
  assert.ok(saved > 0);
});

test("the 1.1 x Lmin gate still sees the loss of blocks it needs: the same fine-grained candidates with two passes and f64 losses", async () => {
  await compare("passes 2", { ...SMALL, seed: 4 }, rows(40, 5, 20), { task: TASK, hardK: 8, passes: 2 });
  await compare("f64", { ...SMALL, seed: 21 }, rows(40, 6, 20), { task: TASK, hardK: 8, lossPrecision: "f64" });
});

test("budget mode: accuracy, F1 and a metric without a bound (MCC); multi-label micro F1", async () => {
  for (const [metric, maxDrop] of [["accuracy", 3], ["f1", 5], ["mcc", 10]] as const)
    await compare(`budget ${metric}`, { ...SMALL, seed: 13 }, rows(48, 13, 20), { task: { ...TASK, metric }, hardK: 8, maxDrop });
  const multi = { ...SMALL, seed: 17, numLabels: 3, problemType: "multi_label_classification" as const };
  const task = { name: "generic", metric: "f1_micro" as const, regression: false, multiLabel: true };
  await compare("multi-label strict", multi, rows(48, 17, 20, 3, true), { task, hardK: 8 });
  const { on } = await compare("multi-label budget", multi, rows(48, 18, 20, 3, true), { task, hardK: 8, maxDrop: 4 });
  assert.is(on.metric_name, "f1_micro");
});

// An evaluator that gives row r the output preds[r] (one per row) and records each list of rows asked for.
function listingEvaluator(preds: Float32Array, asked: number[][]): Evaluator {
  return {
    async setBase() {}, layerEvaluations: () => 0, async close() {},
    async candidate(_m: Model, _layer: number, rows?: ArrayLike<number>) {
      const list = Array.from(rows ?? preds.keys());
      asked.push(list);
      return Float32Array.from(list, (r) => preds[r]);
    },
  };
}

// Rows are run highest loss (under the accepted model) first, but the mean loss is the
// sum in row order: tiny losses of the first rows and one large loss in the last, whose
// sums in the two orders differ in float64 (20.25 + 1e-16 rounds back to 20.25).
test("rows run highest accepted loss first (loss bound only); the mean loss is still summed in row order", async () => {
  const n = 64;
  const preds = Float32Array.from({ length: n }, (_, r) => (r === n - 1 ? 4.5 : 1e-8)); // regression, targets 0
  const asked: number[][] = [];
  const ev = listingEvaluator(preds, asked);
  const current = { losses: Float64Array.from(preds, (p, r) => (r === n - 1 ? 30 : p * p + r * 1e-20)), predictions: new Float64Array(n) };
  const s: Scoring = {
    n, C: 1, kind: "regression", precision: "f64", metric: "pearson", targets: new Float64Array(n),
    l0: new Float64Array(n).fill(100), rowTokens: null, chunks: 8, worseCount: new Int32Array(n), runCount: new Int32Array(n),
  };
  // (Only the loss bound may stop it, as for a block whose loss the 1.1 x Lmin gate reads: loss order throughout.)
  const out = await scoreCandidate(ev, {} as Model, 0, s, current, { strict: true, lossBound: 1e9, countRows: false, N: n / 2 }, null);
  const order = evaluationOrder(current.losses);
  assert.equal(order.slice(0, 3), [n - 1, n - 2, n - 3]);
  assert.equal(asked.flat(), order, "rows asked for in the order of the accepted model's losses, in chunks");
  assert.is(asked.length, 8);
  let inRows = 0, inOrder = 0;
  for (let r = 0; r < n; r++) inRows += Math.fround(preds[r]) ** 2;
  for (const r of order) inOrder += Math.fround(preds[r]) ** 2;
  assert.ok(inRows !== inOrder, "the test data tells the two orders apart");
  assert.is(out.loss, inRows / n);
  assert.is(out.complete, true);
});

// Each worker runs its own rows and a chunk waits for the slowest: with two parts, a chunk
// takes the next rows of the list for the part with less work in it so far, so a chunk's
// work is shared evenly even when the first rows of the list all belong to one part.
test("chunks share their work evenly among the workers' parts, in the list's order within each part", async () => {
  const n = 64;
  const part = Int32Array.from({ length: n }, (_, r) => (r < 48 ? 0 : 1)); // part 1: 16 long rows
  const tokens = Int32Array.from({ length: n }, (_, r) => (r < 48 ? 10 : 31)); // cost 740 / 2945
  const asked: number[][] = [];
  const ev = listingEvaluator(new Float32Array(n), asked);
  // The accepted model's losses put part 0's rows first.
  const current = { losses: Float64Array.from({ length: n }, (_, r) => n - r), predictions: new Float64Array(n) };
  const s: Scoring = {
    n, C: 1, kind: "regression", precision: "f64", metric: "pearson", targets: new Float64Array(n),
    l0: new Float64Array(n).fill(100), rowTokens: tokens, chunks: 4, worseCount: new Int32Array(n), runCount: new Int32Array(n), part,
  };
  await scoreCandidate(ev, {} as Model, 0, s, current, { strict: true, lossBound: 1e9, countRows: false, N: n / 2 }, null);
  assert.is(asked.length, 4);
  assert.equal([...asked.flat()].sort((a, b) => a - b), [...tokens.keys()], "every row once");
  const cost = (r: number) => tokens[r] * (tokens[r] + 64);
  // The first chunk (16 rows), each row for the part with less work so far (ties: part 0):
  // 0 (740), 48 (2945), then part 0 takes rows 1, 2, 3 until its 2960 passes 2945, then 49.
  const load = [0, 0], expect: number[] = [];
  const next = [0, 48];
  while (expect.length < 16) { const p = load[0] <= load[1] ? 0 : 1; expect.push(next[p]); load[p] += cost(next[p]++); }
  assert.equal(asked[0], expect);
  assert.equal(asked[0].slice(0, 6), [0, 48, 1, 2, 3, 49]);
  const work = asked[0].map((r) => [part[r], cost(r)]).reduce((w, [p, c]) => { w[p] += c; return w; }, [0, 0]);
  assert.ok(Math.abs(work[0] - work[1]) <= 2945, `first chunk's work per part: ${work}`);
  // One part: exactly the list's order (the order a single worker has always used).
  asked.length = 0;
  await scoreCandidate(ev, {} as Model, 0, { ...s, part: null }, current, { strict: true, lossBound: 1e9, countRows: false, N: n / 2 }, null);
  assert.equal(asked.flat(), evaluationOrder(current.losses));
});

test.run();
