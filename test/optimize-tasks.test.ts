// Per-row losses and metrics of the tasks beyond classification (host/optimize/task-*.ts):
// token classification, extractive QA, scored embedding pairs and unlabelled embeddings.
// Losses are checked against PyTorch's own float32 numbers (fixture made by
// scripts/optimize/make_task_loss_fixture.py with Debian's torch 1.13); metrics on hand-worked cases.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { crossEntropyF32 } from "../host/optimize/loss-f32.ts";
import { entities, entityF1, IGNORE, tokenPredictions, tokenRowLoss } from "../host/optimize/task-token.ts";
import { exactMatch, normalizeAnswer, qaWindowLoss, squadScores, tokenF1 } from "../host/optimize/task-qa.ts";
import { cosine, pairLoss, pairSpearman } from "../host/optimize/task-pairs.ts";
import { DRIFT_STRICT_REFUSAL, driftLoss, meanCosine } from "../host/optimize/task-drift.ts";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/optimize/task-losses.json", import.meta.url), "utf8"));
const f32s = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, "base64")).buffer);
const close = (a: number, b: number, eps = 1e-12) => Math.abs(a - b) <= eps;

test("token rows: the mean cross-entropy over labelled tokens equals PyTorch's F.cross_entropy(ignore_index=-100) bit for bit (3 to 13 classes, 1 to 300 tokens)", () => {
  let n = 0;
  for (const r of fixture.token_rows as { classes: number; logits: string; labels: number[]; loss: string }[]) {
    const got = tokenRowLoss(f32s(r.logits), r.labels, r.classes, "f32");
    const want = f32s(r.loss)[0];
    if (got !== want) assert.unreachable(`row ${n} (${r.labels.length} tokens, ${r.classes} classes): ${got} vs torch ${want}`);
    n++;
  }
  assert.is(n, 100);
});

test("token rows: ignored labels contribute nothing; f64 is the plain mean", () => {
  // two tokens, 2 classes: logits (0, 0) and (2, 0); labels 1 and -100 -> only the first counts: log 2
  const z = Float32Array.of(0, 0, 2, 0);
  assert.ok(close(tokenRowLoss(z, [1, IGNORE], 2, "f64"), Math.log(2)));
  assert.is(tokenRowLoss(z, [1, IGNORE], 2, "f32"), Math.fround(Math.log(2)));
  // both labelled: (log 2 + log(1 + e^2)) / 2
  assert.ok(close(tokenRowLoss(z, [1, 1], 2, "f64"), (Math.log(2) + Math.log(1 + Math.exp(2))) / 2));
  assert.is(tokenRowLoss(z, [IGNORE, IGNORE], 2, "f64"), 0);
  assert.equal(tokenPredictions(z, [1, IGNORE], 2), [0]); // a tie goes to the first class
  assert.equal(tokenPredictions(z, [1, 0], 2), [0, 0]);
});

test("cross-entropy of 8 or more classes sums lane by lane as PyTorch does: QA windows of 8 to 384 tokens equal torch bit for bit", () => {
  let n = 0;
  for (const w of fixture.qa_windows as { start: string; end: string; start_position: number; end_position: number; loss: string }[]) {
    const got = qaWindowLoss(f32s(w.start), f32s(w.end), w.start_position, w.end_position, "f32");
    const want = f32s(w.loss)[0];
    if (got !== want) assert.unreachable(`window ${n} (${f32s(w.start).length} tokens): ${got} vs torch ${want}`);
    n++;
  }
  assert.is(n, 80);
  // f64: the two cross-entropies' mean; hand case: uniform logits over 4 tokens -> log 4
  const u = new Float32Array(4);
  assert.ok(close(qaWindowLoss(u, u, 1, 2, "f64"), Math.log(4)));
  assert.throws(() => qaWindowLoss(u, u, 1, 4, "f32"), /outside the window of 4 tokens/);
  // a class-order sum and the lane sum agree on few classes (and on exact sums)
  assert.is(crossEntropyF32(Float32Array.of(1, 2, 3), 0, 3, 2), qaWindowLoss(Float32Array.of(1, 2, 3), Float32Array.of(1, 2, 3), 2, 2, "f32"));
});

