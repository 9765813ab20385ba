// The Grapheme_Cluster_Break classes the Unigram runtime needs to find extended
// grapheme clusters (UAX #29) as the Precompiled normalizer does: derived here from
// the JavaScript engine's Unicode properties (UAX #29 Table 2), and written into
// the CHARSMAP section as data, so the wasm carries no Unicode table for them.
// Each u32 is start | class << 24; a class holds up to the next start. Hangul
// syllables (LV / LVT) are computed by the runtime and left Other here.
// Class numbers: assembly/tokenizer/precompiled.ts (GCB_*).

const OTHER = 0, CR = 1, LF = 2, CONTROL = 3, EXTEND = 4, ZWJ = 5, RI = 6, PREPEND = 7, SPACING = 8, L = 9, V = 10, T = 11, PICT = 14;

// Prepend: Indic_Syllabic_Category Consonant_Preceding_Repha / Consonant_Prefixed and
// Prepended_Concatenation_Mark (GraphemeBreakProperty.txt, Unicode 15.1).
const PREPEND_RANGES: [number, number][] = [
  [0x600, 0x605], [0x6dd, 0x6dd], [0x70f, 0x70f], [0x890, 0x891], [0x8e2, 0x8e2], [0xd4e, 0xd4e],
  [0x110bd, 0x110bd], [0x110cd, 0x110cd], [0x111c2, 0x111c3], [0x1193f, 0x1193f], [0x11941, 0x11941],
  [0x11a3a, 0x11a3a], [0x11a84, 0x11a89], [0x11d46, 0x11d46], [0x11f02, 0x11f02],
];
// Spacing marks that are not SpacingMark (UAX #29 Table 2), and two Lo that are.
const NOT_SPACING = new Set([0x102b, 0x102c, 0x1038, 0x1062, 0x1063, 0x1064, 0x1067, 0x1068, 0x1069, 0x106a, 0x106b, 0x106c, 0x106d,
  0x1083, 0x1087, 0x1088, 0x1089, 0x108a, 0x108b, 0x108c, 0x108f, 0x109a, 0x109b, 0x109c, 0x1a61, 0x1a63, 0x1a64, 0xaa7b, 0xaa7d, 0x11720, 0x11721]);

const reExtend = /^[\p{Grapheme_Extend}\p{Emoji_Modifier}]$/u;
const reControl = /^[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]$/u;
const reUnassignedIgnorable = /^(?=\p{Cn})\p{Default_Ignorable_Code_Point}$/u;
const reMc = /^\p{Mc}$/u;
const rePict = /^\p{Extended_Pictographic}$/u;
const reRI = /^\p{Regional_Indicator}$/u;

function classOf(cp: number): number {
  if (cp === 0x0d) return CR;
  if (cp === 0x0a) return LF;
  if (cp === 0x200d) return ZWJ;
  if (cp === 0x200c) return EXTEND;
  if (PREPEND_RANGES.some(([a, b]) => cp >= a && cp <= b)) return PREPEND;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0xa960 && cp <= 0xa97c)) return L;
  if ((cp >= 0x1160 && cp <= 0x11a7) || (cp >= 0xd7b0 && cp <= 0xd7c6)) return V;
  if ((cp >= 0x11a8 && cp <= 0x11ff) || (cp >= 0xd7cb && cp <= 0xd7fb)) return T;
  const s = String.fromCodePoint(cp);
  if (reExtend.test(s)) return EXTEND;
  if (reControl.test(s) || reUnassignedIgnorable.test(s)) return CONTROL;
  if (reRI.test(s)) return RI;
  if ((reMc.test(s) && !NOT_SPACING.has(cp)) || cp === 0xe33 || cp === 0xeb3) return SPACING;
  if (rePict.test(s)) return PICT;
  return OTHER;
}

let cached: number[] | null = null;

export function graphemeBreakRanges(): number[] {
  if (cached) return cached;
  const out: number[] = [];
  let prev = -1;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    const c = cp >= 0xd800 && cp <= 0xdfff ? CONTROL : classOf(cp);
    if (c !== prev) out.push((cp | (c << 24)) >>> 0);
    prev = c;
  }
  return (cached = out);
}
