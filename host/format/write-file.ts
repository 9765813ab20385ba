// Writes a model file atomically: a temp file in the same directory, flushed to
// disk, then renamed over the target, so a reader never sees half a model.

import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { writeModel } from "./writer.ts";
import type { Model } from "./model.ts";

// Returns the number of bytes written.
export async function writeModelFile(path: string, model: Model): Promise<number> {
  const bytes = writeModel(model);
  const tmp = join(dirname(path), `.axformer-tmp-${basename(path)}-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const fh = await open(tmp, "wx");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`writing model file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return bytes.length;
}
