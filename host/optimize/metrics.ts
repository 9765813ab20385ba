// Per-row losses and the GLUE metrics. A row's loss depends on that row's logits
// only (the acceptance test counts rows whose loss did not grow). By default
// ("f32") the loss is the float32 value PyTorch computes from the float32 logits,
// as in the AxFormer reference (loss-f32.ts, docs/optimizer.md); "f64" computes the
// same formulas in float64, where every tiny change of a logit is visible.

import type { MetricName } from "./datasets.ts";
import { binaryCrossEntropyF32, crossEntropyF32, squaredErrorF32 } from "./loss-f32.ts";

export type LossPrecision = "f32" | "f64";
// single: one class index per row; regression: one target per row; multi: C 0/1 targets per row.
export type TaskKind = "single" | "regression" | "multi";

// Cross-entropy of one row in f64, z = logits[offset, offset + C): -((z[label] - max) -
// log(sum exp(z - max))), in the order of PyTorch's log_softmax (loss-f32.ts).
export function crossEntropy(logits: Float32Array, offset: number, C: number, label: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, logits[offset + c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(logits[offset + c] - m);
  return -((logits[offset + label] - m) - Math.log(s));
}

export function squaredError(pred: number, target: number): number {
  const d = pred - target;
  return d * d;
}

// Mean binary cross-entropy over the C labels of one row, in f64.
export function binaryCrossEntropy(logits: ArrayLike<number>, offset: number, C: number, targets: ArrayLike<number>, to: number): number {
  let s = 0;
  for (let c = 0; c < C; c++) {
    const x = logits[offset + c], t = targets[to + c];
    s += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return s / C;
}

export interface RowScores {
  losses: Float64Array;      // [n] per-row loss
  predictions: Float64Array; // [n * P] argmax class or regression output (P = 1); multi-label: 0/1 per label (P = C)
}

// What one row of targets occupies: C values for multi-label rows, else one.
export const targetWidth = (kind: TaskKind, C: number) => (kind === "multi" ? C : 1);

// The loss and prediction(s) of row r, whose logits start at logits[o]; targets of
// the row start at targets[r * width]. Writes predictions[r * width ...].
export function scoreRow(
  logits: ArrayLike<number>, o: number, C: number, targets: ArrayLike<number>, r: number,
  kind: TaskKind, precision: LossPrecision, predictions: Float64Array,
): number {
  const f32 = precision === "f32";
  if (kind === "regression") {
    predictions[r] = logits[o];
    return f32 ? squaredErrorF32(logits[o], targets[r]) : squaredError(logits[o], targets[r]);
  }
  if (kind === "multi") {
    // A label is predicted when its sigmoid exceeds 0.5, i.e. its logit is above 0.
    for (let c = 0; c < C; c++) predictions[r * C + c] = logits[o + c] > 0 ? 1 : 0;
    return f32 ? binaryCrossEntropyF32(logits, o, C, targets, r * C) : binaryCrossEntropy(logits, o, C, targets, r * C);
  }
  let best = 0;
  for (let c = 1; c < C; c++) if (logits[o + c] > logits[o + best]) best = c;
  predictions[r] = best;
  return f32 ? crossEntropyF32(logits, o, C, targets[r]) : crossEntropy(logits as Float32Array, o, C, targets[r]);
}

// logits: [n * C] row-major. Regression models have C = 1. `regression` may also
// name the task kind; the loss is f64 unless asked for f32.
export function scoreRows(
  logits: Float32Array, C: number, targets: ArrayLike<number>, regression: boolean | TaskKind, precision: LossPrecision = "f64",
): RowScores {
  const kind: TaskKind = regression === true ? "regression" : regression === false ? "single" : regression;
  const w = targetWidth(kind, C);
  const n = targets.length / w;
  if (logits.length !== n * C) throw new Error(`expected ${n * C} logits for ${n} rows, got ${logits.length}`);
  const losses = new Float64Array(n);
  const predictions = new Float64Array(n * w);
  for (let i = 0; i < n; i++) losses[i] = scoreRow(logits, i * C, C, targets, i, kind, precision, predictions);
  return { losses, predictions };
}

// Mean in row order, so the value does not depend on how rows were split across workers.
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

export function accuracy(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) ok++;
  return ok / gold.length;
}

// Matthews correlation, multi-class form (Gorodkin 2004, as sklearn computes it):
// (c * s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2) (s^2 - sum_k t_k^2)), 0 when undefined.
export function matthews(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  const t = new Map<number, number>(); // true count per class
  const p = new Map<number, number>(); // predicted count per class
  let c = 0;
  const s = gold.length;
  for (let i = 0; i < s; i++) {
    t.set(gold[i], (t.get(gold[i]) ?? 0) + 1);
    p.set(pred[i], (p.get(pred[i]) ?? 0) + 1);
    if (pred[i] === gold[i]) c++;
  }
  let pt = 0, pp = 0, tt = 0;
  for (const [k, v] of p) { pp += v * v; pt += v * (t.get(k) ?? 0); }
  for (const v of t.values()) tt += v * v;
  const den = Math.sqrt((s * s - pp) * (s * s - tt));
  return den === 0 ? 0 : (c * s - pt) / den;
}

// F1 of the positive class (class index 1 by GLUE convention), 0 when undefined.
export function f1(pred: ArrayLike<number>, gold: ArrayLike<number>, positive = 1): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < gold.length; i++) {
    if (pred[i] === positive && gold[i] === positive) tp++;
    else if (pred[i] === positive) fp++;
    else if (gold[i] === positive) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

// Multi-label F1 at threshold 0.5 over [n * C] 0/1 predictions and targets: micro
// pools the counts of every label; macro averages the per-label F1 (0 for a label
// with no positives predicted or true, as sklearn's zero_division=0).
export function multiLabelF1(pred: ArrayLike<number>, gold: ArrayLike<number>, C: number): { micro: number; macro: number } {
  let TP = 0, FP = 0, FN = 0, macro = 0;
  for (let c = 0; c < C; c++) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = c; i < gold.length; i += C) {
      if (pred[i] === 1 && gold[i] === 1) tp++;
      else if (pred[i] === 1) fp++;
      else if (gold[i] === 1) fn++;
    }
    TP += tp; FP += fp; FN += fn;
    macro += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return { micro: TP === 0 ? 0 : (2 * TP) / (2 * TP + FP + FN), macro: macro / C };
}

