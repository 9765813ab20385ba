// Writes the spam splits of host/data/spam.ts as TSV files (text<TAB>label), for a look at the data
// or for `axformer optimize --val`:
//
//   node --import tsx scripts/spam/dataset.ts --out DIR   -> DIR/{train,val,test}.tsv
//   ... --slices   also DIR/{split}-{slice}.tsv: each message as a user sends it (SPAM_SLICES:
//                  subject, first sentence, first 200 chars, whole message; empty views left out)

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadSpamSplits, sliceRows, SPAM_SLICES, toTsv } from "../../host/data/spam.ts";

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--out");
  if (i < 0 || !argv[i + 1]) {
    console.error("usage: node --import tsx scripts/spam/dataset.ts --out DIR [--slices]");
    process.exit(2);
  }
  const out = argv[i + 1];
  mkdirSync(out, { recursive: true });
  const splits = await loadSpamSplits();
  for (const name of ["train", "val", "test"] as const) {
    const rows = splits[name];
    writeAtomic(join(out, `${name}.tsv`), toTsv(rows));
    const spam = rows.filter((r) => r.label === "spam").length;
    console.log(`${name}: ${rows.length} rows (${rows.length - spam} ham, ${spam} spam) -> ${join(out, `${name}.tsv`)}`);
    if (!argv.includes("--slices")) continue;
    for (const slice of SPAM_SLICES) {
      const file = join(out, `${name}-${slice.name.replaceAll(" ", "-")}.tsv`);
      const sliced = sliceRows(rows, slice);
      writeAtomic(file, toTsv(sliced));
      console.log(`  ${slice.name}: ${sliced.length} rows -> ${file}`);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
