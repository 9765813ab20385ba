// Scores one candidate of the search on the val rows, chunk by chunk, and stops as
// soon as the candidate provably cannot pass the test (exact early rejection), so a
// rejected candidate usually costs a fraction of the val set. It also never runs
// rows the candidate provably cannot change: under hard attention with K, a row of
// K or fewer tokens keeps every key, so its loss is the accepted model's, bit for
// bit (../shared/axformer-method.md, "Per-sample losses must be deterministic").
//
// The bounds are exact, so decisions are the same with and without them:
// - strict test: accepted needs more than N = floor(n/2) rows no worse than under the
//   original model, so once n - N rows are worse it fails; losses are never negative,
//   so once the partial sum reaches Lmin * n the mean cannot end below Lmin. When the
//   search still needs the candidate's loss (the 1.1 x Lmin gate of whole blocks),
//   only the loss bound may stop it, and only at 1.1 x Lmin * n.
// - budget mode: the best metric still reachable (every remaining row right) is
//   below the budget. Exact for accuracy, F1 and micro F1 (each grows when a row
//   turns right); other metrics are evaluated in full.

import type { Model } from "../model/model.ts";
import type { MetricName } from "./datasets.ts";
import type { Evaluator } from "./evaluator.ts";
import { mean, metric, scoreRow, targetWidth, type LossPrecision, type TaskKind } from "./metrics.ts";

export interface RowState {
  losses: Float64Array;      // [n]
  predictions: Float64Array; // [n * P]
}

// A task beyond classification (task-scoring.ts): loss rows need one or more evaluator
// rows ("units": a pair's two sentences), each unit gives a vector of its own width
// (token logits, start and end logits, an embedding), and the metric reads predictions of
// a fixed width per loss row.
export interface TaskScoring {
  n: number;                                // loss rows
  predWidth: number;                        // prediction floats per loss row
  units(r: number): ArrayLike<number>;      // evaluator rows of loss row r
  width(u: number): number;                 // output floats of evaluator row u
  // The loss of row r from its units' outputs (in units(r) order); writes predictions[r * predWidth ...].
  score(r: number, outs: Float32Array[], predictions: Float64Array): number;
  metric(predictions: Float64Array): number; // a fraction (x 100 for points)
}

export interface Scoring {
  task?: TaskScoring;         // set: a task of task-scoring.ts (C, kind and targets are unused)
  n: number;
  C: number;
  kind: TaskKind;
  precision: LossPrecision;
  metric: MetricName;
  targets: ArrayLike<number>; // [n * P]
  l0: Float64Array;           // the original model's per-row losses
  rowTokens: ArrayLike<number> | null; // tokens per row (for rows hard attention cannot change)
  chunks: number;             // evaluate in this many chunks when early rejection is on
  worseCount: Int32Array;     // [n] candidates so far that made each row worse (the evaluation order)
  runCount: Int32Array;       // [n] candidates so far that ran (or skipped) each row
  part?: Int32Array | null;   // [n] the worker thread each row runs in (evaluator.ts), to share chunks evenly
}

// What would make the candidate fail; null: evaluate every row.
export type Limit =
  | { strict: true; lossBound: number; countRows: boolean; N: number } // reject at sum >= lossBound * n, or (countRows) n - N rows worse
  | { strict: false; threshold: number };                               // reject when the best reachable metric is below

export interface Outcome {
  complete: boolean;        // false: stopped early, loss and metric unknown (NaN)
  state: RowState | null;   // every row's loss and prediction when complete
  loss: number;
  metric: number;           // points
  noWorse: number;          // over the rows evaluated (all rows when complete)
  rowsEvaluated: number;    // rows run through the model for this candidate
}

// Rows a hard-attention candidate with this K cannot change.
export function unchangedRows(s: Scoring, hardK: number | null): Uint8Array | null {
  // (for a task, rowTokens are the most tokens of any of the row's units)
  if (hardK === null || s.rowTokens === null) return null;
  const same = new Uint8Array(s.n);
  for (let i = 0; i < s.n; i++) same[i] = s.rowTokens[i] <= hardK ? 1 : 0;
  return same;
}

// The best metric (points) the remaining rows could still give, or null when the metric has no such bound.
class MetricBound {
  private wrong = 0; private tp = 0; private fp = 0; private fn = 0; private posLeft = 0;
  constructor(private s: Scoring) {
    const { kind, targets, metric: m } = s;
    if (m === "f1" || m === "f1_micro") for (let i = 0; i < targets.length; i++) if (targets[i] === 1) this.posLeft++;
    this.ok = (m === "accuracy" && kind === "single") || (m === "f1" && kind === "single") || (m === "f1_micro" && kind === "multi");
  }
  readonly ok: boolean;
  add(r: number, pred: Float64Array) {
    const { C, kind, targets } = this.s;
    const w = targetWidth(kind, C);
    for (let c = 0; c < w; c++) {
      const p = pred[r * w + c], g = targets[r * w + c];
      if (g === 1) this.posLeft--;
      if (p !== g) this.wrong++;
      if (p === 1 && g === 1) this.tp++;
      else if (p === 1) this.fp++;
      else if (g === 1) this.fn++;
    }
  }
  best(): number {
    if (this.s.metric === "accuracy") return 100 * ((this.s.n - this.wrong) / this.s.n);
    const tp = this.tp + this.posLeft;
    return 100 * (tp === 0 ? 0 : (2 * tp) / (2 * tp + this.fp + this.fn));
  }
}

