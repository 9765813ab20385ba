// SentencePiece Unigram tokenizer (XLM-RoBERTa), id for id and offset for offset
// what Hugging Face's fast tokenizer gives for a tokenizer.json of model.type
// Unigram (tokenizers/src/models/unigram/model.rs, pre_tokenizers/metaspace.rs,
// normalizers/precompiled.rs, strip.rs, replace.rs):
//
//   added tokens   the special tokens and the ADDED_TOKENS entries, matched on the
//                  raw text leftmost-longest (AddedVocabulary); the text between
//                  them is a segment, normalized and tokenized on its own
//   normalizer     Precompiled (CHARSMAP, precompiled.ts), then Strip and
//                  Replace(" {2,}") in the order the flags give
//   Metaspace      ' ' -> '▁', '▁' prepended (always / first segment / never)
//                  when the segment does not start with one, split before each '▁'
//   Unigram        Viterbi over each piece: every vocabulary piece starting at a
//                  code point (the sorted table of vocab.ts walked byte by byte, so
//                  O(piece length x longest token) steps), score = sum of the
//                  pieces' f64 log probabilities; a code point no piece covers is
//                  <unk> at min score - 10; consecutive <unk>s fuse into one token,
//                  which byte fallback (if set) spells as <0xNN> tokens instead
//   template       <s> A </s> (</s> B </s>), every type id 0 (TEMPLATE_ROBERTA)
//
// Offsets: every normalized code point carries the span of input bytes it came
// from, computed the way tokenizers' NormalizedString::transform_range does
// (align()); a token's offsets run from its first code point's start to its last
// one's end, as NormalizedString::convert_offsets gives them.
//
// Memory: per segment, 12 bytes per normalized code point plus 28 per code point
// of the longest piece (the lattice) and 4 per input code point; each buffer grows
// to the largest segment seen and is kept until dispose(). A normalized code point
// comes from at most one charsmap string, so the normalized text is at most the
// longest replacement string times the input.

import { Config, StringList } from "../model/model";
import { fail } from "../errors";
import { decodeUtf8, encodeUtf8 } from "./utf8";
import { CLASS_WHITESPACE, charClass } from "./unicode";
import { Vocab, ENTRY, lowerBound, upperBound, countSteps } from "./vocab";
import { Trie } from "./trie";
import { Precompiled } from "./precompiled";
import { assemble, truncatePair } from "./template";
import {
  MAX_ADDED_TOKENS, ADDED_NORMALIZED, ADDED_ID_MASK, ADDED_LSTRIP, ADDED_RSTRIP, TOKFLAG_BYTE_FALLBACK, TOKFLAG_PREPEND_ALWAYS,
  TOKFLAG_PREPEND_FIRST, TOKFLAG_SPLIT, TOKFLAG_STRIP_LEFT, TOKFLAG_STRIP_RIGHT, TOKFLAG_COLLAPSE_SPACES,
  TOKFLAG_COLLAPSE_TO_META, TOKFLAG_COLLAPSE_FIRST,
} from "../format/constants";

const META: u32 = 0x2581; // '▁'
const SPACE: u32 = 0x20;
const UNK_PENALTY: f64 = 10;
const CHAR = 12; // normalized code point: u32 cp, u32 start, u32 end (input bytes)

@unmanaged
export class Unigram {
  vocab: Vocab;
  scores: usize;        // f64[vocab.count]; NaN: not a piece of the model
  minScore: f64 = 0;
  unkId: i32;
  clsId: i32;
  sepId: i32;
  flags: u32;
  maxLen: u32;
  charsmap: Precompiled | null = null;
  byteIds: usize;       // i32[256]: the <0xNN> tokens, -1 when absent

  specials: Trie | null = null;
  firstBytes: usize = 0;    // u8[256]: bytes that can start a special token
  stripFlags: usize = 0;    // u8[vocab.count]: ADDED_LSTRIP / ADDED_RSTRIP >> 29 per added token id

