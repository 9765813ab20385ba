// The search on tasks beyond classification (task-scoring.ts through optimizeTask): units
// of variable width, loss rows made of several units (a pair's two sentences), a metric
// over predictions. A random classifier's C logits stand in for an embedding of C floats,
// so the machinery runs on the shipped wasm runtime before any embedding head exists.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { optimizeTask } from "../host/optimize/index.ts";
import { driftTask, pairTask, type ScoredPair } from "../host/optimize/task-scoring.ts";
import { DRIFT_STRICT_REFUSAL } from "../host/optimize/task-drift.ts";
import { prng, randomModel } from "./helpers/random-model.ts";

const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this"];
const E = 6;
const SMALL = { hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 3, maxPosition: 40, numLabels: E };

function sentence(r: () => number, most: number): string {
  return Array.from({ length: 1 + Math.floor(r() * most) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
}
function pairs(n: number, seed: number): ScoredPair[] {
  const r = prng(seed);
  const pool = Array.from({ length: Math.ceil(n * 0.8) }, () => sentence(r, 20)); // sentences repeat across pairs
  return Array.from({ length: n }, () => ({ a: pool[Math.floor(r() * pool.length)], b: pool[Math.floor(r() * pool.length)], score: Math.round(r() * 50) / 10 }));
}

const cos = (u: ArrayLike<number>, v: ArrayLike<number>) => {
  let a = 0, b = 0, c = 0;
  for (let i = 0; i < u.length; i++) { a += u[i] * v[i]; b += u[i] * u[i]; c += v[i] * v[i]; }
  return a / Math.sqrt(b * c);
};
// Spearman with average ranks, written out again here
function spearmanRef(x: number[], y: number[]): number {
  const rank = (v: number[]) => v.map((a) => v.filter((b) => b < a).length + (v.filter((b) => b === a).length + 1) / 2);
  const rx = rank(x), ry = rank(y);
  const m = (rx.length + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) { sxy += (rx[i] - m) * (ry[i] - m); sxx += (rx[i] - m) ** 2; syy += (ry[i] - m) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
}

test("embedding pairs: the original metric is the Spearman of the pairs' cosines; workers and early rejection change no decision", async () => {
  const model = randomModel({ ...SMALL, seed: 5 });
  const data = pairs(60, 3);
  const prepare = (m: Parameters<typeof pairTask>[0], maxLen: number) => pairTask(m, data, E, maxLen, "f32");
  const run = (workers: number, earlyReject: boolean, maxDrop: number | null = null) =>
    optimizeTask(model, prepare, { workers, earlyReject, maxDrop, hardK: 8, measureSpeed: false });
  const a = (await run(1, true)).summary;
  const b = (await run(2, true)).summary;
  const c = (await run(1, false)).summary;
  assert.is(a.task, "embedding-pairs");
  assert.is(a.metric_name, "spearman");
  assert.is(a.val_rows, 60);
  const list = (s: typeof a) => s.candidates.map((x) => `${x.layer}:${x.step}:${x.accepted}`);
  assert.equal(list(a), list(b));
  assert.equal(list(a), list(c));
  assert.equal(a.decisions, c.decisions);
  assert.is(a.final_val_loss, c.final_val_loss);
  assert.ok(c.candidates.every((x) => x.rows_evaluated === 60 || x.kind === "hard_attention"));
  // independent: the runtime's logits of each sentence, their cosines, ranked
  const m = (await loadEngine()).loadModel(writeModel(model));
  const emb = (t: string) => { const k = m.tokenize(t); return m.logits(k.inputIds, k.tokenTypeIds); };
  const want = 100 * spearmanRef(data.map((p) => cos(emb(p.a), emb(p.b))), data.map((p) => p.score));
  assert.ok(Math.abs(a.original_val_metric - want) < 1e-9, `${a.original_val_metric} vs ${want}`);
  let loss = 0;
  for (const p of data) loss += (cos(emb(p.a), emb(p.b)) - p.score / 5) ** 2;
  assert.ok(Math.abs(a.original_val_loss - loss / data.length) < 1e-6);
  // budget mode keeps the metric within the budget
  const budget = (await run(1, true, 5)).summary;
  assert.is(budget.mode, "budget");
  assert.ok(budget.final_val_metric >= budget.original_val_metric - 5 - 1e-9);
});

test("embeddings without labels: strict mode refused with the reason; the budget bounds the mean cosine to the original embeddings", async () => {
  const model = randomModel({ ...SMALL, seed: 8 });
  const r = prng(9);
  const texts = Array.from({ length: 40 }, () => sentence(r, 25));
  const prepare = (m: Parameters<typeof driftTask>[0], maxLen: number) => driftTask(m, texts, E, maxLen, "f32");
  try {
    await optimizeTask(model, prepare, { workers: 1, measureSpeed: false });
    assert.unreachable("strict mode must be refused");
  } catch (e) {
    assert.is((e as Error).message, DRIFT_STRICT_REFUSAL);
  }
  const tight = (await optimizeTask(model, prepare, { workers: 1, measureSpeed: false, maxDrop: 0.5, hardK: 8 })).summary;
  assert.is(tight.metric_name, "mean_cosine");
  assert.ok(Math.abs(tight.original_val_metric - 100) < 1e-4, `${tight.original_val_metric}`);
  assert.ok(tight.original_val_loss < 1e-6);
  assert.ok(tight.final_val_metric >= 99.5 - 1e-9);
  // everything passes a budget of 200 points (cosines are >= -1): every block goes
  const loose = (await optimizeTask(model, prepare, { workers: 1, measureSpeed: false, maxDrop: 200, hardK: 8 })).summary;
  assert.ok(loose.decisions.ffn_block_removed.every(Boolean) && loose.decisions.attention_block_removed.every(Boolean));
});

test.run();
