// `axformer serve` (host/deploy/server.ts) on a loopback port: the API answers
// like the in-process runtime, the limits hold (413, 503 + Retry-After), worker
// threads give the same answers, and shutdown lets in-flight requests finish.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { spawn } from "node:child_process";
import { connect } from "node:net";
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

// Holds the next admitted request in flight (inside onRequest) until release().
function gate() {
  let admitted!: () => void;
  const isAdmitted = new Promise<void>((r) => (admitted = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  return { onRequest: () => { admitted(); return released; }, isAdmitted, release: () => release() };
}

test("saturated: 503 with Retry-After, and the held request still completes", async () => {
  const g = gate();
  const s = await serve(modelPath, { port: 0, maxInflight: 1, onRequest: g.onRequest });
  try {
    const held = post(s.url, { text: "a good film" });
    await g.isAdmitted;
    assert.is(s.inflight(), 1);
    const busy = await fetch(`${s.url}/health`);
    assert.is(busy.status, 503);
    assert.is(busy.headers.get("retry-after"), "1");
    assert.match((await busy.json()).error, /server busy/);
    g.release();
    const r = await held;
    assert.is(r.status, 200);
    assert.equal({ label: r.json.label, scores: r.json.scores }, expected("a good film"));
  } finally {
    await s.close();
  }
});

test("close(): stops accepting, finishes the request in flight, then resolves", async () => {
  const g = gate();
  const s = await serve(modelPath, { port: 0, onRequest: g.onRequest });
  const held = post(s.url, { text: "a good film" });
  await g.isAdmitted;
  let closed = false;
  const closing = s.close().then(() => { closed = true; });
  // New connections are refused while the held request is still open.
  const refused = await fetch(`${s.url}/health`).then(() => false, () => true);
  assert.ok(refused, "a new connection was accepted after close()");
  assert.not.ok(closed, "close() resolved with a request in flight");
  g.release();
  const r = await held;
  assert.is(r.status, 200);
  assert.is(r.headers.get("connection"), "close");
  await closing;
  assert.ok(closed);
});

// A raw connection: writes `head` (and whatever else), collects what the server
// sends until it closes the connection (or `until` matches).
function rawSocket(port: number) {
  const sock = connect({ host: "127.0.0.1", port });
  let received = "";
  sock.setEncoding("latin1");
  sock.on("data", (c: string) => (received += c));
  sock.on("error", () => {}); // a reset shows as an early close: `closed` then has no status line
  const closed = new Promise<string>((resolve) => sock.on("close", () => resolve(received)));
  return { sock, closed, received: () => received };
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
const jsonOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));

test("stalled bodies hold no inference slot: others are still served", async () => {
  const s = await serve(modelPath, { port: 0, maxInflight: 2, bodyTimeoutMs: 600_000 });
  const stalled = Array.from({ length: 8 }, () => rawSocket(s.port));
  try {
    for (const c of stalled) c.sock.write("POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"text\"");
    await new Promise((r) => setTimeout(r, 100)); // let the server take them in (not an assertion)
    const r = await post(s.url, { text: "still served" });
    assert.is(r.status, 200);
    assert.equal({ label: r.json.label, scores: r.json.scores }, expected("still served"));
    assert.is(s.inflight(), 0);
  } finally {
    for (const c of stalled) c.sock.destroy();
    await s.close();
  }
});

test("a body that stalls gets 408 after bodyTimeoutMs and the connection closes; so do stalled headers", async () => {
  const s = await serve(modelPath, { port: 0, bodyTimeoutMs: 200, headersTimeoutMs: 200 });
  try {
    const body = rawSocket(s.port);
    body.sock.write("POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"te");
    const raw = await body.closed;
    assert.is(statusOf(raw), 408, raw);
    assert.match(jsonOf(raw).error, /request body not received within 200 ms/);
    const head = rawSocket(s.port);
    head.sock.write("POST /classify HTTP/1.1\r\nHost: local");
    assert.is(statusOf(await head.closed), 408);
    assert.is((await post(s.url, { text: "good" })).status, 200);
  } finally {
    await s.close();
  }
});

test("an invalid Host header is a 400 naming it, not a 500", async () => {
  for (const host of ["a@b", "[::1", "localhost:99999", "a/b", "x y"]) {
    const c = rawSocket(srv.port);
    c.sock.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const raw = await c.closed;
    assert.is(statusOf(raw), 400, `${host}: ${raw}`);
    if (raw.includes("{")) assert.match(jsonOf(raw).error, /invalid Host header/);
  }
  for (const host of ["localhost", "LOCALHOST:8080", "[::1]:80", "127.0.0.1", "example.com:1"]) {
    const c = rawSocket(srv.port);
    c.sock.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.is(statusOf(await c.closed), 200, host);
  }
});

test("bodies far over the limit get the 413 (not a reset), declared or chunked", async () => {
  const big = Buffer.alloc(8 << 20, 0x61); // 2048 x the test server's 4096-byte limit
  for (const headers of [{ "content-length": big.byteLength }, { "transfer-encoding": "chunked" }] as Array<Record<string, string | number>>) {
    const res = await rawRequest(srv.port, headers, (req) => {
      for (let at = 0; at < big.byteLength; at += 1 << 16) req.write(big.subarray(at, at + (1 << 16)));
      req.end();
    });
    assert.is(res.status, 413, JSON.stringify(headers));
    assert.match(res.json.error, /the limit is 4096 bytes/);
  }
});

test("Expect: 100-continue with a Content-Length over the limit: 413 at once, no 100 Continue", async () => {
  const c = rawSocket(srv.port);
  c.sock.write("POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000\r\nExpect: 100-continue\r\n\r\n");
  const raw = await c.closed;
  assert.not.match(raw, /100 Continue/);
  assert.is(statusOf(raw), 413, raw);
  // Within the limit, the server asks for the body and answers it.
  const body = JSON.stringify({ text: "fine" });
  const ok = rawSocket(srv.port);
  ok.sock.write(`POST /classify HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
  await waitFor(() => ok.received().includes("100 Continue"));
  ok.sock.write(body);
  const reply = await ok.closed;
  assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
});

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

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

// The README's `npx axformer serve`, in a project that depends on axformer: the
// real chain npm exec -> sh -c -> node bin/axformer.js. npm passes SIGTERM to the
// shell only; the server must still shut down gracefully.
test("npx axformer serve: SIGTERM to the npx process stops the server gracefully", async () => {
  const project = join(dir, "user-app");
  mkdirSync(join(project, "node_modules/.bin"), { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-app", private: true, dependencies: { axformer: "*" } }));
  symlinkSync(process.cwd(), join(project, "node_modules/axformer"));
  symlinkSync("../axformer/bin/axformer.js", join(project, "node_modules/.bin/axformer"));
  const child = spawn("npx", ["axformer", "serve", modelPath, "--port", "0"], {
    cwd: project, stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  const allOutput = new Promise<void>((resolve) => child.stderr.on("end", () => resolve())); // ends when every holder of the pipe has exited
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (c: string) => {
      stderr += c;
      const m = /on (http:\/\/[^\s]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`npx exited early (${code}): ${stderr}`)));
  });
  child.removeAllListeners("exit");
  assert.is((await fetch(`${url}/health`)).status, 200);
  child.kill("SIGTERM");
  // Without the fix the server outlives npx and keeps the pipe open: stop it then.
  const watchdog = setTimeout(() => killServersOf(modelPath), 30_000);
  await allOutput;
  clearTimeout(watchdog);
  assert.match(stderr, /no new requests; finishing 0 in flight/);
  assert.match(stderr, /axformer: stopped/);
  const refused = await fetch(`${url}/health`).then(() => false, () => true);
  assert.ok(refused, "the server still answers after SIGTERM to npx");
});

// By process id: the `axformer serve` processes started on this test's model.
function killServersOf(model: string): void {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (cmd.includes("serve") && cmd.includes(model)) process.kill(Number(pid), "SIGKILL");
    } catch { /* gone */ }
  }
}

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
