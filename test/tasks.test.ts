// Issue 15's tasks end to end: folders written by save_pretrained and by
// sentence-transformers itself (test/fixtures/tasks, scripts/parity/make_fixtures.py
// --tasks) are converted, written, loaded into the wasm runtime and run; the outputs
// must match the float64 references of transformers / sentence-transformers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { convertHfDir, ConvertError } from "../host/convert/index.ts";
import { writeModel, writeModelUnchecked } from "../host/format/writer.ts";
import { readModel } from "../host/format/read.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError, type LoadedModel } from "../host/runtime/index.ts";
import type { Storage } from "../host/model/model.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/tasks/", import.meta.url));
const ROOT = fileURLToPath(new URL("../", import.meta.url));
// f32 storage: only f32 rounding separates the runtime from the float64 references.
const BOUND = 1e-4;

const tmp = mkdtempSync(join(tmpdir(), "axformer-tasks-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const golden = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name, "golden.json"), "utf8"));

async function load(dir: string, storage: Storage = "f32"): Promise<LoadedModel> {
  const engine = await loadEngine();
  return engine.loadModel(await writeModel(await convertHfDir(dir, { storage })));
}

function close(got: ArrayLike<number>, want: number[], what: string, bound = BOUND): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= bound)) assert.unreachable(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|diff| ${d} > ${bound})`);
  }
}

// A variant of the sentence-transformers folder: the saved folder with the files
// golden.json lists replaced (and the encoder moved to a subfolder for the legacy layout).
interface Variant { name: string; files: Record<string, unknown>; moved_to: string | null; embeddings: number[][] }
function variantDir(v: Variant): string {
  const d = join(tmp, `st-${v.name}`);
  cpSync(join(FIXTURES, "st-bert"), d, { recursive: true });
  rmSync(join(d, "golden.json"));
  if (v.moved_to) {
    mkdirSync(join(d, v.moved_to));
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) renameSync(join(d, f), join(d, v.moved_to, f));
    rmSync(join(d, "sentence_bert_config.json"));
  }
  if (!(v.files["modules.json"] as unknown[]).some((m) => (m as { path: string }).path.endsWith("Normalize"))) rmSync(join(d, "2_Normalize"), { recursive: true });
  for (const [f, obj] of Object.entries(v.files)) writeFileSync(join(d, f), JSON.stringify(obj));
  return d;
}

const st = golden("st-bert");
for (const v of st.variants as Variant[]) {
  test(`sentence-transformers ${v.name}: embed() matches SentenceTransformer.encode (<= ${BOUND})`, async () => {
    const m = await load(variantDir(v));
    assert.is(m.task, "embedding");
    assert.is(m.embeddingSize, v.embeddings[0].length);
    const got = m.embed(st.texts);
    got.forEach((e, i) => close(e, v.embeddings[i], `${v.name} text ${i}`));
    // The same on the ids sentence-transformers' tokenizer made (max_seq_length 24;
    // the legacy variant's 20 truncates the long text differently).
    if (!v.moved_to) m.embedIds(st.input_ids).forEach((e: Float32Array, i: number) => close(e, v.embeddings[i], `${v.name} ids ${i}`));
  });
}

test("embeddings: a batch gives each text's own embedding bit for bit, in input order", async () => {
  const m = await load(variantDir((st.variants as Variant[]).find((v) => v.name === "cls-mean-max")!));
  const texts = [...st.texts, ...st.texts.slice().reverse(), "hello world", "one more text"];
  const batch = m.embed(texts);
  texts.forEach((t, i) => assert.equal(Array.from(batch[i]), Array.from(m.embed([t])[0]), `text ${i}`));
  assert.equal(m.embed([]), []);
});

test("bare DistilBertModel folder: mean pooling, said in a warning, matches sentence-transformers' default", async () => {
  const dir = join(FIXTURES, "distilbert-base");
  const g = golden("distilbert-base");
  const model = await convertHfDir(dir);
  const warnings = (model.meta.source as { warnings?: string[] }).warnings ?? [];
  assert.ok(warnings.some((w) => /mean pooling/.test(w)), JSON.stringify(warnings));
  assert.equal(model.config.pooling, ["mean"]);
  const m = (await loadEngine()).loadModel(await writeModel(model));
  m.embed(g.texts).forEach((e, i) => close(e, g.embeddings[i], `text ${i}`));
  m.embedIds(g.input_ids).forEach((e, i) => close(e, g.embeddings[i], `ids ${i}`));
});

for (const name of ["bert-token", "distilbert-token"]) {
  test(`${name}: tokenLogits match ${name.startsWith("bert") ? "Bert" : "DistilBert"}ForTokenClassification (<= ${BOUND})`, async () => {
    const g = golden(name);
    const m = await load(join(FIXTURES, name));
    assert.is(m.task, "token-classification");
    assert.equal(m.labels, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
    for (const [i, c] of g.cases.entries()) {
      const got = m.tokenLogits(c.input_ids, c.token_type_ids);
      assert.is(got.length, c.input_ids.length);
      got.forEach((l, t) => close(l, c.logits[t], `case ${i} token ${t}`));
      assert.equal(m.tokenize(g.texts[i]).inputIds, c.input_ids, `case ${i}: tokenizer`);
    }
  });
}

for (const name of ["bert-qa", "distilbert-qa"]) {
  test(`${name}: spanLogits match ${name.startsWith("bert") ? "Bert" : "DistilBert"}ForQuestionAnswering (<= ${BOUND})`, async () => {
    const g = golden(name);
    const m = await load(join(FIXTURES, name));
    assert.is(m.task, "question-answering");
    for (const [i, c] of g.cases.entries()) {
      const { start, end } = m.spanLogits(c.input_ids, c.token_type_ids);
      close(start, c.start_logits, `case ${i} start`);
      close(end, c.end_logits, `case ${i} end`);
      const [q, ctx] = g.texts[i];
      const enc = m.tokenize(q, ctx);
      assert.equal(enc.inputIds, c.input_ids, `case ${i}: tokenizer`);
    }
  });
}

test("f16 and int8 storage run every head (close to f32)", async () => {
  const cases: [string, (m: LoadedModel) => number[]][] = [
    ["bert-token", (m) => m.tokenLogits(golden("bert-token").cases[1].input_ids).flatMap((l) => Array.from(l))],
    ["distilbert-qa", (m) => { const s = m.spanLogits(golden("distilbert-qa").cases[0].input_ids); return [...s.start, ...s.end]; }],
    ["distilbert-base", (m) => Array.from(m.embed(["the movie was great fun"])[0])],
  ];
  for (const [name, run] of cases) {
    const ref = run(await load(join(FIXTURES, name)));
    for (const storage of ["f16", "int8"] as Storage[]) {
      const got = run(await load(join(FIXTURES, name), storage));
      const scale = Math.max(...ref.map(Math.abs));
      close(got, ref, `${name} ${storage}`, (storage === "f16" ? 2e-2 : 0.2) * Math.max(1, scale));
    }
  }
});

test("a converted task model round-trips through the file (task, pooling, normalize, head tensors)", async () => {
  for (const dir of [variantDir((st.variants as Variant[])[7]), join(FIXTURES, "bert-qa"), join(FIXTURES, "distilbert-token")]) {
    const model = await convertHfDir(dir);
    const back = readModel(await writeModel(model), (await loadEngine()).exports);
    assert.equal({ ...back.config, layerNormEps: Math.fround(back.config.layerNormEps) }, { ...model.config, layerNormEps: Math.fround(model.config.layerNormEps) });
    assert.equal([...back.tensors.keys()].sort(), [...model.tensors.keys()].sort());
  }
});

test("each call refuses a model of another task, naming both tasks and what the model offers", async () => {
  const emb = await load(join(FIXTURES, "distilbert-base"));
  const qa = await load(join(FIXTURES, "bert-qa"));
  const tok = await load(join(FIXTURES, "bert-token"));
  const throwsTask = (fn: () => unknown, re: RegExp) => assert.throws(() => fn(), (e: Error) => e instanceof AxformerError && re.test(e.message));
  throwsTask(() => emb.classify("hello"), /classify: the model's task is embedding, not sequence-classification; it offers embed\(texts\)/);
  throwsTask(() => emb.classifyBatch(["hello"]), /classifyBatch: the model's task is embedding/);
  throwsTask(() => qa.classifyIds([7, 8]), /logits: the model's task is question-answering.*spanLogits/);
  throwsTask(() => qa.embed(["x"]), /embed: the model's task is question-answering/);
  throwsTask(() => emb.tokenLogits([7, 8]), /tokenLogits: the model's task is embedding/);
  throwsTask(() => tok.spanLogits([7, 8]), /spanLogits: the model's task is token-classification.*tokenLogits/);
  throwsTask(() => emb.embed("hello" as unknown as string[]), /embed: texts must be an array/);
  throwsTask(() => emb.embedIds([[7, 8], [7, 100000]]), /embedIds: idsList\[1\]: input id 100000 at position 1 is out of range/);
});

test("the reader refuses task words that disagree with the head (CONFIG task, pooling, normalize, num_labels)", async () => {
  const engine = await loadEngine();
  const emb = await convertHfDir(join(FIXTURES, "distilbert-base"));
  const tok = await convertHfDir(join(FIXTURES, "bert-token"));
  const qa = await convertHfDir(join(FIXTURES, "bert-qa"));
  const cases: [typeof emb, Partial<typeof emb.config>, RegExp][] = [
    [emb, { pooling: [] }, /CONFIG\.pooling = 0 is out of range 1\.\.63/],
    [emb, { numLabels: 1 }, /CONFIG\.num_labels = 1 is out of range 0\.\.0/],
    [tok, { normalize: true }, /CONFIG\.normalize = 1 is out of range 0\.\.0/],
    [tok, { pooling: ["mean"] }, /CONFIG\.pooling = 4 is out of range 0\.\.0/],
    [tok, { hasPooler: true }, /CONFIG\.has_pooler = 1 is out of range 0\.\.0/],
    [tok, { problemType: "regression" }, /CONFIG\.(num_labels|problem_type) = \d+ is out of range/],
    [qa, { numLabels: 3 }, /CONFIG\.num_labels = 3 is out of range 2\.\.2/],
    [qa, { task: undefined }, /tensor 'qa_outputs\.weight' is not part of this model|'classifier\.weight'/],
  ];
  for (const [m, change, re] of cases) {
    const bytes = writeModelUnchecked({ ...m, config: { ...m.config, ...change } });
    assert.throws(() => engine.loadModel(bytes), (e: Error) => re.test(e.message), `${JSON.stringify(change)}`);
    assert.throws(() => writeModel({ ...m, config: { ...m.config, ...change } }), /invalid model/, `writer: ${JSON.stringify(change)}`);
  }
});

// ---- converter refusals name the file and the field

function stWith(files: Record<string, unknown>): string {
  const d = mkdtempSync(join(tmp, "bad-"));
  cpSync(join(FIXTURES, "st-bert"), d, { recursive: true });
  for (const [f, obj] of Object.entries(files)) {
    mkdirSync(dirname(join(d, f)), { recursive: true });
    writeFileSync(join(d, f), typeof obj === "string" ? obj : JSON.stringify(obj));
  }
  return d;
}

test("unsupported sentence-transformers folders and heads are refused, naming the file and the field", async () => {
  const modules = JSON.parse(readFileSync(join(FIXTURES, "st-bert", "modules.json"), "utf8"));
  const refuses = async (dir: string, re: RegExp) => {
    try {
      await convertHfDir(dir);
    } catch (e) {
      assert.ok(e instanceof ConvertError && re.test((e as Error).message), (e as Error).message);
      return;
    }
    assert.unreachable(`converted ${dir}`);
  };
  await refuses(stWith({ "modules.json": [...modules.slice(0, 2), { idx: 2, name: "2", path: "2_Dense", type: "sentence_transformers.models.Dense" }] }),
    /modules\.json: module 2: field type is "sentence_transformers\.models\.Dense"/);
  await refuses(stWith({ "modules.json": modules.slice(0, 1) }), /modules\.json: lists 1 module/);
  await refuses(stWith({ "1_Pooling/config.json": { embedding_dimension: 16, pooling_mode: ["mean", "cls"] } }), /1_Pooling\/config\.json: field pooling_mode .*order/);
  await refuses(stWith({ "1_Pooling/config.json": { embedding_dimension: 16, pooling_mode: "attention" } }), /1_Pooling\/config\.json: field pooling_mode has mode "attention"/);
  await refuses(stWith({ "1_Pooling/config.json": { embedding_dimension: 32, pooling_mode: "mean" } }), /1_Pooling\/config\.json: field embedding_dimension is 32 but the encoder's hidden size is 16/);
  await refuses(stWith({ "modules.json": [{ ...modules[0], path: "../elsewhere" }, ...modules.slice(1)] }), /modules\.json: module 0: field path is "\.\.\/elsewhere"/);
  await refuses(stWith({ "sentence_bert_config.json": { max_seq_length: "long" } }), /sentence_bert_config\.json: field max_seq_length/);
  const qa = mkdtempSync(join(tmp, "qa3-"));
  cpSync(join(FIXTURES, "bert-qa"), qa, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(qa, "config.json"), "utf8"));
  writeFileSync(join(qa, "config.json"), JSON.stringify({ ...cfg, id2label: { 0: "a", 1: "b", 2: "c" }, label2id: undefined }));
  await refuses(qa, /config\.json: field id2label gives 3 labels; BertForQuestionAnswering's qa_outputs has 2 outputs/);
  writeFileSync(join(qa, "config.json"), JSON.stringify({ ...cfg, architectures: ["BertForMaskedLM"] }));
  await refuses(qa, /config\.json: field architectures is "BertForMaskedLM"; supported: .*BertForQuestionAnswering/);
});

test("a sentence-transformers encoder saved with a head class (BertForMaskedLM) converts as its bare encoder, as AutoModel loads it", async () => {
  const cfg = JSON.parse(readFileSync(join(FIXTURES, "st-bert", "config.json"), "utf8"));
  const d = stWith({ "config.json": { ...cfg, architectures: ["BertForMaskedLM"] } });
  const model = await convertHfDir(d);
  assert.is(model.config.task, "embedding");
  assert.is((model.meta.source as { architecture: string }).architecture, "BertForMaskedLM");
});

test("legacy max_seq_length and do_lower_case of sentence_bert_config.json reach the tokenizer", async () => {
  const d = stWith({ "sentence_bert_config.json": { max_seq_length: 6, do_lower_case: true } });
  const model = await convertHfDir(d);
  assert.is(model.config.tokenizer.maxLen, 6);
  assert.is(model.config.tokenizer.doLowerCase, true);
});

// ---- CLI: `axformer run <file> --json --ids ...` prints by task (the exact forms of issue 15)

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ["bin/axformer.js", ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("CLI run --json --ids: {embedding}, {logits, labels}, {start_logits, end_logits}; text form {embedding}", async () => {
  const files: Record<string, string> = {};
  for (const name of ["distilbert-base", "bert-token", "bert-qa"]) {
    files[name] = join(tmp, `${name}.axf`);
    const r = cli(["convert", join(FIXTURES, name), "-o", files[name]]);
    assert.is(r.code, 0, r.err);
    if (name === "distilbert-base") assert.match(r.err, /axformer: warning: .*mean pooling/);
  }
  const emb = golden("distilbert-base");
  let r = cli(["run", files["distilbert-base"], "--json", "--ids", emb.input_ids[1].join(",")]);
  assert.is(r.code, 0, r.err);
  const e = JSON.parse(r.out);
  assert.equal(Object.keys(e), ["embedding"]);
  close(e.embedding, emb.embeddings[1], "cli embedding");
  r = cli(["run", files["distilbert-base"], "--json", emb.texts[1]]);
  assert.equal(Object.keys(JSON.parse(r.out)), ["embedding"]);
  close(JSON.parse(r.out).embedding, emb.embeddings[1], "cli text embedding");

  const tok = golden("bert-token").cases[3];
  r = cli(["run", files["bert-token"], "--json", "--ids", tok.input_ids.join(","), "--type-ids", tok.token_type_ids.join(",")]);
  assert.is(r.code, 0, r.err);
  const t = JSON.parse(r.out);
  assert.equal(Object.keys(t), ["logits", "labels"]);
  assert.is(t.logits.length, tok.input_ids.length);
  t.logits.forEach((l: number[], i: number) => close(l, tok.logits[i], `cli token ${i}`));
  const names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
  assert.equal(t.labels, tok.logits.map((l: number[]) => names[l.indexOf(Math.max(...l))]));

  const qa = golden("bert-qa").cases[2];
  r = cli(["run", files["bert-qa"], "--json", "--ids", qa.input_ids.join(","), "--type-ids", qa.token_type_ids.join(",")]);
  assert.is(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(Object.keys(s), ["start_logits", "end_logits"]);
  close(s.start_logits, qa.start_logits, "cli start");
  close(s.end_logits, qa.end_logits, "cli end");
});

// ---- HTTP: `axformer serve` (in worker threads: the pool's thread path) and the Worker share the handler

test("axformer serve: POST /embed gives embed()'s vectors; /health says the task; /classify is refused", async () => {
  const { serve } = await import("../host/deploy/server.ts");
  const file = join(tmp, "serve-embed.axf");
  writeFileSync(file, await writeModel(await convertHfDir(join(FIXTURES, "distilbert-base"))));
  const g = golden("distilbert-base");
  for (const workers of [1, 2]) {
    const running = await serve(file, { port: 0, workers });
    try {
      assert.is(running.route, "/embed");
      const health = await (await fetch(`${running.url}/health`)).json();
      assert.is(health.task, "embedding");
      const res = await fetch(`${running.url}/embed`, { method: "POST", body: JSON.stringify({ texts: g.texts }) });
      assert.is(res.status, 200);
      const body = await res.json();
      assert.equal(Object.keys(body), ["embeddings"]);
      body.embeddings.forEach((e: number[], i: number) => close(e, g.embeddings[i], `workers ${workers} text ${i}`));
      const bad = await fetch(`${running.url}/classify`, { method: "POST", body: JSON.stringify({ text: "a" }) });
      assert.is(bad.status, 400);
      assert.match((await bad.json()).error, /this model's task is embedding: use POST \/embed/);
    } finally {
      await running.close();
    }
  }
});

test("WASI: an embedding model prints {embedding} JSON lines, the same numbers as the JS host", async () => {
  const file = join(tmp, "wasi-embed.axf");
  writeFileSync(file, await writeModel(await convertHfDir(join(FIXTURES, "distilbert-base"))));
  const g = golden("distilbert-base");
  const r = spawnSync(process.execPath, [join(ROOT, "host/deploy/wasi/run.mjs"), file], { input: g.texts.join("\n") + "\n", encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const js = (await loadEngine()).loadModel(readFileSync(file)).embed(g.texts);
  assert.is(lines.length, g.texts.length);
  lines.forEach((l, i) => {
    assert.equal(Object.keys(l), ["embedding"]);
    assert.equal(l.embedding, Array.from(js[i]), `text ${i}: the JS host's numbers`);
    close(l.embedding, g.embeddings[i], `text ${i}`);
  });
});

test.run();
