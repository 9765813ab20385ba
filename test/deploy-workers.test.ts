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
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { Miniflare } from "miniflare";
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
  for (const f of ["wrangler.toml", "package.json", "README.md", "src/worker.ts", "src/axformer.wasm", "src/model.axf"]) {
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
});

test("workerd: classify single, pair and batch give the Node runtime's answers", async () => {
  let r = await call(inline, "POST", "/classify", { text: "this movie was great" });
  assert.is(r.status, 200);
  assert.equal(pick(r), expected("this movie was great"));
  r = await call(inline, "POST", "/classify", { text: "it is good", text_pair: "it is not" });
  assert.equal(pick(r), expected("it is good", "it is not"));
  r = await call(inline, "POST", "/classify", { texts: ["good", { text: "bad", text_pair: "film" }, "terrible"] });
  assert.equal(r.json.results, [expected("good"), expected("bad", "film"), expected("terrible")]);
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
  assert.equal(pick(r), expected("good"));
});

test("r2 storage: 503 until the model is uploaded, then the same answers", async () => {
  const out = join(dir, "r2");
  const res = await deployWorkers(modelPath, out, { storage: "r2", measure: false, bucket: "test-models" });
  assert.is(res.storage, "r2");
  assert.not.ok(res.files.includes("src/model.axf"));
  assert.match(readFileSync(join(out, "wrangler.toml"), "utf8"), /\[\[r2_buckets\]\]\s+binding = "MODEL_BUCKET"\s+bucket_name = "test-models"/);
  assert.match(readFileSync(join(out, "README.md"), "utf8"), /wrangler r2 object put test-models\/tiny\.axf --file model\/tiny\.axf --remote/);
  const mf = await start(await bundle(out), { r2Buckets: ["MODEL_BUCKET"] });
  let r = await call(mf, "GET", "/health");
  assert.is(r.status, 503);
  assert.match(r.json.error, /"tiny\.axf" not found in the R2 bucket/);
  const bucket = (await mf.getR2Bucket("MODEL_BUCKET")) as unknown as Store;
  await bucket.put("tiny.axf", new Uint8Array(readFileSync(join(out, "model/tiny.axf"))));
  r = await call(mf, "POST", "/classify", { text: "a great film", text_pair: "bad" });
  assert.is(r.status, 200);
  assert.equal(pick(r), expected("a great film", "bad"));
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
  assert.equal(pick(r), expected("love it"));
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

test.run();
