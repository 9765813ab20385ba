// Tests that need something the repository does not hold (../shared: the GLUE data and
// the bert-base-uncased vocab, which CI puts next to the clone) register always. When
// it is absent they go to uvu's test.skip, so the summary counts them as skipped, never
// as passed, and the reason is printed once, followed by the names of the tests it skips.
//
//   const withVocab = skipUnless(test, absent(SHARED_VOCAB));
//   withVocab("the real vocab converts", async () => { ... });

import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Test } from "uvu";

export const SHARED = join(fileURLToPath(new URL("../..", import.meta.url)), "..", "shared");
export const SHARED_DATA = join(SHARED, "data");
export const SHARED_VOCAB = join(SHARED, "models", "bert-base-uncased-vocab", "vocab.txt");

// Why the tests cannot run: the paths that do not exist, or "" when all do.
export function absent(...paths: string[]): string {
  return paths.filter((p) => !existsSync(p)).map((p) => `${p} is absent`).join("; ");
}

// Registers with `test` when `reason` is "", with `test.skip` (printing why) otherwise.
export function skipUnless(test: Test, reason: string): (name: string, body: Parameters<Test>[1]) => void {
  let told = false;
  return (name, body) => {
    if (!reason) return test(name, body);
    if (!told) console.log(`SKIPPED (${reason}):`);
    told = true;
    console.log(`  - ${name}`);
    test.skip(name, body);
  };
}