test("seqeval entities (default mode): B/I/O, a lenient I- start, a type change, IOBES", () => {
  assert.equal(entities(["B-PER", "I-PER", "O", "B-LOC"]), [{ type: "PER", start: 0, end: 1 }, { type: "LOC", start: 3, end: 3 }]);
  assert.equal(entities(["I-PER", "I-PER", "O"]), [{ type: "PER", start: 0, end: 1 }]);
  assert.equal(entities(["B-PER", "I-LOC"]), [{ type: "PER", start: 0, end: 0 }, { type: "LOC", start: 1, end: 1 }]);
  assert.equal(entities(["O", "I-MISC", "B-MISC"]), [{ type: "MISC", start: 1, end: 1 }, { type: "MISC", start: 2, end: 2 }]);
  assert.equal(entities(["S-PER", "B-LOC", "E-LOC", "O"]), [{ type: "PER", start: 0, end: 0 }, { type: "LOC", start: 1, end: 2 }]);
  assert.equal(entities(["B-PER", "I-PER"]), [{ type: "PER", start: 0, end: 1 }]); // an entity at the end
  assert.equal(entities(["O", "O"]), []);
  assert.equal(entities(["B-A-B", "I-A-B"]), [{ type: "A-B", start: 0, end: 1 }]); // the type is all after the first "-"
});

test("seqeval micro F1: README example 0.5, exact spans only, no entities at all -> 0", () => {
  const gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
  const pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
  assert.equal(entityF1(gold, pred), { f1: 0.5, precision: 0.5, recall: 0.5 });
  assert.is(entityF1(gold, gold).f1, 1);
  // three gold entities, two predicted, one right: P 1/2, R 1/3, F1 2/5
  const r = entityF1([["B-A", "O", "B-B", "B-C"]], [["B-A", "I-A", "O", "B-C"]]);
  assert.ok(close(r.f1, 0.4) && close(r.precision, 0.5) && close(r.recall, 1 / 3));
  assert.is(entityF1([["O"]], [["O"]]).f1, 0);
  assert.throws(() => entityF1([["O"]], [["O", "O"]]), /sentence 1 has 1 gold tags, 2 predicted/);
});

test("SQuAD v1.1 normalisation, exact match and F1 (max over gold answers)", () => {
  assert.is(normalizeAnswer("The  Quick, brown fox!"), "quick brown fox");
  assert.is(normalizeAnswer("an apple a day"), "apple day");
  assert.is(normalizeAnswer("Theater anthem"), "theater anthem"); // articles only as whole words
  assert.is(normalizeAnswer("Ünïcode—dash"), "ünïcode—dash"); // only ASCII punctuation goes, as string.punctuation
  assert.is(exactMatch("Denver Broncos", "the Denver Broncos."), 1);
  assert.ok(close(tokenF1("Denver Broncos won", "Denver Broncos"), 0.8)); // P 2/3, R 1
  assert.is(tokenF1("a the", "Broncos"), 0); // nothing left after normalisation
  assert.ok(close(tokenF1("x x y", "x y y"), 2 / 3)); // multiset overlap: x once, y once
  const s = squadScores(["Denver Broncos", "Santa Clara"], [["Carolina Panthers", "the Denver Broncos"], ["Levi's Stadium", "Santa Clara, California"]]);
  assert.is(s.exact_match, 50);
  assert.ok(close(s.f1, (100 * (1 + 0.8)) / 2));
});

test("embedding pairs: (cos - score / 5)^2 and Spearman with average ranks for ties", () => {
  const c = cosine([1, 0], [1, 1]);
  assert.ok(close(c, Math.SQRT1_2));
  assert.ok(close(pairLoss(c, 2.5, "f64"), (Math.SQRT1_2 - 0.5) ** 2));
  const d = Math.fround(Math.fround(c) - 0.5);
  assert.is(pairLoss(c, 2.5, "f32"), Math.fround(d * d));
  assert.is(cosine([0, 0], [1, 1]), 0); // torch's eps: no division by zero
  // scipy.stats.spearmanr([1, 2, 2, 3], [1, 2, 3, 4]) = 0.9486832980505138
  assert.ok(close(pairSpearman([1, 2, 2, 3], [1, 2, 3, 4]), 0.9486832980505138));
  assert.ok(close(pairSpearman([0.1, 0.5, 0.3], [1, 5, 2]), 1));
});

test("unlabelled embeddings: 1 - cos to the original, mean cosine; the strict test is refused with the reason", () => {
  assert.is(driftLoss([1, 2, 3], [1, 2, 3], "f32"), 0);
  assert.ok(close(driftLoss([1, 0], [-1, 0], "f64"), 2));
  assert.ok(close(meanCosine([0, 0.5]), 0.75));
  assert.match(DRIFT_STRICT_REFUSAL, /--max-drop/);
  assert.match(DRIFT_STRICT_REFUSAL, /never hold/);
});

test.run();
