// `axformer optimize` and `axformer eval`: thin wrappers over host/optimize/commands.ts.
import { statSync } from "node:fs";
import { removeOwnTempFiles, stopWrites } from "../format/write-file.ts";
import { checkpointPath, runEvalCommand, runOptimizeCommand } from "../optimize/commands.ts";

interface DataFlags { task?: string; textCol?: string; pairCol?: string; labelCol?: string; maxLen?: number; workers?: number }

export async function optimizeCommand(
  model: string,
  opts: DataFlags & {
    val: string; out: string; maxDrop?: string; hardK?: number; hardKChoices?: string; passes?: number; int8?: boolean; int8Layers?: boolean;
    report?: string; json?: string; lossPrecision?: string; earlyReject?: boolean; resume?: boolean; docStride?: number;
  },
): Promise<void> {
  const outputs = [opts.out, opts.json, opts.report].filter((p): p is string => typeof p === "string");
  const stopWatching = explainInterrupt(outputs, checkpointPath(opts.out));
  try {
    const { text } = await runOptimizeCommand({ ...opts, model, progress: true });
    process.stdout.write(text);
  } finally {
    stopWatching();
  }
}

export async function evalCommand(model: string, opts: DataFlags & { data: string; json?: boolean }): Promise<void> {
  const { text } = await runEvalCommand({ ...opts, model });
  process.stdout.write(text);
}

// On SIGINT / SIGTERM during optimize: remove this process's temp files (outputs
// are written to `.axformer-tmp-<name>-<pid>-<hex>` and renamed, so an output is
// either whole or absent), say which outputs were already written, and how to
// continue: the checkpoint next to the output (written atomically after every
// decided candidate) lets `--resume` pick up from the last decided candidate.
function explainInterrupt(outputs: string[], checkpoint: string): () => void {
  const started = Date.now();
  const handler = async (signal: NodeJS.Signals) => {
    await stopWrites(); // a write under way ends whole or removes its temp file
    for (const path of [...outputs, checkpoint]) removeOwnTempFiles(path);
    const written = outputs.filter((p) => { try { return statSync(p).mtimeMs >= started; } catch { return false; } });
    const missing = outputs.filter((p) => !written.includes(p));
    if (process.stderr.isTTY) process.stderr.write("\x1b[?25h"); // the progress bar hides the cursor
    process.stderr.write(
      `\naxformer: optimize interrupted by ${signal}; ` +
      (written.length ? `already written: ${written.join(", ")}; not written: ${missing.join(", ") || "none"}.\n`
        : `nothing was written (${missing.join(", ")} left as they were).\n`) +
      "The search is deterministic: run the same command again to restart it;\n" +
      `it gives the same result:\n  axformer ${process.argv.slice(2).map(shellQuote).join(" ")}\n` +
      `It saved its progress after every decided candidate (${checkpoint}): add --resume to continue from there:\n` +
      `  axformer ${[...process.argv.slice(2).filter((a) => a !== "--resume"), "--resume"].map(shellQuote).join(" ")}\n`,
    );
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
