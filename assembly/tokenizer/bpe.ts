// Byte-level BPE (GPT-2 / RoBERTa), id for id and offset for offset what Hugging
// Face's tokenizers builds from a RoBERTa tokenizer.json: the added vocabulary, the
// ByteLevel pre-tokenizer, the BPE model and the RobertaProcessing post-processor.
// https://github.com/huggingface/tokenizers/blob/v0.21.0/tokenizers/src/models/bpe/word.rs
// https://github.com/huggingface/tokenizers/blob/v0.21.0/tokenizers/src/pre_tokenizers/byte_level.rs
//
// One text, left to right:
//   added tokens   the ADDED_TOKENS entries are matched first, leftmost-longest: the
//                  normalized: false ones on the text, then the normalized ones on
//                  what lies between (there is no normalizer, so the same bytes);
//                  lstrip / rstrip drop the whitespace next to a match (it goes
//                  to no token; the token's offsets are its own)
//   prefix space   with add_prefix_space, each piece between matches that does not
//                  start with ' ' gets one in front (aligned with its first char)
//   pre-tokenize   GPT-2's regex, by hand (matchEnd):
//                    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//                  \p{L} / \p{N} from MERGES' range table, \s = White_Space (unicode.ts)
//   BPE            each word's bytes, as byte-level symbols, merged lowest rank
//                  first (leftmost on a tie), with a binary heap of pairs: a word of
//                  n bytes costs at most n - 1 merges, 3n pushes and pops of
//                  O(log n) and 3n pair lookups of O(log m) (m: merges starting
//                  with the left symbol). No word-length cap: Hugging Face has none
//                  either; memory is 12 bytes per byte of the longest word plus 24
//                  for the heap, allocated once and kept.
//   offsets        each token's [start, end) UTF-8 byte offsets into its own text,
//                  widened to whole characters (a token holding part of a character
//                  covers all of it, as tokenizers aligns every byte of a char with
//                  the char); trim_offsets then drops leading / trailing spaces
//                  (ByteLevel's process_offsets)
//   template       <s> A </s> (</s> B </s>) or [CLS] A [SEP] (B [SEP]), truncation
//                  longest-first as tokenizers' truncate_encodings (template.ts)
//
// Pair lookups search MERGES in place (sorted by (left, right) in the file) through
// u32[V + 1] first-entry indices built at load: nothing hashed, nothing to collide.

import { Config, StringList } from "../model/model";
import { fail } from "../errors";
import { decodeUtf8 } from "./utf8";
import { CLASS_WHITESPACE, charClass } from "./unicode";
import { Trie } from "./trie";
import { assemble, truncatePair } from "./template";
import {
  MAX_ADDED_TOKENS, ADDED_NORMALIZED, ADDED_ID_MASK, ADDED_LSTRIP, ADDED_RSTRIP, MERGE_ENTRY_SIZE,
  CHAR_OTHER, CHAR_LETTER, CHAR_NUMBER, TEMPLATE_ROBERTA,
  TOKFLAG_ADD_PREFIX_SPACE, TOKFLAG_TRIM_OFFSETS, TOKFLAG_TRIM_PREFIX_SPACE,
} from "../format/constants";

const WS: u32 = 3; // class of a White_Space code point, beside CHAR_*
const SPACE: u32 = 0x20;
const QUOTE: u32 = 0x27;
const STRIP_BITS: i32 = <i32>(ADDED_LSTRIP | ADDED_RSTRIP);

// Work counter for tests: heap steps, pair-search steps, bytes and code points read.
export let bpeSteps: u64 = 0;
export function resetBpeSteps(): void { bpeSteps = 0; }

@unmanaged
export class BpeTokenizer {
  cfg: Config;
  vocabCount: u32;
  merges: usize;        // (u32 left, right, rank, result)[mergeCount], sorted by (left, right)
  mergeCount: u32;
  leftFirst: usize;     // u32[V + 1]: the merges whose left id is v are [leftFirst[v], leftFirst[v + 1])
  ranges: usize;        // u32[rangeCount] start | class << 24
  rangeCount: u32;
  byteId: usize;        // i32[256]: the token of each byte's byte-level character
  rawTrie: Trie;        // added tokens matched on the text
  normTrie: Trie;       // added tokens with normalized: true, matched between those
  rawFirst: usize;      // u8[256]: bytes that can start a raw / normalized match
  normFirst: usize;
  addPrefix: bool;
  trim: bool;
  trimPrefix: bool;