  // The segment being normalized: transformations, then aligned code points.
  chars: usize = 0;     // CHAR[charCap]
  charCount: u32 = 0;
  charCap: u32 = 0;
  input: usize = 0;     // u32[2 * inputCap]: the segment's input code points' spans
  inputCount: u32 = 0;
  inputCap: u32 = 0;

  // The piece being segmented, and its lattice (per code point boundary k).
  bytes: usize = 0;     // u8[4 * pieceCap] UTF-8 of the piece
  offs: usize = 0;      // u32[pieceCap + 1] byte offset of code point k
  best: usize = 0;      // f64[pieceCap + 1] best score of a path to k
  from: usize = 0;      // i32[pieceCap + 1] where the last token of that path starts (-1: none)
  ids: usize = 0;       // i32[pieceCap + 1] that token's id
  path: usize = 0;      // u32[pieceCap + 1] the best path's boundaries, collected backwards
  pieceCap: u32 = 0;

  // Output of the text being tokenized.
  outIds: usize = 0;
  outOffsets: usize = 0;
  outCapacity: u32 = 0;
  outCount: u32 = 0;
  stopAt: u32 = 0;        // a word that brings outCount to it is the last (template.ts)
  stopped: bool = false;
  outWords: usize = 0;    // u32[outCapacity]: each token's word (pre-token) index, when not 0 (tokenize_all)
  wordCount: u32 = 0;     // the words started so far in this text
  pairIds: usize = 0;     // i32[maxLen], text b before assembly
  pairOffsets: usize = 0; // u32[2 * maxLen]

  constructor(cfg: Config, list: StringList, scores: usize, charsmap: usize, charsmapSize: u32, added: usize, addedCount: u32) {
    this.vocab = new Vocab(list);
    this.scores = scores;
    this.unkId = cfg.unk_id;
    this.clsId = cfg.cls_id;
    this.sepId = cfg.sep_id;
    this.flags = cfg.tokenizer_flags;
    this.maxLen = cfg.max_len;
    const n = this.vocab.count;
    let minScore = Infinity;
    for (let i: u32 = 0; i < n; i++) {
      const s = load<f64>(scores + (<usize>i << 3));
      if (s < minScore) minScore = s; // NaN compares false
    }
    this.minScore = minScore == Infinity ? 0 : minScore;
    this.byteIds = heap.alloc(256 << 2);
    memory.fill(this.byteIds, 0xff, 256 << 2);
    if (this.flags & TOKFLAG_BYTE_FALLBACK) {
      // "<0xNN>", N uppercase hex, as tokenizers' byte_fallback spells it; the first id wins.
      for (let id: u32 = n; id-- > 0;) {
        const t = this.vocab.tokenPtr(id);
        if (this.vocab.tokenLen(id) != 6 || (load<u32>(t) & 0xffffff) != 0x78303c || load<u8>(t, 5) != 0x3e) continue;
        const hi = hexValue(load<u8>(t, 3)), lo = hexValue(load<u8>(t, 4));
        if (hi < 16 && lo < 16) store<i32>(this.byteIds + (<usize>(hi << 4 | lo) << 2), <i32>id);
      }
    }
    if (charsmap != 0) this.charsmap = new Precompiled(charsmap, charsmapSize);
    // The added tokens (ADDED_TOKENS: Hugging Face's added_tokens, specials
    // included), matched whole in the raw text.
    if (addedCount > <u32>MAX_ADDED_TOKENS) addedCount = MAX_ADDED_TOKENS;
    this.firstBytes = heap.alloc(256);
    memory.fill(this.firstBytes, 0, 256);
    let symbols: u32 = 0;
    for (let i: u32 = 0; i < addedCount; i++) {
      const e = load<u32>(added + (<usize>i << 2));
      if (!(e & ADDED_NORMALIZED)) symbols += this.vocab.tokenLen(e & ADDED_ID_MASK);
    }
    const trie = new Trie(symbols);
    this.specials = trie;
    this.stripFlags = heap.alloc(max<u32>(n, 1));
    memory.fill(this.stripFlags, 0, max<u32>(n, 1));
    for (let i: u32 = 0; i < addedCount; i++) {
      const e = load<u32>(added + (<usize>i << 2)), id = e & ADDED_ID_MASK;
      if (e & ADDED_NORMALIZED) continue;
      const ptr = this.vocab.tokenPtr(id);
      trie.insert(ptr, this.vocab.tokenLen(id), 1, <i32>id);
      store<u8>(this.stripFlags + <usize>id, <u8>((e & (ADDED_LSTRIP | ADDED_RSTRIP)) >> 29));
      store<u8>(this.firstBytes + <usize>load<u8>(ptr), 1);
    }
    this.pairIds = heap.alloc(<usize>this.maxLen << 2);
    this.pairOffsets = heap.alloc(<usize>this.maxLen << 3);
  }

