// Per-row losses as the AxFormer reference computes them: PyTorch's float32
// cross-entropy (and squared error, and multi-label binary cross-entropy) against
// numbers PyTorch computed (test/fixtures/optimize/*.json, made by
// scripts/optimize/make_*_fixture.py with Debian's torch 1.13), and the strict-test
// decision that float32 and float64 losses take differently on a confident model.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { optimize } from "../host/optimize/index.ts";
import { binaryCrossEntropyF32, crossEntropyF32, expf, logf, squaredErrorF32 } from "../host/optimize/loss-f32.ts";
import { multiLabelF1, scoreRows } from "../host/optimize/metrics.ts";
import { setHardK } from "../host/optimize/transforms.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { confidentCase } from "./helpers/confident-model.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/optimize/${name}`, import.meta.url), "utf8"));
const f32s = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, "base64")).buffer);
const ulps = (a: number, b: number) => Math.abs(new Int32Array(Float32Array.of(a).buffer)[0] - new Int32Array(Float32Array.of(b).buffer)[0]);

interface LossSet { name: string; kind: "ce" | "mse" | "bce"; rows: number; classes: number; logits: string; labels?: number[]; targets?: string; losses: string }
const sets: LossSet[] = fixture("f32-losses.json").sets;

function ours(s: LossSet): Float32Array {
  const z = f32s(s.logits), t = s.targets ? f32s(s.targets) : null;
  return Float32Array.from({ length: s.rows }, (_, i) =>
    s.kind === "ce" ? crossEntropyF32(z, i * s.classes, s.classes, s.labels![i])
      : s.kind === "mse" ? squaredErrorF32(z[i], t![i])
        : binaryCrossEntropyF32(z, i * s.classes, s.classes, t!, i * s.classes));
}

test("float32 losses equal PyTorch's bit for bit: the committed models' own logits, 2 to 7 classes, squared error, 3-label BCE", () => {
  let rows = 0;
  for (const s of sets) {
    if ((s.kind === "ce" || s.kind === "bce") && s.classes >= 8) continue;
    const want = f32s(s.losses), got = ours(s);
    for (let i = 0; i < s.rows; i++) if (got[i] !== want[i]) assert.unreachable(`${s.name} row ${i}: ${got[i]} vs torch ${want[i]}`);
    rows += s.rows;
  }
  assert.ok(rows > 15000, `${rows} rows compared`);
  assert.ok(sets.some((s) => s.name === "real:sst2") && sets.some((s) => s.name === "real:spam"));
});

test("8 or more classes: cross-entropy sums lane by lane as PyTorch does, bit for bit; multi-label BCE within 1e-6 relative", () => {
  for (const s of sets.filter((s) => s.kind === "ce" && s.classes >= 8)) {
    const want = f32s(s.losses), got = ours(s);
    for (let i = 0; i < s.rows; i++) if (got[i] !== want[i]) assert.unreachable(`${s.name} row ${i}: ${got[i]} vs torch ${want[i]}`);
  }
  for (const s of sets) {
    if (s.classes < 8 || s.kind !== "bce") continue;
    const want = f32s(s.losses), got = ours(s);
    for (let i = 0; i < s.rows; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])), `${s.name} row ${i}: ${got[i]} vs ${want[i]}`);
  }
});

test("SLEEF exp and log: exact at the easy points, and not always the correctly rounded value", () => {
  assert.is(expf(0), 1);
  assert.is(logf(1), 0);
  assert.is(expf(-200), 0);
  assert.is(logf(0), -Infinity);
  assert.ok(Number.isNaN(logf(-1)));
  // A row of the fixture where Math.fround(Math.log(s)) is one ulp off PyTorch's.
  const s = Math.fround(1.1274909973144531);
  assert.is(logf(s), Math.fround(0.11999481171369553));
  assert.is(ulps(Math.fround(Math.log(s)), logf(s)), 1);
});

test("a confident model: float32 losses take the reference's decision, float64 losses the opposite one", async () => {
  const fx = fixture("f32-decision.json");
  const { model, rows } = await confidentCase();
  // The fixture's logits are this model's, from this runtime, bit for bit.
  const engine = await loadEngine();
  for (const [m, key] of [[model, "original_logits"], [setHardK(model, 0, 4), "candidate_logits"]] as const) {
    const lm = engine.loadModel(writeModel(m));
    const want = f32s(fx[key]);
    rows.forEach((r, i) => {
      const t = lm.tokenize(r.text);
      assert.equal(Array.from(lm.logits(t.inputIds, t.tokenTypeIds)), Array.from(want.subarray(2 * i, 2 * i + 2)));
    });
  }
  assert.equal(rows.map((r) => r.label), fx.labels);
  // PyTorch: in float32 34 of 60 rows are no worse (> 30: accepted); in float64 only 20.
  assert.is(fx.f32.rows_no_worse, 34);
  assert.is(fx.f32.accepted, true);
  assert.is(fx.f64.accepted, false);
  const task = { name: "test", metric: "accuracy" as const, regression: false };
  for (const earlyReject of [false, true]) {
    for (const lossPrecision of ["f32", "f64"] as const) {
      const { summary } = await optimize(model, rows, { task, hardK: 4, workers: 1, measureSpeed: false, lossPrecision, earlyReject });
      const first = summary.candidates[0];
      assert.is(`${first.layer}:${first.step}`, "0:hard_attention");
      assert.is(first.accepted, fx[lossPrecision].accepted, `${lossPrecision}: the reference's decision`);
      if (first.accepted || !earlyReject) assert.is(first.rows_no_worse, fx[lossPrecision].rows_no_worse);
      assert.ok(Math.abs(summary.original_val_loss - fx[lossPrecision].original_loss) < 1e-12);
      assert.is(summary.decisions.hard_attention[0], fx[lossPrecision].accepted);
    }
  }
});