  // The word being merged: n symbols, one per byte (and the added space); a
  // symbol is alive while its id is >= 0 and covers bytes [k, next[k]).
  symId: usize = 0;     // i32[cap]
  symPrev: usize = 0;   // i32[cap]
  symNext: usize = 0;   // i32[cap]
  heap: usize = 0;      // u64[3 * cap]: rank << 32 | position
  cap: u32 = 0;

  // Output of the text being tokenized: the first outCapacity ids and offsets.
  text: usize = 0;      // the text's first byte (offsets are relative to it)
  outIds: usize = 0;
  outOffsets: usize = 0;
  outCapacity: u32 = 0;
  outCount: u32 = 0;
  stopAt: u32 = 0;      // a word that brings outCount to it is the last (template.ts)
  stopped: bool = false;
  trimStart: usize = 0; // trimmed()'s second result
  outWords: usize = 0;  // u32[outCapacity]: each token's word (pre-token) index, when not 0 (tokenize_all)
  wordCount: u32 = 0;   // the words started so far in this text
  pairIds: usize = 0;   // i32[pairCapacity], the second text before assembly
  pairOffsets: usize = 0; // u32[2 * pairCapacity]
  pairCapacity: u32 = 0;

  constructor(cfg: Config, vocab: StringList, merges: usize, mergeCount: u32, ranges: usize, rangeCount: u32, added: usize, addedCount: u32) {
    this.cfg = cfg;
    this.vocabCount = vocab.count;
    this.merges = merges;
    this.mergeCount = mergeCount;
    this.ranges = ranges;
    this.rangeCount = rangeCount;
    this.addPrefix = (cfg.tokenizer_flags & TOKFLAG_ADD_PREFIX_SPACE) != 0;
    this.trim = (cfg.tokenizer_flags & TOKFLAG_TRIM_OFFSETS) != 0;
    this.trimPrefix = (cfg.tokenizer_flags & TOKFLAG_TRIM_PREFIX_SPACE) != 0;
    const V = vocab.count;
    const first = (this.leftFirst = heap.alloc(<usize>(V + 1) << 2));
    let e: u32 = 0;
    for (let v: u32 = 0; v <= V; v++) {
      while (e < mergeCount && load<u32>(merges + <usize>e * MERGE_ENTRY_SIZE) < v) e++;
      store<u32>(first + (<usize>v << 2), e);
    }
    // The byte-level characters: bytes_to_unicode() of GPT-2's encoder.py.
    const byteId = (this.byteId = heap.alloc(256 << 2));
    const cpToByte = heap.alloc(324 << 1); // u16 per code point 0..323, byte + 1 (0: none)
    memory.fill(cpToByte, 0, 324 << 1);
    let extra: u32 = 256;
    for (let b: u32 = 0; b < 256; b++) {
      store<i32>(byteId + (<usize>b << 2), -1);
      const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      store<u16>(cpToByte + (<usize>(printable ? b : extra++) << 1), <u16>(b + 1));
    }
    for (let id: u32 = 0; id < V; id++) {
      const at = vocab.offsets + (<usize>id << 2);
      const p = vocab.blob + <usize>load<u32>(at), len = load<u32>(at, 4) - load<u32>(at);
      if (len == 0 || len > 2) continue;
      const d = decodeUtf8(p, p + len);
      const cp = <u32>d;
      if (<u32>(d >> 32) != len || cp >= 324) continue;
      const b = <i32>load<u16>(cpToByte + (<usize>cp << 1)) - 1;
      if (b >= 0 && load<i32>(byteId + (<usize>b << 2)) < 0) store<i32>(byteId + (<usize>b << 2), <i32>id);
    }
    heap.free(cpToByte);
    // Added tokens: (id | strip bits) in the tries.
    let rawSyms: u32 = 0, normSyms: u32 = 0;
    if (addedCount > <u32>MAX_ADDED_TOKENS) addedCount = MAX_ADDED_TOKENS;
    for (let i: u32 = 0; i < addedCount; i++) {
      const entry = load<u32>(added + (<usize>i << 2));
      const len = tokenLen(vocab, entry & ADDED_ID_MASK);
      if (entry & ADDED_NORMALIZED) normSyms += len;
      else rawSyms += len;
    }
    this.rawTrie = new Trie(rawSyms);
    this.normTrie = new Trie(normSyms);
    this.rawFirst = heap.alloc(256);
    this.normFirst = heap.alloc(256);
    memory.fill(this.rawFirst, 0, 256);
    memory.fill(this.normFirst, 0, 256);
    for (let i: u32 = 0; i < addedCount; i++) {
      const entry = load<u32>(added + (<usize>i << 2));
      const id = entry & ADDED_ID_MASK;
      const len = tokenLen(vocab, id);
      if (len == 0) continue;
      const p = vocab.blob + <usize>load<u32>(vocab.offsets + (<usize>id << 2));
      const norm = (entry & ADDED_NORMALIZED) != 0;
      (norm ? this.normTrie : this.rawTrie).insert(p, len, 1, <i32>(entry & ~ADDED_NORMALIZED));
      store<u8>((norm ? this.normFirst : this.rawFirst) + <usize>load<u8>(p), 1);
    }
  }

