// The search on token classification and extractive QA models (task heads of the runtime):
// per-row losses equal an independent computation from the library's own tokenLogits /
// spanLogits, QA windows are cut as stated, and workers and early rejection change no decision.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { optimizeTask } from "../host/optimize/index.ts";
import { runOptimizeCommand } from "../host/optimize/commands.ts";
import { qaTask, tokenTask } from "../host/optimize/task-scoring.ts";
import { entityF1 } from "../host/optimize/task-token.ts";
import type { TaggedSentence } from "../host/optimize/data-token.ts";
import type { SquadQuestion } from "../host/optimize/data-squad.ts";
import { prng, randomModel } from "./helpers/random-model.ts";
import { withTask } from "./helpers/task-model.ts";

const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this", "playing", "played"];
const TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
const SMALL = { hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 3, maxPosition: 48 };

function sentences(n: number, seed: number): TaggedSentence[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + Math.floor(r() * 14);
    const tokens = Array.from({ length: len }, () => WORDS[Math.floor(r() * WORDS.length)]);
    return { tokens, tags: tokens.map(() => Math.floor(r() * TAGS.length)), line: i + 1 };
  });
}

test("token classification: loss = mean CE over first pieces (from tokenLogits), entity F1 from argmax; same decisions with 1 or 2 workers and without early rejection", async () => {
  const model = withTask(randomModel({ ...SMALL, seed: 3, numLabels: TAGS.length }), "token-classification");
  const data = sentences(40, 4);
  const prepare = (m: Parameters<typeof tokenTask>[0], maxLen: number) => tokenTask(m, data, TAGS, maxLen, "f64");
  const run = (workers: number, earlyReject: boolean) => optimizeTask(model, prepare, { workers, earlyReject, hardK: 6, measureSpeed: false, lossPrecision: "f64" });
  const a = (await run(1, true)).summary, b = (await run(2, true)).summary, c = (await run(1, false)).summary;
  const list = (s: typeof a) => s.candidates.map((x) => `${x.layer}:${x.step}:${x.accepted}`);
  assert.equal(list(a), list(b));
  assert.equal(list(a), list(c));
  assert.equal(a.decisions, c.decisions);
  assert.is(a.metric_name, "entity_f1");
  // independent: word pieces by tokenizing each word, the first piece labelled
  const m = (await loadEngine()).loadModel(writeModel(model));
  let loss = 0;
  const gold: string[][] = [], pred: string[][] = [];
  for (const s of data) {
    const ids = [2], first: number[] = [];
    s.tokens.forEach((w) => { const p = Array.from(m.tokenize(w).inputIds).slice(1, -1); first.push(ids.length); ids.push(...p); });
    ids.push(3);
    const z = m.tokenLogits(ids);
    let sum = 0;
    const g: string[] = [], q: string[] = [];
    first.forEach((t, k) => {
      const row = Array.from(z[t]), mx = Math.max(...row);
      sum += -(row[s.tags[k]] - mx - Math.log(row.reduce((acc, v) => acc + Math.exp(v - mx), 0)));
      g.push(TAGS[s.tags[k]]);
      q.push(TAGS[row.indexOf(mx)]);
    });
    loss += sum / first.length;
    gold.push(g);
    pred.push(q);
  }
  assert.ok(Math.abs(a.original_val_loss - loss / data.length) < 1e-9, `${a.original_val_loss} vs ${loss / data.length}`);
  assert.ok(Math.abs(a.original_val_metric - 100 * entityF1(gold, pred).f1) < 1e-9);
});

