// `axformer serve` (host/deploy/server.ts) on a loopback port: the API answers
// like the in-process runtime, the limits hold (413, 503 + Retry-After), worker
// threads give the same answers, and shutdown lets in-flight requests finish.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { spawn } from "node:child_process";
import { serve, type RunningServer } from "../host/deploy/server.ts";
import { loadModelFile } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { randomModel } from "./helpers/random-model.ts";

const dir = mkdtempSync(join(tmpdir(), "axformer-serve-"));
const modelPath = join(dir, "tiny.axf");
writeFileSync(modelPath, writeModel(randomModel({ seed: 11, numLabels: 3 })));
let ref: LoadedModel;
let srv: RunningServer;

test.before(async () => {
  ref = await loadModelFile(modelPath);
  srv = await serve(modelPath, { port: 0, maxBodyBytes: 4096, maxTexts: 4 });
});
test.after(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(url: string, body: unknown) {
  const res = await fetch(`${url}/classify`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

function expected(text: string, pair?: string) {
  const r = ref.classify(text, pair);
  return { label: r.label, scores: r.scores };
}

test("health names the model, labels and sizes", async () => {
  const res = await fetch(`${srv.url}/health`);
  assert.is(res.status, 200);
  const h = await res.json();
  assert.is(h.model, "tiny.axf");
  assert.equal(h.labels, ref.labels);
  assert.is(h.max_len, ref.maxLen);
  assert.is(h.workers, 1);
  assert.ok(h.sizes.wasm_memory_bytes >= h.sizes.model_file_bytes);
});

test("classify: single, pair and batch match the in-process runtime", async () => {
  let r = await post(srv.url, { text: "this movie was great" });
  assert.is(r.status, 200);
  assert.equal({ label: r.json.label, scores: r.json.scores }, expected("this movie was great"));
  assert.equal(r.json.labels, ref.labels);
  r = await post(srv.url, { text: "it is good", text_pair: "it is bad" });
  assert.equal({ label: r.json.label, scores: r.json.scores }, expected("it is good", "it is bad"));
  r = await post(srv.url, { texts: ["good", "bad film", { text: "a", text_pair: "b" }] });
  assert.equal(r.json.results, [expected("good"), expected("bad film"), expected("a", "b")]);
});

test("errors: bad JSON, missing field, wrong type, too many texts, oversize body", async () => {
  let r = await post(srv.url, "{oops");
  assert.is(r.status, 400);
  assert.match(r.json.error, /not valid JSON/);
  r = await post(srv.url, { text_pair: "x" });
  assert.is(r.status, 400);
  assert.match(r.json.error, /missing field "text"/);
  r = await post(srv.url, { texts: [1] });
  assert.is(r.status, 400);
  r = await post(srv.url, { texts: ["a", "b", "c", "d", "e"] });
  assert.is(r.status, 413);
  r = await post(srv.url, { text: "x".repeat(5000) });
  assert.is(r.status, 413);
  assert.match(r.json.error, /the limit is 4096 bytes/);
  // Chunked, no Content-Length: counted as it arrives.
  const res = await rawRequest(srv.port, { "transfer-encoding": "chunked" }, (req) => {
    for (let i = 0; i < 10; i++) req.write("x".repeat(1000));
    req.end();
  });
  assert.is(res.status, 413);
  // The server is still fine afterwards.
  r = await post(srv.url, { text: "good" });
  assert.is(r.status, 200);
});

// A POST /classify whose body the caller writes; resolves with status and JSON.
function rawRequest(port: number, headers: Record<string, string | number>, write: (req: ClientRequest) => void): Promise<{ status: number; headers: IncomingMessage["headers"]; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/classify", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    write(req);
  });
}

// Starts a request that stays in flight until finish() writes the rest of its body.
async function holdRequest(s: RunningServer, admitted: Promise<void>) {
  const body = JSON.stringify({ text: "a good film" });
  let finish!: () => void;
  const done = rawRequest(s.port, { "content-length": Buffer.byteLength(body), "content-type": "application/json" }, (req) => {
    req.write(body.slice(0, 5));
    finish = () => req.end(body.slice(5));
  });
  await admitted;
  return { done, finish: () => finish() };
}

test("saturated: 503 with Retry-After, and the held request still completes", async () => {
  let admitted!: () => void;
  const s = await serve(modelPath, { port: 0, maxInflight: 1, onRequest: () => admitted?.() });
  try {
    const held = await holdRequest(s, new Promise((r) => (admitted = r)));
    assert.is(s.inflight(), 1);
    const busy = await fetch(`${s.url}/health`);
    assert.is(busy.status, 503);
    assert.is(busy.headers.get("retry-after"), "1");
    assert.match((await busy.json()).error, /server busy/);
    held.finish();
    const r = await held.done;
    assert.is(r.status, 200);
    assert.equal({ label: r.json.label, scores: r.json.scores }, expected("a good film"));
  } finally {
    await s.close();
  }
});

test("close(): stops accepting, finishes the request in flight, then resolves", async () => {
  let admitted!: () => void;
  const s = await serve(modelPath, { port: 0, onRequest: () => admitted?.() });
  const held = await holdRequest(s, new Promise((r) => (admitted = r)));
  let closed = false;
  const closing = s.close().then(() => { closed = true; });
  // New connections are refused while the held request is still open.
  const refused = await fetch(`${s.url}/health`).then(() => false, () => true);
  assert.ok(refused, "a new connection was accepted after close()");
  assert.not.ok(closed, "close() resolved with a request in flight");
  held.finish();
  const r = await held.done;
  assert.is(r.status, 200);
  assert.is(r.headers.connection, "close");
  await closing;
  assert.ok(closed);
});

test("--workers 2: one runtime per thread, same answers", async () => {
  const s = await serve(modelPath, { port: 0, workers: 2 });
  try {
    const h = await (await fetch(`${s.url}/health`)).json();
    assert.is(h.workers, 2);
    const texts = ["good", "bad", "very good film", "not great", "terrible", "love it"];
    // Concurrent requests, so both threads take jobs.
    const replies = await Promise.all(texts.map((t) => post(s.url, { text: t })));
    replies.forEach((r, i) => assert.equal({ label: r.json.label, scores: r.json.scores }, expected(texts[i]), texts[i]));
  } finally {
    await s.close();
  }
});

test("serveCommand: SIGTERM shuts the process down cleanly (exit 0)", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "-e",
    `import("./host/deploy/server.ts").then((m) => m.serveCommand(${JSON.stringify(modelPath)}, { port: 0 }))`],
    { cwd: process.cwd(), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => {
      stderr += c;
      const m = /on (http:\/\/[^\s]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
  });
  const res = await fetch(`${url}/health`);
  assert.is(res.status, 200);
  const code = await new Promise<number | null>((resolve) => {
    child.removeAllListeners("exit");
    child.on("exit", (c) => resolve(c));
    child.kill("SIGTERM");
  });
  assert.is(code, 0, stderr);
  assert.match(stderr, /SIGTERM: no new requests/);
  assert.match(stderr, /stopped/);
});

test("a model file that is not a model is refused at start with the file named", async () => {
  const badPath = join(dir, "bad.axf");
  writeFileSync(badPath, new Uint8Array(100));
  try {
    await serve(badPath, { port: 0 });
    assert.unreachable("serve() accepted a broken model");
  } catch (err) {
    assert.match((err as Error).message, /bad\.axf/);
  }
  await serve(join(dir, "missing.axf"), { port: 0 }).then(
    () => assert.unreachable("serve() accepted a missing file"),
    (err) => assert.match((err as Error).message, /missing\.axf: not found/));
});

test.run();
