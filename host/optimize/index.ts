// The optimizer's library surface: `optimize` runs the AxFormer search on a model
// and labelled val rows; `evaluate` gives loss and metrics of a model on rows.
// Both evaluate on the shipped wasm runtime.

import { cpus } from "node:os";
import type { Model } from "../model/model.ts";
import { writeModel } from "../format/writer.ts";
import { loadEngine } from "../runtime/node.ts";
import type { MetricName, Row, TaskPreset } from "./datasets.ts";
import { createEvaluator, DEFAULT_CACHE_BYTES } from "./evaluator.ts";
import { readCheckpoint, searchFingerprint, writeCheckpoint } from "./checkpoint.ts";
import { allMetrics, mean, scoreRows, type LossPrecision, type TaskKind } from "./metrics.ts";
import { stderrProgress, type Progress } from "./progress.ts";
import { DRIFT_STRICT_REFUSAL } from "./task-drift.ts";
import type { driftTask, PreparedTask } from "./task-scoring.ts";
import { search, type CandidateRecord, type Decisions } from "./search.ts";
import type { RuntimeEngine, RuntimeModel, TokenizedRow } from "./shard.ts";

export interface OptimizeOptions {
  task: Pick<TaskPreset, "name" | "metric" | "regression" | "multiLabel">;
  maxLen?: number;                // truncation used by the search; default the model's
  maxDrop?: number | null;        // budget mode in metric points; null/undefined = strict test
  hardK?: number;                 // default 30
  hardKChoices?: number[] | null; // per-layer K from this set (ours; off by default)
  passes?: number;                // pruning passes (ours; 1 = the paper)
  int8Layers?: boolean;           // try int8 weights per layer after pruning (ours; off by default)
  workers?: number;               // default: the machine's cores
  cacheBytes?: number;            // budget for cached hidden states
  progress?: boolean | Progress;  // true: a bar on stderr
  measureSpeed?: boolean;         // default true
  lossPrecision?: LossPrecision;  // per-row losses as PyTorch's float32 ("f32", default) or in float64
  earlyReject?: boolean;          // default true: stop a candidate once it cannot pass (same decisions)
  checkpoint?: string;            // write the search's progress here after every candidate (atomically)
  resume?: boolean;               // continue from `checkpoint` if it exists and matches this search
}

export interface SpeedMeasure {
  seq_len: number;          // tokens of the timed input
  ms_before: number;        // median single-thread latency of one inference
  ms_after: number;
  val_row_ms_before: number; // mean latency over a sample of val rows
  val_row_ms_after: number;
}

export interface Summary {
  decisions: Decisions;
  original_val_loss: number;
  final_val_loss: number;
  metric_name: MetricName;
  original_val_metric: number; // points (x100)
  final_val_metric: number;
  mode: "strict" | "budget";
  max_drop: number | null;
  hard_k: number;
  hard_k_choices: number[] | null;
  passes: number;
  task: string;
  val_rows: number;
  rows_needed: number;         // the strict test wants MORE than this many rows no worse
  max_len: number;
  candidates: CandidateRecord[];
  accepted_steps: Array<{ step: string; layer: number; loss: number; metric: number }>;
  loss_precision: LossPrecision;
  early_reject: boolean;
  evaluations: number;         // candidate evaluations, the original model's included
  row_evaluations: number;     // val rows run through the model for them
  row_evaluations_without_early_reject: number; // evaluations x val rows
  layer_evaluations: number;   // rows x layers actually run (with the cached states)
  layer_evaluations_without_early_reject: number; // what evaluating every row of every candidate would have run
  layer_evaluations_without_reuse: number; // what full forwards of every row would have run
  resumed_candidates: number;  // candidates taken from the checkpoint (0: not resumed)
  workers: number;
  seconds: number;
  // Where the time went with worker threads (null: one thread): each worker's busy
  // seconds, and the main thread's seconds writing model files while they wait.
  thread_seconds: { workers: number[]; writing_models: number } | null;
  size_bytes: { before: number; after: number };
  parameters: { before: number; after: number };
  speed: SpeedMeasure | null;
  layers: Array<{ heads: number[]; ffn_width: number; has_attention: boolean; has_ffn: boolean; hard_k: number }>;
  num_heads: number;
  intermediate_size: number;
}

export interface EvaluateOptions {
  task: Pick<TaskPreset, "name" | "metric" | "regression" | "multiLabel">;
  maxLen?: number;
  workers?: number;
}

