// `axformer demo <model-file> [--port N] [--out dir]`: see host/demo/server.ts.
import { readFileOrFail } from "./util.ts";
import { startDemoServer, writeDemoFolder } from "../demo/server.ts";

export async function demoCommand(modelPath: string, opts: { port?: string; out?: string }): Promise<void> {
  const port = Number(opts.port ?? "8000");
  if (!/^\d+$/.test(opts.port ?? "8000") || port > 65535) throw new Error(`--port must be an integer in 0..65535 (0: any free port), got "${opts.port}"`);
  const bytes = await readFileOrFail(modelPath, "model file");
  if (opts.out) {
    const files = await writeDemoFolder(modelPath, bytes, opts.out);
    process.stdout.write(`wrote ${files.join(" and ")}: serve the folder with any static server, or open index.html from disk and choose the model file\n`);
    return;
  }
  const server = await startDemoServer(modelPath, bytes, { port });
  process.stdout.write(`demo of ${modelPath} at ${server.url} (the model runs in the browser; Ctrl+C stops)\n`);
  const stop = () => { void server.close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
