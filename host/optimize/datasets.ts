// Labelled text rows for the search and for `axformer eval`: GLUE TSV (with or
// without a header row), CSV with quoted fields, and JSONL, read through a task
// preset (sst2, cola, ...) or through named columns.
//
// Every error names the file and the 1-based line, because a 7,000-row val file
// with one broken row is otherwise a needle in a haystack.

import { readFileSync } from "node:fs";
import type { ProblemType } from "../model/model.ts";

export interface Row {
  text: string;
  pair: string | null; // second sentence of a pair task
  label: number;       // class index into the model's labels, or the target for regression (multi-label: -1)
  labels?: number[];   // multi-label rows: the indices of the row's labels, ascending
  line: number;        // 1-based line where the row starts in its file
}

export type MetricName = "accuracy" | "mcc" | "f1" | "pearson" | "spearman" | "f1_micro" | "f1_macro";

export interface TaskPreset {
  name: string;
  // Accepted header names of each column, first match wins.
  text: string[];
  pair: string[] | null;
  label: string[];
  // Column indices of the GLUE file when it has no header row (CoLA, RTE/WNLI val, STS-B train/val).
  positional: { text: number; pair: number | null; label: number } | null;
  // GLUE's label list in id order, used when the model's own labels are generic (LABEL_0, ...).
  labels: string[] | null;
  regression: boolean;
  multiLabel?: boolean; // the label field lists any number of the model's labels
  metric: MetricName;
}

const PAIR_ENTAILMENT = ["entailment", "not_entailment"];

export const TASKS: Record<string, TaskPreset> = {
  sst2: { name: "sst2", text: ["sentence"], pair: null, label: ["label"],
    positional: { text: 0, pair: null, label: 1 }, labels: ["0", "1"], regression: false, metric: "accuracy" },
  cola: { name: "cola", text: ["sentence"], pair: null, label: ["label"],
    positional: { text: 3, pair: null, label: 1 }, labels: ["0", "1"], regression: false, metric: "mcc" },
  rte: { name: "rte", text: ["sentence1"], pair: ["sentence2"], label: ["label"],
    positional: { text: 1, pair: 2, label: 3 }, labels: PAIR_ENTAILMENT, regression: false, metric: "accuracy" },
  wnli: { name: "wnli", text: ["sentence1"], pair: ["sentence2"], label: ["label"],
    positional: { text: 1, pair: 2, label: 3 }, labels: ["0", "1"], regression: false, metric: "accuracy" },
  qnli: { name: "qnli", text: ["question"], pair: ["sentence"], label: ["label"],
    positional: { text: 1, pair: 2, label: 3 }, labels: PAIR_ENTAILMENT, regression: false, metric: "accuracy" },
  mrpc: { name: "mrpc", text: ["#1 String", "sentence1"], pair: ["#2 String", "sentence2"], label: ["Quality", "label"],
    positional: { text: 3, pair: 4, label: 0 }, labels: ["0", "1"], regression: false, metric: "f1" },
  stsb: { name: "stsb", text: ["sentence1"], pair: ["sentence2"], label: ["score", "label"],
    positional: { text: 7, pair: 8, label: 9 }, labels: null, regression: true, metric: "pearson" },
};

export interface DatasetOptions {
  task?: string;                 // a preset name, or "generic" / undefined with textCol
  textCol?: string;              // a header name, or a 0-based column index for files without a header
  pairCol?: string;
  labelCol?: string;
  format?: "tsv" | "csv" | "jsonl"; // default: from the file extension
  labels: string[];              // the model's labels in id order
  problemType: ProblemType;
}

export interface Dataset {
  file: string;
  task: TaskPreset;
  rows: Row[];
}

// A parsed record of a TSV or CSV file, before columns are picked.
interface Record_ {
  fields: string[];
  line: number;
}

export function resolveTask(opts: Pick<DatasetOptions, "task" | "textCol" | "pairCol" | "labelCol" | "problemType">): TaskPreset {
  const name = (opts.task ?? "generic").toLowerCase().replace(/[-_]/g, "");
  let task: TaskPreset;
  if (name === "generic" || name === "") {
    if (!opts.textCol) throw new Error("a generic task needs --text-col (and --label-col, default 'label')");
    const regression = opts.problemType === "regression";
    task = { name: "generic", text: [], pair: null, label: ["label"], positional: null, labels: null,
      regression, metric: regression ? "pearson" : "accuracy" };
  } else {
    const preset = TASKS[name];
    if (!preset) throw new Error(`unknown task '${opts.task}' (known: ${Object.keys(TASKS).join(", ")}, generic)`);
    task = { ...preset };
  }
  // Explicit columns override the preset's, so a preset can read a differently named file.
  if (opts.textCol) { task.text = [opts.textCol]; task.positional = null; }
  if (opts.pairCol) { task.pair = [opts.pairCol]; task.positional = null; }
  if (opts.labelCol) { task.label = [opts.labelCol]; task.positional = null; }
  if (task.regression && opts.problemType !== "regression")
    throw new Error(`task ${task.name} is a regression task but the model is ${opts.problemType}`);
  if (!task.regression && opts.problemType === "regression")
    throw new Error(`the model is a regression model but task ${task.name} is a classification task`);
  if (opts.problemType === "multi_label_classification") {
    if (task.name !== "generic")
      throw new Error(`task ${task.name} is single-label but the model is multi_label_classification: use --task generic with --text-col/--label-col`);
    task.multiLabel = true;
    task.metric = "f1_micro";
  }
  return task;
}

