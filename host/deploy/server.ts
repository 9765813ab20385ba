// `axformer serve`: the Worker's HTTP API on node:http, for Node on edge boxes.
// Requests go through the same Fetch-API handler as the Worker (host/api), so the
// two hosts answer alike.
//
// A request goes through three phases, and only the last holds an inference slot:
//   1. headers: within headersTimeoutMs (408), a valid Host (400), a declared
//      Content-Length within the limit (413, before any `100 Continue`);
//   2. body: read whole within bodyTimeoutMs of the headers (408); a body over the
//      limit is read and dropped, then answered 413, so clients see the error
//      rather than a reset connection;
//   3. classify: one of maxInflight slots (503 + Retry-After when all are taken).
// Connections are capped (maxConnections), so the bodies buffered at once take at
// most maxConnections x maxBodyBytes. SIGINT/SIGTERM stop accepting, let the
// requests in flight finish, then exit.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { AddressInfo } from "node:net";
import { handleRequest, jsonResponse, ApiError, errorResponse, DEFAULT_LIMITS, ROUTE_TASKS, type ApiLimits, type Backend } from "../api/handler.ts";
import { createPool, type Pool } from "./server-pool.ts";

export interface ServeOptions {
  port?: number;            // 0: any free port (default 8080)
  host?: string;            // default 127.0.0.1; 0.0.0.0 to serve the network
  workers?: number;         // runtimes in worker threads; 1 (default) = this thread
  maxBodyBytes?: number;    // default 1 MiB
  maxTexts?: number;        // default 64
  maxTextChars?: number;    // characters of one input (text + text_pair), default 100,000
  maxInflight?: number;     // requests classified at once before 503 (default 64)
  maxConnections?: number;  // open connections; more are refused (default 256)
  headersTimeoutMs?: number; // to receive the request headers (default 10 s)
  bodyTimeoutMs?: number;   // to receive the body, from the headers on (default 30 s)
  shutdownTimeoutMs?: number; // in-flight requests still open after this are cut (default 10 s)
  name?: string;            // model name in /health (default: the file name)
  // Called when a request has its body and takes a slot, before it is classified;
  // the request waits for the returned promise (tests use it to hold one in flight).
  onRequest?: () => void | Promise<void>;
}

export interface RunningServer {
  url: string;
  port: number;
  route: string;            // the POST route of the model's task (handler.ts ROUTE_TASKS)
  inflight(): number;
  close(): Promise<void>;   // graceful: stop accepting, finish in-flight, free the runtimes
}

export const SERVE_DEFAULTS = {
  maxInflight: 64,
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
};

interface Settings { limits: ApiLimits; maxInflight: number; maxConnections: number; headersTimeoutMs: number; bodyTimeoutMs: number; shutdownTimeoutMs: number }

