// Shared bits of the CLI: error reporting and loading a model file into the runtime.
import { readFile } from "node:fs/promises";
import { loadEngine } from "../runtime/node.ts";
import type { LoadedModel } from "../runtime/index.ts";

export function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`axformer: ${message}\n`);
  if (process.env.AXFORMER_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + "\n");
  process.exit(1);
}

export async function readFileOrFail(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`${what} not found: ${path}`);
    if (code === "EISDIR") throw new Error(`${what} is a directory, expected a file: ${path}`);
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

export async function openModel(path: string): Promise<LoadedModel> {
  const bytes = await readFileOrFail(path, "model file");
  const engine = await loadEngine();
  try {
    return engine.loadModel(bytes);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

export function parseIdList(value: string, flag: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  return parts.map((p, i) => {
    const n = Number(p);
    if (p === "" || !Number.isInteger(n) || n < 0) throw new Error(`${flag}: item ${i + 1} ("${p}") is not a non-negative integer`);
    return n;
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}
