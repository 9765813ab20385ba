// SentencePiece's Precompiled normalizer, as Hugging Face tokenizers runs it
// (tokenizers/src/normalizers/precompiled.rs over the spm_precompiled crate):
// https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/normalizers/precompiled.rs
//
// The charsmap (the model's CHARSMAP section, docs/format.md) is sentencepiece's
// precompiled_charsmap: u32 trie size in bytes, a darts-clone double-array trie of
// u32 units over UTF-8 keys, then NUL-terminated replacement strings the trie's
// values point into. Hugging Face walks the text one extended grapheme cluster at
// a time: a cluster of fewer than 6 bytes is looked up whole, and the FIRST match
// of the trie's common-prefix search (the shortest key that is a prefix of the
// cluster) replaces the whole cluster; otherwise, or with no match, each code
// point is looked up alone. ("Yes, this is weird", says the original.)
//
// Grapheme clusters follow UAX #29 (extended) with the Grapheme_Cluster_Break
// classes the converter writes after the charsmap (derived from the host's
// Unicode tables: data, not code). Rule GB9c (Indic conjuncts) is left out: it
// only joins 3-byte consonants, so every cluster it changes is 6 bytes or more,
// where Hugging Face goes code point by code point anyway.
//
// Offsets: each output code point says how it consumes the input as tokenizers'
// `replace` helper does (0: replaces the next input code point, 1: inserted, -n:
// replaces the next and removes n more); Unigram.align() turns that into spans.

import { countSteps } from "./vocab";
import { lastAtOrBefore } from "./unicode";
import { fail } from "../errors";

// Grapheme_Cluster_Break classes of the range table (docs/format.md "CHARSMAP"):
// 0 Other, 1 CR, 2 LF, 3 Control, 4 Extend, 5 ZWJ, 6 Regional_Indicator, 7 Prepend,
// 8 SpacingMark, 9 L, 10 V, 11 T, 12 LV, 13 LVT, 14 Extended_Pictographic; the
// pair rules use them through JOIN, GB11 and the Hangul syllables by name.
export const GCB_OTHER: u32 = 0;
const GCB_CONTROL: u32 = 3;
const GCB_EXTEND: u32 = 4;
const GCB_ZWJ: u32 = 5;
const GCB_LV: u32 = 12;
const GCB_LVT: u32 = 13;
const GCB_PICT: u32 = 14;
export const GCB_CLASSES: u32 = 15;

@unmanaged
export class Precompiled {
  units: usize = 0;     // u32[unitCount], the double array
  unitCount: u32 = 0;
  strings: usize = 0;   // replacement strings, NUL-terminated
  stringsLen: u32 = 0;
  ranges: usize = 0;    // u32[rangeCount]: start | class << 24, sorted by start
  rangeCount: i32 = 0;
  ok: bool = false;

  // Grapheme state across calls to breakBefore().
  prev: u32 = GCB_CONTROL;
  pictState: u32 = 0; // 1: Extended_Pictographic Extend* seen; 2: ... ZWJ

  constructor(section: usize, size: u32) {
    this.ok = this.init(section, size);
  }

  // section: u32 charsmap size, the charsmap, padding to 4, u32 range count, ranges.
  private init(section: usize, size: u32): bool {
    // Each size must fit in what holds it (u64 sums: no wrap-around).
    const mapSize = size < 8 ? 0 : load<u32>(section);
    if (mapSize < 8 || <u64>mapSize + 8 > <u64>size) return bad("charsmap size");
    const map = section + 4;
    const trieBytes = load<u32>(map);
    if (trieBytes < 4 || (trieBytes & 3) != 0 || <u64>trieBytes + 4 > <u64>mapSize) return bad("trie size");
    this.units = map + 4;
    this.unitCount = trieBytes >> 2;
    this.strings = map + 4 + <usize>trieBytes;
    this.stringsLen = mapSize - 4 - trieBytes;
    const at = (<u32>4 + mapSize + 3) & ~3;
    const n = <u64>at + 4 > <u64>size ? 0xffffffff : load<u32>(section + <usize>at);
    if (<u64>at + 4 + 4 * <u64>n != <u64>size) return bad("range count");
    this.ranges = section + <usize>at + 4;
    this.rangeCount = <i32>n;
    let last: i64 = -1;
    for (let i: u32 = 0; i < <u32>n; i++) {
      const w = load<u32>(this.ranges + (<usize>i << 2));
      if (<i64>(w & 0xffffff) <= last || (w >> 24) >= GCB_CLASSES) return bad("range order or class");
      last = <i64>(w & 0xffffff);
    }
    return true;
  }