test("per-row loss in float32 is the float32 value of scoreRows' f64 formula to within rounding", () => {
  const z = new Float32Array([2.5, -1, 0.25, 3, 3, 3]);
  const a = scoreRows(z, 3, [0, 2], false, "f32"), b = scoreRows(z, 3, [0, 2], false, "f64");
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(a.losses[i] - b.losses[i]) < 1e-6);
  assert.is(b.losses[1], Math.log(3));
  assert.is(a.losses[1], Math.fround(a.losses[1]), "an f32 value");
});

test("multi-label: per-row mean binary cross-entropy, predictions at 0.5, micro and macro F1 by hand", () => {
  // Two rows, three labels. Logits > 0 predict the label.
  const z = new Float32Array([2, -1, 0.5, -3, 4, -0.5]);
  const t = [1, 0, 0, 0, 1, 1];
  const s = scoreRows(z, 3, t, "multi", "f64");
  assert.equal(Array.from(s.predictions), [1, 0, 1, 0, 1, 0]);
  const bce = (x: number, y: number) => -(y * Math.log(1 / (1 + Math.exp(-x))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-x))));
  assert.ok(Math.abs(s.losses[0] - (bce(2, 1) + bce(-1, 0) + bce(0.5, 0)) / 3) < 1e-12);
  assert.ok(Math.abs(s.losses[1] - (bce(-3, 0) + bce(4, 1) + bce(-0.5, 1)) / 3) < 1e-12);
  // Label 0: tp 1; label 1: tp 1; label 2: fp 1 (row 0), fn 1 (row 1).
  // micro: 2*2 / (2*2 + 1 + 1) = 2/3; macro: (1 + 1 + 0) / 3.
  const f = multiLabelF1(s.predictions, t, 3);
  assert.ok(Math.abs(f.micro - 2 / 3) < 1e-15);
  assert.ok(Math.abs(f.macro - 2 / 3) < 1e-15);
  const f2 = multiLabelF1([1, 1, 0, 0], [1, 0, 0, 0], 2); // label 0: tp 1 -> 1; label 1: fp 1 -> 0
  assert.ok(Math.abs(f2.micro - 2 / 3) < 1e-15 && Math.abs(f2.macro - 0.5) < 1e-15);
});

test.run();
