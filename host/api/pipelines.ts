// The HTTP forms of the token-classification and question-answering pipelines (the
// handler in handler.ts routes to these; the Worker and `axformer serve` share it):
//
//   POST /ner  {"text": s, "aggregation"?: "none"|"simple"|"first"|"average"|"max",
//               "ignore_labels"?: [s, ...]}
//              -> {"entities": [{entity_group | entity, score, (index,) word, start, end}]}
//   POST /qa   {"question": s, "context": s, "top_k"?, "max_answer_len"?, "doc_stride"?,
//               "max_seq_len"?, "max_question_len"?, "handle_impossible_answer"?}
//              -> {answer, score, start, end} (top_k 1; null when the context has no token)
//                 {"answers": [{answer, score, start, end}, ...]} (top_k > 1)
//
// Options use the pipelines' own names. start/end are code point offsets into the text
// (Python string indices, as Hugging Face gives them). No Node built-ins here.

import { ApiError, parseObject, rejectUnknown, typeName, type ApiLimits } from "./handler.ts";
import { AGGREGATIONS, type Aggregation } from "../runtime/token-classification.ts";
import type { Answer, AnswerOptions } from "../runtime/question-answering.ts";

export interface NerRequest { text: string; aggregation?: Aggregation; ignoreLabels?: string[] }
export interface QaRequest { question: string; context: string; options: AnswerOptions }

const NER_FIELDS = new Set(["text", "aggregation", "ignore_labels"]);
const QA_FIELDS = new Set(["question", "context", "top_k", "max_answer_len", "doc_stride", "max_seq_len", "max_question_len", "handle_impossible_answer"]);

function str(obj: Record<string, unknown>, key: string): string {
  if (!(key in obj)) throw new ApiError(400, `missing field "${key}"`);
  if (typeof obj[key] !== "string") throw new ApiError(400, `"${key}" must be a string, got ${typeName(obj[key])}`);
  return obj[key] as string;
}

function int(obj: Record<string, unknown>, key: string, min: number): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!(Number.isInteger(v) && (v as number) >= min)) throw new ApiError(400, `"${key}" must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

function checkChars(chars: number, what: string, limits: ApiLimits): void {
  if (chars > limits.maxTextChars) throw new ApiError(413, `${what} has ${chars} characters; the limit is ${limits.maxTextChars} per input`);
}

export function parseNerBody(body: string, limits: ApiLimits): NerRequest {
  const obj = parseObject(body, '{"text": "..."}');
  rejectUnknown(obj, NER_FIELDS, "");
  const text = str(obj, "text");
  checkChars(text.length, "text", limits);
  const req: NerRequest = { text };
  if (obj.aggregation !== undefined) {
    const a = obj.aggregation;
    if (typeof a !== "string" || !(AGGREGATIONS as readonly string[]).includes(a)) {
      throw new ApiError(400, `"aggregation" must be one of ${AGGREGATIONS.map((x) => `"${x}"`).join(", ")}, got ${JSON.stringify(a)}`);
    }
    req.aggregation = a as Aggregation;
  }
  if (obj.ignore_labels !== undefined) {
    const l = obj.ignore_labels;
    if (!Array.isArray(l) || !l.every((x) => typeof x === "string")) throw new ApiError(400, `"ignore_labels" must be an array of strings, got ${typeName(l)}`);
    if (l.length > 10_000) throw new ApiError(413, `"ignore_labels" has ${l.length} items; the limit is 10000`);
    req.ignoreLabels = l as string[];
  }
  return req;
}

export function parseQaBody(body: string, limits: ApiLimits): QaRequest {
  const obj = parseObject(body, '{"question": "...", "context": "..."}');
  rejectUnknown(obj, QA_FIELDS, "");
  const question = str(obj, "question"), context = str(obj, "context");
  checkChars(question.length + context.length, "question + context", limits);
  const h = obj.handle_impossible_answer;
  if (h !== undefined && typeof h !== "boolean") throw new ApiError(400, `"handle_impossible_answer" must be true or false, got ${JSON.stringify(h)}`);
  // top_k bounded: answers are collected per window, at most 2 * top_k + 10 each.
  const topK = int(obj, "top_k", 1);
  if (topK !== undefined && topK > 1000) throw new ApiError(400, `"top_k" must be at most 1000, got ${topK}`);
  return {
    question, context,
    options: {
      topK, maxAnswerLen: int(obj, "max_answer_len", 1), docStride: int(obj, "doc_stride", 0),
      maxSeqLen: int(obj, "max_seq_len", 1), maxQuestionLen: int(obj, "max_question_len", 1), handleImpossibleAnswer: h as boolean | undefined,
    },
  };
}

// The JSON for a QA result: one answer for top_k 1, {"answers": [...]} otherwise.
export function qaJson(result: Answer | Answer[] | null): unknown {
  return Array.isArray(result) ? { answers: result } : result;
}
