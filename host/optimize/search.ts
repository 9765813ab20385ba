// The AxFormer greedy search (../shared/axformer-method.md):
//   phase 1, layers first -> last: switch the layer to hard attention (top-K, K = 30);
//   phase 2, layers last -> first: remove the FFN block, else (if its loss was within
//   10% of Lmin) each of its 12 neuron groups; then remove the attention block, else
//   (same condition) each of its heads.
// Strict test (the paper's): a change is kept when its mean val loss L < Lmin AND
// more than floor(|val| / 2) rows have a loss no higher than under the ORIGINAL
// model; Lmin then becomes L. Budget mode (ours): the same order, a change is kept
// while the val metric stays within `maxDrop` points of the original model's.

import type { Model } from "../model/model.ts";
import { scoreAll, scoreCandidate, unchangedRows, type Limit, type RowState, type Scoring, type TaskScoring } from "./candidate-eval.ts";
import type { MetricName } from "./datasets.ts";
import type { Evaluator } from "./evaluator.ts";
import { mean, metric, scoreRows, type LossPrecision, type TaskKind } from "./metrics.ts";
import {
  FFN_GROUPS, ffnGroupRemaining, removeAttentionBlock, removeFfnBlock, removeFfnGroup, removeHead, setHardK, setLayerStorage,
} from "./transforms.ts";

export type StepKind = "hard_attention" | "ffn_block" | "ffn_group" | "attention_block" | "head" | "int8";

export interface CandidateRecord {
  step: string;          // e.g. "hard_attention", "ffn_group:5", "head:2"
  kind: StepKind;
  layer: number;
  index: number | null;  // group or head (original index), K for hard attention
  pass: number;          // pruning pass (1 = the paper's single pass; 0 = hard attention)
  loss: number;          // mean val loss L (NaN, null in JSON, when rejected early)
  lmin: number;          // Lmin it had to beat
  rows_no_worse: number; // rows with l[i] <= l0[i] (among the rows evaluated, when rejected early)
  rows_needed: number;   // strict test: more than this many
  metric: number;        // the task metric, in points (x100; NaN when rejected early)
  accepted: boolean;
  rows_evaluated: number; // rows run through the model (the rest: skipped or not needed)
  early_rejected: boolean; // stopped before every row was known: it could no longer pass
}

export interface Decisions {
  hard_attention: boolean[];
  hard_attention_k: number[];
  attention_block_removed: boolean[];
  ffn_block_removed: boolean[];
  heads_removed: number[][];
  ffn_groups_removed: number[][];
  int8_layers: boolean[]; // ours: layers whose weight matrices were accepted as int8
}

export interface SearchOptions {
  maxDrop: number | null;       // points; null = the strict test
  hardK: number;                // K of hard attention (30 in the paper)
  hardKChoices: number[] | null; // ours: try these K per layer, smallest first, keep the first accepted
  passes: number;               // ours: repeat the pruning pass while it accepts something (1 = paper)
  int8Layers: boolean;          // ours: after pruning, try int8 weights layer by layer
  metric: MetricName | string;  // the name of a task's metric (task-scoring.ts) beyond classification
  task?: TaskScoring;           // a task beyond classification: its rows, losses and metric
  regression: boolean;
  multiLabel?: boolean;         // targets are [n * numLabels] 0/1 values
  numLabels: number;
  lossPrecision?: LossPrecision; // "f32" (default, the reference's) or "f64"
  earlyReject?: boolean;        // default true; decisions are the same either way
  rowTokens?: ArrayLike<number> | null; // tokens per val row: rows hard attention cannot change are not run
  replay?: CandidateRecord[];   // resume: candidates already decided, in order; they are not evaluated again
  replayHistory?: RowHistory;   // resume: the row history after them (it orders the rows, so rows run are the same too)
  onCandidate?: (c: CandidateRecord, work: { done: number; total: number }) => void;
  onDecided?: (progress: SearchCounters & { candidates: CandidateRecord[]; history: RowHistory }) => Promise<void>; // after each evaluated candidate
}

// Per val row: candidates so far that made it worse, and that ran (or skipped) it.
export interface RowHistory { worse: number[]; run: number[] }

export interface SearchCounters {
  evaluations: number;          // candidate evaluations, the original model included
  rowEvaluations: number;       // rows run for them
  rowEvaluationsFull: number;   // rows a full evaluation of each would have run
  layerEvaluationsSaved: number; // rows x layers not run thanks to early rejection and skipped rows
}