  // The tokenizer of a loaded model, or null after fail() (repeated tokens, a bad charsmap).
  static create(cfg: Config, list: StringList, scores: usize, charsmap: usize, charsmapSize: u32, added: usize, addedCount: u32): Unigram | null {
    const u = new Unigram(cfg, list, scores, charsmap, charsmapSize, added, addedCount);
    if (u.vocab.ok && (u.charsmap === null || u.charsmap!.ok)) return u;
    u.dispose();
    return null;
  }

  dispose(): void {
    this.vocab.dispose();
    if (this.charsmap !== null) this.charsmap!.dispose();
    this.specials!.dispose();
    heap.free(this.byteIds);
    heap.free(this.firstBytes);
    heap.free(this.stripFlags);
    heap.free(this.pairIds);
    heap.free(this.pairOffsets);
    if (this.charCap) heap.free(this.chars);
    if (this.inputCap) heap.free(this.input);
    if (this.pieceCap) heap.free(this.best);
    heap.free(changetype<usize>(this));
  }

  // Tokenizes a (and b when bLen >= 0) into ids / types (i32[limit]) and offsets
  // (u32[2 * limit], byte offsets into each text, 0 0 for the template's tokens),
  // truncated to limit tokens as tokenizers' LongestFirst does. Returns the count.
  encode(a: usize, aLen: u32, b: usize, bLen: i32, limit: u32, ids: usize, types: usize, offsets: usize): i32 {
    const isPair = bLen >= 0;
    const numSpecial: u32 = isPair ? 4 : 2;
    if (limit < numSpecial) return fail("tokenizer: max_len leaves no room for the special tokens");
    const budget = limit - numSpecial;
    // A single text stops once it has its budget; each text of a pair at the end of
    // the word that brings it to limit (template.ts).
    let nA = this.tokenize(a, aLen, ids + 4, offsets + 8, budget, isPair ? limit : budget);
    let nB: i32 = -1;
    if (isPair) {
      const kept = truncatePair(nA, this.tokenize(b, <u32>bLen, this.pairIds, this.pairOffsets, budget, limit), budget);
      nA = <u32>(kept >> 32);
      nB = <i32><u32>kept;
    } else if (nA > budget) {
      nA = budget;
    }
    // <s> A </s> (</s> B </s>), all type 0
    return <i32>assemble(ids, offsets, types, this.clsId, this.sepId, nA, this.pairIds, this.pairOffsets, nB, true, 0);
  }

