// The HTTP API shared by the Cloudflare Worker and the Node server, written
// against the Fetch API (Request/Response) so both hosts run the same code:
//
//   GET  /health    -> {status, model, labels, max_len, sizes, task}
//   POST /classify  {"text": s} | {"text": s, "text_pair": s} -> {label, scores, labels}
//                   {"texts": [s | {"text", "text_pair"?}, ...]} -> {results: [{label, scores}], labels}
//   POST /embed     {"texts": [s, ...]} -> {embeddings: [[...], ...]}   (embedding models)
// Each POST route serves the models of one task (ROUTE_TASKS); on a model of
// another task it answers 400 naming the model's task and its route.
//
// Every error is JSON {"error": message} with a 4xx/5xx status. No Node built-ins here.

export interface ApiLimits {
  maxBodyBytes: number; // request bodies above this get 413
  maxTexts: number;     // "texts" arrays above this get 413
  maxTextChars: number; // an input (text + text_pair, UTF-16 code units) above this gets 413
}

// maxTextChars bounds the runtime's text buffer (3 bytes of UTF-8 per UTF-16 code
// unit), which the hosts reserve at load (reserveTextMemory), so a model's memory is
// known before the first request and never grows with one. A request holds at most
// maxBodyBytes characters in all (a JSON string has at least one byte per code unit).
export const DEFAULT_LIMITS: ApiLimits = { maxBodyBytes: 1 << 20, maxTexts: 64, maxTextChars: 100_000 };

// Grows the runtime's text buffer to the largest input the limits let through, once,
// right after loading: afterwards no request makes the wasm memory grow.
export function reserveTextMemory(model: { tokenize(text: string): unknown }, limits: ApiLimits): void {
  model.tokenize(" ".repeat(limits.maxTextChars));
}

import type { Task } from "../model/model.ts";

export interface ClassifyInput { text: string; textPair?: string }
export interface ClassifyOutput { label: string; scores: number[] }

// What a host plugs in: the model behind the API. Both calls may throw; an
// ApiError keeps its status, anything else is a 500 with the error's message.
export interface Backend {
  health(): Promise<Record<string, unknown>>;
  labels(): Promise<string[]>;
  classify(inputs: ClassifyInput[]): Promise<ClassifyOutput[]>;
  task(): Promise<Task>;
  embed(texts: string[]): Promise<number[][]>;
}

// The POST routes and the task of the models each serves.
export const ROUTE_TASKS: Record<string, Task> = { "/classify": "sequence-classification", "/embed": "embedding" };

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(err: unknown): Response {
  if (err instanceof ApiError) return jsonResponse(err.status, { error: err.message }, err.headers);
  const message = err instanceof Error ? err.message : String(err);
  return jsonResponse(500, { error: message });
}

export async function handleRequest(request: Request, backend: Backend, limits: ApiLimits = DEFAULT_LIMITS): Promise<Response> {
  try {
    const path = new URL(request.url).pathname;
    if (path === "/health") {
      if (request.method !== "GET" && request.method !== "HEAD") throw new ApiError(405, `${path} takes GET, not ${request.method}`, { allow: "GET, HEAD" });
      const [health, task] = await Promise.all([backend.health(), backend.task()]);
      return jsonResponse(200, { ...health, task });
    }
    if (!Object.hasOwn(ROUTE_TASKS, path)) throw new ApiError(404, `no route ${path}: use GET /health or POST ${Object.keys(ROUTE_TASKS).join(", ")}`);
    if (request.method !== "POST") throw new ApiError(405, `${path} takes POST with a JSON body, not ${request.method}`, { allow: "POST" });
    const task = await backend.task();
    if (ROUTE_TASKS[path] !== task) {
      const route = Object.keys(ROUTE_TASKS).find((r) => ROUTE_TASKS[r] === task);
      throw new ApiError(400, `${path} serves ${ROUTE_TASKS[path]} models; this model's task is ${task}${route ? `: use POST ${route}` : ""}`);
    }
    const body = await readBody(request, limits.maxBodyBytes);
    if (path === "/embed") return jsonResponse(200, { embeddings: await backend.embed(parseEmbedBody(body, limits)) });
    const { inputs, batch } = parseClassifyBody(body, limits);
    const [outputs, labels] = await Promise.all([backend.classify(inputs), backend.labels()]);
    if (batch) return jsonResponse(200, { results: outputs, labels });
    return jsonResponse(200, { label: outputs[0].label, scores: outputs[0].scores, labels });
  } catch (err) {
    return errorResponse(err);
  }
}

// Reads the body as text, refusing it as soon as it passes the limit (the
// Content-Length header may be absent or wrong, so the stream is counted too).
export async function readBody(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(`${Number(declared)} bytes`, maxBytes);
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch (err) {
      // The client's framing is broken (a bad chunk size, chunk extensions, a cut
      // connection): its fault, not ours.
      throw new ApiError(400, `request body could not be read: ${(err as Error)?.message ?? String(err)}`);
    }
    const { done, value } = step;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`more than ${maxBytes} bytes`, maxBytes);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.byteLength; }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new ApiError(400, "request body is not valid UTF-8");
  }
}

