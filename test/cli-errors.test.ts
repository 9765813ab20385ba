// Bad files given to the CLI (`node bin/axformer.js` in subprocesses, run a few at
// a time): missing files, wrong columns, labels the model does not have, NaN and
// Inf in weights, truncated safetensors, a header that lies, a corrupted model
// file. Each must exit 1 with one clear line naming the file and the place. And
// output safety: `optimize` killed or interrupted midway leaves no partial output
// (temp files only under the documented `.axformer-tmp-*` pattern), says how to
// restart on SIGINT, and a rerun gives the same model as an uninterrupted run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, watch, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { writeModel } from "../host/format/writer.ts";
import { randomModel, DEFAULT_WORDS, prng } from "./helpers/random-model.ts";
import { writeHfCheckpoint } from "./helpers/hf-checkpoint.ts";
import { parseLayout, fixCrcs, writeU32 } from "../scripts/fuzz/axf-layout.ts";
import { loadEngine } from "../host/runtime/node.ts";

const dir = mkdtempSync(join(tmpdir(), "axformer-cli-errors-"));
const p = (name: string) => join(dir, name);

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function cli(args: string[], opts: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Result> & { child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, ["bin/axformer.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout!.on("data", (d) => { stdout += d; });
  child.stderr!.on("data", (d) => { stderr += d; opts.onStderr?.(stderr, child); });
  const done = new Promise<Result>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return Object.assign(done, { child });
}

// Runs [args, expected message] cases, three subprocesses at a time.
async function expectErrors(cases: Array<[string[], RegExp]>): Promise<void> {
  for (let i = 0; i < cases.length; i += 3) {
    const batch = cases.slice(i, i + 3);
    const results = await Promise.all(batch.map(([args]) => cli(args)));
    results.forEach((r, j) => {
      const [args, message] = batch[j];
      const what = args.join(" ");
      assert.is(r.code, 1, `${what}: exit code ${r.code}, stderr ${r.stderr}`);
      assert.is(r.stdout, "", `${what}: printed to stdout`);
      assert.match(r.stderr, /^axformer: /, what);
      assert.match(r.stderr, message, what);
      assert.not.match(r.stderr, /\n\s+at /, `${what}: a stack trace`);
      assert.is(r.stderr.trim().split("\n").length, 1, `${what}: one line`);
    });
  }
}

test.before(() => {
  // A 2-label model (LABEL_0, LABEL_1) and data files for it.
  const model = writeModel(randomModel({ seed: 41 }));
  writeFileSync(p("m.axf"), model);
  // The same file with one weight bit flipped (the DATA CRC catches it), and with a
  // NaN written into a weight and the checksums recomputed (the NaN check catches it).
  const flipped = model.slice();
  const layout = parseLayout(flipped);
  const t = layout.tensors.find((e) => e.name === "encoder.layer.1.output.dense.weight")!;
  flipped[t.dataOffset + 21] ^= 0x10;
  writeFileSync(p("flipped.axf"), flipped);
  const nan = model.slice();
  writeU32(nan, t.dataOffset + 4 * 7, 0x7fc00000);
  fixCrcs(nan);
  writeFileSync(p("nan.axf"), nan);
  writeFileSync(p("short.axf"), model.subarray(0, 1000));

  writeFileSync(p("labels.tsv"), "sentence\tlabel\ngood film\t1\nbad film\t7\n");
  writeFileSync(p("columns.csv"), "text,label\n\"good film\",1\n");
  writeFileSync(p("nolabel.csv"), "sentence,score\ngood,1\n");
  writeFileSync(p("broken.jsonl"), '{"sentence": "good", "label": 1}\n{"sentence": "bad", label: 0}\n');

  // Hugging Face folders with bad checkpoints.
  writeHfCheckpoint(p("hf-nan"), { edit: (n, x) => { if (n.endsWith("layer.1.output.dense.weight")) x[5] = NaN; } });
  writeHfCheckpoint(p("hf-inf"), { edit: (n, x) => { if (n === "classifier.bias") x[1] = -Infinity; } });
  writeHfCheckpoint(p("hf-truncated"));
  const st = readFileSync(p("hf-truncated/model.safetensors"));
  writeFileSync(p("hf-truncated/model.safetensors"), st.subarray(0, st.length - 100));
  // The JSON header lies: a shape that does not match the tensor's byte range.
  writeHfCheckpoint(p("hf-lying-shape"));
  editHeader(p("hf-lying-shape/model.safetensors"), (h) => { h["bert.encoder.layer.0.attention.self.query.weight"].shape = [8, 9]; });
  // ... and offsets that overlap another tensor.
  writeHfCheckpoint(p("hf-lying-offsets"));
  editHeader(p("hf-lying-offsets/model.safetensors"), (h) => {
    h["classifier.bias"].data_offsets = [...h["classifier.weight"].data_offsets.slice(0, 1), h["classifier.weight"].data_offsets[0] + 8];
  });
  // The 8-byte header length points past the end of the file.
  writeHfCheckpoint(p("hf-header-length"));
  const hl = readFileSync(p("hf-header-length/model.safetensors"));
  hl.writeBigUInt64LE(BigInt(hl.length), 0);
  writeFileSync(p("hf-header-length/model.safetensors"), hl);
  writeHfCheckpoint(p("hf-no-config"));
  rmSync(p("hf-no-config/config.json"));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

// Rewrites a safetensors JSON header in place (same length, padded with spaces).
function editHeader(path: string, edit: (h: Record<string, any>) => void): void {
  const b = readFileSync(path);
  const len = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + len).toString());
  edit(h);
  const text = JSON.stringify(h);
  if (text.length > len) throw new Error("editHeader: the edited header is longer");
  b.write(text.padEnd(len, " "), 8);
  writeFileSync(path, b);
}

test("data files: missing, wrong columns, labels the model lacks, broken rows", async () => {
  const evalOn = (data: string, ...flags: string[]) => ["eval", p("m.axf"), "--task", "sst2", "--data", data, ...flags];
  await expectErrors([
    [evalOn(p("missing.tsv")), /cannot read dataset .*missing\.tsv: ENOENT/],
    [evalOn(p("labels.tsv")), /labels\.tsv:3: label '7' is not one of the model's labels \(LABEL_0, LABEL_1\)/],
    [["eval", p("m.axf"), "--task", "generic", "--text-col", "review", "--data", p("columns.csv")],
      /columns\.csv:1: no column named 'review' in the header \(columns: text, label\)/],
    [evalOn(p("nolabel.csv")), /nolabel\.csv:1: the header has no label column \('label'\); columns: sentence, score/],
    [evalOn(p("broken.jsonl")), /broken\.jsonl:2: invalid JSON/],
    [["optimize", p("m.axf"), "--task", "sst2", "--val", p("labels.tsv"), "-o", p("never.axf")], /labels\.tsv:3: label '7'/],
    [["eval", p("missing.axf"), "--task", "sst2", "--data", p("labels.tsv")], /model file not found: .*missing\.axf/],
  ]);
  assert.not.ok(existsSync(p("never.axf")));
});

test("model files: corrupted, NaN in a weight, truncated", async () => {
  await expectErrors([
    [["run", p("flipped.axf"), "good"], /flipped\.axf: DATA: CRC mismatch/],
    [["run", p("nan.axf"), "good"], /nan\.axf: tensor 'encoder\.layer\.1\.output\.dense\.weight' holds NaN or Inf/],
    [["run", p("short.axf"), "good"], /short\.axf: model file: header\.file_size is \d+ but 1000 bytes were loaded/],
    [["run", p("nothing.axf"), "good"], /model file not found: .*nothing\.axf/],
    [["optimize", p("nan.axf"), "--task", "sst2", "--val", p("labels.tsv"), "-o", p("never.axf")], /nan\.axf: invalid model file: tensor '.*' holds NaN or Inf/],
  ]);
});

test("checkpoints: NaN, Inf, truncated safetensors, headers that lie; no output written", async () => {
  const convert = (name: string) => ["convert", p(name), "-o", p(`${name}.axf`)];
  await expectErrors([
    [convert("hf-nan"), /model\.safetensors: tensor bert\.encoder\.layer\.1\.output\.dense\.weight holds NaN at flat index 5; weights must be finite/],
    [convert("hf-inf"), /model\.safetensors: tensor classifier\.bias holds -Infinity at flat index 1/],
    [convert("hf-truncated"), /model\.safetensors: tensor \S+: data_offsets \[\d+, \d+\] run beyond the \d+ data bytes of the file/],
    [convert("hf-lying-shape"), /model\.safetensors: tensor bert\.encoder\.layer\.0\.attention\.self\.query\.weight: holds 256 bytes but F32 \[8,9\] needs 288/],
    [convert("hf-lying-offsets"), /model\.safetensors: tensors classifier\.\w+ and classifier\.\w+ overlap in the data section/],
    [convert("hf-header-length"), /model\.safetensors: header length \d+ runs beyond the end of the file/],
    [convert("hf-no-config"), /hf-no-config: no config\.json/],
    [convert("hf-missing-folder"), /hf-missing-folder: no such folder/],
  ]);
  const left = readdirSync(dir).filter((f) => f.endsWith(".axf") && f.startsWith("hf-") || f.startsWith(".axformer-tmp"));
  assert.equal(left, [], "convert left files behind");
});

// ---- output safety of optimize

const opt = (out: string) => ["optimize", p("big.axf"), "--task", "sst2", "--val", p("val.tsv"), "-o", p(out), "--json", p(`${out}.json`), "--workers", "1"];

function prepareOptimize(): void {
  writeFileSync(p("big.axf"), writeModel(randomModel({ seed: 31, numLayers: 4, hiddenSize: 32, numHeads: 4, intermediateSize: 64 })));
  const rand = prng(5);
  const words = DEFAULT_WORDS.filter((w) => /^[a-z]{2,}$/.test(w));
  const rows = ["sentence\tlabel"];
  for (let i = 0; i < 400; i++) {
    rows.push(Array.from({ length: 3 + Math.floor(rand() * 8) }, () => words[Math.floor(rand() * words.length)]).join(" ") + `\t${rand() < 0.5 ? 0 : 1}`);
  }
  writeFileSync(p("val.tsv"), rows.join("\n") + "\n");
}

// The files optimize may have left: outputs, and temp files (only the documented pattern).
function leftovers(out: string): { outputs: string[]; temps: string[]; other: string[] } {
  const files = readdirSync(dir).filter((f) => f.includes(out));
  return {
    outputs: files.filter((f) => f === out || f === `${out}.json`),
    temps: files.filter((f) => /^\.axformer-tmp-.+-\d+-[0-9a-f]{8}$/.test(f)),
    other: files.filter((f) => f !== out && f !== `${out}.json` && !f.startsWith(".axformer-tmp-")),
  };
}

// Resolves once the search has started (the progress bar's first line).
const whenSearching = (signal: NodeJS.Signals) => (text: string, child: ReturnType<typeof spawn>) => {
  if (text.includes("optimize |") && child.exitCode === null && !child.killed) child.kill(signal);
};

test("optimize killed with SIGKILL mid-search: no output, no temp file", async () => {
  prepareOptimize();
  const r = await cli(opt("a.axf"), { onStderr: whenSearching("SIGKILL") });
  assert.is(r.signal, "SIGKILL", `not killed mid-search: ${r.stderr}`);
  assert.equal(leftovers("a.axf"), { outputs: [], temps: [], other: [] });
});

test("optimize interrupted with SIGINT: exit 130, says nothing was written and how to restart", async () => {
  const r = await cli(opt("b.axf"), { onStderr: whenSearching("SIGINT") });
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, /optimize interrupted by SIGINT; nothing was written \(.*b\.axf, .*b\.axf\.json left as they were\)/);
  assert.match(r.stderr, /run the same command again to restart it;\nit gives the same result:\n  axformer optimize .*big\.axf --task sst2 .* -o .*b\.axf/);
  assert.equal(leftovers("b.axf"), { outputs: [], temps: [], other: [] });
});

test("optimize killed the moment it starts writing: the output is whole or absent; reruns give identical models", async () => {
  let killedAt = "";
  const watcher = watch(dir, (_event, name) => {
    if (!killedAt && name?.startsWith(".axformer-tmp-c.axf")) { killedAt = name; c.child.kill("SIGKILL"); }
  });
  const c = cli(opt("c.axf"));
  const rc = await c;
  watcher.close();
  // The kill must have happened, and before the process finished: were the output not
  // written through a temp file, no kill would come and nothing below would be tested.
  assert.ok(killedAt, `no .axformer-tmp-c.axf* file appeared while optimize wrote c.axf (exit ${rc.code}): the write is not atomic`);
  assert.is(rc.signal, "SIGKILL", `optimize finished (exit ${rc.code}) before the SIGKILL sent when ${killedAt} appeared`);
  const after = leftovers("c.axf");
  assert.equal(after.other, []);
  const killedOutput = after.outputs.includes("c.axf") ? readFileSync(p("c.axf")) : null;
  const killedReport = after.outputs.includes("c.axf.json") ? readFileSync(p("c.axf.json"), "utf8") : null;
  // Two full runs (one of them the restart of the killed one), in parallel.
  const [d, e] = await Promise.all([cli(opt("c.axf")), cli(opt("e.axf"))]);
  assert.is(d.code, 0, d.stderr);
  assert.is(e.code, 0, e.stderr);
  assert.match(d.stdout, /wrote .*c\.axf/);
  const cBytes = readFileSync(p("c.axf")), eBytes = readFileSync(p("e.axf"));
  assert.ok(Buffer.compare(cBytes, eBytes) === 0, "the rerun and an uninterrupted run differ");
  (await loadEngine()).loadModel(new Uint8Array(cBytes));
  // Whatever the kill hit: the killed run's output, if it got written, was already complete
  // (rename is atomic), and only its temp files may remain, under the documented pattern.
  if (killedOutput) assert.ok(Buffer.compare(killedOutput, eBytes) === 0, `the killed run left a partial c.axf (${rc.signal ?? rc.code}, ${killedAt})`);
  // Its report, if written, is whole: the rerun's, but for the time the search took.
  const untimed = (text: string) => ({ ...JSON.parse(text), seconds: 0 });
  if (killedReport) assert.equal(untimed(killedReport), untimed(readFileSync(p("c.axf.json"), "utf8")), `the killed run left a partial c.axf.json (${killedAt})`);
  for (const t of after.temps) assert.match(t, new RegExp(`^\\.axformer-tmp-c\\.axf(\\.json)?-${c.child.pid}-[0-9a-f]{8}$`));
});

test.run();
