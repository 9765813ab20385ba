// `axformer demo`: a static page on localhost that runs a model file in the
// browser. The server only hands out two files, the page (host/demo/build.ts) and
// the model's bytes; it runs nothing. `--out` writes the same two files to a
// folder for any static host.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { AddressInfo } from "node:net";
import { loadEngine } from "../runtime/node.ts";
import { writeFileAtomic } from "../format/write-file.ts";
import { buildDemoPage } from "./build.ts";

export const MODEL_PATH = "model.axf"; // where the page finds the model, relative to itself

// Same rules as the page's own <meta> policy: no request leaves the origin.
const CSP = "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

export interface DemoServer { url: string; port: number; close(): Promise<void> }

// Fails before listening if the file is not a model the runtime loads.
async function checkModel(bytes: Uint8Array, path: string): Promise<void> {
  try {
    (await loadEngine()).loadModel(bytes);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

export async function startDemoServer(modelPath: string, bytes: Uint8Array, opts: { port?: number } = {}): Promise<DemoServer> {
  await checkModel(bytes, modelPath);
  const page = Buffer.from(await buildDemoPage({ modelUrl: MODEL_PATH, modelName: basename(modelPath) }));
  const send = (res: ServerResponse, status: number, type: string, body: Uint8Array | string, head: boolean) => {
    res.writeHead(status, {
      "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store",
      "content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
    });
    res.end(head ? undefined : body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) return send(res, 405, "text/plain; charset=utf-8", "only GET\n", head);
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/" || path === "/index.html") return send(res, 200, "text/html; charset=utf-8", page, head);
    if (path === "/" + MODEL_PATH) return send(res, 200, "application/octet-stream", bytes, head);
    send(res, 404, "text/plain; charset=utf-8", "not found\n", head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new Error(`port ${opts.port} is in use; pick another with --port (0: any free port)`) : err));
    server.listen(opts.port ?? 8000, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// The page and the model as static files: <dir>/index.html and <dir>/model.axf.
export async function writeDemoFolder(modelPath: string, bytes: Uint8Array, dir: string): Promise<string[]> {
  await checkModel(bytes, modelPath);
  await mkdir(dir, { recursive: true });
  const page = await buildDemoPage({ modelUrl: MODEL_PATH, modelName: basename(modelPath) });
  const files = [join(dir, "index.html"), join(dir, MODEL_PATH)];
  await writeFileAtomic(files[0], page, "demo page");
  await writeFileAtomic(files[1], bytes, "model file");
  return files;
}
