// Data readers of the new tasks: token classification (JSONL and CoNLL), SQuAD v1.1 JSON,
// unlabelled text lists; each error names the file, the line (or JSON path) and the field.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConll, parseTaggedJsonl } from "../host/optimize/data-token.ts";
import { parseSquad } from "../host/optimize/data-squad.ts";
import { parseTexts } from "../host/optimize/data-texts.ts";

const LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

test("token JSONL: tags by name or index, ner_tags accepted, blank lines skipped", () => {
  const rows = parseTaggedJsonl('{"tokens": ["Ada", "Lovelace", "lived"], "tags": ["B-PER", "I-PER", "O"]}\n\n{"tokens": ["Paris"], "ner_tags": [3]}\n', "t.jsonl", LABELS);
  assert.equal(rows, [{ tokens: ["Ada", "Lovelace", "lived"], tags: [1, 2, 0], line: 1 }, { tokens: ["Paris"], tags: [3], line: 3 }]);
});

test("token JSONL errors name file, line and field", () => {
  assert.throws(() => parseTaggedJsonl('{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a", "b"], "tags": ["O"]}', "t.jsonl", LABELS), /t\.jsonl:2: 2 tokens but 1 tags/);
  assert.throws(() => parseTaggedJsonl('{"tokens": ["a"], "tags": ["B-ORG"]}', "t.jsonl", LABELS), /t\.jsonl:1: field tags\[0\]: tag "B-ORG" is not one of the model's labels/);
  assert.throws(() => parseTaggedJsonl('{"tokens": [1], "tags": ["O"]}', "t.jsonl", LABELS), /t\.jsonl:1: field tokens\[0\]: expected a string/);
  assert.throws(() => parseTaggedJsonl('{"tokens": ["a"], "tags": [5]}', "t.jsonl", LABELS), /class index below 5/);
  assert.throws(() => parseTaggedJsonl("{oops", "t.jsonl", LABELS), /t\.jsonl:1: invalid JSON/);
  assert.throws(() => parseTaggedJsonl('{"words": ["a"]}', "t.jsonl", LABELS), /field tokens: expected an array/);
});

test("CoNLL: token first, tag last, blank lines between sentences, -DOCSTART- skipped, CRLF", () => {
  const text = "-DOCSTART- -X- -X- O\r\n\r\nAda NNP B-NP B-PER\r\nLovelace NNP I-NP I-PER\r\n\r\n\r\nParis NNP B-NP B-LOC\r\n";
  assert.equal(parseConll(text, "x.conll", LABELS), [
    { tokens: ["Ada", "Lovelace"], tags: [1, 2], line: 3 },
    { tokens: ["Paris"], tags: [3], line: 7 },
  ]);
  assert.equal(parseConll("a\tO\nb\tB-PER", "x.conll", LABELS), [{ tokens: ["a", "b"], tags: [0, 1], line: 1 }]); // no final newline, tabs
  assert.throws(() => parseConll("a O\nlonely\n", "x.conll", LABELS), /x\.conll:2: expected a token and its tag/);
  assert.throws(() => parseConll("a O\n\nb B-MISC\n", "x.conll", LABELS), /x\.conll:3: last column: tag "B-MISC"/);
});

const squad = (answers: unknown, context = "Ünïcode café in Paris.") =>
  JSON.stringify({ version: "1.1", data: [{ title: "t", paragraphs: [{ context, qas: [{ id: "q1", question: "Where?", answers }] }] }] });

test("SQuAD v1.1: questions with their context and answers; answer_start counts code points", () => {
  const ctx = "😀 café in Paris.";
  const qs = parseSquad(squad([{ text: "Paris", answer_start: 10 }, { text: "in Paris", answer_start: 7 }], ctx), "s.json");
  assert.equal(qs, [{ id: "q1", question: "Where?", context: ctx, answers: [{ text: "Paris", start: 10 }, { text: "in Paris", start: 7 }] }]);
});

test("SQuAD errors name the file and the JSON path; syntax errors the line", () => {
  assert.throws(() => parseSquad(squad([{ text: "Paris", answer_start: 3 }]), "s.json"), /s\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]: the answer "Paris" is not at character 3/);
  assert.throws(() => parseSquad(squad([{ text: "Paris", answer_start: "16" }]), "s.json"), /answers\[0\]\.answer_start: expected a non-negative integer/);
  assert.throws(() => parseSquad(squad([]), "s.json"), /qas\[0\]\.answers: no answer/);
  assert.throws(() => parseSquad('{"data": [{"paragraphs": 3}]}', "s.json"), /s\.json: data\[0\]\.paragraphs: expected an array/);
  assert.throws(() => parseSquad('{"data": [\n\n{"paragraphs": ]}', "s.json"), /s\.json(:3)?: invalid JSON/);
  assert.throws(() => parseSquad('{"data": []}', "s.json"), /s\.json: no questions/);
});

test("text lists: lines, JSONL text field, TSV header column (both sentences of a pair file)", () => {
  assert.equal(parseTexts("one\n\ntwo\r\n", "t.txt"), ["one", "two"]);
  assert.equal(parseTexts('{"text": "a"}\n{"text": "b"}\n', "t.jsonl"), ["a", "b"]);
  assert.throws(() => parseTexts('{"text": "a"}\n{"txt": "b"}\n', "t.jsonl"), /t\.jsonl:2: field text: expected a string/);
  assert.equal(parseTexts("sentence1\tsentence2\tscore\na\tb\t1\nc\td\t2\n", "p.tsv"), ["a", "b", "c", "d"]);
  assert.throws(() => parseTexts("x\ty\n1\t2\n", "p.tsv"), /p\.tsv:1: no column named 'text' or 'sentence' or 'sentence1'/);
});

test.run();