// Rows, highest loss under the accepted model first (ties by row): a candidate moves
// most rows' losses only a little, so this order puts most of its loss sum first.
export function evaluationOrder(current: ArrayLike<number>): number[] {
  return Array.from({ length: current.length }, (_, r) => r).sort((a, b) => current[b] - current[a] || a - b);
}

// Which rows a hopeless candidate should run next so that a bound stops it soon. Two
// lists: by the accepted model's loss (fills the loss bound: a few wrong rows carry most
// of the sum) and by how often earlier candidates made a row worse (fills the rows-worse
// bound). The first chunk takes them in turn; each later chunk follows the list whose
// bound, extrapolated from the rows run so far, fires after fewer rows. On the committed
// models this comes within a few percent of the best order of each candidate's own (unknown)
// losses (README, "Search cost"). Only how soon a candidate stops depends on it.
// Each worker thread runs its own rows and a chunk waits for the slowest, so a chunk takes
// the next rows of the list per worker, always for the worker with the least work in the
// chunk so far (tokens x (tokens + 64), as evaluator.ts splits rows): with the rows in the
// lists' order alone, a chunk of 14 rows could give one worker twice the other's work.
class RowPicker {
  private lists: number[][];
  private byPart: number[][][]; // [list][part] the list's rows of that part, in order
  private at: number[][];       // [list][part] next place in byPart
  private cost: Float64Array;   // [n] a row's work
  private picked: Uint8Array;
  private chunk = 0;
  constructor(private s: Scoring, private current: Float64Array, skip: Uint8Array | null) {
    const { n, worseCount, runCount, rowTokens } = s;
    const rate = (r: number) => (worseCount[r] + 1) / (runCount[r] + 2);
    const rows = Array.from({ length: n }, (_, r) => r).filter((r) => !skip?.[r]);
    this.lists = [evaluationOrder(current).filter((r) => !skip?.[r]), rows.sort((a, b) => rate(b) - rate(a) || a - b)];
    const part = s.part ?? new Int32Array(n);
    let parts = 1;
    for (let r = 0; r < n; r++) parts = Math.max(parts, part[r] + 1);
    this.byPart = this.lists.map((l) => {
      const out = Array.from({ length: parts }, () => [] as number[]);
      for (const r of l) out[part[r]].push(r);
      return out;
    });
    this.at = this.lists.map(() => new Array(parts).fill(0));
    this.cost = Float64Array.from({ length: n }, (_, r) => rowTokens ? rowTokens[r] * (rowTokens[r] + 64) : 1);
    this.picked = new Uint8Array(n);
  }
  // m rows: from the lists in turn (one list, or both), each time for the worker whose share
  // of the chunk is the smallest and which has rows left.
  private from(lists: number[], m: number): number[] {
    const parts = this.byPart[0].length;
    const load = new Float64Array(parts), dry = new Uint8Array(parts);
    const out: number[] = [];
    for (let t = 0; out.length < m; ) {
      let p = -1;
      for (let q = 0; q < parts; q++) if (!dry[q] && (p < 0 || load[q] < load[p])) p = q;
      if (p < 0) break;
      let row = -1;
      for (let tries = 0; tries < lists.length && row < 0; tries++) {
        const i = lists[t++ % lists.length], l = this.byPart[i][p];
        while (this.at[i][p] < l.length && this.picked[l[this.at[i][p]]]) this.at[i][p]++;
        if (this.at[i][p] < l.length) row = l[this.at[i][p]++];
      }
      if (row < 0) { dry[p] = 1; continue; }
      this.picked[row] = 1;
      out.push(row);
      load[p] += this.cost[row];
    }
    return out;
  }
  // `st`: the candidate's partial sum and counts; `limit` a strict one that may count rows.
  next(m: number, st: { sum: number; worse: number; taken: number; losses: Float64Array }, limit: Limit): number[] {
    if (!limit.strict || !limit.countRows) return this.from([0], m);
    if (this.chunk++ === 0) return this.from([1, 0], m);
    const { n } = this.s, cur = this.current;
    // Loss bound: the rows still to run, in loss order, at the candidate's loss / the accepted
    // model's loss ratio so far, until the sum would reach the bound.
    let done = 0, mine = 0;
    for (let r = 0; r < n; r++) if (this.picked[r]) { done += cur[r]; mine += st.losses[r]; }
    const ratio = done > 0 ? mine / done : 1;
    let sum = st.sum, byLoss = 0;
    for (const r of this.lists[0]) {
      if (sum >= limit.lossBound * n) break;
      if (!this.picked[r]) { sum += ratio * cur[r]; byLoss++; }
    }
    if (sum < limit.lossBound * n) byLoss = Infinity;
    // Rows-worse bound: the rows still needed at the share of worse rows so far.
    const need = n - limit.N - st.worse, share = st.worse / Math.max(1, st.taken);
    const byCount = need > n - st.taken || share === 0 ? Infinity : need / share;
    return this.from([byCount < byLoss ? 1 : 0], m);
  }
}

