// Per-row losses and the GLUE metrics. Losses are computed in f64 from the f32
// logits the runtime returns, one row at a time, so a row's loss depends on that
// row's logits only (the acceptance test counts rows whose loss did not grow).

import type { MetricName } from "./datasets.ts";

// Cross-entropy of one row: logsumexp(z) - z[label], z = logits[offset, offset + C).
export function crossEntropy(logits: Float32Array, offset: number, C: number, label: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, logits[offset + c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(logits[offset + c] - m);
  return m + Math.log(s) - logits[offset + label];
}

export function squaredError(pred: number, target: number): number {
  const d = pred - target;
  return d * d;
}

export interface RowScores {
  losses: Float64Array;     // [n] per-row loss
  predictions: Float64Array; // [n] argmax class, or the regression output
}

// logits: [n * C] row-major. Regression models have C = 1.
export function scoreRows(logits: Float32Array, C: number, labels: ArrayLike<number>, regression: boolean): RowScores {
  const n = labels.length;
  if (logits.length !== n * C) throw new Error(`expected ${n * C} logits for ${n} rows, got ${logits.length}`);
  const losses = new Float64Array(n);
  const predictions = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (regression) {
      predictions[i] = logits[i];
      losses[i] = squaredError(logits[i], labels[i]);
    } else {
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
      predictions[i] = best;
      losses[i] = crossEntropy(logits, i * C, C, labels[i]);
    }
  }
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

export function metric(name: MetricName, pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  switch (name) {
    case "accuracy": return accuracy(pred, gold);
    case "mcc": return matthews(pred, gold);
    case "f1": return f1(pred, gold);
    case "pearson": return pearson(pred, gold);
    case "spearman": return spearman(pred, gold);
  }
}

// Every metric that makes sense for the task, the task's own first.
export function allMetrics(primary: MetricName, regression: boolean, pred: ArrayLike<number>, gold: ArrayLike<number>): Record<string, number> {
  const names: MetricName[] = regression ? ["pearson", "spearman"] : ["accuracy", "mcc", "f1"];
  const out: Record<string, number> = { [primary]: metric(primary, pred, gold) };
  for (const n of names) if (!(n in out)) out[n] = metric(n, pred, gold);
  return out;
}
