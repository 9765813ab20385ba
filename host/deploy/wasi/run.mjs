#!/usr/bin/env node
// Runs the standalone WASI build (build/axformer-wasi.wasm) under the WASI that
// Node and Bun have built in (`node:wasi`). Plain JavaScript, so it needs no
// TypeScript loader and runs the same under `node` and `bun`.
//
//   node host/deploy/wasi/run.mjs <model.axf> [--pair] [options] [text ...]
//   printf 'good film\nbad film\n' | node host/deploy/wasi/run.mjs model.axf
//
// Only the model file's directory is visible to the wasm (a WASI pre-open), read
// through the same path the caller gave. AXFORMER_WASI_WASM overrides the wasm file.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// node:wasi prints an ExperimentalWarning on every run; it says nothing useful here.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (String(warning).includes("WASI")) return;
  emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import("node:wasi");

const args = process.argv.slice(2);
const wasmPath = process.env.AXFORMER_WASI_WASM ?? fileURLToPath(new URL("../../../build/axformer-wasi.wasm", import.meta.url));

// The model is the first argument that is not an option; pre-open its directory
// under its absolute path and hand the wasm the absolute model path.
const VALUE_OPTIONS = new Set(["--aggregation", "--ignore-labels", "--top-k", "--max-answer-len", "--doc-stride", "--max-seq-len", "--max-question-len"]);
const preopens = {};
let seenEnd = false;
for (let i = 0; i < args.length; i++) {
  if (!seenEnd && args[i] === "--") { seenEnd = true; continue; }
  if (!seenEnd && args[i].startsWith("--")) {
    if (VALUE_OPTIONS.has(args[i])) i++; // its value is not the model
    continue;
  }
  const abs = resolve(args[i]);
  preopens[dirname(abs)] = dirname(abs);
  args[i] = abs;
  break;
}

let wasm;
try {
  wasm = await readFile(wasmPath);
} catch {
  process.stderr.write(`axformer-wasi: ${wasmPath} not found; build it with: npx asc assembly/wasi/main.ts --target wasi\n`);
  process.exit(1);
}
const wasi = new WASI({ version: "preview1", args: ["axformer-wasi", ...args], env: {}, preopens, returnOnExit: true });
const { instance } = await WebAssembly.instantiate(wasm, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(instance);
