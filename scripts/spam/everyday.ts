// Short everyday non-spam text for the spam model's ham side (issue 12): the 2002 SpamAssassin corpus
// has almost no short ham, so the model learned "short = spam". These are real sentences written by
// people, from the train splits of two GLUE sets in ../shared/data (their SOURCE.md give provenance):
// - STS-B train (sentence pairs, both sides), only the genres whose text terms allow it: image
//   captions (`images`, PASCAL VOC-2008 descriptions, CC BY-SA), news headlines (`headlines`, European
//   Media Monitor) and forum posts (`deft-forum`). MSRvid and MSRpar are left out (Microsoft's
//   research-only terms), and so is deft-news (news prose, long).
// - CoLA train, the sentences marked acceptable (short everyday English sentences).
// Every sentence is ham. A stable hash holds 10% out: half for val (the temperature), half for test.

import { column, readTsv, unitHash } from "../train/tasks.ts";

const DATA = "../shared/data";
const STSB_GENRES = new Set(["images", "headlines", "deft-forum"]);

/** The sentences, deduplicated, split into train / val / test by a hash of the text. */
export function everydayHam(trainShare = 1): { train: string[]; val: string[]; test: string[] } {
  const texts = new Set<string>();
  const stsb = `${DATA}/stsb/train.tsv`; // index genre filename year old_index source1 source2 s1 s2 score
  readTsv(stsb).forEach((row, i) => {
    if (!STSB_GENRES.has(column(stsb, row, 2, i + 1).trim())) return;
    texts.add(column(stsb, row, 7, i + 1).trim());
    texts.add(column(stsb, row, 8, i + 1).trim());
  });
  const cola = `${DATA}/cola/train.tsv`; // source label mark sentence
  readTsv(cola).forEach((row, i) => {
    if (column(cola, row, 1, i + 1).trim() === "1") texts.add(column(cola, row, 3, i + 1).trim());
  });
  const out = { train: [] as string[], val: [] as string[], test: [] as string[] };
  for (const t of texts) {
    if (t === "") continue;
    const h = unitHash(`everyday-ham/${t}`);
    if (h < 0.05) out.val.push(t);
    else if (h < 0.1) out.test.push(t);
    else if (h < 0.1 + 0.9 * trainShare) out.train.push(t); // trainShare < 1: fewer, so ham outweighs spam less
  }
  return out;
}
