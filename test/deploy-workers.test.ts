// `axformer deploy workers` (host/deploy/workers.ts): the generated project is
// bundled by the pinned wrangler (`deploy --dry-run`, offline) and the bundle runs
// on the real workerd through Miniflare's API. Checked: the API against the
// runtime in Node, the error replies, the 128 MB isolate limit (a model whose
// activations do not fit, refused by the generator and by the Worker), a smaller
// limit on both sides of a tiny model's need, and models read from R2 and KV.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { Miniflare } from "miniflare";
import { connect } from "node:net";
import { DEFAULT_LIMITS } from "../host/api/handler.ts";
import { deployWorkers, miniflareOptions } from "../host/deploy/workers.ts";
import { estimateIsolateBytes, MIB } from "../host/deploy/worker/memory.ts";
import { loadModelFile } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { randomModel } from "./helpers/random-model.ts";

const dir = mkdtempSync(join(tmpdir(), "axformer-workers-"));
const modelPath = join(dir, "tiny.axf");
writeFileSync(modelPath, writeModel(randomModel({ seed: 3, numLabels: 3 })));
// Small file, large activations: FFN width 65536 at 512 tokens is 128 MiB of f32 alone.
const bigPath = join(dir, "wide.axf");
writeFileSync(bigPath, writeModel(randomModel({ seed: 4, numLayers: 1, maxPosition: 512, intermediateSize: 65536 })));
const wranglerJs = join(createRequire(import.meta.url).resolve("wrangler/package.json"), "../bin/wrangler.js");
// Miniflare types its bindings with @cloudflare/workers-types, which we do not install.
type Store = { put(key: string, value: Uint8Array | ArrayBuffer): Promise<unknown> };
let ref: LoadedModel;
const open: Miniflare[] = [];

test.before(async () => {
  ref = await loadModelFile(modelPath);
});
test.after(async () => {
  await Promise.all(open.map((mf) => mf.dispose()));
  rmSync(dir, { recursive: true, force: true });
});

// `wrangler deploy --dry-run --outdir dist` in the project: what would be uploaded.
async function bundle(project: string): Promise<string> {
  const dist = join(project, "dist");
  await promisify(execFile)(process.execPath, [wranglerJs, "deploy", "--dry-run", "--outdir", dist], {
    cwd: project, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
  });
  return dist;
}

async function start(dist: string, extra: Record<string, unknown> = {}): Promise<Miniflare> {
  const mf = new Miniflare({
    ...miniflareOptions(dist),
    ...extra,
  });
  open.push(mf);
  await mf.ready;
  return mf;
}

