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
import type { MetricName } from "./datasets.ts";
import type { Evaluator } from "./evaluator.ts";
import { mean, metric, scoreRows } from "./metrics.ts";
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
  loss: number;          // mean val loss L
  lmin: number;          // Lmin it had to beat
  rows_no_worse: number; // rows with l[i] <= l0[i]
  rows_needed: number;   // strict test: more than this many
  metric: number;        // the task metric, in points (x100)
  accepted: boolean;
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
  metric: MetricName;
  regression: boolean;
  numLabels: number;
  onCandidate?: (c: CandidateRecord, work: { done: number; total: number }) => void;
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

export async function search(model: Model, labels: ArrayLike<number>, ev: Evaluator, opts: SearchOptions): Promise<SearchResult> {
  const L = model.config.numLayers;
  const n = labels.length;
  const C = opts.numLabels;
  const N = Math.floor(n / 2);
  const strict = opts.maxDrop === null;
  const score = (logits: Float32Array) => {
    const s = scoreRows(logits, C, labels, opts.regression);
    return { losses: s.losses, loss: mean(s.losses), metric: 100 * metric(opts.metric, s.predictions, labels) };
  };

  // Progress in units of layers run per row: a candidate at layer i runs L - i layers.
  const work = { done: 0, total: 0 };
  const plan = (layer: number, count: number) => { work.total += count * (L - layer); };
  plan(0, 1);
  if (opts.hardKChoices) for (let i = 0; i < L; i++) plan(i, opts.hardKChoices.length);
  else for (let i = 0; i < L; i++) plan(i, 1);
  for (let i = 0; i < L; i++) plan(i, 2);

  await ev.setBase(model, 0);
  const base = score(await ev.candidate(model, 0));
  work.done += L;
  const l0 = base.losses;
  let lmin = base.loss;
  let current = model;
  let currentMetric = base.metric;
  let evaluations = 1;

  const decisions: Decisions = {
    hard_attention: new Array(L).fill(false),
    hard_attention_k: new Array(L).fill(0),
    attention_block_removed: new Array(L).fill(false),
    ffn_block_removed: new Array(L).fill(false),
    heads_removed: Array.from({ length: L }, () => []),
    ffn_groups_removed: Array.from({ length: L }, () => []),
    int8_layers: new Array(L).fill(false),
  };
  const candidates: CandidateRecord[] = [];
  const acceptedLosses: SearchResult["acceptedLosses"] = [{ step: "original", layer: -1, loss: base.loss, metric: base.metric }];

  const attempt = async (cand: Model, kind: StepKind, layer: number, index: number | null, pass: number) => {
    const r = score(await ev.candidate(cand, layer));
    evaluations++;
    work.done += L - layer;
    const noWorse = rowsNoWorse(r.losses, l0);
    const accepted = strict ? strictAccept(r.loss, lmin, noWorse, n) : budgetAccept(r.metric, base.metric, opts.maxDrop!);
    const step = index === null || kind === "hard_attention" ? kind : `${kind}:${index}`;
    const rec: CandidateRecord = {
      step, kind, layer, index, pass, loss: r.loss, lmin, rows_no_worse: noWorse, rows_needed: N, metric: r.metric, accepted,
    };
    candidates.push(rec);
    if (accepted) {
      current = cand;
      lmin = r.loss;
      currentMetric = r.metric;
      acceptedLosses.push({ step, layer, loss: r.loss, metric: r.metric });
    }
    opts.onCandidate?.(rec, work);
    return rec;
  };

  // Phase 1: selective hard attention, first layer to last.
  for (let i = 0; i < L; i++) {
    await ev.setBase(current, i);
    if (!current.layers[i].hasAttention) continue;
    for (const k of opts.hardKChoices ?? [opts.hardK]) {
      const rec = await attempt(setHardK(current, i, k), "hard_attention", i, k, 0);
      if (rec.accepted) {
        decisions.hard_attention[i] = true;
        decisions.hard_attention_k[i] = k;
        break;
      }
    }
  }

  // Phase 2: accuracy-driven pruning, last layer to first. The 1.1 x Lmin gate on
  // heads and groups is the paper's, in its single strict pass; budget mode and the
  // extra passes (ours) try them whenever the whole block was rejected, since a
  // harmful head inside a useful block is exactly what the gate hides.
  const fineGrained = (rec: CandidateRecord) => !rec.accepted && (!strict || rec.pass > 1 || rec.loss < GATE * lmin);
  for (let pass = 1; pass <= opts.passes; pass++) {
    const before = candidates.filter((c) => c.accepted).length;
    if (pass > 1) for (let i = 0; i < L; i++) plan(i, 2);
    for (let i = L - 1; i >= 0; i--) {
      await ev.setBase(current, i);
      if (current.layers[i].hasFfn) {
        const rec = await attempt(removeFfnBlock(current, i), "ffn_block", i, null, pass);
        if (rec.accepted) decisions.ffn_block_removed[i] = true;
        else if (fineGrained(rec)) {
          const groups = [];
          for (let g = 0; g < FFN_GROUPS; g++) if (!decisions.ffn_groups_removed[i].includes(g) && ffnGroupRemaining(current, i, g).length > 0) groups.push(g);
          plan(i, groups.length);
          for (const g of groups) {
            const r = await attempt(removeFfnGroup(current, i, g), "ffn_group", i, g, pass);
            if (r.accepted) decisions.ffn_groups_removed[i].push(g);
          }
        }
      }
      if (current.layers[i].hasAttention) {
        const rec = await attempt(removeAttentionBlock(current, i), "attention_block", i, null, pass);
        if (rec.accepted) decisions.attention_block_removed[i] = true;
        else if (fineGrained(rec)) {
          const heads = [];
          for (let h = 0; h < current.config.numHeads; h++) if (!decisions.heads_removed[i].includes(h) && current.layers[i].heads.includes(h)) heads.push(h);
          plan(i, heads.length);
          for (const h of heads) {
            const r = await attempt(removeHead(current, i, h), "head", i, h, pass);
            if (r.accepted) decisions.heads_removed[i].push(h);
          }
        }
      }
    }
    // Pass 2 differs from pass 1 (no gate), so it always runs; later ones only
    // while the previous pass still found something.
    if (pass > 1 && candidates.filter((c) => c.accepted).length === before) break;
  }

  // Phase 3 (ours): int8 weights, first layer to last, on what pruning left.
  if (opts.int8Layers) {
    for (let i = 0; i < L; i++) plan(i, 1);
    for (let i = 0; i < L; i++) {
      await ev.setBase(current, i);
      if (!current.layers[i].hasAttention && !current.layers[i].hasFfn) continue;
      const rec = await attempt(setLayerStorage(current, i, "int8"), "int8", i, null, 0);
      if (rec.accepted) decisions.int8_layers[i] = true;
    }
  }

  for (const d of [...decisions.heads_removed, ...decisions.ffn_groups_removed]) d.sort((a, b) => a - b);
  return {
    model: current, decisions, candidates,
    originalLoss: base.loss, originalMetric: base.metric,
    finalLoss: lmin, finalMetric: currentMetric,
    acceptedLosses, evaluations,
  };
}
