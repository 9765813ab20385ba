// Token string -> id lookup over the model file's VOCAB string list: the tokens
// sorted by their bytes (a merge sort, built once per model), searched as an
// implicit trie. The tokens that start with a given byte string are a contiguous
// range of the sorted array, and the token equal to that string, if any, is the
// first of the range; so WordPiece's longest match walks the word one byte at a
// time, narrowing the range with two binary searches on a single byte, and
// remembers the last range that starts with a whole token at a character boundary.
// "##" continuations start from the range of tokens that begin with "##".
//
// Worst-case bounds, for any token set (no hash, so nothing to collide; see
// docs/reliability.md "Tokenizer bounds"), N tokens of B bytes in all, L bytes the
// longest:
//   build   at most (B + N) * (ceil(log2 N) + 1) byte comparisons: each level of
//           the merge sort compares each token at most once as the one moved
//           (min of the two lengths + 1 bytes), and one pass finds repeats;
//           memory 12 * N bytes kept, 12 * N more during the sort.
//   match   per starting position, at most L + 1 bytes walked, each a binary
//           search and a gallop of at most 3 * (ceil(log2 N) + 1) steps in all; a
//           word of c characters costs at most c * (L + 1) * 3 * (ceil(log2 N) + 1)
//           steps, linear in c (and typically a few steps per byte).
// The old FNV-1a hash table was O(N^2) to build for crafted colliding tokens and
// the old longest-match loop O(c^2) per word (issue 10, items 3 and 4).
//
// The format says tokens are distinct (docs/format.md); a repeat is refused here,
// naming both ids, since it is found for free once the tokens are sorted.
//
// Unmanaged (no GC header, no shadow-stack traffic on the hot path): the owner
// calls dispose(), which frees the tables and the object itself.

import { StringList } from "../model/model";
import { fail } from "../errors";

const HASH: u32 = 0x23; // '#'
export const ENTRY = 12; // sorted entry: u32 ptr (absolute), u32 len, i32 id

// Work counter for tests (test/tokenizer-hardening.test.ts): byte comparisons
// while building, binary-search steps while matching.
export let vocabSteps: u64 = 0;
export function resetVocabSteps(): void { vocabSteps = 0; }
@inline export function countSteps(n: u64): void { vocabSteps += n; }

@unmanaged
export class Vocab {
  count: u32;
  offsets: usize;       // u32[count + 1], byte offsets into blob
  blob: usize;          // UTF-8 token bytes
  sorted: usize = 0;    // (u32 ptr, u32 len, i32 id)[count], in byte order, shorter first on a common prefix
  plainFirst: usize = 0; // u32[257]: tokens starting with byte b are sorted[plainFirst[b], plainFirst[b + 1])
  contFirst: usize = 0;  // u32[257]: the same for the tokens starting with "##" b
  maxTokenBytes: u32 = 0; // longest token in bytes
  ok: bool = true;       // false after fail(): repeated tokens

  constructor(list: StringList) {
    this.count = list.count;
    this.offsets = list.offsets;
    this.blob = list.blob;
    const n = this.count;
    const sorted = (this.sorted = heap.alloc(<usize>max<u32>(n, 1) * ENTRY));
    for (let id: u32 = 0; id < n; id++) {
      const e = sorted + <usize>id * ENTRY;
      const len = this.tokenLen(id);
      store<u32>(e, <u32>this.tokenPtr(id));
      store<u32>(e, len, 4);
      store<i32>(e, <i32>id, 8);
      if (len > this.maxTokenBytes) this.maxTokenBytes = len;
    }
    mergeSort(sorted, n);
    for (let i: u32 = 1; i < n; i++) {
      const a = sorted + <usize>(i - 1) * ENTRY;
      if (compareEntries(a, a + ENTRY) == 0) {
        // The sort is stable, so the lower id comes first.
        fail(`VOCAB: ids ${load<i32>(a, 8)} and ${load<i32>(a + ENTRY, 8)} are the same token ${quote(<usize>load<u32>(a), load<u32>(a, 4))}; tokens must be distinct`);
        this.ok = false;
        break;
      }
    }
    // The "##" range: tokens whose bytes 0 and 1 are '#'.
    let lo = lowerBound(sorted, 0, n, 0, HASH);
    let hi = upperBound(sorted, lo, n, 0, HASH);
    lo = lowerBound(sorted, lo, hi, 1, HASH);
    hi = upperBound(sorted, lo, hi, 1, HASH);
    this.plainFirst = firstByteTable(sorted, 0, n, 0);
    this.contFirst = firstByteTable(sorted, lo, hi, 2);
  }

  @inline tokenPtr(id: u32): usize {
    return this.blob + <usize>load<u32>(this.offsets + (<usize>id << 2));
  }

  @inline tokenLen(id: u32): u32 {
    const at = this.offsets + (<usize>id << 2);
    return load<u32>(at, 4) - load<u32>(at);
  }

