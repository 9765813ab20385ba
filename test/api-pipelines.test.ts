// POST /ner and POST /qa bodies (host/api/pipelines.ts): what is accepted, and the
// error each bad body gets.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ApiError, DEFAULT_LIMITS } from "../host/api/handler.ts";
import { parseNerBody, parseQaBody, qaJson } from "../host/api/pipelines.ts";

function refused(fn: () => unknown, status: number, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ApiError);
    assert.is((err as ApiError).status, status, (err as Error).message);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`not refused: expected ${status} ${message}`);
}

const L = DEFAULT_LIMITS;

test("/ner: bodies", () => {
  assert.equal(parseNerBody('{"text": "John lives in Paris"}', L), { text: "John lives in Paris" });
  assert.equal(parseNerBody('{"text": "x", "aggregation": "simple", "ignore_labels": []}', L), { text: "x", aggregation: "simple", ignoreLabels: [] });
  refused(() => parseNerBody("", L), 400, /empty body/);
  refused(() => parseNerBody("{", L), 400, /not valid JSON/);
  refused(() => parseNerBody("[1]", L), 400, /must be a JSON object/);
  refused(() => parseNerBody('{"txt": "x"}', L), 400, /unknown field "txt"/);
  refused(() => parseNerBody("{}", L), 400, /missing field "text"/);
  refused(() => parseNerBody('{"text": 3}', L), 400, /"text" must be a string, got a number/);
  refused(() => parseNerBody('{"text": "x", "aggregation": "mean"}', L), 400, /"aggregation" must be one of "none", "simple", "first", "average", "max"/);
  refused(() => parseNerBody('{"text": "x", "ignore_labels": "O"}', L), 400, /"ignore_labels" must be an array of strings/);
  refused(() => parseNerBody(JSON.stringify({ text: "a".repeat(L.maxTextChars + 1) }), L), 413, /the limit is 100000/);
});

test("/qa: bodies", () => {
  assert.equal(parseQaBody('{"question": "who?", "context": "John"}', L).options.topK, undefined);
  const r = parseQaBody('{"question": "q", "context": "c", "top_k": 3, "max_answer_len": 5, "doc_stride": 0, "max_seq_len": 64, "max_question_len": 8, "handle_impossible_answer": true}', L);
  assert.equal(r.options, { topK: 3, maxAnswerLen: 5, docStride: 0, maxSeqLen: 64, maxQuestionLen: 8, handleImpossibleAnswer: true });
  refused(() => parseQaBody('{"question": "q"}', L), 400, /missing field "context"/);
  refused(() => parseQaBody('{"question": "q", "context": "c", "top_k": 0}', L), 400, /"top_k" must be an integer >= 1, got 0/);
  refused(() => parseQaBody('{"question": "q", "context": "c", "top_k": 1.5}', L), 400, /"top_k" must be an integer/);
  refused(() => parseQaBody('{"question": "q", "context": "c", "top_k": 5000}', L), 400, /at most 1000/);
  refused(() => parseQaBody('{"question": "q", "context": "c", "handle_impossible_answer": 1}', L), 400, /true or false/);
  refused(() => parseQaBody('{"question": "q", "context": "c", "stride": 1}', L), 400, /unknown field "stride"/);
  refused(() => parseQaBody(JSON.stringify({ question: "q", context: "c".repeat(L.maxTextChars) }), L), 413, /question \+ context has 100001 characters/);
});

test("/qa: the answer for top_k 1, {answers} otherwise", () => {
  const a = { answer: "x", score: 0.5, start: 0, end: 1 };
  assert.equal(qaJson(a), a);
  assert.equal(qaJson([a]), { answers: [a] });
  assert.equal(qaJson(null), null);
});

test.run();