export interface EvaluateResult {
  rows: number;
  loss: number;
  metric_name: MetricName;
  metric: number; // points
  metrics: Record<string, number>; // fractions / correlations as computed
}

export function tokenizeRows(m: RuntimeModel, rows: Row[], maxLen?: number): TokenizedRow[] {
  return rows.map((r) => {
    const t = m.tokenize(r.text, r.pair ?? undefined, maxLen);
    return { ids: Int32Array.from(t.inputIds), typeIds: Int32Array.from(t.tokenTypeIds) };
  });
}

function defaultWorkers(rows: number): number {
  return Math.max(1, Math.min(cpus().length, Math.ceil(rows / 16)));
}

function parameterCount(model: Model): number {
  let n = 0;
  for (const t of model.tensors.values()) n += t.data.length;
  return n;
}

export function taskKind(task: Pick<TaskPreset, "regression" | "multiLabel">): TaskKind {
  return task.regression ? "regression" : task.multiLabel ? "multi" : "single";
}

// What the losses compare against: a class index or a target per row, or C 0/1 values per row.
export function rowTargets(rows: Row[], kind: TaskKind, C: number): Float64Array {
  if (kind !== "multi") return Float64Array.from(rows, (r) => r.label);
  const t = new Float64Array(rows.length * C);
  rows.forEach((r, i) => { for (const c of r.labels ?? []) t[i * C + c] = 1; });
  return t;
}

function checkRows(model: Model, rows: Row[], regression: boolean, maxLen: number | undefined) {
  if (rows.length === 0) throw new Error("no val rows");
  const most = model.config.tokenizer.maxLen;
  if (maxLen !== undefined && !(Number.isInteger(maxLen) && maxLen >= 2 && maxLen <= most))
    throw new Error(`--max-len must be an integer from 2 to the model's maximum ${most}, got ${maxLen}`);
  if (regression !== (model.config.problemType === "regression"))
    throw new Error(`the task is ${regression ? "regression" : "classification"} but the model is ${model.config.problemType}`);
  const C = model.config.numLabels;
  const multi = model.config.problemType === "multi_label_classification";
  if (!regression) for (const r of rows) {
    if (multi !== (r.labels !== undefined))
      throw new Error(`line ${r.line}: ${multi ? "the model is multi-label but the row has a single label" : "the row lists several labels but the model is single-label"}`);
    for (const l of r.labels ?? [r.label]) if (!Number.isInteger(l) || l < 0 || l >= C)
      throw new Error(`line ${r.line}: label index ${l} is out of range for ${C} labels`);
  }
}

export async function evaluate(model: Model, rows: Row[], opts: EvaluateOptions): Promise<EvaluateResult> {
  checkRows(model, rows, opts.task.regression, opts.maxLen);
  const engine = await loadEngine();
  const tokens = tokenizeRows(engine.loadModel(writeModel(model)), rows, opts.maxLen);
  const C = model.config.numLabels;
  const ev = await createEvaluator(tokens, {
    workers: opts.workers ?? defaultWorkers(rows.length), numLabels: C, hiddenSize: model.config.hiddenSize, cacheBytes: 0,
  }, engine);
  try {
    await ev.setBase(model, 0);
    const logits = await ev.candidate(model, 0);
    const kind = taskKind(opts.task);
    const labels = rowTargets(rows, kind, C);
    const s = scoreRows(logits, C, labels, kind);
    const metrics = allMetrics(opts.task.metric, kind, s.predictions, labels, C);
    return { rows: rows.length, loss: mean(s.losses), metric_name: opts.task.metric, metric: 100 * metrics[opts.task.metric], metrics };
  } finally {
    await ev.close();
  }
}

export async function optimize(model: Model, rows: Row[], opts: OptimizeOptions): Promise<{ model: Model; summary: Summary }> {
  checkRows(model, rows, opts.task.regression, opts.maxLen);
  return runOptimize(model, rows, null, opts);
}

// A task beyond sequence classification (task-scoring.ts): `prepare` tokenizes the data
// with the model's own tokenizer at the given maximum length. The drift task is refused
// in strict mode (task-drift.ts says why) and gets the original model's embeddings
// before the search.
export async function optimizeTask(
  model: Model, prepare: (m: RuntimeModel, maxLen: number) => PreparedTask, opts: Omit<OptimizeOptions, "task">,
): Promise<{ model: Model; summary: Summary }> {
  const most = model.config.tokenizer.maxLen;
  if (opts.maxLen !== undefined && !(Number.isInteger(opts.maxLen) && opts.maxLen >= 2 && opts.maxLen <= most))
    throw new Error(`--max-len must be an integer from 2 to the model's maximum ${most}, got ${opts.maxLen}`);
  return runOptimize(model, [], prepare, { ...opts, task: { name: "", metric: "accuracy", regression: false } });
}