  // Fails (returns false) when a byte has no token: every byte must be encodable.
  checkBytes(): bool {
    for (let b = 0; b < 256; b++) {
      if (load<i32>(this.byteId + (<usize>b << 2)) < 0) {
        fail(`VOCAB: no token for byte ${b} (its GPT-2 byte-level character); byte-level BPE needs all 256`);
        return false;
      }
    }
    return true;
  }

  dispose(): void {
    heap.free(this.leftFirst);
    heap.free(this.byteId);
    heap.free(this.rawFirst);
    heap.free(this.normFirst);
    this.rawTrie.dispose();
    this.normTrie.dispose();
    if (this.cap != 0) {
      heap.free(this.symId);
      heap.free(this.symPrev);
      heap.free(this.symNext);
      heap.free(this.heap);
    }
    if (this.pairCapacity != 0) {
      heap.free(this.pairIds);
      heap.free(this.pairOffsets);
    }
    heap.free(changetype<usize>(this));
  }

  // Tokenizes a (and b when bLen >= 0) into ids / types (i32[maxLen]) and offsets
  // (u32[2 * maxLen]), truncating to maxLen tokens. Returns the token count.
  encode(a: usize, aLen: u32, b: usize, bLen: i32, maxLen: u32, ids: usize, types: usize, offsets: usize): i32 {
    const cfg = this.cfg;
    const isPair = bLen >= 0;
    const roberta = cfg.template == TEMPLATE_ROBERTA;
    const numSpecial: u32 = isPair ? (roberta ? 4 : 3) : 2;
    if (maxLen < numSpecial) {
      return fail(`tokenizer: max_len ${maxLen} leaves no room for the ${numSpecial} special tokens of ${isPair ? "a pair" : "a single text"}`);
    }
    const budget = maxLen - numSpecial;
    // A single text stops once it has its budget; each text of a pair at the end of
    // the word that brings it to max_len (template.ts).
    let nA = this.tokenize(a, aLen, ids + 4, offsets + 8, budget, isPair ? maxLen : budget);
    let nB: i32 = -1;
    if (isPair) {
      this.reservePair(cfg.max_len);
      const kept = truncatePair(nA, this.tokenize(b, <u32>bLen, this.pairIds, this.pairOffsets, budget, maxLen), budget);
      nA = <u32>(kept >> 32);
      nB = <i32><u32>kept;
    } else if (nA > budget) {
      nA = budget;
    }
    // cls A sep (sep) B sep; specials have offsets (0, 0). Token types as the
    // WordPiece path gives them (wordpiece.ts): RoBERTa's single type row gives 0
    // throughout.
    const secondType: i32 = (cfg.flags & 1) == 0 && cfg.type_vocab_size >= 2 ? 1 : 0;
    return <i32>assemble(ids, offsets, types, cfg.cls_id, cfg.sep_id, nA, this.pairIds, this.pairOffsets, nB, roberta, secondType);
  }

