// `axformer optimize` and `axformer eval`: thin wrappers over host/optimize/commands.ts.
import { runEvalCommand, runOptimizeCommand } from "../optimize/commands.ts";

interface DataFlags { task: string; textCol?: string; pairCol?: string; labelCol?: string; maxLen?: number; workers?: number }

export async function optimizeCommand(
  model: string,
  opts: DataFlags & { val: string; out: string; maxDrop?: string; hardK?: number; hardKChoices?: string; passes?: number; int8?: boolean; int8Layers?: boolean; report?: string; json?: string },
): Promise<void> {
  const { text } = await runOptimizeCommand({ ...opts, model, progress: true });
  process.stdout.write(text);
}

export async function evalCommand(model: string, opts: DataFlags & { data: string; json?: boolean }): Promise<void> {
  const { text } = await runEvalCommand({ ...opts, model });
  process.stdout.write(text);
}