function settings(opts: ServeOptions): Settings {
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, got ${workers}`);
  const s: Settings = {
    limits: {
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes,
      maxTexts: opts.maxTexts ?? DEFAULT_LIMITS.maxTexts,
      maxTextChars: opts.maxTextChars ?? DEFAULT_LIMITS.maxTextChars,
    },
    maxInflight: opts.maxInflight ?? SERVE_DEFAULTS.maxInflight,
    maxConnections: opts.maxConnections ?? SERVE_DEFAULTS.maxConnections,
    headersTimeoutMs: opts.headersTimeoutMs ?? SERVE_DEFAULTS.headersTimeoutMs,
    bodyTimeoutMs: opts.bodyTimeoutMs ?? SERVE_DEFAULTS.bodyTimeoutMs,
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? SERVE_DEFAULTS.shutdownTimeoutMs,
  };
  const positive: Array<[string, number]> = [
    ["maxBodyBytes", s.limits.maxBodyBytes], ["maxTexts", s.limits.maxTexts], ["maxTextChars", s.limits.maxTextChars],
    ["maxInflight", s.maxInflight], ["maxConnections", s.maxConnections], ["headersTimeoutMs", s.headersTimeoutMs],
    ["bodyTimeoutMs", s.bodyTimeoutMs], ["shutdownTimeoutMs", s.shutdownTimeoutMs],
  ];
  for (const [name, v] of positive) if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
  return s;
}

async function loadPool(modelPath: string, workers: number, limits: ApiLimits): Promise<{ bytes: Uint8Array; pool: Pool }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(modelPath));
  } catch (err) {
    throw new Error(`cannot read model file ${modelPath}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}`);
  }
  try {
    return { bytes, pool: await createPool(bytes, workers, limits) };
  } catch (err) {
    throw new Error(`${modelPath}: ${(err as Error).message}`);
  }
}

export async function serve(modelPath: string, opts: ServeOptions = {}): Promise<RunningServer> {
  const cfg = settings(opts);
  const workers = opts.workers ?? 1;
  const { bytes, pool } = await loadPool(modelPath, workers, cfg.limits);
  const host = new HttpHost(cfg, pool, modelBackend(cfg, pool, bytes, workers, opts.name ?? basename(modelPath)), opts.onRequest);
  const address = opts.host ?? "127.0.0.1";
  const port = await listen(host.server, opts.port ?? 8080, address);
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    port,
    route: Object.keys(ROUTE_TASKS).find((r) => ROUTE_TASKS[r] === pool.info.task) ?? "/classify",
    inflight: () => host.inflight,
    close: () => host.close(),
  };
}

function modelBackend(cfg: Settings, pool: Pool, bytes: Uint8Array, workers: number, name: string): Backend {
  const { limits } = cfg;
  return {
    async health() {
      return {
        status: "ok",
        model: name,
        labels: pool.info.labels,
        num_labels: pool.info.numLabels,
        max_len: pool.info.maxLen,
        workers,
        sizes: { model_file_bytes: bytes.byteLength, wasm_memory_bytes: pool.info.wasmMemoryBytes },
        limits: {
          max_body_bytes: limits.maxBodyBytes, max_texts: limits.maxTexts, max_text_chars: limits.maxTextChars,
          max_inflight: cfg.maxInflight, max_connections: cfg.maxConnections,
          headers_timeout_ms: cfg.headersTimeoutMs, body_timeout_ms: cfg.bodyTimeoutMs,
        },
      };
    },
    async labels() { return pool.info.labels; },
    async task() { return pool.info.task; },
    classify: (inputs) => pool.classify(inputs),
    embed: (texts) => pool.embed(texts),
  };
}

// The node:http server and its state: requests in flight, and closing.
class HttpHost {
  readonly server: Server;
  inflight = 0;
  private closing = false;
  private closed: Promise<void> | null = null;
  private serverClosed = false;
  private finished: () => void = () => {};

  constructor(private readonly cfg: Settings, private readonly pool: Pool, private readonly backend: Backend,
    private readonly onRequest?: () => void | Promise<void>) {
    this.server = createServer({
      headersTimeout: cfg.headersTimeoutMs,
      requestTimeout: 0, // the body has its own timer (readLimited)
      connectionsCheckingInterval: Math.min(1000, cfg.headersTimeoutMs),
    }, (req, res) => { this.handle(req, res).catch((err) => this.send(res, errorResponse(err), true)); });
    this.server.maxConnections = cfg.maxConnections;
    // Expect: 100-continue: only a request that passes phase 1 is told to send its body.
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
      const early = this.refuseEarly(req);
      if (early) return void this.send(res, errorResponse(early), true);
      res.writeContinue();
      this.server.emit("request", req, res);
    });
  }

  // Phase 1, the headers: refuse what can be refused before reading the body.
  private refuseEarly(req: IncomingMessage): ApiError | null {
    if (this.closing) return new ApiError(503, "server is shutting down");
    try {
      requestUrl(req);
    } catch (err) {
      return err as ApiError;
    }
    const declared = declaredLength(req);
    const max = this.cfg.limits.maxBodyBytes;
    return declared !== null && declared > max ? tooLarge(`${declared} bytes`, max) : null;
  }

  // Phases 2 and 3: the whole body, then a slot, then the shared handler.
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { cfg } = this;
    const early = this.refuseEarly(req);
    if (early) {
      // Past the limit the body is still read and dropped, so the client reads the 413.
      if (early.status === 413) await drain(req, cfg.bodyTimeoutMs);
      else req.resume();
      return this.send(res, errorResponse(early), true);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const body = hasBody ? await readLimited(req, cfg.limits.maxBodyBytes, cfg.bodyTimeoutMs) : undefined;
    if (body instanceof ApiError) return this.send(res, errorResponse(body), true);
    if (this.inflight >= cfg.maxInflight) {
      return this.send(res, jsonResponse(503, { error: `server busy: ${this.inflight} requests in flight (limit ${cfg.maxInflight}); retry shortly` }, { "retry-after": "1" }));
    }
    this.inflight++;
    res.once("close", () => { this.inflight--; this.maybeFinished(); });
    await this.onRequest?.();
    const request = new Request(requestUrl(req), { method: req.method, headers: headersOf(req), body });
    await this.send(res, await handleRequest(request, this.backend, cfg.limits));
  }

  private async send(res: ServerResponse, response: Response, close = false): Promise<void> {
    const headers: Record<string, string> = Object.fromEntries(response.headers);
    if (this.closing || close) headers.connection = "close";
    const text = await response.text();
    if (res.headersSent || res.destroyed) return;
    res.writeHead(response.status, { ...headers, "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  private maybeFinished(): void {
    if (this.closing && this.serverClosed && this.inflight === 0) this.finished();
  }

  // Graceful: stop accepting, finish the requests in flight, free the runtimes.
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    const allDone = new Promise<void>((resolve) => { this.finished = resolve; });
    // server.close() stops accepting and closes idle keep-alive connections;
    // busy ones close after their response (the handler adds Connection: close).
    this.server.close(() => { this.serverClosed = true; this.maybeFinished(); });
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), this.cfg.shutdownTimeoutMs);
    this.maybeFinished();
    this.closed = allDone.then(async () => {
      clearTimeout(timer);
      await this.pool.close();
    });
    return this.closed;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

// The request's URL for the Fetch API. The Host header comes from the client, so a
// malformed one (user info, a bad port, an open bracket, a path) is a 400; a request
// without one (HTTP/1.0) is taken as addressed to localhost.
function requestUrl(req: IncomingMessage): string {
  const host = req.headers.host ?? "localhost";
  let origin: URL;
  try {
    origin = new URL(`http://${host}`);
  } catch {
    throw new ApiError(400, `invalid Host header ${JSON.stringify(host)}`);
  }
  // RFC 3986 host characters (reg-name, IP literal) and a port, nothing else: URL
  // parsing alone would accept user info, strip tabs and take a path.
  if (!/^[A-Za-z0-9._~!$&'()*+,;=:[\]%-]+$/.test(host) || origin.username || origin.password || origin.pathname !== "/") {
    throw new ApiError(400, `invalid Host header ${JSON.stringify(host)}`);
  }
  const target = req.url ?? "/";
  if (!target.startsWith("/")) throw new ApiError(400, `request target must be a path, got ${JSON.stringify(target.slice(0, 100))}`);
  return `${origin.origin}${target}`;
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) h.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  return h;
}