  private reservePair(capacity: u32): void {
    if (this.pairCapacity >= capacity) return;
    if (this.pairCapacity != 0) {
      heap.free(this.pairIds);
      heap.free(this.pairOffsets);
    }
    this.pairIds = heap.alloc(<usize>capacity << 2);
    this.pairOffsets = heap.alloc(<usize>capacity << 3);
    this.pairCapacity = capacity;
  }

  // One text: up to `capacity` ids and offsets stored; returns how many tokens it
  // has, counting up to the end of the word that reaches `stopAt`.
  tokenize(ptr: usize, len: u32, ids: usize, offsets: usize, capacity: u32, stopAt: u32): u32 {
    this.text = ptr;
    this.outIds = ids;
    this.outOffsets = offsets;
    this.outCapacity = capacity;
    this.outCount = 0;
    this.wordCount = 0;
    this.stopAt = stopAt;
    this.stopped = false;
    this.split(ptr, ptr + <usize>len, false);
    return this.outCount;
  }

  // The added tokens of one trie in [p, end) (raw first, then normalized within
  // the gaps); the gaps go on to the pre-tokenizer.
  private split(p: usize, end: usize, norm: bool): void {
    const trie = norm ? this.normTrie : this.rawTrie;
    const firsts = norm ? this.normFirst : this.rawFirst;
    let from = p;
    let q = p;
    while (q < end) {
      if (this.stopped) return;
      if (!load<u8>(firsts + <usize>load<u8>(q))) { q++; continue; }
      const found = trie.longestBytes(q, end);
      if (found < 0) { q++; continue; }
      let start = q, stop = q + <usize>trie.matchLen;
      if (found & <i32>ADDED_LSTRIP) start = skipWhitespaceBack(from, start);
      if (found & <i32>ADDED_RSTRIP) stop = skipWhitespace(stop, end);
      if (start > from) this.gap(from, start, norm);
      if (this.stopped) return; // (the gap held the last word)
      // The whitespace taken by lstrip / rstrip belongs to no token; offsets are
      // trimmed of the token's own leading / trailing whitespace, as for words.
      const te = q + <usize>trie.matchLen;
      let lo = q, hi = te;
      if (this.trim) {
        let lead: u32 = 0, trail: u32 = 0;
        for (let c = q; c < te; lead++) { const w = spaceLen(c, te); if (!w) break; c += w; }
        for (let c = te; c > q; trail++) { const s = charStart(q, c - 1); if (spaceLen(s, c) != <u32>(c - s)) break; c = s; }
        hi = this.trimmed(q, te, lead, trail, end);
        lo = this.trimStart;
      }
      this.wordCount++; // an added token is a word of its own
      this.emit(found & ~STRIP_BITS, <u32>(lo - this.text), <u32>(hi - this.text));
      from = q = stop;
    }
    if (end > from) this.gap(from, end, norm);
  }

  private gap(p: usize, end: usize, norm: bool): void {
    if (this.stopped) return;
    if (!norm) this.split(p, end, true);
    else this.preTokenize(p, end);
  }

  // ByteLevel's pre-tokenizer on one piece: GPT-2's regex, each match a word.
  private preTokenize(p: usize, end: usize): void {
    let prefix = this.addPrefix && load<u8>(p) != SPACE;
    while (p < end) {
      if (this.stopped) return;
      const stop = prefix ? this.prefixedEnd(p, end) : this.matchEnd(p, end);
      this.word(p, stop, prefix, end);
      if (this.outCount >= this.stopAt) this.stopped = true;
      prefix = false;
      p = stop;
    }
  }

