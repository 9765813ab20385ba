#!/usr/bin/env node
// In a checkout of the repository the CLI runs from the TypeScript sources through
// tsx's loader, so edits apply with no compile step (and a stale dist/ is never
// run). The published package ships host/cli compiled to dist/ and needs no tsx.
import { existsSync } from "node:fs";

const source = new URL("../host/cli/main.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("../dist/host/cli/main.js");
}
