// The package's root folder (where its package.json is), for files that ship next
// to the code: build/*.wasm and the Worker's TypeScript. This module is host/ in
// the source tree (run through tsx) and dist/host/ once compiled, so fixed "../.."
// paths cannot serve both; walking up to the nearest package.json does.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

// An absolute path inside the package, e.g. packagePath("build/axformer.wasm").
export function packagePath(rel: string): string {
  return join(PACKAGE_ROOT, rel);
}

function findRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
    if (dirname(d) === d) throw new Error(`axformer: no package.json above ${dir}`);
  }
}
