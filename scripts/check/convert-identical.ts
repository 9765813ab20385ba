// Checks that `axformer convert` still writes byte-identical files for the committed models and
// the parity fixtures, in every storage (f32, --f16, --int8). The expected sha256 values are in
// convert-identical.json next to this file, recorded from main before a refactor.
//   node --import tsx scripts/check/convert-identical.ts           compare (exit 1 on any change)
//   node --import tsx scripts/check/convert-identical.ts --record  rewrite the expected values
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const expectedPath = join(import.meta.dirname, "convert-identical.json");
const dirs = [
  ...readdirSync(join(root, "models")).sort().map((m) => `models/${m}`),
  ...readdirSync(join(root, "test/fixtures/parity")).sort().map((f) => `test/fixtures/parity/${f}`),
];
const storages: [string, string[]][] = [["f32", []], ["f16", ["--f16"]], ["int8", ["--int8"]]];

const tmp = mkdtempSync(join(tmpdir(), "axf-identical-"));
const actual: Record<string, string> = {};
try {
  for (const dir of dirs)
    for (const [name, flags] of storages) {
      const out = join(tmp, "f.axf");
      execFileSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "convert", dir, "-o", out, ...flags], {
        cwd: root,
        stdio: ["ignore", "ignore", "inherit"],
      });
      actual[`${dir} ${name}`] = createHash("sha256").update(readFileSync(out)).digest("hex");
    }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (process.argv.includes("--record")) {
  writeFileSync(expectedPath, JSON.stringify(actual, null, 2) + "\n");
  console.log(`recorded ${Object.keys(actual).length} sha256 values in ${expectedPath}`);
} else {
  const expected = JSON.parse(readFileSync(expectedPath, "utf8")) as Record<string, string>;
  let bad = 0;
  for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const ok = expected[key] === actual[key];
    if (!ok) bad++;
    console.log(`${ok ? "same   " : "CHANGED"} ${key}`);
  }
  console.log(bad === 0 ? "all converted files are byte-identical" : `${bad} converted file(s) differ`);
  process.exit(bad === 0 ? 0 : 1);
}
