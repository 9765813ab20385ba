// The HTTP API shared by the Worker and the Node server (host/api/handler.ts),
// against a backend that records what it was asked, so the parsing and error
// replies are checked without a model. The real hosts are tested end to end in
// deploy-workers.test.ts and deploy-server.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { handleRequest, type Backend, type ClassifyInput } from "../host/api/handler.ts";

function recorder() {
  const calls: ClassifyInput[][] = [];
  const backend: Backend = {
    async health() { return { status: "ok", model: "m" }; },
    async labels() { return ["neg", "pos"]; },
    async task() { return "sequence-classification" as const; },
    async embed() { return []; },
    async classify(inputs) {
      calls.push(inputs);
      // A score that depends on the input, so the reply order can be checked.
      return inputs.map((x) => ({ label: x.text.length % 2 ? "pos" : "neg", scores: [x.text.length, (x.textPair ?? "").length] }));
    },
  };
  return { backend, calls };
}

const limits = { maxBodyBytes: 200, maxTexts: 3, maxTextChars: 10 };

async function call(backend: Backend, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await handleRequest(new Request(`http://x${path}`, { method, body: body as BodyInit | undefined, headers }), backend, limits);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) };
}

test("single text, text pair and batch reach the backend as inputs and come back in order", async () => {
  const { backend, calls } = recorder();
  let r = await call(backend, "POST", "/classify", JSON.stringify({ text: "abc" }));
  assert.is(r.status, 200);
  assert.equal(r.json, { label: "pos", scores: [3, 0], labels: ["neg", "pos"] });
  r = await call(backend, "POST", "/classify", JSON.stringify({ text: "ab", text_pair: "xyz1" }));
  assert.equal(r.json, { label: "neg", scores: [2, 4], labels: ["neg", "pos"] });
  r = await call(backend, "POST", "/classify", JSON.stringify({ texts: ["a", { text: "bb", text_pair: "c" }, ""] }));
  assert.equal(r.json.results, [
    { label: "pos", scores: [1, 0] }, { label: "neg", scores: [2, 1] }, { label: "neg", scores: [0, 0] },
  ]);
  assert.equal(calls, [[{ text: "abc" }], [{ text: "ab", textPair: "xyz1" }], [{ text: "a" }, { text: "bb", textPair: "c" }, { text: "" }]]);
  assert.is(r.headers.get("content-type"), "application/json; charset=utf-8");
});

test("health answers GET with the backend's report", async () => {
  const { backend } = recorder();
  const r = await call(backend, "GET", "/health");
  assert.is(r.status, 200);
  assert.equal(r.json, { status: "ok", model: "m", task: "sequence-classification" });
});

const bad: Array<[string, string | Uint8Array, number, RegExp]> = [
  ["bad JSON", "{text: 1", 400, /not valid JSON/],
  ["empty body", "", 400, /empty body/],
  ["not an object", "[1,2]", 400, /must be a JSON object, got an array/],
  ["missing text", JSON.stringify({ txt: "a" }), 400, /missing field "text"/],
  ["text not a string", JSON.stringify({ text: 5 }), 400, /"text" must be a string, got a number/],
  ["text_pair not a string", JSON.stringify({ text: "a", text_pair: null }), 400, /"text_pair" must be a string, got null/],
  ["unknown field", JSON.stringify({ text: "a", lang: "en" }), 400, /unknown field "lang"/],
  ["text and texts", JSON.stringify({ text: "a", texts: ["b"] }), 400, /not both/],
  ["texts not an array", JSON.stringify({ texts: "a" }), 400, /"texts" must be an array, got a string/],
  ["texts empty", JSON.stringify({ texts: [] }), 400, /"texts" is empty/],
  ["texts item of a wrong type", JSON.stringify({ texts: ["a", 7] }), 400, /"texts\[1\]" must be a string or an object/],
  ["texts item with a bad pair", JSON.stringify({ texts: [{ text: "a", text_pair: 1 }] }), 400, /"texts\[0\]\.text_pair" must be a string/],
  ["too many texts", JSON.stringify({ texts: ["a", "b", "c", "d"] }), 413, /"texts" has 4 items; the limit is 3/],
  ["oversize body", JSON.stringify({ text: "x".repeat(300) }), 413, /the limit is 200 bytes/],
  ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), 400, /not valid UTF-8/],
];

for (const [what, body, status, message] of bad) {
  test(`${what} -> ${status} with a JSON message, backend not called`, async () => {
    const { backend, calls } = recorder();
    const r = await call(backend, "POST", "/classify", body);
    assert.is(r.status, status);
    assert.match(r.json.error, message);
    assert.is(calls.length, 0);
  });
}

test("a body larger than the limit is refused even when Content-Length is absent (streamed)", async () => {
  const { backend } = recorder();
  const chunk = new TextEncoder().encode("x".repeat(100));
  const stream = new ReadableStream({ start(c) { for (let i = 0; i < 5; i++) c.enqueue(chunk); c.close(); } });
  const res = await handleRequest(new Request("http://x/classify", { method: "POST", body: stream, duplex: "half" } as RequestInit), backend, limits);
  assert.is(res.status, 413);
  assert.match((await res.json()).error, /more than 200 bytes/);
});

