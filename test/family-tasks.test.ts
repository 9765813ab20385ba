// Issue 15's tasks for issue 16's families: RoBERTa / XLM-R / ELECTRA token
// classification, question answering and embedding models (bare encoders and
// sentence-transformers folders), and the token-classification / question-answering
// pipelines with byte-level BPE and Unigram tokenizers. The folders are written by
// save_pretrained from random weights (scripts/parity/make_family_task_fixtures.py);
// the references are transformers' own classes in float64 (parity, <= 1e-4 with f32
// storage) and Hugging Face's own pipelines (transformers 5.18 token-classification,
// 4.57.6 + tokenizers 0.22.2 question-answering): entities and answers exactly, scores
// to 1e-5.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { tokenClassification, type Aggregation, type Entity } from "../host/runtime/token-classification.ts";
import { answers, fillWindows, windowOptions, windows, type Answer } from "../host/runtime/question-answering.ts";
import { familyFolder, familyJson } from "./helpers/family-fixture.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BOUND = 1e-4;

async function load(name: string): Promise<{ model: LoadedModel; bytes: Uint8Array; warnings: string[] }> {
  const m = await convertHfDir(familyFolder(name));
  const bytes = writeModel(m);
  return { model: (await loadEngine()).loadModel(bytes), bytes, warnings: (m.meta.source as { warnings?: string[] }).warnings ?? [] };
}

function close(got: ArrayLike<number>, want: number[], what: string, bound = BOUND): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= bound)) assert.unreachable(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|diff| ${d} > ${bound})`);
  }
}

function sameList<T extends { score: number }>(got: T[], want: T[], what: string): void {
  const strip = (xs: T[]) => xs.map(({ score: _s, ...rest }) => rest);
  assert.equal(strip(got), strip(want), what);
  got.forEach((e, i) => close([e.score], [want[i].score], `${what} #${i} score`, 1e-5));
}

// ---- heads and embedding models: parity with transformers / sentence-transformers

for (const [name, cls] of [["electra-token", "ElectraForTokenClassification"], ["electra-qa", "ElectraForQuestionAnswering"]]) {
  test(`${name}: the runtime matches ${cls} in float64 (<= ${BOUND}), embedding_size != hidden_size`, async () => {
    const g = familyJson(name);
    const { model } = await load(name);
    for (const [i, c] of g.cases.entries()) {
      const enc = Array.isArray(c.text) ? model.tokenize(c.text[0], c.text[1]) : model.tokenize(c.text);
      assert.equal(enc.inputIds, c.input_ids, `case ${i}: tokenizer`);
      if (c.logits) model.tokenLogits(c.input_ids, c.token_type_ids).forEach((l, t) => close(l, c.logits[t], `case ${i} token ${t}`));
      else {
        const { start, end } = model.spanLogits(c.input_ids, c.token_type_ids);
        close(start, c.start_logits, `case ${i} start`);
        close(end, c.end_logits, `case ${i} end`);
      }
    }
  });
}

for (const name of ["roberta-base", "electra-base"]) {
  test(`${name}: a bare encoder folder is an embedding model with mean pooling (warned), as sentence-transformers' default`, async () => {
    const g = familyJson(name);
    const { model, warnings } = await load(name);
    assert.is(model.task, "embedding");
    assert.ok(warnings.some((w) => /mean pooling/.test(w)), JSON.stringify(warnings));
    const texts = g.cases.map((c: { text: string }) => c.text);
    model.embed(texts).forEach((e, i) => close(e, g.cases[i].embedding, `text ${i}`));
    g.cases.forEach((c: { input_ids: number[] }, i: number) => assert.equal(model.tokenize(texts[i]).inputIds, c.input_ids, `text ${i}: tokenizer`));
  });
}

for (const name of ["st-distilroberta", "st-xlm-roberta"]) {
  test(`${name}: a sentence-transformers folder on ${name.includes("xlm") ? "XLMRobertaModel (Unigram)" : "RobertaModel (byte-level BPE)"} matches encode() (<= ${BOUND})`, async () => {
    const g = familyJson(name);
    const { model } = await load(name);
    assert.is(model.task, "embedding");
    model.embed(g.texts).forEach((e, i) => close(e, g.embeddings[i], `text ${i}`));
    g.texts.forEach((t: string, i: number) => assert.equal(model.tokenize(t).inputIds, g.input_ids[i], `text ${i}: tokenizer (max_seq_length)`));
  });
}

// ---- token classification with byte-level BPE and Unigram

interface NerCase { text: string; input_ids: number[]; offsets: number[][]; logits: number[][]; logits64: number[][]; outputs: Record<string, Entity[]> }
interface QaCase {
  question: string; context: string;
  options: { top_k?: number; max_seq_len?: number; doc_stride?: number; max_answer_len?: number; handle_impossible_answer?: boolean };
  windows: Array<{ input_ids: number[]; start_logits: number[]; end_logits: number[]; start_logits64: number[]; end_logits64: number[] }>;
  expected: Answer[];
}

