// The WASI command's token-classification and question-answering lines
// (assembly/wasi/pipelines.ts) against the JS library's (host/runtime/
// token-classification.ts, question-answering.ts: a second implementation of the same
// post-processing) and against Hugging Face's pipelines, on the committed fixtures of
// test/fixtures/pipelines (WordPiece) and test/fixtures/family-tasks (RoBERTa byte-level
// BPE, XLM-R Unigram). The JS and WASI outputs must agree field for field (scores
// to 1e-12: the same logits, exp from two libraries), Hugging Face's within 1e-5 as in
// pipelines-e2e.test.ts. The wasm runs in-process under node:wasi, the way
// host/deploy/wasi/run.mjs runs it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { WASI } from "node:wasi";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import type { Aggregation, Entity } from "../host/runtime/token-classification.ts";
import type { Answer } from "../host/runtime/question-answering.ts";
import { qaJson } from "../host/api/pipelines.ts";
import { familyFolder, familyJson } from "./helpers/family-fixture.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIR = join(ROOT, "test/fixtures/pipelines");
const tmp = mkdtempSync(join(tmpdir(), "axf-wasi-pipelines-"));
let wasm: WebAssembly.Module;

interface NerCase { text: string; outputs: Record<string, Entity[]>; ignore_labels?: string[] }
interface QaCase { question: string; context: string; options: { top_k?: number; max_seq_len?: number; doc_stride?: number; max_answer_len?: number; handle_impossible_answer?: boolean }; expected: Answer[] }

