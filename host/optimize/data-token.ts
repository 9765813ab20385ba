// Labelled sentences for token classification: JSONL (`{"tokens": [...], "tags": [...]}`,
// one sentence a line; `ner_tags` is read as `tags`, Hugging Face datasets' name) and CoNLL
// columns (one token a line, the token first and its tag last, any columns between; a blank
// line between sentences; `-DOCSTART-` lines skipped). Tags are the model's label names
// (id2label) or class indices. One pass over the text; every error names the file, the
// 1-based line and the field.

import { readFileSync } from "node:fs";

export interface TaggedSentence {
  tokens: string[]; // words, as the data splits them
  tags: number[];   // [tokens.length] class indices into the model's labels
  line: number;     // 1-based line where the sentence starts
}

export function loadTaggedSentences(file: string, labels: readonly string[], format?: "jsonl" | "conll"): TaggedSentence[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read dataset ${file}: ${(e as Error).message}`);
  }
  const fmt = format ?? (/\.(jsonl|ndjson|json)$/i.test(file) ? "jsonl" : "conll");
  const rows = fmt === "jsonl" ? parseTaggedJsonl(text, file, labels) : parseConll(text, file, labels);
  if (rows.length === 0) throw new Error(`${file}: no sentences`);
  return rows;
}

function tagIndex(raw: unknown, file: string, line: number, labels: readonly string[], where: string): number {
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 0 && raw < labels.length) return raw;
  if (typeof raw === "string") {
    const i = labels.indexOf(raw);
    if (i >= 0) return i;
  }
  throw new Error(`${file}:${line}: ${where}: tag ${JSON.stringify(raw)} is not one of the model's labels (${labels.join(", ")}) nor a class index below ${labels.length}`);
}

// [1-based line number, the line trimmed], one pass over the text.
function* lines(text: string): Generator<[number, string]> {
  let line = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    yield [++line, text.slice(start, end).trim()];
    start = end + 1;
  }
}

export function parseTaggedJsonl(text: string, file: string, labels: readonly string[]): TaggedSentence[] {
  const out: TaggedSentence[] = [];
  for (const [line, src] of lines(text)) {
    if (src === "") continue;
    let obj: unknown;
    try {
      obj = JSON.parse(src);
    } catch (e) {
      throw new Error(`${file}:${line}: invalid JSON: ${(e as Error).message}`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error(`${file}:${line}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    const tokens = o.tokens;
    const tags = "tags" in o ? o.tags : o.ner_tags;
    if (!Array.isArray(tokens)) throw new Error(`${file}:${line}: field tokens: expected an array of strings`);
    if (!Array.isArray(tags)) throw new Error(`${file}:${line}: field tags: expected an array (of label names or class indices)`);
    if (tokens.length !== tags.length) throw new Error(`${file}:${line}: ${tokens.length} tokens but ${tags.length} tags`);
    if (tokens.length === 0) throw new Error(`${file}:${line}: field tokens: empty sentence`);
    tokens.forEach((t, i) => { if (typeof t !== "string") throw new Error(`${file}:${line}: field tokens[${i}]: expected a string`); });
    out.push({ tokens: tokens as string[], tags: tags.map((t, i) => tagIndex(t, file, line, labels, `field tags[${i}]`)), line });
  }
  return out;
}

export function parseConll(text: string, file: string, labels: readonly string[]): TaggedSentence[] {
  const out: TaggedSentence[] = [];
  let cur: TaggedSentence | null = null;
  const flush = () => { if (cur && cur.tokens.length) out.push(cur); cur = null; };
  for (const [line, src] of lines(text)) {
    if (src === "") { flush(); continue; }
    const cols = src.split(/\s+/);
    if (cols[0] === "-DOCSTART-") { flush(); continue; }
    if (cols.length < 2) throw new Error(`${file}:${line}: expected a token and its tag separated by whitespace, found one column "${src}"`);
    cur ??= { tokens: [], tags: [], line };
    cur.tokens.push(cols[0]);
    cur.tags.push(tagIndex(cols[cols.length - 1], file, line, labels, "last column"));
  }
  flush();
  return out;
}