  dispose(): void {
    heap.free(changetype<usize>(this));
  }

  // The replacement for the key bytes [p, p + len): the byte offset of its string
  // in `strings`, or -1. The first match of the common-prefix search, as spm_precompiled's
  // transform(); a unit index outside the array ends the walk (crafted tries).
  lookup(p: usize, len: u32): i32 {
    const units = this.units, count = this.unitCount;
    let pos: u32 = offsetOf(load<u32>(units));
    for (let i: u32 = 0; i < len; i++) {
      countSteps(1);
      const c = <u32>load<u8>(p + <usize>i);
      if (c == 0) return -1;
      pos ^= c;
      if (pos >= count) return -1;
      const unit = load<u32>(units + (<usize>pos << 2));
      if ((unit & 0x800000ff) != c) return -1;
      pos ^= offsetOf(unit);
      if ((unit >> 8) & 1) {
        if (pos >= count) return -1;
        const value = load<u32>(units + (<usize>pos << 2)) & 0x7fffffff;
        return value < this.stringsLen ? <i32>value : -1;
      }
    }
    return -1;
  }

  // Bytes of the replacement string at offset `at` (up to its NUL or the end).
  stringLen(at: i32): u32 {
    let i = <u32>at;
    while (i < this.stringsLen && load<u8>(this.strings + <usize>i) != 0) i++;
    return i - <u32>at;
  }

  resetGraphemes(): void {
    this.prev = GCB_CONTROL; // so the first code point starts a cluster
    this.pictState = 0;
  }

  // Whether an extended grapheme cluster boundary lies before cp (UAX #29): the
  // pair rules GB3-GB9b from JOIN, GB11 (emoji ZWJ sequences) from pictState.
  // GB12/13 (regional indicator pairs) are left out: indicators are 4 bytes, so a
  // cluster they join is 8 bytes or more and goes code point by code point anyway,
  // exactly as the single indicators do.
  breakBefore(cp: u32): bool {
    const cls = this.classOf(cp);
    let join = (<u32>load<u16>(JOIN + (<usize>this.prev << 1)) >> cls) & 1;
    if (this.prev == GCB_ZWJ && cls == GCB_PICT && this.pictState == 2) join = 1;
    const st = this.pictState;
    this.pictState = cls == GCB_PICT ? 1 : st == 1 && cls == GCB_EXTEND ? 1 : st == 1 && cls == GCB_ZWJ ? 2 : 0;
    this.prev = cls;
    return join == 0;
  }

  private classOf(cp: u32): u32 {
    if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 == 0 ? GCB_LV : GCB_LVT;
    const i = lastAtOrBefore(this.ranges, this.rangeCount, 4, cp);
    return i < 0 ? GCB_OTHER : load<u32>(this.ranges + (<usize>i << 2)) >> 24;
  }
}

function bad(why: string): bool {
  fail("CHARSMAP: bad " + why);
  return false;
}

// JOIN[prev] bit c: no boundary between classes prev and c (GB3-GB9b): Extend, ZWJ
// and SpacingMark join anything but CR LF Control; CR joins LF; Prepend joins all
// but CR LF Control; the Hangul L / V / T / LV / LVT sequences.
const JOIN = memory.data<u16>([304, 4, 0, 0, 304, 304, 304, 32753, 304, 14128, 3376, 2352, 3376, 2352, 304]);

@inline
function offsetOf(unit: u32): u32 {
  return (unit >> 10) << ((unit & (1 << 9)) >> 6);
}
