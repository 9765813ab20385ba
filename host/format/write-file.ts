// Writes files atomically: a temp file in the same directory, flushed to disk, then
// renamed over the target, so a reader never sees half a model (or half a report),
// and an interrupted run leaves the previous file intact. Temp files are named
// `.axformer-tmp-<name>-<pid>-<random>` and removed on failure.

import { readdirSync, rmSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { writeModel } from "./writer.ts";
import type { Model } from "../model/model.ts";

// The start of every temp file name of ours.
export const TEMP_PREFIX = ".axformer-tmp-";

// The start of this process's temp files for `path`.
function ownTempPrefix(path: string): string {
  return `${TEMP_PREFIX}${basename(path)}-${process.pid}-`;
}

// Writes under way, and whether the process is stopping (stopWrites): a signal
// handler must not delete temp files while an open() or rename() of ours is still
// running in libuv's thread pool, or the temp file it creates afterwards stays.
const inFlight = new Set<Promise<void>>();
let stopping = false;

export async function writeFileAtomic(path: string, data: string | Uint8Array, what = "file"): Promise<void> {
  if (stopping) throw new Error(`writing ${what} ${path}: the process is stopping`);
  const write = writeThroughTemp(path, data, what);
  inFlight.add(write);
  try {
    await write;
  } finally {
    inFlight.delete(write);
  }
}

async function writeThroughTemp(path: string, data: string | Uint8Array, what: string): Promise<void> {
  const tmp = join(dirname(path), `${ownTempPrefix(path)}${randomBytes(4).toString("hex")}`);
  const live = () => { if (stopping) throw new Error("the process is stopping"); };
  try {
    const fh = await open(tmp, "wx");
    try {
      live();
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    live();
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`writing ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

// For signal handlers: no new write starts, and the ones under way end (renamed
// whole, or their temp file removed) before the returned promise settles, at
// most `timeoutMs` later.
export async function stopWrites(timeoutMs = 10_000): Promise<void> {
  stopping = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise<void>((done) => { timer = setTimeout(done, timeoutMs); }),
  ]);
  clearTimeout(timer);
}

// Returns the number of bytes written.
export async function writeModelFile(path: string, model: Model): Promise<number> {
  const bytes = writeModel(model);
  await writeFileAtomic(path, bytes, "model file");
  return bytes.length;
}

// Removes this process's temp files for `path` (synchronously: it runs in signal handlers).
export function removeOwnTempFiles(path: string): void {
  const prefix = ownTempPrefix(path);
  try {
    for (const f of readdirSync(dirname(path))) if (f.startsWith(prefix)) rmSync(join(dirname(path), f), { force: true });
  } catch {
    // the folder is gone or unreadable: nothing of ours to remove
  }
}
