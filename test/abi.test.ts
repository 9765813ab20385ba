// The host's one typing of the wasm ABI (host/runtime/abi.ts) against the built
// module: its exports and imports as WebAssembly sees them, and the .d.ts asc
// writes beside it. A function added, removed or re-parametered in assembly/
// without the host following fails here.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WASM_EXPORTS } from "../host/runtime/abi.ts";

const build = (f: string) => fileURLToPath(new URL(`../build/${f}`, import.meta.url));
const module = new WebAssembly.Module(readFileSync(build("axformer.wasm")));

test("WASM_EXPORTS lists exactly the functions the wasm exports", () => {
  const exported = WebAssembly.Module.exports(module);
  const functions = exported.filter((e) => e.kind === "function").map((e) => e.name).sort();
  assert.equal(functions, Object.keys(WASM_EXPORTS).sort());
  assert.equal(exported.filter((e) => e.kind !== "function").map((e) => `${e.kind} ${e.name}`), ["memory memory"]);
});

test("WASM_EXPORTS has the parameters of asc's build/axformer.d.ts", () => {
  const dts = build("axformer.d.ts");
  assert.ok(existsSync(dts), "build/axformer.d.ts is missing: run npm run asbuild");
  const declared: Record<string, string[]> = {};
  for (const m of readFileSync(dts, "utf8").matchAll(/export function (\w+)\(([^)]*)\)/g)) {
    declared[m[1]] = m[2].split(",").map((p) => p.trim().split(":")[0]).filter((p) => p !== "");
  }
  assert.equal(declared, Object.fromEntries(Object.entries(WASM_EXPORTS).map(([k, v]) => [k, [...v]])));
});

test("the wasm imports only env.abort, which instantiate() provides", () => {
  assert.equal(WebAssembly.Module.imports(module), [{ module: "env", name: "abort", kind: "function" }]);
});

test.run();