export function loadDataset(file: string, opts: DatasetOptions): Dataset {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read dataset ${file}: ${(e as Error).message}`);
  }
  return parseDataset(text, file, opts);
}

export function parseDataset(text: string, file: string, opts: DatasetOptions): Dataset {
  const task = resolveTask(opts);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // MRPC's files start with a BOM
  const format = opts.format ?? formatOf(file);
  const rows = format === "jsonl"
    ? rowsFromJsonl(text, file, task, opts.labels)
    : rowsFromRecords(format === "csv" ? parseCsv(text, file) : parseTsv(text), file, task, opts.labels);
  if (rows.length === 0) throw new Error(`${file}: no data rows`);
  return { file, task, rows };
}

function formatOf(file: string): "tsv" | "csv" | "jsonl" {
  const lower = file.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson") || lower.endsWith(".json")) return "jsonl";
  return "tsv";
}

// GLUE TSV: one record per line, split on tabs, no quoting (GLUE's own reader uses
// quotechar=None, and MRPC sentences start with a bare `"`). Blank lines are skipped.
export function parseTsv(text: string): Record_[] {
  const out: Record_[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    out.push({ fields: line.split("\t"), line: i + 1 });
  }
  return out;
}

// RFC 4180 CSV: comma separated, fields optionally in double quotes, `""` inside
// quotes is a quote, newlines may appear inside quotes. A record's line is the line
// it starts on.
export function parseCsv(text: string, file: string): Record_[] {
  const out: Record_[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;       // current physical line
  let start = 1;      // line where the current record started
  let i = 0;
  let atFieldStart = true;
  let empty = true;   // the record so far is a blank line
  const endRecord = () => {
    fields.push(field);
    if (!(empty && fields.length === 1 && field === "")) out.push({ fields, line: start });
    fields = [];
    field = "";
    atFieldStart = true;
    empty = true;
  };
  while (i < text.length) {
    const c = text[i];
    if (atFieldStart && c === '"') {
      const quoteLine = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`${file}:${quoteLine}: unterminated quoted field`);
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      empty = false;
      atFieldStart = false;
      const next = text[i];
      if (next !== undefined && next !== "," && next !== "\n" && !(next === "\r" && text[i + 1] === "\n"))
        throw new Error(`${file}:${line}: unexpected character after a closing quote`);
      continue;
    }
    if (c === ",") { fields.push(field); field = ""; atFieldStart = true; empty = false; i++; continue; }
    if (c === "\r" && text[i + 1] === "\n") { i++; continue; }
    if (c === "\n") { endRecord(); line++; start = line; i++; continue; }
    if (c === '"') throw new Error(`${file}:${line}: quote inside an unquoted field`);
    field += c;
    atFieldStart = false;
    empty = false;
    i++;
  }
  if (!atFieldStart || fields.length > 0 || field !== "") endRecord();
  return out;
}

interface Columns { text: number; pair: number | null; label: number }

// Finds the columns of a TSV/CSV file: by name from its header row, or by position
// when the file has none (GLUE's headerless files, or numeric --text-col).
function pickColumns(first: Record_ | undefined, file: string, task: TaskPreset): { cols: Columns; header: boolean } {
  const names = first ? first.fields.map((f) => f.trim()) : [];
  const find = (aliases: string[]) => {
    for (const a of aliases) {
      const j = names.indexOf(a);
      if (j >= 0) return j;
    }
    return -1;
  };
  // Numeric columns mean a file without a header, even if a field happens to read "1".
  const index = (spec: string[] | null) => (spec && /^\d+$/.test(spec[0]) ? Number(spec[0]) : null);
  const t = index(task.text), l = index(task.label), p = index(task.pair);
  if (t !== null && l !== null && (task.pair === null || p !== null)) return { cols: { text: t, pair: p, label: l }, header: false };
  const textAt = find(task.text);
  if (textAt >= 0) {
    const labelAt = find(task.label);
    if (labelAt < 0)
      throw new Error(`${file}:${first!.line}: the header has no label column (${task.label.map((n) => `'${n}'`).join(" or ")}); columns: ${names.join(", ")}`);
    let pairAt: number | null = null;
    if (task.pair) {
      pairAt = find(task.pair);
      if (pairAt < 0)
        throw new Error(`${file}:${first!.line}: the header has no second-sentence column (${task.pair.map((n) => `'${n}'`).join(" or ")}); columns: ${names.join(", ")}`);
    }
    return { cols: { text: textAt, pair: pairAt, label: labelAt }, header: true };
  }
  if (task.positional) return { cols: task.positional, header: false };
  throw new Error(`${file}:${first ? first.line : 1}: no column named ${task.text.map((n) => `'${n}'`).join(" or ")} in the header (columns: ${names.join(", ")})`);
}

function rowsFromRecords(records: Record_[], file: string, task: TaskPreset, labels: string[]): Row[] {
  const { cols, header } = pickColumns(records[0], file, task);
  const need = Math.max(cols.text, cols.label, cols.pair ?? 0) + 1;
  const rows: Row[] = [];
  for (let r = header ? 1 : 0; r < records.length; r++) {
    const { fields, line } = records[r];
    if (fields.length < need)
      throw new Error(`${file}:${line}: expected at least ${need} fields, found ${fields.length}`);
    rows.push({
      text: fields[cols.text],
      pair: cols.pair === null ? null : fields[cols.pair],
      ...labelOf(fields[cols.label], file, line, task, labels),
      line,
    });
  }
  return rows;
}

// A multi-label row lists its labels separated by commas (names or indices; empty: none).
function labelOf(raw: string | string[], file: string, line: number, task: TaskPreset, labels: string[]): Pick<Row, "label" | "labels"> {
  if (!task.multiLabel) return { label: parseLabel(String(raw), file, line, task, labels) };
  const items = Array.isArray(raw) ? raw : raw.trim() === "" ? [] : raw.split(",");
  const set = new Set(items.map((x) => parseLabel(String(x), file, line, task, labels)));
  return { label: -1, labels: [...set].sort((a, b) => a - b) };
}

function rowsFromJsonl(text: string, file: string, task: TaskPreset, labels: string[]): Row[] {
  const rows: Row[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const src = lines[i].trim();
    if (src === "") continue;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(src);
    } catch (e) {
      throw new Error(`${file}:${line}: invalid JSON: ${(e as Error).message}`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj))
      throw new Error(`${file}:${line}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    const get = (aliases: string[], what: string): unknown => {
      for (const a of aliases) if (a in o) return o[a];
      throw new Error(`${file}:${line}: no ${what} field (${aliases.map((n) => `'${n}'`).join(" or ")})`);
    };
    const str = (v: unknown, what: string): string => {
      if (typeof v !== "string") throw new Error(`${file}:${line}: field ${what} is not a string`);
      return v;
    };
    const label = get(task.label, "label");
    const list = task.multiLabel && Array.isArray(label) && label.every((x) => typeof x === "string" || typeof x === "number");
    if (typeof label !== "string" && typeof label !== "number" && !list)
      throw new Error(`${file}:${line}: the label is neither a string nor a number${task.multiLabel ? " nor a list of them" : ""}`);
    rows.push({
      text: str(get(task.text, "text"), task.text[0]),
      pair: task.pair ? str(get(task.pair, "second-sentence"), task.pair[0]) : null,
      ...labelOf(list ? (label as unknown[]).map(String) : String(label), file, line, task, labels),
      line,
    });
  }
  return rows;
}

const GENERIC_LABEL = /^LABEL_\d+$/;

// A label is looked up, in order: among the model's label names; in the task's GLUE
// label list when the model's labels are generic (LABEL_0, ...); as a class index.
export function parseLabel(raw: string, file: string, line: number, task: TaskPreset, labels: string[]): number {
  const s = raw.trim();
  if (task.regression) {
    const v = s === "" ? NaN : Number(s);
    if (!Number.isFinite(v)) throw new Error(`${file}:${line}: regression target '${raw}' is not a number`);
    return v;
  }
  const byName = labels.indexOf(s);
  if (byName >= 0) return byName;
  if (task.labels && labels.every((l) => GENERIC_LABEL.test(l)) && labels.length === task.labels.length) {
    const j = task.labels.indexOf(s);
    if (j >= 0) return j;
  }
  if (/^\d+$/.test(s)) {
    const v = Number(s);
    if (v < labels.length) return v;
  }
  throw new Error(`${file}:${line}: label '${raw}' is not one of the model's labels (${labels.join(", ")}) nor a class index below ${labels.length}`);
}