test.before(() => {
  wasm = new WebAssembly.Module(readFileSync(join(ROOT, "build/axformer-wasi.wasm")));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// test/fixtures/pipelines (WordPiece), or test/fixtures/family-tasks for the byte-level
// BPE (RoBERTa) and Unigram (XLM-R) models
const family = (name: string) => /roberta/.test(name);

function cases<T>(name: string): T[] {
  return family(name) ? familyJson(name).cases : JSON.parse(readFileSync(join(DIR, name, "cases.json"), "utf8")).cases;
}

async function converted(name: string): Promise<{ model: LoadedModel; file: string }> {
  const bytes = writeModel(await convertHfDir(family(name) ? familyFolder(name) : join(DIR, name)));
  const file = join(tmp, `${name}.axf`);
  writeFileSync(file, bytes);
  return { model: (await loadEngine()).loadModel(bytes), file };
}

// The command's exit code and its stdout lines, parsed.
function wasi(args: string[]): { code: number; lines: any[]; stderr: string } {
  const out = join(tmp, "stdout"), err = join(tmp, "stderr");
  const fdOut = openSync(out, "w"), fdErr = openSync(err, "w");
  let code: number;
  try {
    const w = new WASI({ version: "preview1", args: ["axformer-wasi", ...args], env: {}, preopens: { [tmp]: tmp }, stdout: fdOut, stderr: fdErr, returnOnExit: true });
    code = w.start(new WebAssembly.Instance(wasm, { wasi_snapshot_preview1: w.wasiImport as WebAssembly.ModuleImports }));
  } finally {
    closeSync(fdOut);
    closeSync(fdErr);
  }
  const lines = readFileSync(out, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  return { code, lines, stderr: readFileSync(err, "utf8") };
}

// got and want equal but for the scores, which differ by at most tol.
function same(got: unknown, want: unknown, tol: number, what: string): void {
  const scores: Array<[number, number]> = [];
  const strip = (v: any, into: number[]): any => {
    if (Array.isArray(v)) return v.map((x) => strip(x, into));
    if (v && typeof v === "object") {
      const o: any = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === "score") into.push(x as number);
        else o[k] = strip(x, into);
      }
      return o;
    }
    return v;
  };
  const a: number[] = [], b: number[] = [];
  assert.equal(strip(got, a), strip(want, b), what);
  a.forEach((x, i) => scores.push([x, b[i]]));
  for (const [x, y] of scores) if (!(Math.abs(x - y) <= tol)) assert.unreachable(`${what}: score ${x}, want ${y}`);
}

for (const name of ["ner-bert-uncased", "ner-distilbert-cased", "ner-roberta-bpe", "ner-xlm-roberta-unigram"]) {
  test(`WASI token classification: ${name}, every aggregation, the JS library's entities and Hugging Face's`, async () => {
    const { model, file } = await converted(name);
    const all = cases<NerCase>(name);
    // one run per aggregation and ignore list, every text of that group as an argument
    const groups = new Map<string, NerCase[]>();
    for (const c of all) {
      const key = JSON.stringify(c.ignore_labels ?? null);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    let checked = 0;
    for (const [key, group] of groups) {
      const ignore: string[] | null = JSON.parse(key);
      for (const aggregation of new Set(group.flatMap((c) => Object.keys(c.outputs)))) {
        const args = [file, "--aggregation", aggregation, ...(ignore ? ["--ignore-labels", ignore.join(",")] : []), "--", ...group.map((c) => c.text)];
        const r = wasi(args);
        assert.is(r.code, 0, r.stderr);
        assert.is(r.lines.length, group.length);
        group.forEach((c, i) => {
          if (!(aggregation in c.outputs)) return;
          const what = `${name} ${aggregation} ${JSON.stringify(c.text.slice(0, 40))}`;
          const js = model.tokenClassify(c.text, { aggregation: aggregation as Aggregation, ignoreLabels: ignore ?? undefined });
          same(r.lines[i], { entities: js }, 1e-12, `${what}: the JS library`);
          same(r.lines[i].entities, c.outputs[aggregation], 1e-5, `${what}: Hugging Face`);
          checked++;
        });
      }
    }
    assert.is(checked, all.reduce((n, c) => n + Object.keys(c.outputs).length, 0));
  });
}

for (const name of ["qa-bert-uncased", "qa-distilbert-cased", "qa-roberta-bpe", "qa-xlm-roberta-unigram"]) {
  test(`WASI question answering: ${name}, every case's options, the JS library's answers and Hugging Face's`, async () => {
    const { model, file } = await converted(name);
    for (const c of cases<QaCase>(name)) {
      const o = c.options;
      const opts = { topK: o.top_k, maxSeqLen: o.max_seq_len, docStride: o.doc_stride, maxAnswerLen: o.max_answer_len, handleImpossibleAnswer: o.handle_impossible_answer };
      const args = [file];
      if (o.top_k !== undefined) args.push("--top-k", String(o.top_k));
      if (o.max_seq_len !== undefined) args.push("--max-seq-len", String(o.max_seq_len));
      if (o.doc_stride !== undefined) args.push("--doc-stride", String(o.doc_stride));
      if (o.max_answer_len !== undefined) args.push("--max-answer-len", String(o.max_answer_len));
      if (o.handle_impossible_answer) args.push("--handle-impossible-answer");
      const r = wasi([...args, "--", c.question, c.context]);
      const what = `${name} ${JSON.stringify(c.question)} ${JSON.stringify(o)}`;
      assert.is(r.code, 0, `${what}: ${r.stderr} ${JSON.stringify(r.lines)}`);
      assert.is(r.lines.length, 1);
      same(r.lines[0], qaJson(model.answer(c.question, c.context, opts)), 1e-12, `${what}: the JS library`);
      same((o.top_k ?? 1) === 1 ? [r.lines[0]] : r.lines[0].answers, c.expected, 1e-5, `${what}: Hugging Face`);
    }
  });
}

test("WASI question answering: stdin lines question TAB context, errors as {error} lines, options checked", async () => {
  const { model, file } = await converted("qa-bert-uncased");
  const c = cases<QaCase>("qa-bert-uncased")[0];
  const input = `${c.question}\t${c.context}\nno tab here\n${"why ".repeat(40)}\t${c.context}\n`;
  const r = spawnSync(process.execPath, [join(ROOT, "host/deploy/wasi/run.mjs"), file, "--max-seq-len", "32"], { input, encoding: "utf8" });
  assert.is(r.status, 1, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.is(lines.length, 3);
  same(lines[0], qaJson(model.answer(c.question, c.context, { maxSeqLen: 32 })), 1e-12, "line 1");
  assert.match(lines[1].error, /no TAB/);
  assert.throws(() => model.answer("why ".repeat(40), c.context, { maxSeqLen: 32 }), /leaves no room for the context/);
  assert.match(lines[2].error, /the question \(40 tokens\) leaves no room for the context in a window of 32 tokens/);
  const odd = wasi([file, "only a question"]);
  assert.is(odd.code, 2);
  assert.match(odd.stderr, /two at a time \(question, context\)/);
  const big = wasi([file, "--max-seq-len", "100000", "q", "c"]);
  assert.is(big.code, 1);
  assert.match(big.lines[0].error, /maxSeqLen 100000 is more than the model's max_len/);
  const bad = wasi([file, "--top-k", "0", "q", "c"]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--top-k must be an integer from 1/);
});

test("WASI token classification: --ignore-labels lists, stdin lines, Bun; an unknown aggregation is refused, --pair too", async () => {
  const { model, file } = await converted("ner-bert-uncased");
  const texts = cases<NerCase>("ner-bert-uncased").map((c) => c.text.replaceAll("\n", " ")).filter((t) => t.trim() !== "");
  for (const ignore of [["O", "MONEY"], ["B-PER", "I-PER", "O"], ["", "O"]]) {
    const r = wasi([file, "--aggregation", "first", "--ignore-labels", ignore.join(","), "--", ...texts]);
    assert.is(r.code, 0, r.stderr);
    texts.forEach((t, i) => same(r.lines[i], { entities: model.tokenClassify(t, { aggregation: "first", ignoreLabels: ignore }) }, 1e-12, `${ignore} ${t}`));
  }
  const stdin = spawnSync(process.execPath, [join(ROOT, "host/deploy/wasi/run.mjs"), file, "--aggregation", "max"], { input: texts.join("\n") + "\n", encoding: "utf8" });
  assert.is(stdin.status, 0, stdin.stderr);
  const lines = stdin.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.is(lines.length, texts.length);
  texts.forEach((t, i) => same(lines[i], { entities: model.tokenClassify(t, { aggregation: "max" }) }, 1e-12, `stdin ${t}`));
  const bun = join(createRequire(import.meta.url).resolve("bun/package.json"), "../bin/bun.exe");
  const b = spawnSync(bun, [join(ROOT, "build/axformer-wasi.wasm"), file, "--aggregation", "simple", texts[0]], { encoding: "utf8", cwd: tmp });
  assert.is(b.status, 0, b.stderr);
  same(JSON.parse(b.stdout), { entities: model.tokenClassify(texts[0], { aggregation: "simple" }) }, 1e-12, "bun");

  const r = wasi([file, "--aggregation", "mean", "x"]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--aggregation must be one of none, simple, first, average, max, got mean/);
  const p = wasi([file, "--pair", "a", "b"]);
  assert.is(p.code, 2);
  assert.match(p.stderr, /one text per input/);
});

test.run();