function tooLarge(size: string, maxBytes: number): ApiError {
  return new ApiError(413, `request body is ${size}; the limit is ${maxBytes} bytes`);
}

const SINGLE_FIELDS = new Set(["text", "text_pair"]);
const BATCH_FIELDS = new Set(["texts"]);

export function parseClassifyBody(body: string, limits: ApiLimits): { inputs: ClassifyInput[]; batch: boolean } {
  const obj = parseObject(body, '{"text": "..."}, {"text": "...", "text_pair": "..."} or {"texts": [...]}');
  if ("texts" in obj) {
    if ("text" in obj || "text_pair" in obj) throw new ApiError(400, 'give either "text" (with an optional "text_pair") or "texts", not both');
    rejectUnknown(obj, BATCH_FIELDS, "");
    const texts = obj.texts;
    if (!Array.isArray(texts)) throw new ApiError(400, `"texts" must be an array, got ${typeName(texts)}`);
    if (texts.length === 0) throw new ApiError(400, '"texts" is empty');
    if (texts.length > limits.maxTexts) throw new ApiError(413, `"texts" has ${texts.length} items; the limit is ${limits.maxTexts}`);
    return { inputs: texts.map((item, i) => checkLength(parseItem(item, `texts[${i}]`), `texts[${i}]`, limits)), batch: true };
  }
  if (!("text" in obj)) throw new ApiError(400, 'missing field "text" (or "texts" for a batch)');
  rejectUnknown(obj, SINGLE_FIELDS, "");
  return { inputs: [checkLength(parseItem(obj, ""), "", limits)], batch: false };
}

// POST /embed: {"texts": [s, ...]}, each text within maxTextChars, at most maxTexts.
export function parseEmbedBody(body: string, limits: ApiLimits): string[] {
  const obj = parseObject(body, '{"texts": ["...", ...]}');
  rejectUnknown(obj, BATCH_FIELDS, "");
  if (!("texts" in obj)) throw new ApiError(400, 'missing field "texts"');
  const texts = obj.texts;
  if (!Array.isArray(texts)) throw new ApiError(400, `"texts" must be an array of strings, got ${typeName(texts)}`);
  if (texts.length === 0) throw new ApiError(400, '"texts" is empty');
  if (texts.length > limits.maxTexts) throw new ApiError(413, `"texts" has ${texts.length} items; the limit is ${limits.maxTexts}`);
  return texts.map((t, i) => {
    if (typeof t !== "string") throw new ApiError(400, `"texts[${i}]" must be a string, got ${typeName(t)}`);
    return checkLength({ text: t }, `texts[${i}]`, limits).text;
  });
}

// The body as a JSON object; `shape` shows what to send.
function parseObject(body: string, shape: string): Record<string, unknown> {
  if (body.trim() === "") throw new ApiError(400, `empty body: send JSON ${shape}`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new ApiError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ApiError(400, `body must be a JSON object, got ${typeName(json)}`);
  }
  return json as Record<string, unknown>;
}

// Refused rather than cut: cutting characters could change the tokens the model
// sees (the runtime truncates to max_len tokens itself).
function checkLength(input: ClassifyInput, where: string, limits: ApiLimits): ClassifyInput {
  const chars = input.text.length + (input.textPair?.length ?? 0);
  if (chars > limits.maxTextChars) {
    const name = where === "" ? "" : `"${where}": `;
    throw new ApiError(413, `${name}text${input.textPair === undefined ? "" : " + text_pair"} has ${chars} characters; the limit is ${limits.maxTextChars} per input`);
  }
  return input;
}

// A batch item is a string or an object {"text", "text_pair"?}; `where` names it in errors.
function parseItem(item: unknown, where: string): ClassifyInput {
  if (typeof item === "string") return { text: item };
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new ApiError(400, `"${where}" must be a string or an object {"text", "text_pair"}, got ${typeName(item)}`);
  }
  const obj = item as Record<string, unknown>;
  const prefix = where === "" ? "" : `${where}.`;
  rejectUnknown(obj, SINGLE_FIELDS, prefix);
  if (!("text" in obj)) throw new ApiError(400, `missing field "${prefix}text"`);
  if (typeof obj.text !== "string") throw new ApiError(400, `"${prefix}text" must be a string, got ${typeName(obj.text)}`);
  if (obj.text_pair === undefined) return { text: obj.text };
  if (typeof obj.text_pair !== "string") throw new ApiError(400, `"${prefix}text_pair" must be a string, got ${typeName(obj.text_pair)}`);
  return { text: obj.text, textPair: obj.text_pair };
}

function rejectUnknown(obj: Record<string, unknown>, allowed: Set<string>, prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) throw new ApiError(400, `unknown field "${prefix}${key}"; expected ${[...allowed].map((k) => `"${prefix}${k}"`).join(", ")}`);
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