  // One text: up to `capacity` tokens at out / outOffsets; returns how many the
  // text has, counting up to the end of the word that brings it to stopAt.
  tokenize(ptr: usize, len: u32, out: usize, outOffsets: usize, capacity: u32, stopAt: u32): u32 {
    this.outIds = out;
    this.outOffsets = outOffsets;
    this.outCapacity = capacity;
    this.outCount = 0;
    this.stopAt = stopAt;
    this.stopped = false;
    this.wordCount = 0;
    const end = ptr + <usize>len;
    let segStart = ptr;
    let p = ptr;
    let first = true;
    while (p < end) {
      if (this.stopped) return this.outCount;
      if (load<u8>(this.firstBytes + <usize>load<u8>(p))) {
        const trie = this.specials!;
        const id = trie.longestBytes(p, end);
        if (id >= 0) {
          // lstrip / rstrip: the match takes the whitespace next to it (AddedVocabulary).
          const strip = <u32>load<u8>(this.stripFlags + <usize>id);
          let s = p, q = p + <usize>trie.matchLen;
          if (strip & 2) {
            while (s > segStart) {
              let c = s - 1;
              while (c > segStart && (load<u8>(c) & 0xc0) == 0x80) c--;
              if (!isSpace(<u32>decodeUtf8(c, s))) break;
              s = c;
            }
          }
          if (strip & 1) {
            while (q < end) {
              const d = decodeUtf8(q, end);
              if (!isSpace(<u32>d)) break;
              q += <usize>(d >> 32);
            }
          }
          if (s > segStart) this.segment(ptr, segStart, s, first);
          first = false;
          this.wordCount++; // an added token is a word of its own
          if (!this.stopped) this.emit(id, <u32>(s - ptr), <u32>(q - ptr));
          p = q;
          segStart = p;
          continue;
        }
      }
      p++; // a special token starts at a lead byte, never inside a character
    }
    if (p > segStart) this.segment(ptr, segStart, p, first);
    return this.outCount;
  }

  // Normalizes, pre-tokenizes and segments the input bytes [s, e) of the text at base.
  private segment(base: usize, s: usize, e: usize, first: bool): void {
    this.charCount = 0;
    this.inputCount = 0;
    // Input code points and their spans.
    let p = s;
    while (p < e) {
      const d = decodeUtf8(p, e);
      const n = <u32>(d >> 32);
      this.pushInput(<u32>(p - base), <u32>(p - base) + n);
      if (this.charsmap === null) this.pushChar(<u32>d, 0);
      p += <usize>n;
    }
    if (this.charsmap !== null) this.precompiled(s, e);
    this.align(<u32>(s - base));
    const f = this.flags;
    if (f & TOKFLAG_COLLAPSE_FIRST) { this.collapse(); this.strip(); }
    else { this.strip(); this.collapse(); }
    // Metaspace: ' ' -> '▁', the prefix, then pieces that start at each '▁'.
    const chars = this.chars, count = this.charCount;
    if (count == 0) return;
    for (let i: u32 = 0; i < count; i++) if (load<u32>(chars + <usize>i * CHAR) == SPACE) store<u32>(chars + <usize>i * CHAR, META);
    const prepend = (f & TOKFLAG_PREPEND_ALWAYS) != 0 || ((f & TOKFLAG_PREPEND_FIRST) != 0 && first);
    if (prepend && load<u32>(chars) != META) {
      this.reserveChars(count + 1);
      const c = this.chars;
      memory.copy(c + CHAR, c, <usize>count * CHAR);
      store<u32>(c, META);
      this.charCount = count + 1;
    }
    const total = this.charCount;
    let start: u32 = 0;
    if (f & TOKFLAG_SPLIT) {
      for (let i: u32 = 1; i < total; i++) {
        if (load<u32>(this.chars + <usize>i * CHAR) == META) {
          this.word(start, i);
          if (this.stopped) return;
          start = i;
        }
      }
    }
    this.word(start, total);
  }

  // One pre-tokenizer word; the last one once outCount reaches stopAt.
  private word(start: u32, end: u32): void {
    this.viterbi(start, end);
    if (this.outCount >= this.stopAt) this.stopped = true;
  }

  // Precompiled over the input [s, e): records (cp, change) transformations.
  private precompiled(s: usize, e: usize): void {
    const map = this.charsmap!;
    map.resetGraphemes();
    let p = s;
    // Clusters: [g, p) once the next boundary is found.
    let g = s;
    let count: u32 = 0; // code points in [g, p)
    while (p < e) {
      const d = decodeUtf8(p, e);
      if (map.breakBefore(<u32>d) && p > g) {
        this.cluster(g, p, count);
        g = p;
        count = 0;
      }
      count++;
      p += <usize>(d >> 32);
    }
    if (p > g) this.cluster(g, p, count);
  }

