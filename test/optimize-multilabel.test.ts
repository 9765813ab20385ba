// Multi-label models in `eval` and `optimize`: label lists in TSV and JSONL, the
// per-row mean binary cross-entropy and micro / macro F1 at 0.5, computed here
// independently from the runtime's logits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { parseDataset, resolveTask } from "../host/optimize/datasets.ts";
import { evaluate, optimize } from "../host/optimize/index.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { randomModel } from "./helpers/random-model.ts";

const model = randomModel({ hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 2, numLabels: 3, problemType: "multi_label_classification", seed: 5 });
model.labels = ["toxic", "insult", "threat"];
const spec = { task: "generic", textCol: "text", labelCol: "labels", labels: model.labels, problemType: model.config.problemType };

test("label lists: names or indices separated by commas, empty for none; JSONL arrays; unknown labels named", () => {
  const tsv = "text\tlabels\nthe film\ttoxic,threat\nbad movie\t\nnot good\t1\n";
  const rows = parseDataset(tsv, "v.tsv", spec).rows;
  assert.equal(rows.map((r) => r.labels), [[0, 2], [], [1]]);
  const jsonl = '{"text": "a", "labels": ["insult", 0]}\n{"text": "b", "labels": "threat"}\n';
  assert.equal(parseDataset(jsonl, "v.jsonl", spec).rows.map((r) => r.labels), [[0, 1], [2]]);
  assert.throws(() => parseDataset("text\tlabels\nx\ttoxic,spam\n", "v.tsv", spec), /v\.tsv:2: label 'spam' is not one of the model's labels/);
  assert.throws(() => resolveTask({ task: "sst2", problemType: "multi_label_classification" }), /single-label.*--task generic/);
  assert.is(resolveTask(spec).metric, "f1_micro");
});

test("evaluate: mean BCE per row and micro / macro F1 at 0.5, against a computation from the logits", async () => {
  const words = ["the", "film", "bad", "movie", "not", "good", "great", "love", "hate", "it"];
  const lines = ["text\tlabels"];
  for (let i = 0; i < 30; i++) lines.push(`${words[i % 10]} ${words[(i * 7) % 10]} ${words[(i * 3) % 10]}\t${["", "toxic", "insult,threat", "toxic,insult,threat", "threat"][i % 5]}`);
  const rows = parseDataset(lines.join("\n"), "v.tsv", spec).rows;
  const task = resolveTask(spec);
  const r = await evaluate(model, rows, { task, workers: 1 });
  const lm = (await loadEngine()).loadModel(writeModel(model));
  let loss = 0;
  const tp = [0, 0, 0], fp = [0, 0, 0], fn = [0, 0, 0];
  for (const row of rows) {
    const t = lm.tokenize(row.text);
    const z = lm.logits(t.inputIds, t.tokenTypeIds);
    let l = 0;
    for (let c = 0; c < 3; c++) {
      const y = row.labels!.includes(c) ? 1 : 0, p = 1 / (1 + Math.exp(-z[c]));
      l -= (y * Math.log(p) + (1 - y) * Math.log(1 - p)) / 3;
      const pred = p > 0.5 ? 1 : 0;
      if (pred && y) tp[c]++; else if (pred) fp[c]++; else if (y) fn[c]++;
    }
    loss += l / rows.length;
  }
  const f1 = (a: number, b: number, c: number) => (a === 0 ? 0 : (2 * a) / (2 * a + b + c));
  const sum = (x: number[]) => x.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(r.loss - loss) < 1e-9, `${r.loss} vs ${loss}`);
  assert.ok(Math.abs(r.metrics.f1_micro - f1(sum(tp), sum(fp), sum(fn))) < 1e-12);
  assert.ok(Math.abs(r.metrics.f1_macro - (f1(tp[0], fp[0], fn[0]) + f1(tp[1], fp[1], fn[1]) + f1(tp[2], fp[2], fn[2])) / 3) < 1e-12);
  assert.is(r.metric_name, "f1_micro");

  // optimize runs on it: budget 100 points removes every block.
  const { summary } = await optimize(model, rows, { task, hardK: 4, workers: 1, maxDrop: 100, measureSpeed: false });
  assert.equal(summary.decisions.ffn_block_removed, [true, true]);
  assert.is(summary.metric_name, "f1_micro");
  assert.ok(Math.abs(summary.original_val_metric - 100 * r.metrics.f1_micro) < 1e-9);
});

test.run();
