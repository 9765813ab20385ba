// Questions for extractive QA: SQuAD v1.1 JSON
// (`{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers":
// [{"text", "answer_start"}]}]}]}]}`). `answer_start` is a character offset into the
// context in Python's sense (Unicode code points), as the SQuAD files give it; the answer
// text must be found there. Every error names the file and the JSON path of the field
// (and the line of a JSON syntax error, when the JSON parser gives its position).

import { readFileSync } from "node:fs";

export interface SquadAnswer {
  text: string;
  start: number; // code points into the context, as SQuAD counts
}

export interface SquadQuestion {
  id: string;
  question: string;
  context: string;
  answers: SquadAnswer[]; // at least one (v1.1 has no unanswerable questions)
}

export function loadSquad(file: string): SquadQuestion[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read dataset ${file}: ${(e as Error).message}`);
  }
  return parseSquad(text, file);
}

function lineOf(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return "";
  let line = 1;
  for (let i = 0; i < Number(m[1]) && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return `:${line}`;
}

export function parseSquad(text: string, file: string): SquadQuestion[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new Error(`${file}${lineOf(text, (e as Error).message)}: invalid JSON: ${(e as Error).message}`);
  }
  const bad = (path: string, what: string): never => { throw new Error(`${file}: ${path}: ${what}`); };
  const obj = (v: unknown, path: string) => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(path, "expected an object"));
  const arr = (v: unknown, path: string) => (Array.isArray(v) ? v : bad(path, "expected an array"));
  const str = (v: unknown, path: string) => (typeof v === "string" ? v : bad(path, "expected a string"));
  const out: SquadQuestion[] = [];
  arr(obj(doc, "(top level)").data, "data").forEach((article, a) => {
    arr(obj(article, `data[${a}]`).paragraphs, `data[${a}].paragraphs`).forEach((para, p) => {
      const at = `data[${a}].paragraphs[${p}]`;
      const P = obj(para, at);
      const context = str(P.context, `${at}.context`);
      const cps = [...context]; // code points, as Python indexes a str
      arr(P.qas, `${at}.qas`).forEach((qa, q) => {
        const qat = `${at}.qas[${q}]`;
        const Q = obj(qa, qat);
        const id = Q.id === undefined ? `${a}.${p}.${q}` : typeof Q.id === "number" ? String(Q.id) : str(Q.id, `${qat}.id`);
        const answers = arr(Q.answers, `${qat}.answers`).map((ans, k) => {
          const aat = `${qat}.answers[${k}]`;
          const A = obj(ans, aat);
          const t = str(A.text, `${aat}.text`);
          const s = A.answer_start;
          if (typeof s !== "number" || !Number.isInteger(s) || s < 0) bad(`${aat}.answer_start`, "expected a non-negative integer");
          const n = [...t].length;
          if ((s as number) + n > cps.length || cps.slice(s as number, (s as number) + n).join("") !== t)
            bad(`${aat}`, `the answer ${JSON.stringify(t)} is not at character ${s} of the context`);
          return { text: t, start: s as number };
        });
        if (answers.length === 0) bad(`${qat}.answers`, "no answer (SQuAD v1.1 questions have at least one)");
        out.push({ id, question: str(Q.question, `${qat}.question`), context, answers });
      });
    });
  });
  if (out.length === 0) throw new Error(`${file}: no questions`);
  return out;
}