async function call(mf: Miniflare, method: string, path: string, body?: unknown) {
  const res = await mf.dispatchFetch(`http://worker${path}`, {
    method, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

const pick = (r: { json: any }) => ({ label: r.json.label, scores: r.json.scores });
// The Worker runs the relaxed-SIMD build (fused multiply-add: one rounding less per
// term), this Node the plain one: the same label, scores within 1e-5 (f32 sums of
// O(1) terms over this tiny model; test/relaxed-simd.test.ts has the bounds).
function same(actual: Array<{ label: string; scores: number[] }>, want: Array<{ label: string; scores: number[] }>) {
  assert.is(actual.length, want.length);
  actual.forEach((a, i) => {
    assert.is(a.label, want[i].label);
    assert.ok(a.scores.length === want[i].scores.length && a.scores.every((v, k) => Math.abs(v - want[i].scores[k]) <= 1e-5),
      `scores ${a.scores} vs ${want[i].scores}`);
  });
}

function expected(text: string, pair?: string) {
  const r = ref.classify(text, pair);
  return { label: r.label, scores: r.scores };
}

let inline: Miniflare;
let inlineWasmMemory = 0; // measured by the generator

test("inline project: files, wrangler dry-run offline, bundle size in the README", async () => {
  const out = join(dir, "inline");
  const res = await deployWorkers(modelPath, out);
  assert.is(res.storage, "inline");
  assert.is(res.bundle.measuredBy, "wrangler");
  inlineWasmMemory = res.wasmMemoryBytes;
  for (const f of ["wrangler.toml", "package.json", "README.md", "src/worker.ts", "src/axformer.wasm", "src/axformer-relaxed.wasm", "src/model.axf"]) {
    assert.ok(res.files.includes(f), `missing ${f}`);
  }
  const readme = readFileSync(join(out, "README.md"), "utf8");
  assert.ok(readme.includes(`${res.bundle.uploadKiB} KiB, gzip ${res.bundle.gzipKiB} KiB`), "bundle size not in README");
  assert.ok(res.bundle.uploadKiB * 1024 > res.modelFileBytes, "the bundle must contain the model");
  const entry = readFileSync(join(out, "src/worker.ts"), "utf8");
  assert.match(entry, /import wasm from "\.\/axformer\.wasm"/);
  assert.match(readFileSync(join(out, "wrangler.toml"), "utf8"), /type = "Data"\s+globs = \["\*\*\/\*\.axf"\]/);
  assert.match(readFileSync(join(out, "package.json"), "utf8"), /"wrangler": "4\.86\.0"/);

  const dist = await bundle(out);
  const files = readdirSync(dist);
  assert.ok(files.some((f) => f.endsWith(".wasm")) && files.some((f) => f.endsWith(".axf")), files.join(", "));
  // Nothing compiles wasm from bytes at run time (workerd would refuse it).
  assert.not.match(readFileSync(join(dist, "worker.js"), "utf8"), /WebAssembly\.compile\(|new WebAssembly\.Module\(/);
  inline = await start(dist);
});

test("workerd: health; the first request loads the model once and reports its Server-Timing", async () => {
  const r = await call(inline, "GET", "/health");
  assert.is(r.status, 200);
  assert.match(r.headers.get("server-timing") ?? "", /instantiate;dur=[\d.]+, load;dur=[\d.]+, total;dur=/);
  const again = await call(inline, "GET", "/health");
  assert.is(again.headers.get("server-timing"), null);
  assert.is(r.json.model, "tiny.axf");
  assert.equal(r.json.labels, ref.labels);
  assert.is(r.json.max_len, ref.maxLen);
  assert.is(r.json.storage, "inline");
  assert.is(r.json.sizes.model_file_bytes, readFileSync(modelPath).byteLength);
  assert.is(r.json.sizes.memory_limit_bytes, 128 * MIB);
  // The relaxed-SIMD build shipped and, workerd computing it right, chosen.
  assert.is(r.json.simd.build, "relaxed", r.json.simd.reason);
});

test("workerd: classify single, pair and batch give the Node runtime's answers", async () => {
  let r = await call(inline, "POST", "/classify", { text: "this movie was great" });
  assert.is(r.status, 200);
  same([pick(r)], [expected("this movie was great")]);
  r = await call(inline, "POST", "/classify", { text: "it is good", text_pair: "it is not" });
  same([pick(r)], [expected("it is good", "it is not")]);
  r = await call(inline, "POST", "/classify", { texts: ["good", { text: "bad", text_pair: "film" }, "terrible"] });
  same(r.json.results, [expected("good"), expected("bad", "film"), expected("terrible")]);
});

test("workerd: error replies", async () => {
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ["POST", "/classify", "{not json", 400, /not valid JSON/],
    ["POST", "/classify", { texts: "a" }, 400, /"texts" must be an array/],
    ["POST", "/classify", { text: ["a"] }, 400, /"text" must be a string, got an array/],
    ["POST", "/classify", { label: "x" }, 400, /missing field "text"/],
    ["POST", "/classify", { texts: Array(65).fill("a") }, 413, /65 items; the limit is 64/],
    ["POST", "/classify", { text: "x".repeat(1 << 20) }, 413, /the limit is 1048576 bytes/],
    ["GET", "/classify", undefined, 405, /takes POST/],
    ["GET", "/", undefined, 404, /no route/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const r = await call(inline, method, path, body);
    assert.is(r.status, status, `${method} ${path} ${String(body).slice(0, 40)}`);
    assert.match(r.json.error, message);
  }
  // Still serving after all that.
  assert.is((await call(inline, "POST", "/classify", { text: "good" })).status, 200);
});

test("workerd: the wasm memory is final at load; a long text neither grows it nor gets past the limit", async () => {
  const h0 = (await call(inline, "GET", "/health")).json;
  assert.is(h0.limits.max_text_chars, DEFAULT_LIMITS.maxTextChars);
  // What the generator measured is what the Worker has: the fit checks count it all.
  assert.is(h0.sizes.wasm_memory_bytes, inlineWasmMemory);
  const words = "lorem ipsum dolor sit amet ".repeat(Math.ceil(DEFAULT_LIMITS.maxTextChars / 27));
  const longest = words.slice(0, DEFAULT_LIMITS.maxTextChars);
  let r = await call(inline, "POST", "/classify", { text: longest });
  assert.is(r.status, 200);
  same([pick(r)], [expected(longest)]);
  r = await call(inline, "POST", "/classify", { text: longest.slice(0, 60_000), text_pair: longest.slice(0, 40_000) });
  assert.is(r.status, 200);
  r = await call(inline, "POST", "/classify", { text: longest + "x" });
  assert.is(r.status, 413);
  assert.match(r.json.error, /has 100001 characters; the limit is 100000 per input/);
  r = await call(inline, "POST", "/classify", { text: "x".repeat(500_000) });
  assert.is(r.status, 413);
  assert.is((await call(inline, "GET", "/health")).json.sizes.wasm_memory_bytes, h0.sizes.wasm_memory_bytes);
});

test("workerd: a body whose chunked framing is broken gets a 400", async () => {
  const url = new URL(await inline.ready);
  for (const framing of ["zz\r\n{}\r\n0\r\n\r\n", "2;ext=1\r\n{}\r\n0\r\n\r\n"]) {
    const raw = await new Promise<string>((resolve) => {
      const sock = connect({ host: url.hostname, port: Number(url.port) });
      let got = "";
      sock.setEncoding("latin1");
      sock.on("data", (c: string) => (got += c));
      sock.on("error", () => resolve(got));
      sock.on("close", () => resolve(got));
      sock.write(`POST /classify HTTP/1.1\r\nHost: worker\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${framing}`);
    });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
    assert.ok(status >= 400 && status < 500, `${JSON.stringify(framing)}: ${raw.slice(0, 300)}`);
  }
  assert.is((await call(inline, "POST", "/classify", { text: "good" })).status, 200);
});

test("a model that does not fit in a 128 MB isolate is refused by the generator", async () => {
  try {
    await deployWorkers(bigPath, join(dir, "wide"), { measure: false });
    assert.unreachable("the generator accepted a model that needs more than 128 MiB");
  } catch (err) {
    assert.match((err as Error).message, /wide\.axf does not fit in a Worker: it needs about 1\d\d\.\d MiB .* an isolate has 128 MiB/);
  }
});

test("the same model, generated past the check, fails in workerd at 128 MiB with a clear error", async () => {
  const out = join(dir, "wide-forced");
  const res = await deployWorkers(bigPath, out, { measure: false, memoryLimitMb: 1024, storage: "inline" });
  assert.ok(res.wasmMemoryBytes > 128 * MIB);
  const mf = await start(await bundle(out)); // AXFORMER_MEMORY_LIMIT_MB unset: the real 128
  for (const [method, path, body] of [["GET", "/health", undefined], ["POST", "/classify", { text: "good" }]] as const) {
    const r = await call(mf, method, path, body);
    assert.is(r.status, 500);
    assert.match(r.json.error, /model wide\.axf does not fit in this Worker: it needs about 1\d\d\.\d MiB .* limit is 128\.0 MiB/);
  }
});

test("a smaller isolate limit: refused just below the tiny model's need, served just above", async () => {
  const dist = join(dir, "inline/dist");
  const bytes = readFileSync(modelPath).byteLength;
  const need = estimateIsolateBytes(bytes, inlineWasmMemory);
  const below = Math.floor(need / MIB * 100) / 100 - 0.01;
  const above = Math.ceil(need / MIB * 100) / 100 + 0.01;
  const tight = await start(dist, { bindings: { AXFORMER_MEMORY_LIMIT_MB: String(below) } });
  let r = await call(tight, "POST", "/classify", { text: "good" });
  assert.is(r.status, 500);
  assert.match(r.json.error, /does not fit in this Worker/);
  const roomy = await start(dist, { bindings: { AXFORMER_MEMORY_LIMIT_MB: String(above) } });
  r = await call(roomy, "POST", "/classify", { text: "good" });
  assert.is(r.status, 200);
  same([pick(r)], [expected("good")]);
});

test("r2 storage: 503 until the model is uploaded, then the same answers", async () => {
  const out = join(dir, "r2");
  const res = await deployWorkers(modelPath, out, { storage: "r2", measure: false, bucket: "test-models" });
  assert.is(res.storage, "r2");
  assert.not.ok(res.files.includes("src/model.axf"));
  assert.match(readFileSync(join(out, "wrangler.toml"), "utf8"), /\[\[r2_buckets\]\]\s+binding = "MODEL_BUCKET"\s+bucket_name = "test-models"/);
  assert.match(readFileSync(join(out, "README.md"), "utf8"), /wrangler r2 object put 'test-models\/tiny\.axf' --file 'model\/tiny\.axf' --remote/);
  const mf = await start(await bundle(out), { r2Buckets: ["MODEL_BUCKET"] });
  let r = await call(mf, "GET", "/health");
  assert.is(r.status, 503);
  assert.match(r.json.error, /"tiny\.axf" not found in the R2 bucket/);
  const bucket = (await mf.getR2Bucket("MODEL_BUCKET")) as unknown as Store;
  await bucket.put("tiny.axf", new Uint8Array(readFileSync(join(out, "model/tiny.axf"))));
  r = await call(mf, "POST", "/classify", { text: "a great film", text_pair: "bad" });
  assert.is(r.status, 200);
  same([pick(r)], [expected("a great film", "bad")]);
  r = await call(mf, "GET", "/health");
  assert.is(r.json.storage, "r2");
});

test("auto storage: a model over the bundle limit goes to R2", async () => {
  const res = await deployWorkers(modelPath, join(dir, "auto"), { measure: false, maxBundleMb: 0.05 });
  assert.is(res.storage, "r2");
  assert.ok(res.files.includes("model/tiny.axf"));
});

test("kv storage: reads the model from the KV binding", async () => {
  const out = join(dir, "kv");
  await deployWorkers(modelPath, out, { storage: "kv", measure: false, kvNamespaceId: "0123abcd" });
  assert.match(readFileSync(join(out, "wrangler.toml"), "utf8"), /binding = "MODEL_KV"\s+id = "0123abcd"/);
  const mf = await start(await bundle(out), { kvNamespaces: ["MODEL_KV"] });
  const kv = (await mf.getKVNamespace("MODEL_KV")) as unknown as Store;
  await kv.put("tiny.axf", new Uint8Array(readFileSync(modelPath)).buffer);
  const r = await call(mf, "POST", "/classify", { text: "love it" });
  assert.is(r.status, 200);
  same([pick(r)], [expected("love it")]);
});

test("generator errors name the problem", async () => {
  const bad = join(dir, "bad.axf");
  writeFileSync(bad, new Uint8Array(64));
  await deployWorkers(bad, join(dir, "bad"), { measure: false }).then(
    () => assert.unreachable("accepted a broken model"), (e) => assert.match(e.message, /bad\.axf: /));
  await deployWorkers(join(dir, "none.axf"), join(dir, "none"), { measure: false }).then(
    () => assert.unreachable("accepted a missing model"), (e) => assert.match(e.message, /none\.axf: not found/));
  const busy = join(dir, "busy");
  mkdirSync(busy);
  writeFileSync(join(busy, "keep.txt"), "mine");
  await deployWorkers(modelPath, busy, { measure: false }).then(
    () => assert.unreachable("overwrote a non-empty directory"), (e) => assert.match(e.message, /exists and is not empty/));
  assert.is(readFileSync(join(busy, "keep.txt"), "utf8"), "mine");
  assert.not.ok(readdirSync(dir).some((f) => f.startsWith(".axformer-tmp")), "a temp dir was left behind");
});

test("generator options: non-positive or non-numeric sizes are refused, here and on the command line", async () => {
  for (const [opts, message] of [
    [{ maxBundleMb: NaN }, /--max-bundle-mb must be a positive number of MiB, got null/],
    [{ maxBundleMb: -1 }, /--max-bundle-mb must be a positive number of MiB, got -1/],
    [{ memoryLimitMb: 0 }, /--memory-limit-mb must be a positive number of MiB, got 0/],
    [{ bucket: "Bad Bucket" }, /--bucket "Bad Bucket" is not a valid R2 bucket name/],
  ] as const) {
    await deployWorkers(modelPath, join(dir, "opts"), { measure: false, ...opts }).then(
      () => assert.unreachable(`accepted ${JSON.stringify(opts)}`), (e) => assert.match(e.message, message));
  }
  for (const [flag, value] of [["--max-bundle-mb", "abc"], ["--max-bundle-mb", "-1"], ["--memory-limit-mb", "0"]]) {
    const r = spawnSync(process.execPath, ["bin/axformer.js", "deploy", "workers", modelPath, "--out", join(dir, "cli"), "--no-measure", flag, value], { encoding: "utf8" });
    assert.is.not(r.status, 0);
    assert.match(r.stderr, new RegExp(`${flag} must be a positive number, got "${value}"`));
  }
  assert.not.ok(readdirSync(dir).includes("opts") || readdirSync(dir).includes("cli"), "a project was written");
});

test("--out: an existing file, or a file on the way, is a clear error", async () => {
  const file = join(dir, "a-file");
  writeFileSync(file, "x");
  await deployWorkers(modelPath, file, { measure: false }).then(
    () => assert.unreachable("wrote into a file"), (e) => assert.match(e.message, /--out .*a-file is a file, not a folder/));
  await deployWorkers(modelPath, join(file, "sub"), { measure: false }).then(
    () => assert.unreachable("wrote under a file"), (e) => assert.match(e.message, /a parent of it is a file, not a folder/));
  assert.is(readFileSync(file, "utf8"), "x");
});

test("--force replaces only the files the generator wrote; a folder it did not write is refused", async () => {
  const out = join(dir, "forced");
  const first = await deployWorkers(modelPath, out, { measure: false, storage: "r2" });
  writeFileSync(join(out, "notes.txt"), "mine");
  mkdirSync(join(out, "node_modules"));
  writeFileSync(join(out, "node_modules/keep.js"), "1");
  writeFileSync(join(out, "src/custom.ts"), "// mine");
  // Now inline: model/tiny.axf (r2) is the generator's and goes; src/model.axf comes.
  const second = await deployWorkers(modelPath, out, { measure: false, storage: "inline", force: true });
  assert.is(readFileSync(join(out, "notes.txt"), "utf8"), "mine");
  assert.is(readFileSync(join(out, "node_modules/keep.js"), "utf8"), "1");
  assert.is(readFileSync(join(out, "src/custom.ts"), "utf8"), "// mine");
  assert.ok(first.files.includes("model/tiny.axf") && !second.files.includes("model/tiny.axf"));
  assert.not.ok(readdirSync(join(out, "model")).includes("tiny.axf"), "the previous project's model was left behind");
  assert.equal(readFileSync(join(out, "src/model.axf")), readFileSync(modelPath));
  assert.equal(JSON.parse(readFileSync(join(out, ".axformer-files.json"), "utf8")).files, second.files);

  const foreign = join(dir, "foreign");
  mkdirSync(foreign);
  writeFileSync(join(foreign, "thesis.tex"), "years of work");
  await deployWorkers(modelPath, foreign, { measure: false, force: true }).then(
    () => assert.unreachable("--force wrote into a folder it did not create"), (e) => assert.match(e.message, /was not generated by axformer deploy workers/));
  assert.equal(readdirSync(foreign), ["thesis.tex"]);
  // A manifest naming files outside the project deletes nothing.
  writeFileSync(join(foreign, ".axformer-files.json"), JSON.stringify({ files: ["../a-file"] }));
  await deployWorkers(modelPath, foreign, { measure: false, force: true }).then(
    () => assert.unreachable("followed a manifest out of the folder"), (e) => assert.match(e.message, /does not list project files/));
  assert.ok(readdirSync(dir).includes("a-file"));
  assert.not.ok(readdirSync(dir).some((f) => f.startsWith(".axformer-tmp")), "a temp dir was left behind");
});

test("the README's upload commands quote the file names (R2 and KV)", async () => {
  const odd = join(dir, "it's $HOME; rm -rf x.axf");
  writeFileSync(odd, readFileSync(modelPath));
  for (const storage of ["r2", "kv"] as const) {
    const out = join(dir, `odd-${storage}`);
    await deployWorkers(odd, out, { measure: false, storage, name: "odd-model" });
    const readme = readFileSync(join(out, "README.md"), "utf8");
    const lines = readme.split("\n").filter((l) => /wrangler (r2 object|kv key) put/.test(l));
    assert.is(lines.length, 2);
    for (const line of lines) {
      // The shell must see the name as one word: run the line's words through sh and echo them back.
      const words = execFileSync("sh", ["-c", `for w in ${line.replace(/^npx wrangler /, "")}; do printf '%s\\n' "$w"; done`], { encoding: "utf8" }).trim().split("\n");
      const name = "it's $HOME; rm -rf x.axf";
      assert.ok(words.includes(storage === "r2" ? `odd-model-models/${name}` : name), `${line}\n${words.join(" | ")}`);
      assert.ok(words.includes(`model/${name}`), line);
    }
  }
});

test("workerd: an embedding model answers POST /embed with the Node runtime's vectors; /health says the task", async () => {
  const { convertHfDir } = await import("../host/convert/index.ts");
  const embPath = join(dir, "embed.axf");
  writeFileSync(embPath, writeModel(await convertHfDir(new URL("./fixtures/tasks/distilbert-base", import.meta.url).pathname)));
  const res = await deployWorkers(embPath, join(dir, "embed"), { measure: false });
  const mf = await start(await bundle(join(dir, "embed")));
  const texts = ["hello world", "the movie was great fun"];
  const want = (await loadModelFile(embPath)).embed(texts).map((e) => Array.from(e));
  const r = await call(mf, "POST", "/embed", { texts });
  assert.is(r.status, 200, JSON.stringify(r.json));
  // The Worker runs the relaxed build (see same()): the vectors within 1e-5.
  assert.is(r.json.embeddings.length, want.length);
  r.json.embeddings.forEach((e: number[], i: number) => {
    assert.ok(e.length === want[i].length && e.every((v, k) => Math.abs(v - want[i][k]) <= 1e-5), `embedding ${i}`);
  });
  assert.is((await call(mf, "GET", "/health")).json.task, "embedding");
  const bad = await call(mf, "POST", "/classify", { text: "a" });
  assert.is(bad.status, 400);
  assert.match(bad.json.error, /this model's task is embedding: use POST \/embed/);
  assert.ok(res.wasmMemoryBytes > 0);
});

test("workerd: token-classification and QA models answer POST /ner and POST /qa as the Node library does", async () => {
  const { convertHfDir } = await import("../host/convert/index.ts");
  const fixtures = new URL("./fixtures/pipelines/", import.meta.url).pathname;
  const text = "My name is John Smith and I live in Berlin.";
  const question = "where is the zebra?", context = "the people of the city live near the zebra red giraffe house by the old bridge";
  for (const [name, route, body] of [
    ["ner-bert-uncased", "/ner", { text, aggregation: "simple" }],
    ["qa-distilbert-cased", "/qa", { question, context, top_k: 2 }],
  ] as const) {
    const path = join(dir, `${name}.axf`);
    writeFileSync(path, writeModel(await convertHfDir(join(fixtures, name))));
    await deployWorkers(path, join(dir, name), { measure: false });
    const mf = await start(await bundle(join(dir, name)));
    const model = await loadModelFile(path);
    const want = route === "/ner" ? { entities: model.tokenClassify(text, { aggregation: "simple" }) } : { answers: model.answer(question, context, { topK: 2 }) };
    const r = await call(mf, "POST", route, body);
    assert.is(r.status, 200, JSON.stringify(r.json));
    // The relaxed build's rounding (see same()): numbers within 1e-5, the rest equal.
    const got = r.json as unknown, exp = JSON.parse(JSON.stringify(want)) as unknown;
    const diffs: string[] = [];
    const near = (a: any, b: any, at: string): void => {
      if (typeof a === "number" && typeof b === "number" && !(Number.isInteger(a) && Number.isInteger(b))) { if (!(Math.abs(a - b) <= 1e-5)) diffs.push(`${at}: ${a} vs ${b}`); return; }
      if (a && b && typeof a === "object" && typeof b === "object") {
        const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
        for (const k of keys) near(a[k], b[k], `${at}.${k}`);
        return;
      }
      if (a !== b) diffs.push(`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    };
    near(got, exp, route);
    assert.equal(diffs, [], diffs.join("; "));
    assert.is((await call(mf, "GET", "/health")).json.task, model.task);
    const bad = await call(mf, "POST", route, route === "/ner" ? { text, aggregation: "mean" } : { question: "the ".repeat(70), context: "x" });
    assert.is(bad.status, 400, JSON.stringify(bad.json));
  }
});

test.run();