async function runOptimize(
  model: Model, rows: Row[], prepare: ((m: RuntimeModel, maxLen: number) => PreparedTask) | null, opts: OptimizeOptions,
): Promise<{ model: Model; summary: Summary }> {
  const t0 = performance.now();
  const { config } = model;
  const maxLen = opts.maxLen ?? config.tokenizer.maxLen;
  const hardK = opts.hardK ?? 30;
  const passes = opts.passes ?? 1;
  const maxDrop = opts.maxDrop ?? null;
  const progress = opts.progress === true ? stderrProgress("optimize") : opts.progress || null;

  const engine = await loadEngine();
  const bytesBefore = writeModel(model);
  const lossPrecision = opts.lossPrecision ?? "f32";
  const prepared = prepare ? prepare(engine.loadModel(bytesBefore), maxLen) : null;
  if (prepared?.name === "embedding-drift" && maxDrop === null) throw new Error(DRIFT_STRICT_REFUSAL);
  const task = prepared ? { name: prepared.name, metric: prepared.metric as MetricName, regression: false } : opts.task;
  const tokens = prepared ? prepared.units : tokenizeRows(engine.loadModel(bytesBefore), rows, maxLen);
  const valRows = prepared ? prepared.scoring.n : rows.length;
  const workers = opts.workers ?? defaultWorkers(tokens.length);
  const earlyReject = opts.earlyReject ?? true;
  const kind = taskKind(task);
  const searchOpts = {
    maxDrop, hardK, hardKChoices: opts.hardKChoices ?? null, passes, int8Layers: opts.int8Layers ?? false,
    metric: task.metric, regression: task.regression, multiLabel: kind === "multi", numLabels: config.numLabels,
    lossPrecision, earlyReject,
  };
  // Resume: the candidates a previous run of this very search decided are replayed, not evaluated.
  const fingerprint = searchFingerprint(bytesBefore, tokens, rows, { ...searchOpts, maxLen, task: task.name, labels: prepared?.fingerprint ?? null });
  const saved = opts.checkpoint && opts.resume ? await readCheckpoint(opts.checkpoint, fingerprint) : null;
  const ev = await createEvaluator(tokens, {
    workers, numLabels: config.numLabels, hiddenSize: config.hiddenSize, cacheBytes: opts.cacheBytes ?? DEFAULT_CACHE_BYTES,
  }, engine);

  let result, usage: { workerMs: number[]; writeMs: number } | null = null;
  try {
    if (prepared && "setReference" in prepared) {
      await ev.setBase(model, 0);
      (prepared as ReturnType<typeof driftTask>).setReference(await ev.candidate(model, 0));
    }
    result = await search(model, prepared ? new Float64Array(0) : rowTargets(rows, kind, config.numLabels), ev, {
      ...searchOpts,
      task: prepared?.scoring,
      rowTokens: earlyReject ? (prepared ? prepared.rowTokens : Int32Array.from(tokens, (t) => t.ids.length)) : null,
      replay: saved?.candidates,
      replayHistory: saved?.history,
      onCandidate: progress
        ? (c, w) => progress.update(w.done, w.total, `layer ${c.layer} ${c.step} ${c.accepted ? "kept" : "no"}`)
        : undefined,
      onDecided: opts.checkpoint
        ? (p) => writeCheckpoint(opts.checkpoint!, { fingerprint, ...p, layerEvaluations: ev.layerEvaluations() }, saved)
        : undefined,
    });
  } finally {
    progress?.stop();
    usage = ev.usage?.() ?? null;
    await ev.close();
  }
  // A resumed run reports the work of both runs (the original evaluation and the
  // restored per-row state are counted again: they were run again).
  const c = result.counters;
  const before = saved?.counters ?? { evaluations: 0, rowEvaluations: 0, rowEvaluationsFull: 0, layerEvaluationsSaved: 0, layerEvaluations: 0 };
  const evaluations = c.evaluations + before.evaluations;
  const layerEvaluations = ev.layerEvaluations() + before.layerEvaluations;

  const out: Model = {
    ...result.model,
    meta: {
      ...model.meta,
      axformer_optimize: {
        mode: maxDrop === null ? "strict" : "budget", max_drop: maxDrop, task: task.name,
        decisions: result.decisions, original_val_loss: result.originalLoss, final_val_loss: result.finalLoss,
        val_rows: valRows,
      },
    },
  };
  const bytesAfter = writeModel(out);
  const speed = opts.measureSpeed === false ? null : measureSpeed(engine, bytesBefore, bytesAfter, tokens, config.tokenizer, maxLen);

  const summary: Summary = {
    decisions: result.decisions,
    original_val_loss: result.originalLoss,
    final_val_loss: result.finalLoss,
    metric_name: task.metric,
    original_val_metric: result.originalMetric,
    final_val_metric: result.finalMetric,
    mode: maxDrop === null ? "strict" : "budget",
    max_drop: maxDrop,
    hard_k: hardK,
    hard_k_choices: opts.hardKChoices ?? null,
    passes,
    task: task.name,
    val_rows: valRows,
    rows_needed: Math.floor(valRows / 2),
    max_len: maxLen,
    candidates: result.candidates,
    accepted_steps: result.acceptedLosses,
    loss_precision: lossPrecision,
    early_reject: earlyReject,
    evaluations,
    row_evaluations: c.rowEvaluations + before.rowEvaluations,
    row_evaluations_without_early_reject: c.rowEvaluationsFull + before.rowEvaluationsFull,
    layer_evaluations: layerEvaluations,
    layer_evaluations_without_early_reject: layerEvaluations + c.layerEvaluationsSaved + before.layerEvaluationsSaved,
    layer_evaluations_without_reuse: evaluations * tokens.length * config.numLayers,
    resumed_candidates: result.replayed,
    workers: Math.max(1, Math.min(workers, tokens.length)),
    seconds: (performance.now() - t0) / 1000,
    thread_seconds: usage && { workers: usage.workerMs.map((ms) => ms / 1000), writing_models: usage.writeMs / 1000 },
    size_bytes: { before: bytesBefore.length, after: bytesAfter.length },
    parameters: { before: parameterCount(model), after: parameterCount(out) },
    speed,
    layers: out.layers.map((l) => ({
      heads: l.heads, ffn_width: l.ffnNeurons.length, has_attention: l.hasAttention, has_ffn: l.hasFfn, hard_k: l.hardK,
    })),
    num_heads: config.numHeads,
    intermediate_size: config.intermediateSize,
  };
  return { model: out, summary };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Single-thread latency of the model before and after, on the engine that ships:
// one input of min(128, maxLen) tokens built from the val rows' own tokens, and the
// mean over a sample of val rows.
function measureSpeed(
  engine: RuntimeEngine, before: Uint8Array, after: Uint8Array, tokens: TokenizedRow[],
  tok: Model["config"]["tokenizer"], maxLen: number,
): SpeedMeasure {
  const S = Math.max(2, Math.min(128, maxLen));
  const pool: number[] = [];
  for (const t of tokens) for (let i = 1; i < t.ids.length - 1; i++) pool.push(t.ids[i]);
  if (pool.length === 0) pool.push(tok.unkId);
  const ids = new Int32Array(S);
  ids[0] = tok.clsId;
  for (let i = 1; i < S - 1; i++) ids[i] = pool[(i - 1) % pool.length];
  ids[S - 1] = tok.sepId;
  const typeIds = new Int32Array(S);
  const sample = tokens.slice(0, 64);

  const time = (bytes: Uint8Array) => {
    const loaded = engine.loadModel(bytes);
    // the whole forward pass; logits() is a sequence classifier's only, the other tasks run it in pieces
    const whole = (i: Int32Array, t: Int32Array) => loaded.runToHead(loaded.embedTokens(i, t), i.length, 0);
    const m = { logits: (loaded.task ?? "sequence-classification") === "sequence-classification" ? (i: Int32Array, t: Int32Array) => loaded.logits(i, t) : whole };
    for (let i = 0; i < 3; i++) m.logits(ids, typeIds);
    const runs: number[] = [];
    const stop = performance.now() + 1000;
    while (runs.length < 5 || (performance.now() < stop && runs.length < 200)) {
      const t = performance.now();
      m.logits(ids, typeIds);
      runs.push(performance.now() - t);
    }
    const t = performance.now();
    for (const r of sample) m.logits(r.ids, r.typeIds);
    return { seq: median(runs), row: (performance.now() - t) / sample.length };
  };
  const b = time(before), a = time(after);
  return { seq_len: S, ms_before: b.seq, ms_after: a.seq, val_row_ms_before: b.row, val_row_ms_after: a.row };
}