test("question answering: a long context is cut into overlapping windows, gold spans point into each window that holds the answer, [CLS] elsewhere", async () => {
  const model = withTask(randomModel({ ...SMALL, seed: 5 }), "question-answering");
  const m = (await loadEngine()).loadModel(writeModel(model));
  const r = prng(6);
  const one = WORDS.filter((w) => !w.startsWith("play")); // words of one piece each
  const words = Array.from({ length: 60 }, () => one[Math.floor(r() * one.length)]);
  words[30] = "great";
  words[31] = "film";
  const context = words.join(" ");
  const start = words.slice(0, 30).join(" ").length + 1;
  const q: SquadQuestion = { id: "q", question: "is it good", context, answers: [{ text: "great film", start }] };
  const t = qaTask(m, [q], { maxLen: 40, stride: 10 }, "f64");
  // 3 question pieces: room 40 - 3 - 3 = 34 context pieces a window, stepping 34 - 10 = 24: [0, 34), [24, 58), [48, 60)
  assert.is(t.units.length, 3);
  assert.equal(t.fingerprint, [[0, 5 + 30, 5 + 31], [0, 5 + 30 - 24, 5 + 31 - 24], [0, 0, 0]]);
  const ids1 = Array.from(t.units[1].ids);
  assert.equal(ids1.slice(0, 5), [2, ...Array.from(m.tokenize("is it good").inputIds).slice(1, -1), 3]);
  assert.is(ids1.length, 40);
  assert.equal(Array.from(t.units[1].typeIds).slice(4, 6), [0, 1]);
  // the search's original loss: (CE(start) + CE(end)) / 2 of each window, from spanLogits
  const s = (await optimizeTask(model, () => t, { workers: 1, hardK: 8, measureSpeed: false, lossPrecision: "f64" })).summary;
  const ce = (z: Float32Array, y: number) => { const mx = Math.max(...z); return -(z[y] - mx - Math.log(Array.from(z).reduce((acc, v) => acc + Math.exp(v - mx), 0))); };
  let want = 0;
  (t.fingerprint as number[][]).forEach(([, gs, ge], i) => { const z = m.spanLogits(t.units[i].ids, t.units[i].typeIds); want += (ce(z.start, gs) + ce(z.end, ge)) / 2; });
  assert.ok(Math.abs(s.original_val_loss - want / 3) < 1e-9, `${s.original_val_loss} vs ${want / 3}`);
  assert.is(s.metric_name, "f1");
  assert.ok(s.original_val_metric >= 0 && s.original_val_metric <= 100);
});

test("axformer optimize takes the task from the model: CoNLL for a token classifier, SQuAD JSON for QA; a text list refuses the strict test", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-taskopt-cli-"));
  try {
    const tok = { ...withTask(randomModel({ ...SMALL, seed: 3, numLabels: TAGS.length }), "token-classification"), labels: TAGS };
    writeFileSync(join(dir, "ner.axf"), writeModel(tok));
    const conll = sentences(12, 8).map((s) => s.tokens.map((w, i) => `${w} X ${TAGS[s.tags[i]]}`).join("\n")).join("\n\n");
    writeFileSync(join(dir, "val.conll"), "-DOCSTART- -X- O\n\n" + conll + "\n");
    const ner = await runOptimizeCommand({ model: join(dir, "ner.axf"), val: join(dir, "val.conll"), out: join(dir, "ner-opt.axf"), json: join(dir, "ner.json"), workers: 1, hardK: 6, progress: false });
    assert.is(ner.summary.task, "token-classification");
    assert.is(ner.summary.val_rows, 12);
    assert.is(JSON.parse(readFileSync(join(dir, "ner.json"), "utf8")).metric_name, "entity_f1");

    writeFileSync(join(dir, "qa.axf"), writeModel(withTask(randomModel({ ...SMALL, seed: 5 }), "question-answering")));
    const context = "the movie was great and the film was very good";
    writeFileSync(join(dir, "squad.json"), JSON.stringify({ data: [{ title: "t", paragraphs: [{ context, qas: [
      { id: "1", question: "what was great", answers: [{ text: "the movie", answer_start: 0 }] },
      { id: "2", question: "what was good", answers: [{ text: "the film", answer_start: context.indexOf("the film") }] },
    ] }] }] }));
    const qa = await runOptimizeCommand({ model: join(dir, "qa.axf"), val: join(dir, "squad.json"), out: join(dir, "qa-opt.axf"), workers: 1, maxDrop: 5, progress: false });
    assert.is(qa.summary.task, "question-answering");
    assert.is(qa.summary.metric_name, "f1");

    writeFileSync(join(dir, "emb.axf"), writeModel(withTask(randomModel({ ...SMALL, seed: 9 }), "embedding")));
    writeFileSync(join(dir, "texts.txt"), "the movie was good\nthe film was bad\n");
    const err = await runOptimizeCommand({ model: join(dir, "emb.axf"), val: join(dir, "texts.txt"), out: join(dir, "e.axf"), workers: 1, progress: false }).then(() => null, (e: Error) => e);
    assert.match(err?.message ?? "", /only be optimized with an accuracy budget \(--max-drop/);
    const drift = await runOptimizeCommand({ model: join(dir, "emb.axf"), val: join(dir, "texts.txt"), out: join(dir, "e.axf"), workers: 1, maxDrop: 3, progress: false });
    assert.is(drift.summary.metric_name, "mean_cosine");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
