// The npm package ships, beside dist/, the TypeScript that `axformer deploy workers`
// copies into a Worker project. That list is kept by hand in package.json `files`;
// this test fails when the Worker code starts importing a module the list misses,
// which would break deploys from an installed package but not from the repo.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { workerSources } from "../host/deploy/workers.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const files: string[] = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).files;

function shipped(rel: string): boolean {
  return files.some((f) => (f.endsWith("/") ? rel.startsWith(f) : rel === f));
}

test("every module the Worker code imports is in package.json files", async () => {
  const sources = await workerSources();
  assert.ok(sources.size >= 2, `expected the Worker entry and the runtime, got ${[...sources.keys()].join(", ")}`);
  const missing = [...sources.keys()].filter((rel) => !shipped(rel));
  assert.equal(missing, [], `not shipped in the npm package: ${missing.join(", ")}`);
});

test("the wasm builds the exports point at are shipped", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const targets = JSON.stringify(pkg.exports).match(/\.\/build\/[^"]+\.wasm/g) ?? [];
  assert.ok(targets.length >= 2, "exports name the runtime and the WASI build");
  for (const t of targets) assert.ok(shipped(t.slice(2)), `${t} is exported but not in files`);
});

// `axformer demo` from an installed package has no esbuild: it serves the page script
// that `npm run build` bundled.
test("the demo page's prebuilt script is built and shipped", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.ok(shipped("build/demo-page.js"), "build/demo-page.js is not in package.json files");
  assert.match(pkg.scripts.build, /build:demo/, "npm run build does not bundle the demo page");
  assert.match(pkg.scripts["build:demo"], /--outfile=build\/demo-page\.js/);
});

// The product's promise: the runtime, tokenizers included, in at most 150 KiB.
// pretest builds both from the current sources, so this measures what ships.
test("the runtime wasm builds stay within 150 KiB", () => {
  for (const f of ["axformer.wasm", "axformer-wasi.wasm"]) {
    const bytes = readFileSync(join(ROOT, "build", f)).length;
    assert.ok(bytes <= 150 * 1024, `build/${f} is ${(bytes / 1024).toFixed(1)} KiB, over the 150 KiB budget`);
  }
});

test.run();
