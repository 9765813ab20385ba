// The MERGES section of a byte-level BPE model (docs/format.md "MERGES"): the
// Unicode letter / number ranges GPT-2's pre-tokenizer regex needs (\p{L}, \p{N}),
// and the merges, sorted by their pair for the runtime's binary search, each with
// its rank (its line in merges.txt) and the token it makes.
import * as F from "../../assembly/format/constants.ts";

// [left id, right id, result id] in rank order (rank = index).
export type Merge = [number, number, number];

let cachedRanges: number[] | null = null;

// Ranges of code points of one class (CHAR_OTHER / LETTER / NUMBER), as start |
// class << 24 from U+0000, for this Node's Unicode (its ICU, like the WordPiece
// tables of scripts/gen-unicode-tables.ts). Surrogates are "other".
export function charClassRanges(): number[] {
  if (cachedRanges) return cachedRanges;
  // Every code point but the surrogates, in order, as one string; the runs of
  // letters and numbers are found by the regex engine itself.
  const parts: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp += 0x1000) {
    const chunk: number[] = [];
    for (let c = cp; c < cp + 0x1000; c++) if (c < 0xd800 || c > 0xdfff) chunk.push(c);
    parts.push(String.fromCodePoint(...chunk));
  }
  const all = parts.join("");
  const cpAt = (i: number): number => all.codePointAt(i)!;
  const cls = new Map<number, number>(); // run start -> class, run end -> other
  for (const [re, c] of [[/\p{L}+/gu, F.CHAR_LETTER], [/\p{N}+/gu, F.CHAR_NUMBER]] as const) {
    for (const m of all.matchAll(re)) {
      cls.set(cpAt(m.index), c);
      const end = m.index + m[0].length;
      if (end < all.length && !cls.has(cpAt(end))) cls.set(cpAt(end), F.CHAR_OTHER);
    }
  }
  const out: number[] = [];
  let prev = -1;
  for (const [start, c] of [[0, F.CHAR_OTHER] as [number, number], ...[...cls].sort((a, b) => a[0] - b[0])]) {
    if (c === prev) continue;
    if (out.length && (out[out.length - 1] & 0xffffff) === start) out.pop();
    out.push((start | (c << 24)) >>> 0);
    prev = c;
  }
  return (cachedRanges = out);
}

export function mergesSection(merges: Merge[], ranges: number[] = charClassRanges()): Uint8Array {
  const order = merges.map((m, rank) => [m[0], m[1], rank, m[2]]);
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const words = new Uint32Array(2 + ranges.length + 4 * merges.length);
  words[0] = merges.length;
  words[1] = ranges.length;
  words.set(ranges, 2);
  order.forEach((e, i) => words.set(e, 2 + ranges.length + 4 * i));
  return new Uint8Array(words.buffer);
}