test("an input over maxTextChars (text + text_pair) is refused before the backend sees it", async () => {
  const { backend, calls } = recorder();
  let r = await call(backend, "POST", "/classify", JSON.stringify({ text: "x".repeat(10) }));
  assert.is(r.status, 200);
  r = await call(backend, "POST", "/classify", JSON.stringify({ text: "x".repeat(11) }));
  assert.is(r.status, 413);
  assert.match(r.json.error, /text has 11 characters; the limit is 10 per input/);
  r = await call(backend, "POST", "/classify", JSON.stringify({ text: "x".repeat(6), text_pair: "y".repeat(5) }));
  assert.is(r.status, 413);
  assert.match(r.json.error, /text \+ text_pair has 11 characters/);
  r = await call(backend, "POST", "/classify", JSON.stringify({ texts: ["ok", { text: "abcdef", text_pair: "ghijk" }] }));
  assert.is(r.status, 413);
  assert.match(r.json.error, /"texts\[1\]": text \+ text_pair has 11 characters/);
  // Characters are UTF-16 code units, as the runtime's text buffer counts them.
  r = await call(backend, "POST", "/classify", JSON.stringify({ text: "\u{1F600}".repeat(5) }));
  assert.is(r.status, 200);
  r = await call(backend, "POST", "/classify", JSON.stringify({ text: "\u{1F600}".repeat(5) + "a" }));
  assert.is(r.status, 413);
  assert.is(calls.length, 2);
});

test("a body stream that fails (broken chunked framing) is a 400, not a 500", async () => {
  const { backend } = recorder();
  const stream = new ReadableStream({
    start(c) { c.enqueue(new TextEncoder().encode('{"text": "a')); },
    pull(c) { c.error(new TypeError("Invalid chunk size")); },
  });
  const res = await handleRequest(new Request("http://x/classify", { method: "POST", body: stream, duplex: "half" } as RequestInit), backend, limits);
  assert.is(res.status, 400);
  assert.match((await res.json()).error, /request body could not be read: Invalid chunk size/);
});

test("wrong method and unknown path are JSON errors", async () => {
  const { backend } = recorder();
  let r = await call(backend, "GET", "/classify");
  assert.is(r.status, 405);
  assert.is(r.headers.get("allow"), "POST");
  r = await call(backend, "POST", "/health", "{}");
  assert.is(r.status, 405);
  r = await call(backend, "GET", "/nope");
  assert.is(r.status, 404);
  assert.match(r.json.error, /no route \/nope/);
});

test("a backend failure is a 500 with its message", async () => {
  const backend: Backend = {
    async health() { throw new Error("model exploded"); },
    async labels() { return []; },
    async classify() { throw new Error("unreachable"); },
    async task() { return "sequence-classification" as const; },
    async embed() { throw new Error("unreachable"); },
  };
  const r = await call(backend, "GET", "/health");
  assert.is(r.status, 500);
  assert.is(r.json.error, "model exploded");
});

// An embedding model's backend: embed() answers one vector per text, its length the text's.
function embedder() {
  const calls: string[][] = [];
  const backend: Backend = {
    async health() { return { status: "ok", model: "e" }; },
    async labels() { return []; },
    async classify() { throw new Error("unreachable"); },
    async task() { return "embedding" as const; },
    async embed(texts) { calls.push(texts); return texts.map((t) => [t.length, 0.5]); },
  };
  return { backend, calls };
}

test("POST /embed: {texts} -> {embeddings} in order; limits and JSON errors as /classify", async () => {
  const { backend, calls } = embedder();
  let r = await call(backend, "POST", "/embed", JSON.stringify({ texts: ["ab", "abcd"] }));
  assert.is(r.status, 200);
  assert.equal(r.json, { embeddings: [[2, 0.5], [4, 0.5]] });
  assert.equal(calls, [["ab", "abcd"]]);
  for (const [body, status, re] of [
    [JSON.stringify({ texts: ["a", "b", "c", "d"] }), 413, /"texts" has 4 items; the limit is 3/],
    [JSON.stringify({ texts: ["a".repeat(11)] }), 413, /"texts\[0\]": text has 11 characters; the limit is 10/],
    [JSON.stringify({ texts: [] }), 400, /"texts" is empty/],
    [JSON.stringify({ texts: ["a", 3] }), 400, /"texts\[1\]" must be a string, got a number/],
    [JSON.stringify({ text: "a" }), 400, /unknown field "text"; expected "texts"/],
    [JSON.stringify({}), 400, /missing field "texts"/],
    ["[1]", 400, /body must be a JSON object/],
    ["", 400, /empty body/],
    ["x".repeat(201), 413, /limit is 200 bytes/],
  ] as [string, number, RegExp][]) {
    r = await call(backend, "POST", "/embed", body);
    assert.is(r.status, status, body);
    assert.match(r.json.error, re);
  }
  r = await call(backend, "GET", "/embed");
  assert.is(r.status, 405);
});

test("GET /health says the task; a route of another task is a 400 naming the model's task and route", async () => {
  const e = embedder().backend, c = recorder().backend;
  assert.is((await call(e, "GET", "/health")).json.task, "embedding");
  assert.is((await call(c, "GET", "/health")).json.task, "sequence-classification");
  let r = await call(e, "POST", "/classify", JSON.stringify({ text: "a" }));
  assert.is(r.status, 400);
  assert.is(r.json.error, "/classify serves sequence-classification models; this model's task is embedding: use POST /embed");
  r = await call(c, "POST", "/embed", JSON.stringify({ texts: ["a"] }));
  assert.is(r.status, 400);
  assert.is(r.json.error, "/embed serves embedding models; this model's task is sequence-classification: use POST /classify");
});

test.run();
