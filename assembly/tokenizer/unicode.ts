// Per-code-point Unicode lookups of the BERT normalizer, over the tables that
// scripts/gen-unicode-tables.ts generates from ICU (unicode_tables.ts).
//
// Everything here works one code point at a time. Where that differs from
// processing the whole string:
// - Lowercasing: Python's str.lower() on a whole string applies Final_Sigma (a
//   capital sigma ending a word becomes "ς"), and so does JavaScript's
//   toLowerCase(). Hugging Face does not get there: tokenizers' BertNormalizer maps
//   each char through Rust's char::to_lowercase (no context), and the legacy Python
//   BertTokenizer lowercases the text one character at a time in
//   PreTrainedTokenizer.tokenize (the regex that protects special tokens matches
//   `.+?`, one character) before BasicTokenizer's token.lower() sees only lowercase
//   letters. Both give "σ" for every "Σ", as this code does. Multi-code-point
//   lowercases (U+0130 "İ" -> "i̇") are kept, as both do.
// - NFD: decomposing a string is decomposing each code point and then sorting each
//   run of combining marks by canonical combining class. Stripping accents drops
//   every Mn code point, and nearly all marks with a nonzero class are Mn, so after
//   the drop there is nothing left to sort. The exceptions are the 27 spacing (Mc)
//   marks with a nonzero class that the generated file lists (mostly viramas, the
//   Hangul tone marks, musical-symbol stems and flags): only two of them with
//   different classes, in non-canonical order, in one run of marks, come out in a
//   different order than Hugging Face's whole-string NFD gives. No real text has
//   that, so this code does not carry a combining-class table for it.
// - Strip-then-lowercase (tokenizers' order) and lowercase-then-strip (Python's)
//   agree on every code point; the generator checks it.
//
// The classes follow the Python definitions (BasicTokenizer._is_control: category
// C* except \t \n \r; _is_punctuation: P* or ASCII punctuation; accents: Mn) for
// the Unicode version of the ICU that generated the tables. Whitespace is
// White_Space, which is what Rust's char::is_whitespace uses and, once clean_text
// has dropped the control characters among it, what Python's Zs test plus
// str.split() splits on (U+2028/U+2029 included).

import {
  ASCII_CLASS,
  CLASS_RANGES,
  CLASS_RANGES_COUNT,
  LOWER,
  LOWER_COUNT,
  LOWER_MULTI,
  LOWER_MULTI_COUNT,
  STRIP,
  STRIP_COUNT,
  STRIP_POOL,
} from "./unicode_tables";

export const CLASS_CONTROL: u32 = 1;
export const CLASS_WHITESPACE: u32 = 2;
export const CLASS_PUNCT: u32 = 4;
export const CLASS_MN: u32 = 8;

// Longest result of stripAccents/lowercase, for callers sizing their scratch.
export const MAX_MAPPED: i32 = 8;

const RUN_START_MASK: u32 = 0x1fffff;

// Index of the last entry of a table of `count` entries, `stride` bytes apart,
// whose low 21 bits (a start code point) are <= cp; -1 if none.
@inline
export function lastAtOrBefore(table: usize, count: i32, stride: i32, cp: u32): i32 {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((load<u32>(table + <usize>(mid * stride)) & RUN_START_MASK) <= cp) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function charClass(cp: u32): u32 {
  if (cp < 128) return <u32>load<u8>(ASCII_CLASS + <usize>cp);
  const i = lastAtOrBefore(CLASS_RANGES, CLASS_RANGES_COUNT, 4, cp);
  return load<u32>(CLASS_RANGES + (<usize>i << 2)) >> 24;
}

// BasicTokenizer._is_chinese_char / tokenizers' is_chinese_char: the CJK Unified
// Ideographs blocks and extensions A-E plus the compatibility ideographs, exactly
// these ranges (not Hangul, kana, or later extensions).
export function isChineseChar(cp: u32): bool {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// Writes the lowercase of cp (1 or 2 code points) at out (u32[]); returns the count.
export function lowercase(cp: u32, out: usize): i32 {
  if (cp < 128) {
    store<u32>(out, cp - 65 < 26 ? cp + 32 : cp);
    return 1;
  }
  for (let i = 0; i < LOWER_MULTI_COUNT; i++) {
    const entry = LOWER_MULTI + <usize>(i * 12);
    if (load<u32>(entry) == cp) {
      store<u32>(out, load<u32>(entry, 4));
      store<u32>(out, load<u32>(entry, 8), 4);
      return 2;
    }
  }
  let mapped = cp;
  const i = lastAtOrBefore(LOWER, LOWER_COUNT, 8, cp);
  if (i >= 0) {
    const w = load<u32>(LOWER + (<usize>i << 3));
    const start = w & RUN_START_MASK;
    const count = ((w >> 21) & 0x3ff) + 1;
    const stride = (w >> 31) + 1;
    const d = cp - start;
    if (d % stride == 0 && d / stride < count) mapped = <u32>(<i32>cp + load<i32>(LOWER + (<usize>i << 3), 4));
  }
  store<u32>(out, mapped);
  return 1;
}

const HANGUL_S: u32 = 0xac00;
const HANGUL_COUNT: u32 = 11172;

// Writes NFD(cp) without its Mn code points at out (u32[]); returns the count
// (0 for an Mn code point).
export function stripAccents(cp: u32, out: usize): i32 {
  if (cp < 0xc0) {
    // Below U+00C0 nothing decomposes canonically and nothing is Mn.
    store<u32>(out, cp);
    return 1;
  }
  if (charClass(cp) & CLASS_MN) return 0;
  if (cp - HANGUL_S < HANGUL_COUNT) {
    // Unicode 3.12, Hangul syllable decomposition: L V or L V T jamo (none is Mn).
    const s = cp - HANGUL_S;
    store<u32>(out, 0x1100 + s / 588);
    store<u32>(out, 0x1161 + (s % 588) / 28, 4);
    const t = s % 28;
    if (t == 0) return 2;
    store<u32>(out, 0x11a7 + t, 8);
    return 3;
  }
  const i = lastAtOrBefore(STRIP, STRIP_COUNT, 8, cp);
  if (i >= 0) {
    const w = load<u32>(STRIP + (<usize>i << 3));
    const v = load<u32>(STRIP + (<usize>i << 3), 4);
    const start = w & RUN_START_MASK;
    const count = ((w >> 21) & 0xff) + 1;
    const kind = (w >> 29) & 3;
    if (cp - start < count) {
      if (kind == 0) {
        store<u32>(out, v);
        return 1;
      }
      if (kind == 1) {
        store<u32>(out, <u32>(<i32>cp + <i32>v));
        return 1;
      }
      const n = <i32>(v >> 24);
      const src = STRIP_POOL + (<usize>(v & 0xffffff) << 2);
      for (let k = 0; k < n; k++) store<u32>(out + (<usize>k << 2), load<u32>(src + (<usize>k << 2)));
      return n;
    }
  }
  store<u32>(out, cp);
  return 1;
}