  // The regex's match at p (not preceded by an added space).
  private matchEnd(p: usize, end: usize): usize {
    const d = decodeUtf8(p, end);
    const c = <u32>d;
    const n = <usize>(d >> 32);
    if (c == QUOTE && p + 1 < end) {
      // 's 't 'm 'd 're 've 'll
      const c1 = <u32>load<u8>(p + 1);
      if (c1 == 0x73 || c1 == 0x74 || c1 == 0x6d || c1 == 0x64) return p + 2;
      if (p + 2 < end) {
        const c2 = <u32>load<u8>(p + 2);
        if ((c2 == 0x65 && (c1 == 0x72 || c1 == 0x76)) || (c1 == 0x6c && c2 == 0x6c)) return p + 3;
      }
    }
    if (c == SPACE && p + 1 < end) {
      // " ?" then a run of letters, of numbers or of others
      const d1 = decodeUtf8(p + 1, end);
      const k = this.classOf(<u32>d1);
      if (k != WS) return this.runEnd(p + 1 + <usize>(d1 >> 32), end, k);
    }
    const k = this.classOf(c);
    if (k != WS) return this.runEnd(p + n, end, k);
    return whitespaceEnd(p, p + n, end, 1);
  }

  // The first match of a piece with the added space in front: " " + a run, or the
  // space and the whitespace run as \s+(?!\S) takes it.
  private prefixedEnd(p: usize, end: usize): usize {
    const d = decodeUtf8(p, end);
    const k = this.classOf(<u32>d);
    if (k != WS) return this.runEnd(p + <usize>(d >> 32), end, k);
    return whitespaceEnd(p, p, end, 1);
  }

  // End of the run of code points of class k from p.
  private runEnd(p: usize, end: usize, k: u32): usize {
    while (p < end) {
      const d = decodeUtf8(p, end);
      if (this.classOf(<u32>d) != k) break;
      p += <usize>(d >> 32);
    }
    return p;
  }

  // WS, CHAR_LETTER, CHAR_NUMBER or CHAR_OTHER.
  private classOf(cp: u32): u32 {
    bpeSteps++;
    if (cp < 0x80) {
      if (cp - 0x61 < 26 || cp - 0x41 < 26) return CHAR_LETTER;
      if (cp - 0x30 < 10) return CHAR_NUMBER;
      return cp == SPACE || cp - 9 < 5 ? WS : CHAR_OTHER;
    }
    if (charClass(cp) & CLASS_WHITESPACE) return WS;
    // The last range starting at or before cp.
    const r = this.ranges;
    let lo: u32 = 0, hi = this.rangeCount;
    while (hi - lo > 1) {
      bpeSteps++;
      const mid = (lo + hi) >> 1;
      if ((load<u32>(r + (<usize>mid << 2)) & 0xffffff) <= cp) lo = mid;
      else hi = mid;
    }
    return load<u32>(r + (<usize>lo << 2)) >> 24;
  }

  // BPE on the word [p, end) (after an added space when `prefix`), then its tokens
  // out; `limit`: the end of the piece.
  private word(p: usize, end: usize, prefix: bool, limit: usize): void {
    const v: u32 = prefix ? 1 : 0;
    const n = <u32>(end - p) + v;
    this.wordCount++;
    if (n > this.cap) this.grow(n);
    const ids = this.symId, prev = this.symPrev, next = this.symNext;
    for (let k: u32 = 0; k < n; k++) {
      const byte = k < v ? SPACE : <u32>load<u8>(p + <usize>(k - v));
      store<i32>(ids + (<usize>k << 2), load<i32>(this.byteId + (<usize>byte << 2)));
      store<i32>(prev + (<usize>k << 2), <i32>k - 1);
      store<i32>(next + (<usize>k << 2), <i32>k + 1);
    }
    bpeSteps += n;
    // Every adjacent pair with a merge, then the lowest rank (leftmost) first.
    let size: u32 = 0;
    for (let k: u32 = 0; k + 1 < n; k++) size = this.queue(size, k, k + 1);
    while (size > 0) {
      const top = load<u64>(this.heap);
      size = heapPop(this.heap, size);
      const pos = <u32>top;
      const at = ids + (<usize>pos << 2);
      const nx = <u32>load<i32>(next + (<usize>pos << 2));
      if (load<i32>(at) < 0 || nx >= n) continue;
      // A queued pair is current while its rank is the rank of the pair there now
      // (merged spans only grow, so a stale entry never names the same merge).
      const m = this.findMerge(load<i32>(at), load<i32>(ids + (<usize>nx << 2)));
      if (!m || load<u32>(m, 8) != <u32>(top >> 32)) continue;
      store<i32>(at, load<i32>(m, 12));
      store<i32>(ids + (<usize>nx << 2), -1);
      const after = <u32>load<i32>(next + (<usize>nx << 2));
      store<i32>(next + (<usize>pos << 2), after);
      if (after < n) {
        store<i32>(prev + (<usize>after << 2), <i32>pos);
        size = this.queue(size, pos, after);
      }
      const before = load<i32>(prev + (<usize>pos << 2));
      if (before >= 0) size = this.queue(size, <u32>before, pos);
    }
    // The tokens, with offsets: symbol bytes [k, j) of the word; byte w of the word is
    // text byte p + w - v (w >= v), the added space is aligned with the first char.
    const text = this.text;
    let k: u32 = 0;
    while (k < n) {
      const j = <u32>load<i32>(next + (<usize>k << 2));
      let lo = k < v ? p : charStart(text, p + <usize>(k - v));
      let hi = charEnd(p + <usize>(j - 1 - (j - 1 < v ? 0 : v)), limit);
      if (this.trim) {
        // ByteLevel's process_offsets: leading / trailing 'Ġ' (spaces) leave the
        // offsets, counted in characters (tokenizers trims char offsets; the added
        // space stands for the character it is aligned with).
        let lead: u32 = 0, trail: u32 = 0;
        while (k + lead < j && (k + lead < v || load<u8>(p + <usize>(k + lead - v)) == SPACE)) lead++;
        while (j - trail > k && (j - trail - 1 < v || load<u8>(p + <usize>(j - trail - 1 - v)) == SPACE)) trail++;
        hi = this.trimmed(lo, hi, lead, trail, limit);
        lo = this.trimStart;
      }
      const start = <u32>(lo - text), stop = <u32>(hi - text);
      this.emit(load<i32>(ids + (<usize>k << 2)), start, stop);
      k = j;
    }
  }

