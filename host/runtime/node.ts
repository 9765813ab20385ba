// Node conveniences over the universal runtime API: the wasm is read from
// build/axformer.wasm next to this package, compiled once per process.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { instantiate, type Engine, type LoadedModel } from "./index.ts";
import { packagePath } from "../package-root.ts";

export const WASM_URL = pathToFileURL(packagePath("build/axformer.wasm"));

let compiled: Promise<WebAssembly.Module> | null = null;

export function compileRuntime(): Promise<WebAssembly.Module> {
  compiled ??= readFile(WASM_URL).then(
    (bytes) => WebAssembly.compile(bytes),
    (err) => {
      compiled = null;
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new Error(`the runtime ${WASM_URL.pathname} is missing; build it with \`npm run asbuild\``);
      }
      throw err;
    });
  return compiled;
}

// A fresh engine (its own wasm instance and memory). A Node process is not held
// to a Worker's 128 MB, so its loadModel sets no memory limit unless asked
// (loadModel(bytes, { maxMemoryMb })).
export async function loadEngine(): Promise<Engine> {
  const engine = await instantiate(await compileRuntime());
  engine.defaultMaxMemoryMb = Infinity;
  return engine;
}

export async function loadModelFile(path: string): Promise<LoadedModel> {
  const [engine, bytes] = await Promise.all([loadEngine(), readFile(path)]);
  return engine.loadModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