const NER = [["ner-roberta-bpe", "RobertaForTokenClassification"], ["ner-xlm-roberta-unigram", "XLMRobertaForTokenClassification"]];
const QA = [["qa-roberta-bpe", "RobertaForQuestionAnswering"], ["qa-xlm-roberta-unigram", "XLMRobertaForQuestionAnswering"]];

for (const [name, cls] of NER) {
  test(`${name}: ids and offsets == Hugging Face's; tokenLogits == ${cls} (<= ${BOUND}); entities == the pipeline's, from its logits and from ours`, async () => {
    const f = familyJson(name);
    const { model } = await load(name);
    assert.is(model.task, "token-classification");
    assert.equal(model.labels, f.labels);
    const vocab = { labels: f.labels, unkId: model.specialTokenIds().unk, tokenString: (id: number) => model.tokenString(id), kind: model.tokenizerKind() };
    let compared = 0;
    for (const c of f.cases as NerCase[]) {
      const what = `${name} ${JSON.stringify(c.text.slice(0, 40))}`;
      const enc = model.tokenize(c.text);
      assert.equal(enc.inputIds, c.input_ids, `${what}: ids`);
      assert.equal(enc.offsets, c.offsets, `${what}: offsets`);
      model.tokenLogits(c.input_ids).forEach((l, t) => close(l, c.logits64[t], `${what}: token ${t}`));
      const t = { text: c.text, ids: enc.inputIds, offsets: enc.offsets, offsetsUtf16: enc.offsetsUtf16, specialTokensMask: enc.specialTokensMask };
      for (const [aggregation, want] of Object.entries(c.outputs)) {
        sameList(tokenClassification(t, c.logits, vocab, { aggregation: aggregation as Aggregation }), want, `${what} ${aggregation} (a)`);
        sameList(model.tokenClassify(c.text, { aggregation: aggregation as Aggregation }), want, `${what} ${aggregation} (b)`);
        compared++;
      }
    }
    assert.ok(compared >= 50, `${compared} outputs compared`);
  });
}

for (const [name, cls] of QA) {
  test(`${name}: windows (<s> q </s></s> c </s>, stride) == Hugging Face's; spanLogits == ${cls} (<= ${BOUND}); answers == the pipeline's`, async () => {
    const f = familyJson(name);
    const { model } = await load(name);
    assert.is(model.task, "question-answering");
    const { cls: clsId, sep } = model.specialTokenIds();
    const sp = { clsId, sepId: sep, secondType: 0, middle: [sep, sep] };
    for (const c of f.cases as QaCase[]) {
      const o = c.options;
      const what = `${name} ${JSON.stringify(c.question)} ${JSON.stringify(o)}`;
      const q = model.tokenizeAll(c.question), ctx = model.tokenizeAll(c.context);
      assert.ok(ctx.words && ctx.words.length === ctx.ids.length, `${what}: word ids`);
      const ws = windows(q.ids, ctx.ids.length, sp, windowOptions(model.maxLen, { maxSeqLen: o.max_seq_len, docStride: o.doc_stride }));
      fillWindows(ws, ctx.ids);
      assert.equal(ws.map((w) => w.inputIds), c.windows.map((w) => w.input_ids), `${what}: window ids`);
      ws.forEach((w, i) => {
        const { start, end } = model.spanLogits(w.inputIds);
        close(start, c.windows[i].start_logits64, `${what}: window ${i} start`);
        close(end, c.windows[i].end_logits64, `${what}: window ${i} end`);
      });
      const opts = { topK: o.top_k, maxAnswerLen: o.max_answer_len, handleImpossibleAnswer: o.handle_impossible_answer };
      const fromHf = answers(c.context, { ...ctx, words: ctx.words! }, ws, c.windows.map((w) => ({ start: w.start_logits, end: w.end_logits })), sp, opts);
      sameList(fromHf, c.expected, `${what} (a)`);
      const got = model.answer(c.question, c.context, { ...opts, maxSeqLen: o.max_seq_len, docStride: o.doc_stride });
      sameList((o.top_k ?? 1) === 1 ? [got as Answer] : (got as Answer[]), c.expected, `${what} (b)`);
    }
  });
}

test("CLI: run --json on a RoBERTa NER model and an XLM-R QA model prints the pipelines' entities and answer", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "axf-family-tasks-"));
  try {
    const ner = join(tmp, "ner.axf"), qa = join(tmp, "qa.axf");
    writeFileSync(ner, (await load("ner-roberta-bpe")).bytes);
    writeFileSync(qa, (await load("qa-xlm-roberta-unigram")).bytes);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, ["bin/axformer.js", "run", ...args], { cwd: ROOT, encoding: "utf8" });
      assert.is(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const n = (familyJson("ner-roberta-bpe").cases as NerCase[])[2];
    sameList(run(ner, "--json", n.text, "--aggregation", "first").entities, n.outputs.first, "CLI first");
    const q = (familyJson("qa-xlm-roberta-unigram").cases as QaCase[]).find((c) => Object.keys(c.options).length === 0)!;
    sameList([run(qa, "--json", q.question, q.context)], q.expected, "CLI answer");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
