// A short seeded run of the model-file fuzzer (scripts/fuzz; the long run is
// `npm run fuzz`): mutated and truncated model files loaded into one runtime
// instance end in a typed error or a load that runs, the instance keeps giving
// the reference logits, the memory does not grow, and a hang is caught.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { superviseFuzz, FuzzHang } from "../scripts/fuzz/supervise.ts";
import { runFuzz, messageClass } from "../scripts/fuzz/harness.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { FuzzStats } from "../scripts/fuzz/harness.ts";
import { parseLayout, fixCrcs, readU32, writeU32 } from "../scripts/fuzz/axf-layout.ts";
import { writeModel } from "../host/format/writer.ts";
import { randomModel } from "./helpers/random-model.ts";

const CASES = 1500;
let stats: FuzzStats;

test("1500 seeded cases in a supervised worker: no trap, no hang, every case typed or loaded", async () => {
  stats = await superviseFuzz({ seed: 20261129, cases: CASES, timeoutMs: 10_000 });
  assert.equal(stats.failureSamples, [], "failures");
  assert.is(stats.failures, 0);
  assert.is(stats.cases, CASES);
  assert.is(stats.loaded + stats.rejected, CASES);
  assert.ok(stats.loaded > 0 && stats.rejected > 0);
  // The instance was checked against the reference after every rejection.
  assert.ok(stats.referenceChecks >= stats.rejected);
});

test("the mutations reach the checks behind the checksums", () => {
  const classes = Object.keys(stats.byMessage);
  for (const stage of [
    /^model file: header CRC mismatch/, /^model file: header\.file_size/, /^DATA: CRC mismatch/,
    /overlaps section/, /^CONFIG\.\w+ = N is out of range/, /^LAYERS\[N\]\./, /^VOCAB/, /^LABELS/,
    /^TENSORS/, /^tensor '\*': data_size/, /^tensor '\*' holds NaN or Inf/, /^tensor '\*' is missing/,
  ]) {
    assert.ok(classes.some((c) => stage.test(c)), `no rejection matched ${stage}`);
  }
  // Valid-but-odd models (hard_k, tokenizer flags, max_len...) loaded and ran.
  assert.ok(stats.byKind["struct.valid-variant"].loaded > 0);
});

test("the DATA checksum catches every bit flip in the weights", () => {
  const d = stats.dataBitflips;
  assert.ok(d.single > 50, `only ${d.single} single flips`);
  assert.is(d.singleCaught, d.single);
  assert.is(d.multiCaught, d.multi);
});

test("wasm memory is the same before and after the run", () => {
  assert.is(stats.memoryAfter, stats.memoryBefore);
});

test("a case is replayed alone from the seed and its index", async () => {
  const engine = await loadEngine();
  const all: string[] = [];
  runFuzz(engine, { seed: 5, cases: 40, trace: all });
  for (const i of [3, 17, 39]) {
    const one: string[] = [];
    runFuzz(engine, { seed: 5, cases: 1, start: i, trace: one });
    assert.equal(one, [all[i]]);
  }
});

test("a case that hangs is cut off at the time bound and named", async () => {
  try {
    await superviseFuzz({ seed: 3, cases: 50, hangAt: 7, timeoutMs: 300 });
    assert.unreachable("the hang went unnoticed");
  } catch (err) {
    assert.instance(err, FuzzHang);
    assert.is((err as FuzzHang).caseIndex, 7);
    assert.match((err as Error).message, /--seed 3 --start 7 --cases 1/);
  }
});

test("a tensor name with control bytes reaches the error message escaped, and cut short", async () => {
  const engine = await loadEngine();
  const bytes = writeModel(randomModel({ seed: 2 }));
  const layout = parseLayout(bytes);
  const e = layout.tensors.find((t) => t.name === "embeddings.word_embeddings.weight")!;
  const name = layout.namesAt + readU32(bytes, e.at);
  bytes.set([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x00, 0x27, 0xff], name); // ESC [31m NUL ' 0xff
  writeU32(bytes, e.at + 52, 1); // reserved: the entry is rejected, by name
  fixCrcs(bytes);
  assert.throws(() => engine.loadModel(bytes), (err: Error) =>
    err.message === "tensor '\\x1b[31m\\x00\\x27\\xffgs.word_embeddings.weight': reserved is not 0");
  writeU32(bytes, e.at + 4, 500); // a name running on through the other names
  fixCrcs(bytes);
  assert.throws(() => engine.loadModel(bytes), (err: Error) =>
    /^tensor '\\x1b\[31m\\x00\\x27\\xffgs\.word_embeddings\.weightembeddings\.[\w.]{52}\.\.\. \(500 bytes\)': reserved is not 0$/.test(err.message));
});

test("message classes elide names and numbers only", () => {
  assert.is(messageClass("tensor 'encoder.layer.1.x': dims[0] = 70000"), "tensor '*': dims[N] = N");
  assert.is(messageClass("VOCAB[12]: invalid UTF-8"), "VOCAB[N]: invalid UTF-8");
  assert.is(messageClass("tensor 'a': a vector must be f32"), "tensor '*': a vector must be f32");
});

test.run();