  private cluster(g: usize, e: usize, count: u32): void {
    const map = this.charsmap!;
    const len = <u32>(e - g);
    if (len < 6) {
      const at = map.lookup(g, len);
      if (at >= 0) { this.replace(count, at); return; }
    }
    let p = g;
    while (p < e) {
      const d = decodeUtf8(p, e);
      const n = <u32>(d >> 32);
      const at = map.lookup(p, n);
      if (at >= 0) this.replace(1, at);
      else this.pushChar(<u32>d, 0);
      p += <usize>n;
    }
  }

  // tokenizers' precompiled.rs replace(): `oldCount` input code points become the string at `at`.
  private replace(oldCount: u32, at: i32): void {
    const map = this.charsmap!;
    const s = map.strings + <usize>at, sEnd = s + <usize>map.stringLen(at);
    const first = this.charCount;
    let q = s;
    while (q < sEnd) {
      const d = decodeUtf8(q, sEnd);
      this.pushChar(<u32>d, 0);
      q += <usize>(d >> 32);
    }
    const diff = <i32>(this.charCount - first) - <i32>oldCount;
    if (diff > 0) {
      for (let i = this.charCount - <u32>diff; i < this.charCount; i++) store<i32>(this.chars + <usize>i * CHAR, 1, 4);
    } else if (diff < 0 && this.charCount > 0) {
      const last = this.chars + <usize>(this.charCount - 1) * CHAR + 4;
      store<i32>(last, load<i32>(last) + diff);
    }
  }

  // Transformations -> spans, as NormalizedString::transform_range consumes the
  // input: a change <= 0 takes the next input code point's span and skips -change
  // more, an insertion takes the span of the input code point before it.
  private align(base: u32): void {
    const chars = this.chars, input = this.input, n = this.inputCount;
    let cur: u32 = 0;
    for (let i: u32 = 0; i < this.charCount; i++) {
      const c = chars + <usize>i * CHAR;
      const change = load<i32>(c, 4);
      let span: usize;
      let s: u32 = base, t: u32 = base;
      if (change > 0) {
        if (cur > 0) { span = input + (<usize>min(cur - 1, n - 1) << 3); s = load<u32>(span); t = load<u32>(span, 4); }
      } else {
        if (cur < n) { span = input + (<usize>cur << 3); s = load<u32>(span); t = load<u32>(span, 4); }
        else if (n > 0) { span = input + (<usize>(n - 1) << 3); s = load<u32>(span); t = load<u32>(span, 4); }
        cur += 1 + <u32>(-change);
      }
      store<u32>(c, s, 4);
      store<u32>(c, t, 8);
    }
  }

  // Strip: leading / trailing White_Space code points go.
  private strip(): void {
    const f = this.flags, chars = this.chars;
    let n = this.charCount;
    if (f & TOKFLAG_STRIP_RIGHT) {
      while (n > 0 && isSpace(load<u32>(chars + <usize>(n - 1) * CHAR))) n--;
    }
    let lead: u32 = 0;
    if (f & TOKFLAG_STRIP_LEFT) {
      while (lead < n && isSpace(load<u32>(chars + <usize>lead * CHAR))) lead++;
    }
    if (lead > 0) memory.copy(chars, chars + <usize>lead * CHAR, <usize>(n - lead) * CHAR);
    this.charCount = n - lead;
  }

  // Replace(Regex(" {2,}"), content): each run of 2+ spaces becomes one code
  // point with the span of the run's last space (an insertion after removing the run).
  private collapse(): void {
    if (!(this.flags & TOKFLAG_COLLAPSE_SPACES)) return;
    const to: u32 = this.flags & TOKFLAG_COLLAPSE_TO_META ? META : SPACE;
    const chars = this.chars, n = this.charCount;
    let w: u32 = 0, i: u32 = 0;
    while (i < n) {
      let j = i;
      while (j < n && load<u32>(chars + <usize>j * CHAR) == SPACE) j++;
      if (j - i >= 2) {
        memory.copy(chars + <usize>w * CHAR, chars + <usize>(j - 1) * CHAR, CHAR);
        store<u32>(chars + <usize>w * CHAR, to);
        w++;
        i = j;
      } else {
        if (w != i) memory.copy(chars + <usize>w * CHAR, chars + <usize>i * CHAR, CHAR);
        w++;
        i++;
      }
    }
    this.charCount = w;
  }

