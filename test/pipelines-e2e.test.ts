// Layer (b) of the pipeline tests: the fixture folders of test/fixtures/pipelines
// converted by our converter and run by our runtime, through the library
// (model.tokenClassify / model.answer), the CLI (`axformer run --json`) and HTTP
// (`axformer serve`: POST /ner, POST /qa); the outputs must be Hugging Face's
// pipelines' (scores to 1e-5: our logits differ from PyTorch's float32 ones by about
// 1e-6; everything else exactly).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError, type LoadedModel } from "../host/runtime/index.ts";
import type { Aggregation, Entity } from "../host/runtime/token-classification.ts";
import type { Answer } from "../host/runtime/question-answering.ts";
import { serve } from "../host/deploy/server.ts";

const DIR = fileURLToPath(new URL("./fixtures/pipelines/", import.meta.url));
const ROOT = fileURLToPath(new URL("../", import.meta.url));

interface NerCase { text: string; outputs: Record<string, Entity[]>; ignore_labels?: string[] }
interface QaCase { question: string; context: string; options: { top_k?: number; max_seq_len?: number; doc_stride?: number; max_answer_len?: number; handle_impossible_answer?: boolean }; expected: Answer[] }

function cases<T>(name: string): T[] {
  return JSON.parse(readFileSync(join(DIR, name, "cases.json"), "utf8")).cases;
}

async function converted(name: string): Promise<{ model: LoadedModel; bytes: Uint8Array }> {
  const bytes = writeModel(await convertHfDir(join(DIR, name)));
  return { model: (await loadEngine()).loadModel(bytes), bytes };
}

function close(got: number, want: number, what: string): void {
  if (!(Math.abs(got - want) <= 1e-5)) assert.unreachable(`${what}: score ${got}, Hugging Face ${want}`);
}

function sameList<T extends { score: number }>(got: T[], want: T[], what: string): void {
  const strip = (xs: T[]) => xs.map(({ score: _s, ...rest }) => rest);
  assert.equal(strip(got), strip(want), what);
  got.forEach((e, i) => close(e.score, want[i].score, `${what} #${i}`));
}

const NER = ["ner-bert-uncased", "ner-distilbert-cased"];
const QA = ["qa-bert-uncased", "qa-distilbert-cased"];

for (const name of NER) {
  test(`token classification (b): ${name} converted and run by our runtime -> the pipeline's entities`, async () => {
    const { model } = await converted(name);
    assert.is(model.task, "token-classification");
    for (const c of cases<NerCase>(name)) {
      for (const [aggregation, want] of Object.entries(c.outputs)) {
        sameList(model.tokenClassify(c.text, { aggregation: aggregation as Aggregation, ignoreLabels: c.ignore_labels }), want, `${name} ${aggregation} ${JSON.stringify(c.text.slice(0, 40))}`);
      }
    }
    assert.throws(() => model.answer("q", "c"), (e: Error) => e instanceof AxformerError && /question-answering/.test(e.message));
  });
}

for (const name of QA) {
  test(`question answering (b): ${name} converted and run by our runtime -> the pipeline's answers`, async () => {
    const { model } = await converted(name);
    assert.is(model.task, "question-answering");
    for (const c of cases<QaCase>(name)) {
      const o = c.options;
      const got = model.answer(c.question, c.context, { topK: o.top_k, maxSeqLen: o.max_seq_len, docStride: o.doc_stride, maxAnswerLen: o.max_answer_len, handleImpossibleAnswer: o.handle_impossible_answer });
      sameList((o.top_k ?? 1) === 1 ? [got as Answer] : (got as Answer[]), c.expected, `${name} ${JSON.stringify(c.question)} ${JSON.stringify(o)}`);
    }
    assert.throws(() => model.tokenClassify("x"), (e: Error) => e instanceof AxformerError && /token-classification/.test(e.message));
  });
}

test("CLI: axformer run --json prints {entities} and {answer, score, start, end}", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "axf-pipelines-"));
  try {
    const ner = join(tmp, "ner.axf"), qa = join(tmp, "qa.axf");
    writeFileSync(ner, (await converted(NER[0])).bytes);
    writeFileSync(qa, (await converted(QA[0])).bytes);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, ["bin/axformer.js", "run", ...args], { cwd: ROOT, encoding: "utf8" });
      assert.is(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const n = cases<NerCase>(NER[0])[1];
    const got = run(ner, "--json", n.text, "--aggregation", "simple");
    assert.equal(Object.keys(got), ["entities"]);
    sameList(got.entities, n.outputs.simple, "CLI simple");
    sameList(run(ner, "--json", n.text).entities, n.outputs.none, "CLI none");
    const q = cases<QaCase>(QA[0]).find((c) => Object.keys(c.options).length === 0)!;
    const a = run(qa, "--json", q.question, q.context);
    assert.equal(Object.keys(a).sort(), ["answer", "end", "score", "start"]);
    sameList([a], q.expected, "CLI answer");
    const bad = spawnSync(process.execPath, ["bin/axformer.js", "run", ner, "--json", "x", "--aggregation", "mean"], { cwd: ROOT, encoding: "utf8" });
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /aggregation must be one of none, simple, first, average, max/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("HTTP: axformer serve answers POST /ner and POST /qa as the pipelines", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "axf-pipelines-"));
  try {
    const ner = join(tmp, "ner.axf"), qa = join(tmp, "qa.axf");
    writeFileSync(ner, (await converted(NER[1])).bytes);
    writeFileSync(qa, (await converted(QA[1])).bytes);
    const post = async (url: string, path: string, body: unknown) => {
      const res = await fetch(url + path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
      return { status: res.status, json: await res.json() };
    };
    for (const workers of [1, 2]) {
      const s = await serve(ner, { port: 0, workers });
      try {
        const c = cases<NerCase>(NER[1])[0];
        const r = await post(s.url, "/ner", { text: c.text, aggregation: "first" });
        assert.is(r.status, 200);
        sameList(r.json.entities, c.outputs.first, `/ner (${workers} workers)`);
        assert.is((await post(s.url, "/ner", { text: "x", aggregation: "mean" })).status, 400);
        assert.is((await post(s.url, "/qa", { question: "q", context: "c" })).status, 400);
        assert.is((await post(s.url, "/ner", { text: "x".repeat(100_001) })).status, 413);
      } finally {
        await s.close();
      }
      const t = await serve(qa, { port: 0, workers });
      try {
        for (const c of cases<QaCase>(QA[1]).slice(0, 3)) {
          const r = await post(t.url, "/qa", { question: c.question, context: c.context, ...c.options });
          assert.is(r.status, 200);
          sameList((c.options.top_k ?? 1) === 1 ? [r.json] : r.json.answers, c.expected, `/qa (${workers} workers)`);
        }
        const tooLong = await post(t.url, "/qa", { question: "the ".repeat(70), context: "x" });
        assert.is(tooLong.status, 400, JSON.stringify(tooLong.json));
        assert.match(tooLong.json.error, /leaves no room for the context/);
      } finally {
        await t.close();
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