  // Queues the pair of symbols k and j (j after k) if it has a merge.
  private queue(size: u32, k: u32, j: u32): u32 {
    const ids = this.symId;
    const m = this.findMerge(load<i32>(ids + (<usize>k << 2)), load<i32>(ids + (<usize>j << 2)));
    return m ? heapPush(this.heap, size, (<u64>load<u32>(m, 8) << 32) | k) : size;
  }

  // ByteLevel's process_offsets on a token spanning [lo, hi) that starts with `lead`
  // and ends with `trail` spaces, in characters (tokenizers trims char offsets; the
  // added space stands for the character it is aligned with): returns the new end,
  // the new start in trimStart.
  private trimmed(lo: usize, hi: usize, lead: u32, trail: u32, limit: usize): usize {
    bpeSteps += lead + trail;
    if (lead > 0 && !((this.outCount == 0 || lo == this.text) && this.trimPrefix && lead == 1)) {
      for (let c: u32 = 0; c < lead && lo < hi; c++) lo = charEnd(lo, limit);
    }
    for (let c: u32 = 0; c < trail && hi > lo; c++) hi = charStart(this.text, hi - 1);
    this.trimStart = lo;
    return hi < lo ? lo : hi;
  }

  // The MERGES entry of the pair (a, b), or 0.
  private findMerge(a: i32, b: i32): usize {
    let lo = load<u32>(this.leftFirst + (<usize>a << 2));
    let hi = load<u32>(this.leftFirst + (<usize>a << 2), 4);
    const merges = this.merges;
    while (lo < hi) {
      bpeSteps++;
      const mid = (lo + hi) >> 1;
      const e = merges + <usize>mid * MERGE_ENTRY_SIZE;
      const r = load<i32>(e, 4);
      if (r == b) return e;
      if (r < b) lo = mid + 1;
      else hi = mid;
    }
    return 0;
  }

  private grow(n: u32): void {
    let cap = max<u32>(n, max<u32>(64, this.cap * 2));
    if (this.cap != 0) {
      heap.free(this.symId);
      heap.free(this.symPrev);
      heap.free(this.symNext);
      heap.free(this.heap);
    }
    this.symId = heap.alloc(<usize>cap << 2);
    this.symPrev = heap.alloc(<usize>cap << 2);
    this.symNext = heap.alloc(<usize>cap << 2);
    this.heap = heap.alloc(<usize>cap * 24);
    this.cap = cap;
  }