  // Unigram's encode_optimized on the code points [s, e) of the segment.
  private viterbi(s: u32, e: u32): void {
    const m = e - s;
    if (m == 0) return;
    this.wordCount++; // each Metaspace piece is a word
    this.reservePiece(m);
    const bytes = this.bytes, offs = this.offs, best = this.best, from = this.from, ids = this.ids;
    let at: u32 = 0;
    store<u32>(offs, 0);
    for (let k: u32 = 0; k < m; k++) {
      at += encodeUtf8(load<u32>(this.chars + <usize>(s + k) * CHAR), bytes + <usize>at);
      store<u32>(offs + (<usize>(k + 1) << 2), at);
    }
    for (let k: u32 = 0; k <= m; k++) store<i32>(from + (<usize>k << 2), -1);
    store<f64>(best, 0);
    const sorted = this.vocab.sorted, scores = this.scores, unkScore = this.minScore - UNK_PENALTY;
    for (let k: u32 = 0; k < m; k++) {
      const here = load<f64>(best + (<usize>k << 3));
      let single = false;
      // Every token that starts at code point k, shortest first.
      let i = load<u32>(offs + (<usize>k << 2));
      let lo: u32 = 0, hi = this.vocab.count, depth: u32 = 0, j = k;
      while (lo < hi && i < at) {
        const c = <u32>load<u8>(bytes + <usize>i);
        lo = lowerBound(sorted, lo, hi, depth, c);
        hi = upperBound(sorted, lo, hi, depth, c);
        depth++;
        i++;
        if (lo < hi && i == load<u32>(offs + (<usize>(j + 1) << 2))) {
          j++;
          const entry = sorted + <usize>lo * ENTRY;
          if (load<u32>(entry, 4) == depth) {
            const id = load<i32>(entry, 8);
            const score = load<f64>(scores + (<usize>id << 3));
            if (score == score) { // NaN: not a piece
              const cand = here + score;
              const node = <usize>j;
              if (load<i32>(from + (node << 2)) < 0 || cand > load<f64>(best + (node << 3))) {
                store<f64>(best + (node << 3), cand);
                store<i32>(from + (node << 2), <i32>k);
                store<i32>(ids + (node << 2), id);
              }
              if (j == k + 1) single = true;
            }
          }
        }
      }
      if (!single) {
        const node = <usize>(k + 1);
        const cand = here + unkScore;
        if (load<i32>(from + (node << 2)) < 0 || cand > load<f64>(best + (node << 3))) {
          store<f64>(best + (node << 3), cand);
          store<i32>(from + (node << 2), <i32>k);
          store<i32>(ids + (node << 2), this.unkId);
        }
      }
    }
    // The best path, backwards, then its tokens in order; runs of <unk> fuse.
    const path = this.path;
    let count: u32 = 0;
    let k = m;
    while (k > 0) {
      store<u32>(path + (<usize>count << 2), k);
      count++;
      k = <u32>load<i32>(from + (<usize>k << 2));
    }
    let t = count;
    let start: u32 = 0;
    while (t > 0) {
      t--;
      let stop = load<u32>(path + (<usize>t << 2));
      let id = load<i32>(ids + (<usize>stop << 2));
      if (id == this.unkId) {
        while (t > 0 && load<i32>(ids + (<usize>load<u32>(path + (<usize>(t - 1) << 2)) << 2)) == this.unkId) {
          t--;
          stop = load<u32>(path + (<usize>t << 2));
        }
      }
      this.token(id, s, start, stop);
      start = stop;
    }
  }