export interface SearchResult {
  model: Model;
  decisions: Decisions;
  candidates: CandidateRecord[];
  originalLoss: number;
  originalMetric: number;
  finalLoss: number;
  finalMetric: number;
  acceptedLosses: Array<{ step: string; layer: number; loss: number; metric: number }>;
  evaluations: number; // candidate evaluations of the whole val set, the original model included
  counters: SearchCounters;
  replayed: number;    // candidates taken from `replay` (resume)
}

// The strict test's second part: rows whose loss did not grow over the original's.
export function rowsNoWorse(l: ArrayLike<number>, l0: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < l.length; i++) if (l[i] <= l0[i]) k++;
  return k;
}

// The paper's acceptance test.
export function strictAccept(L: number, lmin: number, noWorse: number, rows: number): boolean {
  return L < lmin && noWorse > Math.floor(rows / 2);
}

// Metric points are sums of fractions x 100; the slack keeps 79.00000000000001 from
// failing a budget of exactly 79.
export function budgetAccept(metricPoints: number, originalPoints: number, maxDrop: number): boolean {
  return metricPoints >= originalPoints - maxDrop - 1e-9;
}

const GATE = 1.1; // try heads / groups one by one when the block's loss is below 1.1 x Lmin
const CHUNKS = 64;  // early rejection looks at the bounds after each 1/64 of the rows

// Everything the phases share: the accepted model and its per-row state, Lmin, the
// original model's losses, the decisions and the record of every candidate.
interface Ctx {
  ev: Evaluator;
  opts: SearchOptions;
  L: number;
  n: number;
  N: number;
  strict: boolean;
  scoring: Scoring;
  base: { loss: number; metric: number };
  current: Model;
  cur: RowState | null;  // per-row losses / predictions of `current` (null: to recompute after a replay)
  lmin: number;
  currentMetric: number;
  decisions: Decisions;
  candidates: CandidateRecord[];
  acceptedLosses: SearchResult["acceptedLosses"];
  counters: SearchCounters;
  replayed: number;
  work: { done: number; total: number };
}

// Progress in units of layers run per row: a candidate at layer i runs L - i layers.
function plan(ctx: Ctx, layer: number, count: number) {
  ctx.work.total += count * (ctx.L - layer);
}

// The limit under which a candidate is certainly rejected; `needLoss`: the search
// reads this candidate's loss afterwards (the 1.1 x Lmin gate).
function limitFor(ctx: Ctx, needLoss: boolean): Limit | null {
  if (ctx.opts.earlyReject === false) return null;
  if (ctx.strict) return { strict: true, lossBound: needLoss ? GATE * ctx.lmin : ctx.lmin, countRows: !needLoss, N: ctx.N };
  return { strict: false, threshold: ctx.base.metric - ctx.opts.maxDrop! - 1e-9 };
}

// Once the replayed part of a resumed search is over, the accepted model's per-row
// state is computed again (from the layer the search is at: the base is current).
async function currentState(ctx: Ctx, layer: number): Promise<RowState> {
  if (ctx.cur === null) {
    ctx.cur = ctx.scoring.task ? await scoreAll(ctx.ev, ctx.current, layer, ctx.scoring)
      : scoreRows(await ctx.ev.candidate(ctx.current, layer), ctx.opts.numLabels, ctx.scoring.targets, ctx.scoring.kind, ctx.scoring.precision);
    ctx.counters.rowEvaluations += ctx.n;
  }
  return ctx.cur;
}

async function evaluate(ctx: Ctx, cand: Model, kind: StepKind, layer: number, index: number | null, needLoss: boolean) {
  const cur = await currentState(ctx, layer);
  const same = kind === "hard_attention" ? unchangedRows(ctx.scoring, index) : null;
  const r = await scoreCandidate(ctx.ev, cand, layer, ctx.scoring, cur, limitFor(ctx, needLoss), same);
  const c = ctx.counters;
  c.evaluations++;
  c.rowEvaluations += r.rowsEvaluated;
  c.rowEvaluationsFull += ctx.n;
  c.layerEvaluationsSaved += (ctx.n - r.rowsEvaluated) * (ctx.ev.layersPerRow?.(layer) ?? ctx.L - layer);
  const accepted = r.complete && (ctx.strict
    ? strictAccept(r.loss, ctx.lmin, r.noWorse, ctx.n)
    : budgetAccept(r.metric, ctx.base.metric, ctx.opts.maxDrop!));
  return { r, accepted };
}

