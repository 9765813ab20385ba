// The token-classification and question-answering post-processing against Hugging
// Face's own pipelines (test/fixtures/pipelines, made by
// scripts/parity/make_pipeline_fixtures.py: transformers 5.18 for token classification,
// 4.57.6 with tokenizers 0.22.2 for QA, on random-weight tiny models).
//
// Layer (a), here: our tokenizer (the real runtime, with the fixture's vocabulary and
// normalizer) must give Hugging Face's input ids and offsets (and, for QA, the same
// windows); then Hugging Face's logits go through our post-processing, whose output
// must equal the pipeline's: scores to 1e-5, everything else exactly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { tokenClassification, type Aggregation, type Entity } from "../host/runtime/token-classification.ts";
import { answers, fillWindows, windowOptions, windows, type Answer } from "../host/runtime/question-answering.ts";
import { wordIds } from "../host/runtime/subwords.ts";
import { randomModel } from "./helpers/random-model.ts";
import { answer, tokenClassify, type PipelineModel } from "../host/runtime/pipelines.ts";

const DIR = fileURLToPath(new URL("./fixtures/pipelines/", import.meta.url));

interface NerCase { text: string; input_ids: number[]; offsets: number[][]; logits: number[][]; outputs: Record<string, Entity[]>; ignore_labels?: string[] }
interface QaCase {
  question: string; context: string;
  options: { top_k?: number; max_seq_len?: number; doc_stride?: number; max_answer_len?: number; handle_impossible_answer?: boolean };
  windows: Array<{ input_ids: number[]; token_type_ids: number[]; start_logits: number[]; end_logits: number[] }>;
  expected: Answer[];
}

function fixture<T>(name: string): { meta: { cased: boolean; model: string }; labels?: string[]; cases: T[] } {
  return JSON.parse(readFileSync(join(DIR, name, "cases.json"), "utf8"));
}

