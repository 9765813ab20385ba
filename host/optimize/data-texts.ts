// Texts without labels, for the embedding drift mode (task-drift.ts): a plain text file
// (one text a line, blank lines skipped), JSONL (a string field, `text` by default), or
// TSV / CSV (a column named by its header, `text` / `sentence` / `sentence1` by default;
// the sentence pairs of an STS-B file give both sentences).

import { readFileSync } from "node:fs";
import { parseCsv, parseTsv } from "./datasets.ts";

export function loadTexts(file: string, textCol?: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read dataset ${file}: ${(e as Error).message}`);
  }
  return parseTexts(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file, textCol);
}

export function parseTexts(text: string, file: string, textCol?: string): string[] {
  const lower = file.toLowerCase();
  let out: string[];
  if (/\.(jsonl|ndjson)$/.test(lower)) {
    const key = textCol ?? "text";
    out = [];
    text.split("\n").forEach((src, i) => {
      if (src.trim() === "") return;
      let o: unknown;
      try { o = JSON.parse(src); } catch (e) { throw new Error(`${file}:${i + 1}: invalid JSON: ${(e as Error).message}`); }
      const v = o !== null && typeof o === "object" ? (o as Record<string, unknown>)[key] : undefined;
      if (typeof v !== "string") throw new Error(`${file}:${i + 1}: field ${key}: expected a string`);
      out.push(v);
    });
  } else if (/\.(tsv|csv)$/.test(lower)) {
    const records = lower.endsWith(".csv") ? parseCsv(text, file) : parseTsv(text);
    if (records.length === 0) throw new Error(`${file}: no rows`);
    const header = records[0].fields.map((f) => f.trim());
    const names = textCol ? [textCol] : ["text", "sentence", "sentence1"];
    const cols = names.map((n) => header.indexOf(n)).filter((j) => j >= 0).slice(0, 1);
    if (cols.length === 0) throw new Error(`${file}:${records[0].line}: no column named ${names.map((n) => `'${n}'`).join(" or ")} in the header (columns: ${header.join(", ")})`);
    if (!textCol && header[cols[0]] === "sentence1" && header.includes("sentence2")) cols.push(header.indexOf("sentence2"));
    out = [];
    for (const r of records.slice(1)) {
      for (const j of cols) {
        if (j >= r.fields.length) throw new Error(`${file}:${r.line}: expected at least ${j + 1} fields, found ${r.fields.length}`);
        out.push(r.fields[j]);
      }
    }
  } else {
    out = text.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "");
  }
  if (out.length === 0) throw new Error(`${file}: no texts`);
  return out;
}
