// docs/format.md names the constant of every record field; its offsets must be
// the constants' values, so the spec, the reader and the writer cannot drift.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import * as F from "../assembly/format/constants.ts";

const doc = readFileSync(new URL("../docs/format.md", import.meta.url), "utf8");
const constants = F as unknown as Record<string, number>;

test("every field offset in docs/format.md equals its named constant", () => {
  const rows = [...doc.matchAll(/^\|\s*(\d+)\s*\|[^\n]*\|\s*`((?:HDR|SEC|LR|TE)_[A-Z_]+)`\s*\|\s*$/gm)];
  const named = rows.map((m) => m[2]);
  for (const m of rows) assert.is(constants[m[2]], Number(m[1]), `${m[2]}: the doc says offset ${m[1]}`);
  const all = Object.keys(constants).filter((k) => /^(HDR|SEC|LR|TE)_/.test(k));
  assert.equal(named.sort(), all.sort(), "every offset constant appears once in the doc");
});

test.run();
