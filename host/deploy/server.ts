// `axformer serve`: the Worker's HTTP API on node:http, for Node on edge boxes.
// Requests go through the same Fetch-API handler as the Worker (host/api), so the
// two hosts answer alike. Limits: request body size (413), texts per batch (413),
// requests in flight (503 + Retry-After). SIGINT/SIGTERM stop accepting, let the
// requests in flight finish, then exit.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { AddressInfo } from "node:net";
import { handleRequest, jsonResponse, ApiError, errorResponse, DEFAULT_LIMITS, type ApiLimits, type Backend } from "../api/handler.ts";
import { createPool, type Pool } from "./server-pool.ts";

export interface ServeOptions {
  port?: number;            // 0: any free port (default 8080)
  host?: string;            // default 127.0.0.1; 0.0.0.0 to serve the network
  workers?: number;         // runtimes in worker threads; 1 (default) = this thread
  maxBodyBytes?: number;    // default 1 MiB
  maxTexts?: number;        // default 64
  maxInflight?: number;     // requests handled at once before 503 (default 64)
  shutdownTimeoutMs?: number; // in-flight requests still open after this are cut (default 10 s)
  name?: string;            // model name in /health (default: the file name)
  onRequest?: () => void;   // called when a request is admitted (tests use it to know one is in flight)
}

export interface RunningServer {
  url: string;
  port: number;
  inflight(): number;
  close(): Promise<void>;   // graceful: stop accepting, finish in-flight, free the runtimes
}

export async function serve(modelPath: string, opts: ServeOptions = {}): Promise<RunningServer> {
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, got ${workers}`);
  const limits: ApiLimits = {
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes,
    maxTexts: opts.maxTexts ?? DEFAULT_LIMITS.maxTexts,
  };
  const maxInflight = opts.maxInflight ?? 64;
  const name = opts.name ?? basename(modelPath);

  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(modelPath));
  } catch (err) {
    throw new Error(`cannot read model file ${modelPath}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}`);
  }
  let pool: Pool;
  try {
    pool = await createPool(bytes, workers);
  } catch (err) {
    throw new Error(`${modelPath}: ${(err as Error).message}`);
  }

  let inflight = 0;
  let closing = false;
  const backend: Backend = {
    async health() {
      return {
        status: "ok",
        model: name,
        labels: pool.info.labels,
        num_labels: pool.info.numLabels,
        max_len: pool.info.maxLen,
        workers,
        sizes: { model_file_bytes: bytes.byteLength, wasm_memory_bytes: pool.info.wasmMemoryBytes },
        limits: { max_body_bytes: limits.maxBodyBytes, max_texts: limits.maxTexts, max_inflight: maxInflight },
      };
    },
    async labels() { return pool.info.labels; },
    classify: (inputs) => pool.classify(inputs),
  };

  const server = createServer((req, res) => {
    if (closing) {
      req.resume();
      return send(res, jsonResponse(503, { error: "server is shutting down" }, { connection: "close" }));
    }
    if (inflight >= maxInflight) {
      req.resume();
      return send(res, jsonResponse(503, { error: `server busy: ${inflight} requests in flight (limit ${maxInflight}); retry shortly` }, { "retry-after": "1" }));
    }
    inflight++;
    res.once("close", () => { inflight--; maybeFinished(); });
    opts.onRequest?.();
    handle(req, res).catch((err) => send(res, errorResponse(err)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const body = hasBody ? await readLimited(req, limits.maxBodyBytes) : undefined;
    const request = new Request(url, { method: req.method, headers: headersOf(req), body });
    const response = await handleRequest(request, backend, limits);
    await send(res, response);
  }

  // Closing: wait for the server to stop and every in-flight response to end.
  let finished: () => void = () => {};
  const allDone = new Promise<void>((resolve) => { finished = resolve; });
  let serverClosed = false;
  function maybeFinished(): void {
    if (closing && serverClosed && inflight === 0) finished();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8080, opts.host ?? "127.0.0.1", () => { server.off("error", reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";

  let closed: Promise<void> | null = null;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    inflight: () => inflight,
    close() {
      if (closed) return closed;
      closing = true;
      // server.close() stops accepting and closes idle keep-alive connections;
      // busy ones close after their response (the handler adds Connection: close).
      server.close(() => { serverClosed = true; maybeFinished(); });
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), opts.shutdownTimeoutMs ?? 10_000);
      closed = allDone.then(async () => {
        clearTimeout(timer);
        await pool.close();
      });
      return closed;
    },
  };

  async function send(res: ServerResponse, response: Response): Promise<void> {
    const headers: Record<string, string> = Object.fromEntries(response.headers);
    if (closing) headers.connection = "close";
    const text = await response.text();
    res.writeHead(response.status, { ...headers, "content-length": Buffer.byteLength(text) });
    res.end(text);
  }
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) h.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  return h;
}

// Buffers the body up to the limit. Past it, the rest is read and dropped (not
// cut off), so the client reliably gets the 413 instead of a reset connection;
// a client that keeps sending far past the limit is cut off after all.
function readLimited(req: IncomingMessage, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    const chunks: Buffer[] = [];
    let total = 0;
    let over = Number.isFinite(declared) && declared > maxBytes;
    req.on("data", (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > maxBytes) over = true;
      if (over) {
        chunks.length = 0;
        if (total > 16 * maxBytes + (1 << 20)) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (over) reject(new ApiError(413, `request body is ${Number.isFinite(declared) ? declared : `more than ${maxBytes}`} bytes; the limit is ${maxBytes} bytes`));
      else resolve(new Uint8Array(Buffer.concat(chunks)) as Uint8Array<ArrayBuffer>);
    });
    req.on("error", reject);
  });
}

export interface ServeCommandOptions { port?: number; host?: string; workers?: number; maxBody?: number; maxTexts?: number; maxInflight?: number }

// The CLI's `axformer serve`: runs until SIGINT/SIGTERM, then shuts down gracefully.
export async function serveCommand(modelPath: string, opts: ServeCommandOptions): Promise<void> {
  const running = await serve(modelPath, {
    port: opts.port, host: opts.host, workers: opts.workers,
    maxBodyBytes: opts.maxBody, maxTexts: opts.maxTexts, maxInflight: opts.maxInflight,
  });
  process.stderr.write(`axformer: serving ${modelPath} on ${running.url} (${opts.workers ?? 1} runtime${(opts.workers ?? 1) > 1 ? "s in worker threads" : ""}); POST /classify, GET /health\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`axformer: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`axformer: ${signal}: no new requests; finishing ${running.inflight()} in flight\n`);
    running.close().then(() => {
      process.stderr.write("axformer: stopped\n");
      process.exit(0);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