// Tries one candidate (or takes its outcome from the replayed record) and keeps it when accepted.
async function attempt(ctx: Ctx, cand: Model, kind: StepKind, layer: number, index: number | null, pass: number, needLoss = false) {
  const step = index === null || kind === "hard_attention" ? kind : `${kind}:${index}`;
  const k = ctx.candidates.length;
  let rec: CandidateRecord;
  let state: RowState | null = null;
  const old = ctx.opts.replay?.[k];
  if (old) {
    if (old.step !== step || old.layer !== layer || old.pass !== pass)
      throw new Error(`the checkpoint does not match this search: candidate ${k + 1} is ${old.layer}:${old.step}, the search is at ${layer}:${step}`);
    rec = { ...old, loss: old.loss ?? NaN, metric: old.metric ?? NaN };
    ctx.replayed++;
  } else {
    const { r, accepted } = await evaluate(ctx, cand, kind, layer, index, needLoss);
    rec = {
      step, kind, layer, index, pass, loss: r.loss, lmin: ctx.lmin, rows_no_worse: r.noWorse, rows_needed: ctx.N,
      metric: r.metric, accepted, rows_evaluated: r.rowsEvaluated, early_rejected: !r.complete,
    };
    state = r.state;
  }
  ctx.candidates.push(rec);
  ctx.work.done += ctx.L - layer;
  if (rec.accepted) {
    ctx.current = cand;
    ctx.cur = state;
    ctx.lmin = rec.loss;
    ctx.currentMetric = rec.metric;
    ctx.acceptedLosses.push({ step, layer, loss: rec.loss, metric: rec.metric });
  }
  if (!old && ctx.opts.onDecided) {
    const history = { worse: Array.from(ctx.scoring.worseCount), run: Array.from(ctx.scoring.runCount) };
    await ctx.opts.onDecided({ ...ctx.counters, candidates: ctx.candidates, history });
  }
  ctx.opts.onCandidate?.(rec, ctx.work);
  return rec;
}

// Phase 1: selective hard attention, first layer to last.
async function hardAttentionPhase(ctx: Ctx) {
  for (let i = 0; i < ctx.L; i++) {
    await ctx.ev.setBase(ctx.current, i);
    if (!ctx.current.layers[i].hasAttention) continue;
    for (const k of ctx.opts.hardKChoices ?? [ctx.opts.hardK]) {
      const rec = await attempt(ctx, setHardK(ctx.current, i, k), "hard_attention", i, k, 0);
      if (rec.accepted) {
        ctx.decisions.hard_attention[i] = true;
        ctx.decisions.hard_attention_k[i] = k;
        break;
      }
    }
  }
}

// Phase 2: accuracy-driven pruning, last layer to first. The 1.1 x Lmin gate on
// heads and groups is the paper's, in its single strict pass; budget mode and the
// extra passes (ours) try them whenever the whole block was rejected, since a
// harmful head inside a useful block is exactly what the gate hides.
async function pruningPhase(ctx: Ctx) {
  const gated = (pass: number) => ctx.strict && pass === 1;
  const fineGrained = (rec: CandidateRecord) => !rec.accepted && (!gated(rec.pass) || rec.loss < GATE * rec.lmin);
  const d = ctx.decisions;
  for (let pass = 1; pass <= ctx.opts.passes; pass++) {
    const before = ctx.candidates.filter((c) => c.accepted).length;
    if (pass > 1) for (let i = 0; i < ctx.L; i++) plan(ctx, i, 2);
    for (let i = ctx.L - 1; i >= 0; i--) {
      await ctx.ev.setBase(ctx.current, i);
      if (ctx.current.layers[i].hasFfn) {
        const rec = await attempt(ctx, removeFfnBlock(ctx.current, i), "ffn_block", i, null, pass, gated(pass));
        if (rec.accepted) d.ffn_block_removed[i] = true;
        else if (fineGrained(rec)) {
          const groups = [];
          for (let g = 0; g < FFN_GROUPS; g++) if (!d.ffn_groups_removed[i].includes(g) && ffnGroupRemaining(ctx.current, i, g).length > 0) groups.push(g);
          plan(ctx, i, groups.length);
          for (const g of groups) {
            const r = await attempt(ctx, removeFfnGroup(ctx.current, i, g), "ffn_group", i, g, pass);
            if (r.accepted) d.ffn_groups_removed[i].push(g);
          }
        }
      }
      if (ctx.current.layers[i].hasAttention) {
        const rec = await attempt(ctx, removeAttentionBlock(ctx.current, i), "attention_block", i, null, pass, gated(pass));
        if (rec.accepted) d.attention_block_removed[i] = true;
        else if (fineGrained(rec)) {
          const heads = [];
          for (let h = 0; h < ctx.current.config.numHeads; h++) if (!d.heads_removed[i].includes(h) && ctx.current.layers[i].heads.includes(h)) heads.push(h);
          plan(ctx, i, heads.length);
          for (const h of heads) {
            const r = await attempt(ctx, removeHead(ctx.current, i, h), "head", i, h, pass);
            if (r.accepted) d.heads_removed[i].push(h);
          }
        }
      }
    }
    // Pass 2 differs from pass 1 (no gate), so it always runs; later ones only
    // while the previous pass still found something.
    if (pass > 1 && ctx.candidates.filter((c) => c.accepted).length === before) break;
  }
}