  @inline private emit(id: i32, start: u32, stop: u32): void {
    const n = this.outCount;
    if (n < this.outCapacity) {
      store<i32>(this.outIds + (<usize>n << 2), id);
      store<u32>(this.outOffsets + (<usize>n << 3), start);
      store<u32>(this.outOffsets + (<usize>n << 3), stop, 4);
      if (this.outWords) store<u32>(this.outWords + (<usize>n << 2), this.wordCount - 1);
    }
    this.outCount = n + 1;
  }
}

function tokenLen(vocab: StringList, id: u32): u32 {
  const at = vocab.offsets + (<usize>id << 2);
  return load<u32>(at, 4) - load<u32>(at);
}

// \s+(?!\S) then \s+ for a whitespace run of which `count` code points are
// read, the last starting at `last` (an added space counts, starting where the
// piece does), the rest to read from p: the whole run at the end of the text,
// else all but its last code point, else that one alone.
function whitespaceEnd(last: usize, p: usize, end: usize, count: u32): usize {
  while (p < end) {
    const n = isWhitespaceAt(p, end);
    bpeSteps++;
    if (n == 0) break;
    last = p;
    count++;
    p += <usize>n;
  }
  if (p == end) return end;
  return count >= 2 ? last : p;
}

function isWhitespaceAt(p: usize, end: usize): i32 {
  const d = decodeUtf8(p, end);
  const cp = <u32>d;
  if (cp == SPACE || cp - 9 < 5 || (cp >= 0x80 && (charClass(cp) & CLASS_WHITESPACE))) return <i32>(d >> 32);
  return 0;
}

// Bytes of the code point at p if it is whitespace or U+0120 ('Ġ', the byte-level
// space), else 0: what ByteLevel's offset trimming strips from a token's ends.
function spaceLen(p: usize, end: usize): u32 {
  const d = decodeUtf8(p, end);
  if (<u32>d == 0x120) return 2;
  return <u32>isWhitespaceAt(p, end);
}

// rstrip: past the whitespace from p.
function skipWhitespace(p: usize, end: usize): usize {
  while (p < end) {
    const n = isWhitespaceAt(p, end);
    if (n == 0) break;
    p += <usize>n;
  }
  return p;
}

// lstrip: back over the whitespace before p, not before `from`.
function skipWhitespaceBack(from: usize, p: usize): usize {
  while (p > from) {
    const s = charStart(from, p - 1);
    if (isWhitespaceAt(s, p) != <i32>(p - s)) break;
    p = s;
  }
  return p;
}

// The first byte of the character holding byte p (not before `text`).
@inline function charStart(text: usize, p: usize): usize {
  let s = p;
  while (s > text && p - s < 3 && (load<u8>(s) & 0xc0) == 0x80) s--;
  return s;
}

// The end of the character holding byte p (not past `end`).
@inline function charEnd(p: usize, end: usize): usize {
  let e = p + 1;
  while (e < end && e - p < 4 && (load<u8>(e) & 0xc0) == 0x80) e++;
  return e;
}

// A binary min-heap of u64 keys.
function heapPush(h: usize, size: u32, key: u64): u32 {
  let i = size;
  while (i > 0) {
    bpeSteps++;
    const parent = (i - 1) >> 1;
    const pk = load<u64>(h + (<usize>parent << 3));
    if (pk <= key) break;
    store<u64>(h + (<usize>i << 3), pk);
    i = parent;
  }
  store<u64>(h + (<usize>i << 3), key);
  return size + 1;
}

function heapPop(h: usize, size: u32): u32 {
  const n = size - 1;
  if (n == 0) return 0;
  const key = load<u64>(h + (<usize>n << 3));
  let i: u32 = 0;
  while (true) {
    bpeSteps++;
    let c: u32 = 2 * i + 1;
    if (c >= n) break;
    let ck = load<u64>(h + (<usize>c << 3));
    if (c + 1 < n) {
      const rk = load<u64>(h + (<usize>(c + 1) << 3));
      if (rk < ck) { c++; ck = rk; }
    }
    if (key <= ck) break;
    store<u64>(h + (<usize>i << 3), ck);
    i = c;
  }
  store<u64>(h + (<usize>i << 3), key);
  return n;
}
