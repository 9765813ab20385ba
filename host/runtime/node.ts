// Node conveniences over the universal runtime API: the wasm is read from
// build/axformer.wasm next to this package, compiled once per process.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { instantiate, type Engine, type LoadedModel } from "./index.ts";
import { instantiateBest, relaxedValidates, type RuntimeChoice, type SimdPreference } from "./simd.ts";
import { packagePath } from "../package-root.ts";

export const WASM_URL = pathToFileURL(packagePath("build/axformer.wasm"));
export const RELAXED_WASM_URL = pathToFileURL(packagePath("build/axformer-relaxed.wasm"));

let compiled: Promise<WebAssembly.Module> | null = null;
let compiledRelaxed: Promise<WebAssembly.Module | null> | null = null;

// The relaxed build, compiled, or null where this engine refuses relaxed SIMD or
// the file is missing (it is optional: the plain build is the reference).
function compileRelaxed(): Promise<WebAssembly.Module | null> {
  compiledRelaxed ??= relaxedValidates()
    ? readFile(RELAXED_WASM_URL).then((bytes) => WebAssembly.compile(bytes), () => null)
    : Promise.resolve(null);
  return compiledRelaxed;
}

// AXFORMER_SIMD=auto|relaxed|simd chooses the build of loadEngine() (default auto:
// relaxed where it validates and passes its self-test, host/runtime/simd.ts).
function preference(): SimdPreference {
  const v = process.env.AXFORMER_SIMD ?? "auto";
  if (v !== "auto" && v !== "relaxed" && v !== "simd") throw new Error(`AXFORMER_SIMD must be auto, relaxed or simd, got "${v}"`);
  return v;
}

// An engine of the build chosen by `prefer`, and why that build.
export async function chooseEngine(prefer: SimdPreference = preference()): Promise<RuntimeChoice> {
  const relaxed = prefer === "simd" ? null : await compileRelaxed();
  let choice: RuntimeChoice;
  if (!relaxed && prefer !== "simd") {
    const why = relaxedValidates() ? `the relaxed-SIMD runtime ${RELAXED_WASM_URL.pathname} is missing (build it with \`npm run asbuild\`)`
      : "this engine does not accept relaxed SIMD (a module with relaxed_madd and relaxed_dot_i8x16_i7x16_add_s does not validate)";
    if (prefer === "relaxed") throw new Error(`the relaxed-SIMD runtime cannot be used here: ${why}`);
    choice = { engine: await instantiate(await compileRuntime()), build: "simd", reason: why };
  } else {
    choice = await instantiateBest(await compileRuntime(), relaxed, prefer);
  }
  choice.engine.defaultMaxMemoryMb = Infinity;
  return choice;
}

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
export async function loadEngine(prefer?: SimdPreference): Promise<Engine> {
  return (await chooseEngine(prefer)).engine;
}

export async function loadModelFile(path: string): Promise<LoadedModel> {
  const [engine, bytes] = await Promise.all([loadEngine(), readFile(path)]);
  return engine.loadModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