export async function scoreCandidate(
  ev: Evaluator, cand: Model, layer: number, s: Scoring, current: RowState,
  limit: Limit | null, same: Uint8Array | null,
): Promise<Outcome> {
  const { n, C, kind, precision, targets, l0, task } = s;
  const w = task ? task.predWidth : targetWidth(kind, C);
  const losses = new Float64Array(n);
  const predictions = new Float64Array(n * w);
  let sum = 0, worse = 0, noWorse = 0, evaluated = 0;
  const bound = limit && !limit.strict && !task ? new MetricBound(s) : null;
  const take = (r: number) => {
    sum += losses[r];
    s.runCount[r]++;
    if (losses[r] <= l0[r]) noWorse++;
    else { worse++; s.worseCount[r]++; }
    bound?.add(r, predictions);
  };
  const hopeless = () => {
    if (limit === null) return false;
    if (limit.strict) return (limit.countRows && worse >= n - limit.N) || sum >= limit.lossBound * n * (1 + 1e-9);
    return bound !== null && bound.ok && bound.best() < limit.threshold;
  };

  // The order changes how soon a hopeless candidate stops, never the decision: the loss
  // is summed in row order at the end (mean(losses)) and the counts do not depend on it.
  let todo = 0;
  for (let r = 0; r < n; r++) {
    if (same && same[r]) {
      losses[r] = current.losses[r];
      for (let c = 0; c < w; c++) predictions[r * w + c] = current.predictions[r * w + c];
      take(r);
    } else todo++;
  }
  const picker = limit === null ? null : new RowPicker(s, current.losses, same);
  const k = limit === null ? 1 : Math.max(1, Math.min(s.chunks, todo));
  for (let j = 0; j < k && todo > 0; j++) {
    if (hopeless()) return { complete: false, state: null, loss: NaN, metric: NaN, noWorse, rowsEvaluated: evaluated };
    const m = Math.floor(((j + 1) * todo) / k) - Math.floor((j * todo) / k);
    const rows = picker === null
      ? Array.from({ length: n }, (_, r) => r).filter((r) => !same?.[r])
      : picker.next(m, { sum, worse, taken: noWorse + worse, losses }, limit!);
    if (task) await scoreTaskRows(ev, cand, layer, task, rows, losses, predictions);
    else {
      const logits = await ev.candidate(cand, layer, todo === n && limit === null ? undefined : rows);
      rows.forEach((r, t) => { losses[r] = scoreRow(logits, t * C, C, targets, r, kind, precision, predictions); });
    }
    rows.forEach(take);
    evaluated += rows.length;
  }
  return {
    complete: true, state: { losses, predictions }, loss: mean(losses),
    metric: 100 * (task ? task.metric(predictions) : metric(s.metric, predictions, targets, C)), noWorse, rowsEvaluated: evaluated,
  };
}

// Runs the units the listed loss rows need (each once, in first-use order) and scores the rows.
async function scoreTaskRows(
  ev: Evaluator, cand: Model, layer: number, task: TaskScoring, rows: number[], losses: Float64Array, predictions: Float64Array,
): Promise<void> {
  const at = new Map<number, number>(); // unit -> its place in the request
  const units: number[] = [];
  for (const r of rows) for (const u of Array.from(task.units(r))) if (!at.has(u)) { at.set(u, units.length); units.push(u); }
  const flat = await ev.candidate(cand, layer, units);
  const outs: Float32Array[] = [];
  let o = 0;
  for (const u of units) { const w = task.width(u); outs.push(flat.subarray(o, o + w)); o += w; }
  if (o !== flat.length) throw new Error(`internal: the evaluator returned ${flat.length} values for units of ${o}`);
  for (const r of rows) losses[r] = task.score(r, Array.from(task.units(r), (u) => outs[at.get(u)!]), predictions);
}

// Every row's loss and prediction (no early stop): the original model, or the accepted one after a resume.
export async function scoreAll(ev: Evaluator, model: Model, layer: number, s: Scoring): Promise<RowState> {
  const l0 = s.l0.length === s.n ? s.l0 : new Float64Array(s.n);
  const r = await scoreCandidate(ev, model, layer, { ...s, l0, worseCount: new Int32Array(s.n), runCount: new Int32Array(s.n) }, { losses: l0, predictions: new Float64Array(0) }, null, null);
  return r.state!;
}
