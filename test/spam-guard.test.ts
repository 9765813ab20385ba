// Issue 12's guard: the bundled default model (models/spam, converted as `npm start` converts it,
// calibration.json included) on short everyday messages written by hand, not taken from the data
// set. Every one must get its label, and no ham message may get a spam score above 0.99.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";

const fixture = JSON.parse(readFileSync(new URL("fixtures/spam-guard/messages.json", import.meta.url), "utf8")) as { ham: string[]; spam: string[] };

test("the fixture is what issue 12 asks for: at least 40 short messages of each label, no repeats", () => {
  for (const label of ["ham", "spam"] as const) {
    assert.ok(fixture[label].length >= 40, `${fixture[label].length} ${label} messages`);
    assert.is(new Set(fixture[label]).size, fixture[label].length, `repeated ${label} message`);
    for (const m of fixture[label]) assert.ok(m.length <= 120, `not short: ${m}`);
  }
});

test("models/spam labels every short message right; no ham message scores above 0.99 spam", async () => {
  const model = (await loadEngine()).loadModel(writeModel(await convertHfDir("models/spam")));
  assert.ok(model.temperature !== 1, "models/spam/calibration.json gives the file a temperature");
  const spam = model.labels.indexOf("spam");
  const wrong: string[] = [];
  let worstHam = { score: 0, text: "" };
  for (const label of ["ham", "spam"] as const) {
    model.classifyBatch(fixture[label]).forEach((c, i) => {
      if (c.label !== label) wrong.push(`${label} called ${c.label} (spam ${c.scores[spam].toFixed(4)}): ${fixture[label][i]}`);
      if (label === "ham" && c.scores[spam] > worstHam.score) worstHam = { score: c.scores[spam], text: fixture[label][i] };
    });
  }
  assert.equal(wrong, [], wrong.join("\n"));
  assert.ok(worstHam.score <= 0.99, `ham with spam score ${worstHam.score}: ${worstHam.text}`);
});

test.run();
