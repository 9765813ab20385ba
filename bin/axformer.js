#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so the repository needs no
// separate compile step beyond the wasm build that `npm ci` runs in `prepare`.
import { register } from "tsx/esm/api";

register();
await import("../host/cli/main.ts");
