// The calibration temperature (CONFIG word 27, docs/format.md): written by the writer, read by the
// converter from calibration.json, applied by every host that prints scores to logits / T, never to
// the raw logits. Expected scores are computed here from the raw logits, independently of the host.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { loadEngine } from "../host/runtime/node.ts";
import { writeModel } from "../host/format/writer.ts";
import { convertHfDir } from "../host/convert/index.ts";
import { randomModel } from "./helpers/random-model.ts";
import { writeHfCheckpoint } from "./helpers/hf-checkpoint.ts";

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const close = (a: number[], b: number[], what: string) =>
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-9, `${what}[${i}]: ${v} vs ${b[i]}`));

test("scores are softmax(logits / T); logits stay raw; a file without T scores as T = 1", async () => {
  const engine = await loadEngine();
  const plain = randomModel({ seed: 3, numLabels: 3 });
  const texts = ["hello world", "the cat sat on the mat", "a"];
  const before = texts.map((t) => engine.loadModel(writeModel(plain)).classify(t));
  const m = engine.loadModel(writeModel({ ...plain, config: { ...plain.config, temperature: 2.5 } }));
  assert.is(m.temperature, 2.5);
  texts.forEach((t, k) => {
    const c = m.classify(t);
    assert.equal(c.logits, before[k].logits, "raw logits unchanged");
    assert.is(c.label, before[k].label, "T > 0 keeps the argmax");
    close(c.scores, softmax(c.logits.map((v) => v / 2.5)), "scores");
    close(before[k].scores, softmax(before[k].logits), "scores without T");
    close(m.classifyBatch([t])[0].scores, c.scores, "batch scores");
  });
  assert.is(engine.loadModel(writeModel(plain)).temperature, 1);
});

test("multi-label: sigmoid(logits / T); regression: the raw value", async () => {
  const engine = await loadEngine();
  const ml = randomModel({ seed: 4, numLabels: 3, problemType: "multi_label_classification" });
  const c = engine.loadModel(writeModel({ ...ml, config: { ...ml.config, temperature: 0.5 } })).classify("hello");
  close(c.scores, c.logits.map((v) => 1 / (1 + Math.exp(-v / 0.5))), "sigmoid scores");
  const rg = randomModel({ seed: 5, problemType: "regression" });
  const r = engine.loadModel(writeModel({ ...rg, config: { ...rg.config, temperature: 3 } })).classify("hello");
  assert.equal(r.scores, r.logits);
});

test("the writer rejects a temperature that is not positive and finite (the reader's checks: format.test.ts)", () => {
  const m = randomModel({ seed: 6 });
  for (const bad of [0, -2, NaN, Infinity]) {
    assert.throws(() => writeModel({ ...m, config: { ...m.config, temperature: bad } }), /config\.temperature/);
  }
});

test("convert: calibration.json {temperature} becomes CONFIG word 27; a bad one is named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-temperature-"));
  try {
    writeHfCheckpoint(dir);
    assert.is((await convertHfDir(dir)).config.temperature, undefined);
    writeFileSync(join(dir, "calibration.json"), JSON.stringify({ temperature: 1.75 }));
    const model = await convertHfDir(dir);
    assert.is(model.config.temperature, 1.75);
    const loaded = (await loadEngine()).loadModel(writeModel(model));
    assert.is(loaded.temperature, 1.75);
    for (const bad of ['{"temperature": -1}', '{"temperature": "2"}', "{}", "not json"]) {
      writeFileSync(join(dir, "calibration.json"), bad);
      await convertHfDir(dir).then(() => assert.unreachable(bad), (e: Error) => assert.match(e.message, /calibration\.json/));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the WASI entry prints softmax(logits / T)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-temperature-wasi-"));
  try {
    const plain = randomModel({ seed: 8, numLabels: 2 });
    const model = { ...plain, config: { ...plain.config, temperature: 4 } };
    writeFileSync(join(dir, "m.axf"), writeModel(model));
    const r = spawnSync(process.execPath, ["host/deploy/wasi/run.mjs", join(dir, "m.axf"), "hello world"], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    const line = JSON.parse(r.stdout.trim().split("\n")[0]);
    const want = (await loadEngine()).loadModel(writeModel(model)).classify("hello world");
    close(line.scores, softmax(want.logits.map((v) => v / 4)), "wasi scores");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