// Phase 3 (ours): int8 weights, first layer to last, on what pruning left.
async function int8Phase(ctx: Ctx) {
  for (let i = 0; i < ctx.L; i++) plan(ctx, i, 1);
  for (let i = 0; i < ctx.L; i++) {
    await ctx.ev.setBase(ctx.current, i);
    if (!ctx.current.layers[i].hasAttention && !ctx.current.layers[i].hasFfn) continue;
    const rec = await attempt(ctx, setLayerStorage(ctx.current, i, "int8"), "int8", i, null, 0);
    if (rec.accepted) ctx.decisions.int8_layers[i] = true;
  }
}

function emptyDecisions(L: number): Decisions {
  return {
    hard_attention: new Array(L).fill(false),
    hard_attention_k: new Array(L).fill(0),
    attention_block_removed: new Array(L).fill(false),
    ffn_block_removed: new Array(L).fill(false),
    heads_removed: Array.from({ length: L }, () => []),
    ffn_groups_removed: Array.from({ length: L }, () => []),
    int8_layers: new Array(L).fill(false),
  };
}

// `targets`: a class index per row, a regression target per row, or (multi-label)
// numLabels 0/1 values per row.
export async function search(model: Model, targets: ArrayLike<number>, ev: Evaluator, opts: SearchOptions): Promise<SearchResult> {
  const L = model.config.numLayers;
  const kind: TaskKind = opts.regression ? "regression" : opts.multiLabel ? "multi" : "single";
  const C = opts.numLabels;
  const precision = opts.lossPrecision ?? "f32";
  const task = opts.task;
  const n = task ? task.n : targets.length / (kind === "multi" ? C : 1);
  const scoring: Scoring = {
    task, n, C, kind, precision, metric: opts.metric as MetricName, targets, l0: new Float64Array(0),
    rowTokens: opts.rowTokens ?? null, chunks: CHUNKS,
    worseCount: new Int32Array(n), runCount: new Int32Array(n),
    part: ev.partOf ? Int32Array.from({ length: n }, (_, r) => ev.partOf!(task ? task.units(r)[0] : r)) : null,
  };
  const h = opts.replay?.length ? opts.replayHistory : undefined;
  if (h) {
    if (h.worse?.length !== n || h.run?.length !== n) throw new Error(`the checkpoint's row history is not of ${n} rows`);
    scoring.worseCount.set(h.worse);
    scoring.runCount.set(h.run);
  }

  await ev.setBase(model, 0);
  const first = task ? await scoreAll(ev, model, 0, scoring) : scoreRows(await ev.candidate(model, 0), C, targets, kind, precision);
  scoring.l0 = first.losses;
  const base = { loss: mean(first.losses), metric: 100 * (task ? task.metric(first.predictions) : metric(opts.metric as MetricName, first.predictions, targets, C)) };
  const ctx: Ctx = {
    ev, opts, L, n, N: Math.floor(n / 2), strict: opts.maxDrop === null,
    scoring,
    base, current: model, cur: first, lmin: base.loss, currentMetric: base.metric,
    decisions: emptyDecisions(L), candidates: [],
    acceptedLosses: [{ step: "original", layer: -1, loss: base.loss, metric: base.metric }],
    counters: { evaluations: 1, rowEvaluations: n, rowEvaluationsFull: n, layerEvaluationsSaved: 0 },
    replayed: 0, work: { done: L, total: 0 },
  };
  plan(ctx, 0, 1);
  for (let i = 0; i < L; i++) plan(ctx, i, opts.hardKChoices ? opts.hardKChoices.length : 1);
  for (let i = 0; i < L; i++) plan(ctx, i, 2);

  await hardAttentionPhase(ctx);
  await pruningPhase(ctx);
  if (opts.int8Layers) await int8Phase(ctx);

  for (const d of [...ctx.decisions.heads_removed, ...ctx.decisions.ffn_groups_removed]) d.sort((a, b) => a - b);
  return {
    model: ctx.current, decisions: ctx.decisions, candidates: ctx.candidates,
    originalLoss: base.loss, originalMetric: base.metric,
    finalLoss: ctx.lmin, finalMetric: ctx.currentMetric,
    acceptedLosses: ctx.acceptedLosses, evaluations: ctx.counters.evaluations,
    counters: ctx.counters, replayed: ctx.replayed,
  };
}