// A runtime model with the fixture's tokenizer (vocab.txt lists [PAD] [UNK] [CLS] [SEP]
// [MASK] first, the order randomModel uses); its weights do not matter in layer (a).
async function tokenizerModel(name: string, cased: boolean, distil: boolean): Promise<LoadedModel> {
  const vocab = readFileSync(join(DIR, name, "vocab.txt"), "utf8").split("\n").filter((t) => t !== "");
  assert.equal(vocab.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  const m = randomModel({ words: vocab.slice(5), maxPosition: 64, doLowerCase: !cased, arch: distil ? "distilbert" : "bert" });
  return (await loadEngine()).loadModel(writeModel(m));
}

function close(got: number, want: number, what: string): void {
  if (!(Math.abs(got - want) <= 1e-5)) assert.unreachable(`${what}: score ${got}, Hugging Face ${want}`);
}

function sameEntities(got: Entity[], want: Entity[], what: string): void {
  const strip = (es: Entity[]) => es.map(({ score: _s, ...rest }) => rest);
  assert.equal(strip(got), strip(want), what);
  got.forEach((e, i) => close(e.score, want[i].score, `${what} #${i}`));
}

for (const name of ["ner-bert-uncased", "ner-distilbert-cased"]) {
  test(`token classification (a): ${name}: Hugging Face logits + our offsets -> the pipeline's entities`, async () => {
    const f = fixture<NerCase>(name);
    const model = await tokenizerModel(name, f.meta.cased, name.includes("distil"));
    const vocab = { labels: f.labels!, unkId: 1, tokenString: (id: number) => model.tokenString(id) };
    let compared = 0;
    for (const c of f.cases) {
      const enc = model.tokenize(c.text);
      assert.equal(enc.inputIds, c.input_ids, `ids of ${JSON.stringify(c.text)}`);
      assert.equal(enc.offsets, c.offsets, `offsets of ${JSON.stringify(c.text)}`);
      const t = { text: c.text, ids: enc.inputIds, offsets: enc.offsets, offsetsUtf16: enc.offsetsUtf16, specialTokensMask: enc.specialTokensMask };
      for (const [aggregation, want] of Object.entries(c.outputs)) {
        const got = tokenClassification(t, c.logits, vocab, { aggregation: aggregation as Aggregation, ignoreLabels: c.ignore_labels });
        sameEntities(got, want, `${name} ${aggregation} ${JSON.stringify(c.text.slice(0, 40))}`);
        compared++;
      }
    }
    assert.ok(compared >= 40, `${compared} outputs compared`);
  });
}

for (const name of ["qa-bert-uncased", "qa-distilbert-cased"]) {
  test(`question answering (a): ${name}: our windows == Hugging Face's; its logits -> the pipeline's answers`, async () => {
    const f = fixture<QaCase>(name);
    const model = await tokenizerModel(name, f.meta.cased, name.includes("distil"));
    const distil = name.includes("distil");
    const sp = { clsId: 2, sepId: 3, secondType: distil ? 0 : 1 };
    for (const c of f.cases) {
      const o = c.options;
      const q = model.tokenizeAll(c.question), ctx = model.tokenizeAll(c.context);
      const wo = windowOptions(64, { maxSeqLen: o.max_seq_len, docStride: o.doc_stride });
      const ws = windows(q.ids, ctx.ids.length, sp, wo);
      fillWindows(ws, ctx.ids);
      const what = `${name} ${JSON.stringify(c.question)} ${JSON.stringify(o)}`;
      assert.equal(ws.map((w) => w.inputIds), c.windows.map((w) => w.input_ids), `${what}: window ids`);
      if (!distil) assert.equal(ws.map((w) => w.tokenTypeIds), c.windows.map((w) => w.token_type_ids), `${what}: window type ids`);
      const pieces = { ...ctx, words: wordIds(undefined, ctx.ids, (id) => model.tokenString(id), model.addedTokenIds()) };
      const got = answers(c.context, pieces, ws, c.windows.map((w) => ({ start: w.start_logits, end: w.end_logits })), sp, {
        topK: o.top_k, maxAnswerLen: o.max_answer_len, handleImpossibleAnswer: o.handle_impossible_answer,
      });
      assert.equal(got.map(({ score: _s, ...r }) => r), c.expected.map(({ score: _s, ...r }) => r), what);
      got.forEach((a, i) => close(a.score, c.expected[i].score, `${what} #${i}`));
    }
  });
}

// The library calls (host/runtime/pipelines.ts) on a stub model: the real tokenizer,
// and heads that return Hugging Face's logits for the ids they are given (so the ids
// the library builds must be Hugging Face's, window by window).
function stub(model: LoadedModel, labels: string[], heads: Map<string, number[][] | { start: number[]; end: number[] }>): PipelineModel {
  const find = (ids: ArrayLike<number>) => {
    const h = heads.get(Array.from(ids).join());
    if (!h) throw new Error(`no Hugging Face logits for ids ${Array.from(ids).join(" ")}`);
    return h;
  };
  return {
    labels, maxLen: model.maxLen,
    tokenize: (t, p) => model.tokenize(t, p), tokenizeAll: (t) => model.tokenizeAll(t), tokenString: (id) => model.tokenString(id),
    addedTokenIds: () => model.addedTokenIds(), specialTokenIds: () => model.specialTokenIds(),
    tokenLogits: (ids) => (find(ids) as number[][]).map((r) => Float32Array.from(r)),
    spanLogits: (ids) => {
      const h = find(ids) as { start: number[]; end: number[] };
      return { start: Float32Array.from(h.start), end: Float32Array.from(h.end) };
    },
  };
}

test("library: tokenClassify() and answer() on a stub model give the pipelines' outputs", async () => {
  const ner = fixture<NerCase>("ner-bert-uncased");
  const nerModel = stub(await tokenizerModel("ner-bert-uncased", false, false), ner.labels!, new Map(ner.cases.map((c) => [c.input_ids.join(), c.logits])));
  for (const c of ner.cases) {
    for (const [aggregation, want] of Object.entries(c.outputs)) {
      sameEntities(tokenClassify(nerModel, c.text, { aggregation: aggregation as Aggregation, ignoreLabels: c.ignore_labels }), want, `tokenClassify ${aggregation}`);
    }
  }
  for (const name of ["qa-bert-uncased", "qa-distilbert-cased"]) {
    const qa = fixture<QaCase>(name);
    const heads = new Map(qa.cases.flatMap((c) => c.windows.map((w) => [w.input_ids.join(), { start: w.start_logits, end: w.end_logits }] as const)));
    const qaModel = stub(await tokenizerModel(name, qa.meta.cased, name.includes("distil")), [], heads);
    for (const c of qa.cases) {
      const o = c.options;
      const got = answer(qaModel, c.question, c.context, { topK: o.top_k, maxSeqLen: o.max_seq_len, docStride: o.doc_stride, maxAnswerLen: o.max_answer_len, handleImpossibleAnswer: o.handle_impossible_answer });
      const list = (o.top_k ?? 1) === 1 ? [got as Answer] : (got as Answer[]);
      assert.equal(list.map(({ score: _s, ...r }) => r), c.expected.map(({ score: _s, ...r }) => r), `answer ${name} ${c.question}`);
      list.forEach((a, i) => close(a.score, c.expected[i].score, `answer #${i}`));
    }
  }
});

test("question answering: windows and option errors", () => {
  const sp = { clsId: 2, sepId: 3, secondType: 1 };
  // 10 context tokens, windows of 4 with stride 1: starts 0, 3, 6 (the last ends at 10)
  const ws = windows([7, 8], 10, sp, { maxSeqLen: 9, docStride: 1 });
  assert.equal(ws.map((w) => [w.contextFrom, w.contextCount]), [[0, 4], [3, 4], [6, 4]]);
  assert.equal(ws[0].inputIds.length, 9);
  assert.equal(ws[0].tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1, 1]);
  // fits: one window, no stride check
  assert.equal(windows([7], 3, sp, { maxSeqLen: 9, docStride: 100 }).length, 1);
  assert.throws(() => windows([7, 8, 9, 10, 11, 12], 10, sp, { maxSeqLen: 9, docStride: 1 }), /leaves no room for the context/);
  assert.throws(() => windows([7, 8], 10, sp, { maxSeqLen: 9, docStride: 4 }), /docStride 4 must be less than the 4 context tokens/);
  assert.equal(windows([7, 8, 9, 10, 11, 12], 10, sp, { maxSeqLen: 9, docStride: 1, maxQuestionLen: 2 })[0].inputIds.slice(0, 4), [2, 7, 8, 3]);
  assert.throws(() => windowOptions(64, { docStride: 65 }), /docStride \(65\) is larger than maxSeqLen \(64\)/);
  assert.throws(() => windowOptions(64, { maxSeqLen: 65 }), /more than the model's max_len 64/);
  assert.equal(windowOptions(512, {}), { maxSeqLen: 384, docStride: 128, maxQuestionLen: undefined });
  assert.equal(windowOptions(64, {}), { maxSeqLen: 64, docStride: 32, maxQuestionLen: undefined });
});

test.run();
