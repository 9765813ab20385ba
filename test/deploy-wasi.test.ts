// The standalone WASI build (assembly/wasi/main.ts -> build/axformer-wasi.wasm):
// runs under Node's node:wasi (host/deploy/wasi/run.mjs) and under Bun (which
// runs a WASI .wasm directly), reads the model through WASI file calls and texts
// from arguments or stdin, and prints the answers of the JS runtime.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync, rmSync, existsSync, statSync, readdirSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { spawnSync, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { loadModelFile } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { randomModel } from "./helpers/random-model.ts";

const root = process.cwd();
const wasmPath = join(root, "build/axformer-wasi.wasm");
const runner = join(root, "host/deploy/wasi/run.mjs");
const bun = join(createRequire(import.meta.url).resolve("bun/package.json"), "../bin/bun.exe");
const dir = mkdtempSync(join(tmpdir(), "axformer-wasi-"));
const modelPath = join(dir, "tiny.axf");
writeFileSync(modelPath, writeModel(randomModel({ seed: 21, numLabels: 3 })));
let ref: LoadedModel;

// Built by `npm run asbuild` when package.json says so; rebuilt here when missing
// or older than any runtime source, so the test never checks a stale build.
function newestSource(d: string): number {
  let t = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

test.before(async () => {
  if (!existsSync(wasmPath) || statSync(wasmPath).mtimeMs < newestSource(join(root, "assembly"))) {
    execFileSync(process.execPath, [join(root, "node_modules/assemblyscript/bin/asc.js"), "assembly/wasi/main.ts", "--target", "wasi"], { cwd: root, stdio: "inherit" });
  }
  ref = await loadModelFile(modelPath);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { input: input ?? "", encoding: "utf8", cwd: dir });
  const lines = r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  return { code: r.status, lines, stderr: r.stderr };
}
const node = (args: string[], input?: string) => run(process.execPath, [runner, ...args], input);

// The scores are the runtime's (compute_scores, the function the JS host calls too),
// printed by AssemblyScript's dtoa: parsed back they must be the JS host's bits.
const ULPS = 0;
function ulp(x: number): number {
  const f = new Float64Array([Math.abs(x)]);
  new BigInt64Array(f.buffer)[0] += 1n;
  return f[0] - Math.abs(x);
}
function assertAnswers(lines: any[], inputs: Array<[string, string?]>, model: LoadedModel = ref) {
  assert.is(lines.length, inputs.length);
  lines.forEach((line, i) => {
    const want = model.classify(inputs[i][0], inputs[i][1]);
    assert.is(line.label, want.label, inputs[i].join(" | "));
    assert.is(line.scores.length, want.scores.length);
    line.scores.forEach((s: number, j: number) => assert.ok(Math.abs(s - want.scores[j]) <= ULPS * ulp(want.scores[j]), `score ${j}: ${s} vs ${want.scores[j]}`));
  });
}

test("the build is a WASI command that imports nothing but WASI", () => {
  const mod = new WebAssembly.Module(readFileSync(wasmPath));
  const modules = new Set(WebAssembly.Module.imports(mod).map((i) => i.module));
  assert.equal([...modules], ["wasi_snapshot_preview1"]);
  assert.ok(WebAssembly.Module.exports(mod).some((e) => e.name === "_start"));
});

test("node:wasi: texts as arguments, one JSON line each", () => {
  const r = node([modelPath, "this movie was great", "not good", ""]);
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["this movie was great"], ["not good"], [""]]);
});

test("node:wasi: --pair takes arguments two at a time", () => {
  const r = node(["--pair", modelPath, "it is good", "it is bad", "a", "b"]);
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["it is good", "it is bad"], ["a", "b"]]);
});

test("node:wasi: texts from stdin, one per line (CRLF, empty lines skipped, no final newline)", () => {
  const r = node([relative(dir, modelPath)], "good film\r\n\nthe film was terrible\nlove it");
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["good film"], ["the film was terrible"], ["love it"]]);
});

test("node:wasi: a long stdin (more than one read chunk) keeps every line", () => {
  const texts = Array.from({ length: 3000 }, (_, i) => `line ${i} ${"very good film ".repeat(i % 7)}`);
  const r = node([modelPath], texts.join("\n") + "\n");
  assert.is(r.code, 0, r.stderr);
  assert.is(r.lines.length, texts.length);
  assertAnswers([r.lines[0], r.lines[1234], r.lines[2999]], [[texts[0]], [texts[1234]], [texts[2999]]]);
});

test("node:wasi: --pair on stdin splits at the first TAB; a line without one is an error line and exit 1", () => {
  const r = node(["--pair", modelPath], "good\tbad\tworse\nno tab here\n");
  assert.is(r.code, 1);
  assertAnswers([r.lines[0]], [["good", "bad\tworse"]]);
  assert.match(r.lines[1].error, /no TAB/);
});

test("node:wasi: errors name the file and the problem", () => {
  const bad = join(dir, "bad.axf");
  writeFileSync(bad, new Uint8Array(100));
  let r = node([bad, "x"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /bad\.axf: .*magic/);
  r = node([join(dir, "missing.axf"), "x"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /missing\.axf: no such file/);
  r = node([]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /no model file given/);
  r = node(["--pair", modelPath, "one"]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /two at a time/);
});

test("scores are the JS host's bits on many models, texts and problem types", async () => {
  const texts = ["good film", "an utterly dull, lifeless film", "i loved every minute of it", "a", "", "zzz qqq 123", "the the the the"];
  const kinds = ["single_label_classification", "multi_label_classification", "regression"] as const;
  for (let seed = 1; seed <= 9; seed++) {
    const problemType = kinds[seed % 3];
    const path = join(dir, `m${seed}.axf`);
    writeFileSync(path, writeModel(randomModel({ seed: 100 + seed, problemType, numLabels: problemType === "regression" ? 1 : 2 + (seed % 5) })));
    const model = await loadModelFile(path);
    const r = node([path, ...texts.filter((t) => t !== "")], "");
    assert.is(r.code, 0, r.stderr);
    assertAnswers(r.lines, texts.filter((t) => t !== "").map((t) => [t]), model);
  }
});

test("bun runs the .wasm directly, with the same answers", () => {
  const inputs: Array<[string]> = [["this movie was great"], ["bad"]];
  let r = run(bun, [wasmPath, modelPath, ...inputs.map((i) => i[0])]);
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, inputs);
  r = run(bun, [wasmPath, relative(dir, modelPath)], "good film\n");
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["good film"]]);
});

test("bun runs the node:wasi runner too", () => {
  const r = run(bun, [runner, modelPath, "love it"]);
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["love it"]]);
});

// docs/deploy.md: Bun's own WASI refuses a relative path that climbs out of the
// working directory; an absolute path, or run.mjs (which pre-opens the model's
// folder), works from anywhere.
test("bun and model paths outside the working directory", () => {
  const sub = join(dir, "sub");
  mkdirSync(sub, { recursive: true });
  const inSub = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { input: "", encoding: "utf8", cwd: sub });
    return { code: r.status, lines: r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)), stderr: r.stderr };
  };
  let r = inSub(bun, [wasmPath, "../tiny.axf", "good"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /\.\.\/tiny\.axf: permission denied/);
  r = inSub(bun, [wasmPath, modelPath, "good"]);
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["good"]]);
  r = inSub(bun, [runner, "../tiny.axf", "good"]);
  assert.is(r.code, 0, r.stderr);
  assertAnswers(r.lines, [["good"]]);
});

test.run();