function declaredLength(req: IncomingMessage): number | null {
  const v = req.headers["content-length"];
  return v === undefined ? null : Number(v);
}

function tooLarge(size: string, maxBytes: number): ApiError {
  return new ApiError(413, `request body is ${size}; the limit is ${maxBytes} bytes`);
}

// Buffers the body up to the limit. Past it, the rest is read and dropped (not
// cut off), so the client reliably gets the 413 instead of a reset connection.
// Resolves with an ApiError (413, or 408 when the body does not arrive within
// timeoutMs; then the connection is closed after the answer).
function readLimited(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Uint8Array<ArrayBuffer> | ApiError> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      req.removeAllListeners("data");
      req.resume();
      resolve(new ApiError(408, `request body not received within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("data", (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total <= maxBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on("end", () => {
      clearTimeout(timer);
      if (total > maxBytes) resolve(tooLarge(`more than ${maxBytes} bytes`, maxBytes));
      else resolve(new Uint8Array(Buffer.concat(chunks)) as Uint8Array<ArrayBuffer>);
    });
    req.on("error", (err) => { clearTimeout(timer); reject(err); });
  });
}

// Reads and drops a body for at most timeoutMs.
function drain(req: IncomingMessage, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => { clearTimeout(timer); resolve(); };
    req.on("end", done);
    req.on("error", done);
    req.resume();
  });
}

export interface ServeCommandOptions {
  port?: number; host?: string; workers?: number; maxBody?: number; maxTexts?: number; maxTextChars?: number;
  maxInflight?: number; maxConnections?: number; headersTimeout?: number; bodyTimeout?: number;
}

// The CLI's `axformer serve`: runs until SIGINT/SIGTERM, then shuts down gracefully.
export async function serveCommand(modelPath: string, opts: ServeCommandOptions): Promise<void> {
  const running = await serve(modelPath, {
    port: opts.port, host: opts.host, workers: opts.workers,
    maxBodyBytes: opts.maxBody, maxTexts: opts.maxTexts, maxTextChars: opts.maxTextChars, maxInflight: opts.maxInflight,
    maxConnections: opts.maxConnections, headersTimeoutMs: opts.headersTimeout, bodyTimeoutMs: opts.bodyTimeout,
  });
  process.stderr.write(`axformer: serving ${modelPath} on ${running.url} (${opts.workers ?? 1} runtime${(opts.workers ?? 1) > 1 ? "s in worker threads" : ""}); POST ${running.route}, GET /health\n`);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) {
      process.stderr.write(`axformer: ${why} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`axformer: ${why}: no new requests; finishing ${running.inflight()} in flight\n`);
    running.close().then(() => {
      process.stderr.write("axformer: stopped\n");
      process.exit(0);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  watchNpmParent(() => stop("SIGTERM to npm"));
}

// Under `npx axformer serve` (or an npm script) the process tree is npm -> sh -> node.
// npm passes SIGTERM and SIGINT on to the shell, but the shell (dash, Debian's sh)
// does not pass them on: it dies and leaves this process running. So when npm
// started us and our parent goes away, treat it as the signal it almost surely
// was. Outside npm nothing changes (`nohup node ... &` keeps running).
function watchNpmParent(onGone: () => void): void {
  if (process.env.npm_lifecycle_event === undefined && process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, 200);
  timer.unref();
}
