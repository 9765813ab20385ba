// A small WordPiece vocab for one model: the bert-base-uncased tokens that its training text uses.
//
// Kept, in bert-base-uncased's own order: the special tokens; every single character and its "##"
// form (so any word made of characters bert-base-uncased knows still tokenizes without [UNK]); and
// every other token that the training windows (after truncation) use at least minCount times.
// Greedy longest-match WordPiece over a subset picks, for every word, pieces that the full vocab
// would also pick as long as those pieces are kept, so with minCount 1 the training text tokenizes
// exactly as with the full vocab; rarer words fall back to shorter pieces. Ids are renumbered
// (token i of vocab.txt has id i), so [UNK]/[CLS]/[SEP] are not 100/101/102 here.

import { SPECIAL_TOKENS, WordPiece, type Encoding } from "./wordpiece.ts";

export function isSingleChar(token: string): boolean {
  const chars = [...(token.startsWith("##") ? token.slice(2) : token)];
  return chars.length === 1;
}

/** `windows`: the training encodings made with the full base vocab. */
export function subsetVocab(base: string[], windows: Encoding[], minCount: number): string[] {
  const counts = new Uint32Array(base.length);
  for (const w of windows) for (const id of w.input_ids) counts[id]++;
  const special = new Set<string>(SPECIAL_TOKENS);
  return base.filter((t, id) => special.has(t) || (!/^\[.*\]$/.test(t) && (isSingleChar(t) || counts[id] >= minCount)));
}

export function buildSubsetTokenizer(
  base: string[],
  texts: { a: string; b?: string }[],
  maxLen: number,
  minCount: number,
): WordPiece {
  const full = new WordPiece(base);
  const windows = texts.map((t) => full.encode(t.a, t.b, maxLen));
  return new WordPiece(subsetVocab(base, windows, minCount));
}
