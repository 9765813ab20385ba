// The folders of test/fixtures/family-tasks (scripts/parity/make_family_task_fixtures.py)
// leave their tokenizer.json out when it is a shared one: golden.json / cases.json name
// the folder it comes from ("tokenizer_from", relative to the fixture), and this copies
// it in, giving the Hugging Face folder the references were computed on.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const FAMILY_FIXTURES = fileURLToPath(new URL("../fixtures/family-tasks/", import.meta.url));

export function familyJson(name: string): any {
  const file = existsSync(join(FAMILY_FIXTURES, name, "golden.json")) ? "golden.json" : "cases.json";
  return JSON.parse(readFileSync(join(FAMILY_FIXTURES, name, file), "utf8"));
}

const made: string[] = [];
process.on("exit", () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

// The fixture as a complete Hugging Face folder (a copy in a temporary folder, removed
// at exit, when its tokenizer.json must be copied in).
export function familyFolder(name: string): string {
  const src = join(FAMILY_FIXTURES, name);
  const from = familyJson(name).tokenizer_from as string | null;
  if (!from) return src;
  const d = mkdtempSync(join(tmpdir(), `axformer-${name}-`));
  made.push(d);
  cpSync(src, d, { recursive: true });
  cpSync(join(resolve(src, from), "tokenizer.json"), join(d, "tokenizer.json"));
  return d;
}
