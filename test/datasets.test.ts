// Dataset parsing (GLUE TSV with and without header, CSV, JSONL, label mapping,
// errors naming file:line) and the metrics, checked against their definitions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadDataset, parseCsv, parseDataset } from "../host/optimize/datasets.ts";
import { absent, skipUnless, SHARED_DATA } from "./helpers/needs.ts";
import { accuracy, crossEntropy, f1, matthews, pearson, ranks, scoreRows, spearman } from "../host/optimize/metrics.ts";

const BIN = { labels: ["LABEL_0", "LABEL_1"], problemType: "single_label_classification" as const };
const ENT = { labels: ["entailment", "not_entailment"], problemType: "single_label_classification" as const };

function throwsWith(fn: () => unknown, pattern: RegExp) {
  try {
    fn();
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test("sst2 TSV with header", () => {
  const d = parseDataset("sentence\tlabel\na fine film \t1\nbad \t0\n", "v.tsv", { task: "sst2", ...BIN });
  assert.equal(d.rows.map((r) => [r.text, r.pair, r.label, r.line]), [["a fine film ", null, 1, 2], ["bad ", null, 0, 3]]);
});

test("cola TSV without header uses GLUE positions", () => {
  const d = parseDataset("gj04\t1\t\tBill broke it.\ngj04\t0\t*\tThe car honked.\r\n", "val.tsv", { task: "cola", ...BIN });
  assert.equal(d.rows.map((r) => [r.text, r.label]), [["Bill broke it.", 1], ["The car honked.", 0]]);
});

test("rte pairs with and without header, label names mapped through the model's labels", () => {
  const body = "7\tA man died.\tSomeone died.\tentailment\n8\tIt rained.\tIt was dry.\tnot_entailment\n";
  const withHeader = parseDataset("index\tsentence1\tsentence2\tlabel\n" + body, "dev.tsv", { task: "rte", ...ENT });
  const without = parseDataset(body, "val.tsv", { task: "rte", ...ENT });
  for (const d of [withHeader, without]) {
    assert.equal(d.rows.map((r) => [r.text, r.pair, r.label]), [["A man died.", "Someone died.", 0], ["It rained.", "It was dry.", 1]]);
  }
  // A model with the reverse label order gets the reverse indices.
  const rev = parseDataset(body, "val.tsv", { task: "rte", labels: ["not_entailment", "entailment"], problemType: "single_label_classification" });
  assert.equal(rev.rows.map((r) => r.label), [1, 0]);
  // Generic model labels fall back to GLUE's label order for the task.
  const generic = parseDataset(body, "val.tsv", { task: "rte", ...BIN });
  assert.equal(generic.rows.map((r) => r.label), [0, 1]);
});

test("numeric labels are class indices; unknown labels are an error with file:line", () => {
  const d = parseDataset("1\tx\ty\t1\n", "w.tsv", { task: "wnli", labels: ["no", "yes"], problemType: "single_label_classification" });
  assert.equal(d.rows[0].label, 1);
  throwsWith(() => parseDataset("1\tx\ty\t1\n2\tx\ty\t2\n", "w.tsv", { task: "wnli", labels: ["no", "yes"], problemType: "single_label_classification" }),
    /^w\.tsv:2: label '2' is not one of the model's labels \(no, yes\)/);
  throwsWith(() => parseDataset("1\tx\ty\tmaybe\n", "w.tsv", { task: "rte", ...ENT }), /w\.tsv:1: label 'maybe'/);
});

test("mrpc with a BOM and a bare quote in a sentence", () => {
  const text = "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t11\t12\tHe said it.\t\"It was said.\n";
  const d = parseDataset(text, "mrpc.tsv", { task: "mrpc", ...BIN });
  assert.equal(d.rows.map((r) => [r.label, r.text, r.pair]), [[1, "He said it.", "\"It was said."]]);
});

test("stsb regression targets, with and without header", () => {
  const row = "0\tg\tf\ty\t0\tn\tn\tA man.\tA person.\t3.800\n";
  const reg = { labels: ["score"], problemType: "regression" as const };
  const h = parseDataset("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n" + row, "d.tsv", { task: "stsb", ...reg });
  const n = parseDataset(row, "t.tsv", { task: "stsb", ...reg });
  for (const d of [h, n]) assert.equal(d.rows.map((r) => [r.text, r.pair, r.label]), [["A man.", "A person.", 3.8]]);
  throwsWith(() => parseDataset(row.replace("3.800", "high"), "t.tsv", { task: "stsb", ...reg }), /^t\.tsv:1: regression target 'high'/);
  throwsWith(() => parseDataset(row, "t.tsv", { task: "stsb", ...BIN }), /regression task but the model is single_label_classification/);
});

test("a short row is an error naming file and line", () => {
  throwsWith(() => parseDataset("sentence\tlabel\ngood\t1\n\nbroken-row\n", "v.tsv", { task: "sst2", ...BIN }),
    /^v\.tsv:4: expected at least 2 fields, found 1/);
});

test("a header without the label column is an error (unlabelled test files)", () => {
  throwsWith(() => parseDataset("index\tsentence\n0\tHi.\n", "test.tsv", { task: "cola", ...BIN }), /test\.tsv:1: the header has no label column/);
});

test("CSV with quoted fields, escaped quotes and newlines inside quotes", () => {
  const text = 'text,label\n"Hello, world",1\n"She said ""no""\nthen left",0\nplain,1\n';
  const d = parseDataset(text, "d.csv", { textCol: "text", labelCol: "label", ...BIN });
  assert.equal(d.rows.map((r) => [r.text, r.label, r.line]), [["Hello, world", 1, 2], ['She said "no"\nthen left', 0, 3], ["plain", 1, 5]]);
  throwsWith(() => parseCsv('a,b\n"open,1\n', "bad.csv"), /^bad\.csv:2: unterminated quoted field/);
  throwsWith(() => parseCsv('a,b\nx"y,1\n', "bad.csv"), /^bad\.csv:2: quote inside an unquoted field/);
  throwsWith(() => parseDataset("text,label\nfine,1\n", "d.csv", { textCol: "review", ...BIN }), /d\.csv:1: no column named 'review'/);
});

test("JSONL with named fields, string and numeric labels", () => {
  const text = '{"sentence": "good", "label": 1}\n\n{"sentence": "bad", "label": "LABEL_0"}\n';
  const d = parseDataset(text, "d.jsonl", { task: "sst2", ...BIN });
  assert.equal(d.rows.map((r) => [r.text, r.label, r.line]), [["good", 1, 1], ["bad", 0, 3]]);
  throwsWith(() => parseDataset('{"sentence": "x", "label": 1}\n{"sentence": "y"\n', "d.jsonl", { task: "sst2", ...BIN }), /^d\.jsonl:2: invalid JSON/);
  throwsWith(() => parseDataset('{"text": "x", "label": 1}\n', "d.jsonl", { task: "sst2", ...BIN }), /^d\.jsonl:1: no text field/);
});

test("generic columns by index for files without a header", () => {
  const d = parseDataset("x\t1\tsome text\n", "g.tsv", { textCol: "2", labelCol: "1", ...BIN });
  assert.equal(d.rows.map((r) => [r.text, r.label]), [["some text", 1]]);
});

const shared = SHARED_DATA + "/";
skipUnless(test, absent(SHARED_DATA))("the GLUE files in ../shared/data parse", () => {
  const cases: Array<[string, string, typeof BIN, number]> = [
    ["sst2/val.tsv", "sst2", BIN, 6735], ["cola/val.tsv", "cola", BIN, 1301], ["cola/dev.tsv", "cola", BIN, 1043],
    ["rte/val.tsv", "rte", ENT, 363], ["rte/dev.tsv", "rte", ENT, 277], ["wnli/val.tsv", "wnli", BIN, 117],
    ["mrpc/dev.tsv", "mrpc", BIN, 408], ["qnli/dev.tsv", "qnli", ENT, 5463],
  ];
  for (const [file, task, labels, rows] of cases) {
    assert.is(loadDataset(shared + file, { task, ...labels }).rows.length, rows, file);
  }
  const stsb = loadDataset(shared + "stsb/val.tsv", { task: "stsb", labels: ["score"], problemType: "regression" });
  assert.is(stsb.rows.length, 1500);
});

// ---- metrics, against their definitions ----

test("cross-entropy equals -log softmax", () => {
  const z = new Float32Array([2.5, -1, 0.25]);
  const p = Array.from(z, (v) => Math.exp(v)); const s = p.reduce((a, b) => a + b);
  for (let y = 0; y < 3; y++) assert.ok(Math.abs(crossEntropy(z, 0, 3, y) + Math.log(p[y] / s)) < 1e-12);
  // Stable for large logits, where exp overflows.
  assert.ok(Math.abs(crossEntropy(new Float32Array([1000, 0]), 0, 2, 1) - 1000) < 1e-9);
  const r = scoreRows(new Float32Array([0.5, 2, 1.25]), 1, [1, 2, 0], true);
  assert.equal(Array.from(r.losses), [0.25, 0, 1.5625]);
});

test("accuracy, F1 and Matthews correlation on a hand-counted confusion table", () => {
  const gold = [1, 1, 1, 0, 0, 1, 0, 0, 1, 0];
  const pred = [1, 0, 1, 0, 1, 1, 0, 0, 1, 1];
  let tp = 0, tn = 0, fp = 0, fn = 0;
  gold.forEach((g, i) => { if (pred[i] === 1 && g === 1) tp++; else if (pred[i] === 0 && g === 0) tn++; else if (pred[i] === 1) fp++; else fn++; });
  assert.is(accuracy(pred, gold), (tp + tn) / gold.length);
  const precision = tp / (tp + fp), recall = tp / (tp + fn);
  assert.ok(Math.abs(f1(pred, gold) - (2 * precision * recall) / (precision + recall)) < 1e-12);
  const mcc = (tp * tn - fp * fn) / Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  assert.ok(Math.abs(matthews(pred, gold) - mcc) < 1e-12);
  assert.is(matthews([1, 1, 1], [0, 1, 0]), 0); // constant prediction: undefined, reported 0
  assert.is(f1([0, 0], [0, 0]), 0);
});

test("Pearson and Spearman (ties get average ranks)", () => {
  const x = [1, 2, 2, 4, 7], y = [2, 1, 3, 5, 6];
  const mx = x.reduce((a, b) => a + b) / 5, my = y.reduce((a, b) => a + b) / 5;
  let sxy = 0, sxx = 0, syy = 0;
  x.forEach((v, i) => { sxy += (v - mx) * (y[i] - my); sxx += (v - mx) ** 2; syy += (y[i] - my) ** 2; });
  assert.ok(Math.abs(pearson(x, y) - sxy / Math.sqrt(sxx * syy)) < 1e-12);
  assert.equal(Array.from(ranks(x)), [1, 2.5, 2.5, 4, 5]);
  assert.ok(Math.abs(spearman(x, y) - pearson([1, 2.5, 2.5, 4, 5], [2, 1, 3, 4, 5])) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});

test.run();
