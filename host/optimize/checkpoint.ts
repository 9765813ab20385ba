// The search's checkpoint for `optimize --resume`: after every decided candidate the
// list of candidate records so far (and the work counters) is written atomically
// next to the output. The search is deterministic, so a resumed run replays those
// records instead of evaluating them and continues from the next candidate with the
// same results. A fingerprint of the model, the val rows and every option that can
// change a decision ties the file to one search; any other search refuses it.

import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../format/write-file.ts";
import type { Row } from "./datasets.ts";
import type { CandidateRecord, RowHistory, SearchCounters } from "./search.ts";
import type { TokenizedRow } from "./shard.ts";

export interface Checkpoint {
  format: "axformer-optimize-checkpoint";
  version: 1;
  fingerprint: string;
  candidates: CandidateRecord[];
  counters: SearchCounters & { layerEvaluations: number };
  history?: RowHistory; // orders the rows of the next candidates (candidate-eval.ts)
}

export function searchFingerprint(model: Uint8Array, tokens: TokenizedRow[], rows: Row[], options: object): string {
  const h = createHash("sha256");
  h.update(model);
  for (const t of tokens) { h.update(new Uint8Array(t.ids.buffer, t.ids.byteOffset, t.ids.byteLength)); h.update(new Uint8Array(t.typeIds.buffer, t.typeIds.byteOffset, t.typeIds.byteLength)); h.update("|"); }
  h.update(JSON.stringify(rows.map((r) => [r.label, r.labels ?? null])));
  h.update(JSON.stringify(options));
  return h.digest("hex");
}

// null when there is no checkpoint; an error when it is unreadable or from another search.
export async function readCheckpoint(path: string, fingerprint: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`cannot read the checkpoint ${path}: ${(e as Error).message}`);
  }
  let c: Checkpoint;
  try {
    c = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not a valid checkpoint (${(e as Error).message}); delete it to start over`);
  }
  if (c?.format !== "axformer-optimize-checkpoint" || c.version !== 1 || !Array.isArray(c.candidates) || typeof c.counters !== "object")
    throw new Error(`${path}: not an axformer optimize checkpoint; delete it to start over`);
  if (c.fingerprint !== fingerprint)
    throw new Error(`${path}: the checkpoint is of a different search (the model, the val rows or an option changed); delete it, or run without --resume to start over`);
  return c;
}

export async function writeCheckpoint(
  path: string,
  now: { fingerprint: string; candidates: CandidateRecord[]; layerEvaluations: number; history?: RowHistory } & SearchCounters,
  previous: Checkpoint | null,
): Promise<void> {
  const p = previous?.counters;
  const c: Checkpoint = {
    format: "axformer-optimize-checkpoint", version: 1, fingerprint: now.fingerprint, candidates: now.candidates,
    counters: {
      evaluations: now.evaluations + (p?.evaluations ?? 0),
      rowEvaluations: now.rowEvaluations + (p?.rowEvaluations ?? 0),
      rowEvaluationsFull: now.rowEvaluationsFull + (p?.rowEvaluationsFull ?? 0),
      layerEvaluationsSaved: now.layerEvaluationsSaved + (p?.layerEvaluationsSaved ?? 0),
      layerEvaluations: now.layerEvaluations + (p?.layerEvaluations ?? 0),
    },
    history: now.history,
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(c) + "\n", "checkpoint");
}
