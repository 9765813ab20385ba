// `axformer demo <model-file> [--port N] [--out dir]`: see host/demo/server.ts.
import { readFileOrFail } from "./util.ts";
import { startDemoServer, writeDemoFolder } from "../demo/server.ts";

export async function demoCommand(modelPath: string, opts: { port?: number; out?: string }): Promise<void> {
  const bytes = await readFileOrFail(modelPath, "model file");
  if (opts.out) {
    const files = await writeDemoFolder(modelPath, bytes, opts.out);
    process.stdout.write(`wrote ${files.join(" and ")}: serve the folder with any static server, or open index.html from disk and choose the model file\n`);
    return;
  }
  const server = await startDemoServer(modelPath, bytes, { port: opts.port });
  process.stdout.write(`demo of ${modelPath} at ${server.url} (the model runs in the browser; Ctrl+C stops)\n`);
  const stop = () => { void server.close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