// NaN when either side is constant, as scipy returns.
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

// Ranks from 1, ties get the mean of the ranks they span.
export function ranks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const r = new Float64Array(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]] === x[order[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

export function metric(name: MetricName, pred: ArrayLike<number>, gold: ArrayLike<number>, C = 1): number {
  switch (name) {
    case "f1_micro": return multiLabelF1(pred, gold, C).micro;
    case "f1_macro": return multiLabelF1(pred, gold, C).macro;
    case "accuracy": return accuracy(pred, gold);
    case "mcc": return matthews(pred, gold);
    case "f1": return f1(pred, gold);
    case "pearson": return pearson(pred, gold);
    case "spearman": return spearman(pred, gold);
  }
}

// Every metric that makes sense for the task, the task's own first.
export function allMetrics(primary: MetricName, regression: boolean | TaskKind, pred: ArrayLike<number>, gold: ArrayLike<number>, C = 1): Record<string, number> {
  const kind: TaskKind = regression === true ? "regression" : regression === false ? "single" : regression;
  const names: MetricName[] = kind === "regression" ? ["pearson", "spearman"] : kind === "multi" ? ["f1_micro", "f1_macro"] : ["accuracy", "mcc", "f1"];
  const out: Record<string, number> = { [primary]: metric(primary, pred, gold, C) };
  for (const n of names) if (!(n in out)) out[n] = metric(n, pred, gold, C);
  return out;
}