  // WordPiece's longest match: the longest run of whole characters start..end of
  // the word (UTF-8 at bytes, character k at byte offsets[k], chars characters)
  // that is a token, preceded by "##" when `prefixed`. Returns end << 32 | id, or
  // -1 in the low half when no token matches.
  longestMatch(prefixed: bool, bytes: usize, offsets: usize, start: u32, chars: u32): u64 {
    const sorted = this.sorted;
    let i = load<u32>(offsets + (<usize>start << 2)); // the next byte to walk
    const first = <usize>load<u8>(bytes + <usize>i) << 2;
    const table = prefixed ? this.contFirst : this.plainFirst;
    let lo = load<u32>(table + first);
    let hi = load<u32>(table + first, 4);
    let depth: u32 = prefixed ? 3 : 1; // bytes of the candidate so far, "##" included
    i++;
    let k = start;
    let best: i32 = -1;
    let bestEnd = start;
    while (lo < hi) {
      if (i == load<u32>(offsets + (<usize>(k + 1) << 2))) {
        // A whole character more: is the candidate itself a token?
        k++;
        const e = sorted + <usize>lo * ENTRY;
        if (load<u32>(e, 4) == depth) {
          best = load<i32>(e, 8);
          bestEnd = k;
        }
        if (k == chars) break;
      }
      const c = <u32>load<u8>(bytes + <usize>i);
      lo = lowerBound(sorted, lo, hi, depth, c);
      hi = upperBound(sorted, lo, hi, depth, c);
      depth++;
      i++;
    }
    return (<u64>bestEnd << 32) | <u64><u32>best;
  }

  dispose(): void {
    heap.free(this.sorted);
    heap.free(this.plainFirst);
    heap.free(this.contFirst);
    heap.free(changetype<usize>(this));
  }
}

// Byte `depth` of an entry's token, or -1 when the token is that short (it then
// sorts before every longer token with the same first `depth` bytes).
@inline
function keyAt(e: usize, depth: u32): i32 {
  return load<u32>(e, 4) > depth ? <i32>load<u8>(<usize>load<u32>(e) + <usize>depth) : -1;
}

// In sorted[lo, hi), whose tokens share their first `depth` bytes: the first
// entry whose byte `depth` is >= c (lowerBound) or > c (upperBound).
export function lowerBound(sorted: usize, lo: u32, hi: u32, depth: u32, c: u32): u32 {
  while (lo < hi) {
    countSteps(1);
    const mid = lo + ((hi - lo) >> 1);
    if (keyAt(sorted + <usize>mid * ENTRY, depth) < <i32>c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Called with lo just found by lowerBound, so the run of byte c is usually short:
// gallop from lo (1, 2, 4, ... entries) before bisecting, O(log run) steps.
export function upperBound(sorted: usize, lo: u32, hi: u32, depth: u32, c: u32): u32 {
  let step: u32 = 1;
  while (step < hi - lo) {
    countSteps(1);
    if (keyAt(sorted + <usize>(lo + step - 1) * ENTRY, depth) > <i32>c) {
      hi = lo + step - 1;
      break;
    }
    lo += step;
    step <<= 1;
  }
  while (lo < hi) {
    countSteps(1);
    const mid = lo + ((hi - lo) >> 1);
    if (keyAt(sorted + <usize>mid * ENTRY, depth) <= <i32>c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// u32[257] over sorted[lo, hi) (tokens sharing `depth` bytes): entries whose byte
// `depth` is b are [t[b], t[b + 1]); shorter tokens lie before t[0].
function firstByteTable(sorted: usize, lo: u32, hi: u32, depth: u32): usize {
  const t = heap.alloc(257 << 2);
  let i = lo;
  for (let b = 0; b < 256; b++) {
    while (i < hi && keyAt(sorted + <usize>i * ENTRY, depth) < b) i++;
    store<u32>(t + (<usize>b << 2), i);
  }
  store<u32>(t + (256 << 2), hi);
  return t;
}

// Byte order, a proper prefix first; counts the bytes it looks at.
function compareEntries(a: usize, b: usize): i32 {
  const pa = <usize>load<u32>(a), la = load<u32>(a, 4);
  const pb = <usize>load<u32>(b), lb = load<u32>(b, 4);
  const n = min(la, lb);
  for (let i: u32 = 0; i < n; i++) {
    const x = <i32>load<u8>(pa + <usize>i), y = <i32>load<u8>(pb + <usize>i);
    if (x != y) {
      countSteps(i + 1);
      return x - y;
    }
  }
  countSteps(n + 1);
  return la < lb ? -1 : la > lb ? 1 : 0;
}

// Stable bottom-up merge sort of n entries, ceil(log2 n) passes.
function mergeSort(entries: usize, n: u32): void {
  if (n < 2) return;
  let src = entries;
  let dst = heap.alloc(<usize>n * ENTRY);
  const scratch = dst;
  for (let width: u32 = 1; width < n; width <<= 1) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n), hi = min(lo + (width << 1), n);
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        const a = src + <usize>i * ENTRY, b = src + <usize>j * ENTRY;
        if (compareEntries(a, b) <= 0) { memory.copy(dst + <usize>o * ENTRY, a, ENTRY); i++; }
        else { memory.copy(dst + <usize>o * ENTRY, b, ENTRY); j++; }
        o++;
      }
      if (i < mid) memory.copy(dst + <usize>o * ENTRY, src + <usize>i * ENTRY, <usize>(mid - i) * ENTRY);
      else if (j < hi) memory.copy(dst + <usize>o * ENTRY, src + <usize>j * ENTRY, <usize>(hi - j) * ENTRY);
    }
    const t = src; src = dst; dst = t;
  }
  if (src != entries) memory.copy(entries, src, <usize>n * ENTRY);
  heap.free(scratch);
}

// A token for an error message: JSON-like quotes, control characters escaped, at
// most 40 characters.
function quote(ptr: usize, len: u32): string {
  const s = String.UTF8.decodeUnsafe(ptr, len);
  let out = "\"";
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (n == 40) { out += "..."; break; }
    const c = s.charCodeAt(i);
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x22 || c == 0x5c) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else {
      out += String.fromCharCode(c);
    }
    n++;
  }
  return out + "\"";
}