  // The token id for the code points [k0, k1) of the piece starting at s; for
  // <unk> (a fused run of unknown code points) its <0xNN> bytes instead when byte
  // fallback has them all, each with the whole run's offsets, as tokenizers does.
  private token(id: i32, s: u32, k0: u32, k1: u32): void {
    let b0: u32 = 0, b1: u32 = 1;
    let bytes = id == this.unkId && (this.flags & TOKFLAG_BYTE_FALLBACK) != 0;
    if (bytes) {
      b0 = load<u32>(this.offs + (<usize>k0 << 2));
      b1 = load<u32>(this.offs + (<usize>k1 << 2));
      for (let i = b0; i < b1; i++) if (this.byteId(i) < 0) bytes = false;
      if (!bytes) { b0 = 0; b1 = 1; }
    }
    const start = load<u32>(this.chars + <usize>(s + k0) * CHAR, 4), end = load<u32>(this.chars + <usize>(s + k1 - 1) * CHAR, 8);
    for (let i = b0; i < b1; i++) this.emit(bytes ? this.byteId(i) : id, start, end);
  }

  @inline private byteId(i: u32): i32 {
    return load<i32>(this.byteIds + (<usize>load<u8>(this.bytes + <usize>i) << 2));
  }

  private emit(id: i32, start: u32, end: u32): void {
    countSteps(1);
    const n = this.outCount;
    if (n < this.outCapacity) {
      store<i32>(this.outIds + (<usize>n << 2), id);
      store<u32>(this.outOffsets + (<usize>n << 3), start);
      store<u32>(this.outOffsets + (<usize>n << 3), end, 4);
      if (this.outWords) store<u32>(this.outWords + (<usize>n << 2), this.wordCount - 1);
    }
    this.outCount = n + 1;
  }

  private pushInput(s: u32, e: u32): void {
    const n = this.inputCount;
    if (n >= this.inputCap) {
      const cap = max<u32>(n * 2, 64);
      const next = heap.alloc(<usize>cap << 3);
      if (this.inputCap) { memory.copy(next, this.input, <usize>n << 3); heap.free(this.input); }
      this.input = next;
      this.inputCap = cap;
    }
    store<u32>(this.input + (<usize>n << 3), s);
    store<u32>(this.input + (<usize>n << 3), e, 4);
    this.inputCount = n + 1;
  }

  private pushChar(cp: u32, change: i32): void {
    const n = this.charCount;
    if (n >= this.charCap) this.reserveChars(n + 1);
    const c = this.chars + <usize>n * CHAR;
    store<u32>(c, cp);
    store<i32>(c, change, 4);
    this.charCount = n + 1;
  }

  private reserveChars(needed: u32): void {
    if (needed <= this.charCap) return;
    const cap = max<u32>(needed, max<u32>(this.charCap * 2, 64));
    const next = heap.alloc(<usize>cap * CHAR);
    if (this.charCap) { memory.copy(next, this.chars, <usize>this.charCount * CHAR); heap.free(this.chars); }
    this.chars = next;
    this.charCap = cap;
  }

  // One block for the lattice: bytes u8[4c], offs u32[c+1], best f64[c+1], from, ids, path i32[c+1].
  private reservePiece(m: u32): void {
    if (m <= this.pieceCap) return;
    if (this.pieceCap) heap.free(this.best);
    const cap = max<u32>(m, max<u32>(this.pieceCap * 2, 64));
    const k = <usize>(cap + 1);
    const block = heap.alloc(k * 28); // 8 + 4 * 4 + 4 per boundary (the bytes take the last 4k)
    this.best = block;
    this.offs = block + (k << 3);
    this.from = this.offs + (k << 2);
    this.ids = this.from + (k << 2);
    this.path = this.ids + (k << 2);
    this.bytes = this.path + (k << 2);
    this.pieceCap = cap;
  }

}

// Rust's char::is_whitespace (White_Space, as unicode.ts classes it).
function isSpace(cp: u32): bool {
  return (charClass(cp) & CLASS_WHITESPACE) != 0;
}

// An uppercase hex digit's value, or 16.
function hexValue(c: u8): u32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 16;
}

