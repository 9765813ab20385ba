// BERT WordPiece tokenizer, id for id what Hugging Face's BertTokenizer gives
// (transformers v5 BertTokenizer / v4 BertTokenizerFast: tokenizers' BertNormalizer,
// BertPreTokenizer, WordPiece and [CLS] A [SEP] (B [SEP]) post-processing).
//
// One pass over the UTF-8 text, one code point at a time:
//   special tokens  [CLS] [SEP] [PAD] [UNK] [MASK] and the added tokens (section
//                   ADDED_TOKENS) written in the text are matched first, on the raw
//                   text (case-sensitive, leftmost-longest, as tokenizers'
//                   AddedVocabulary splits on its non-normalized tokens), and kept
//                   whole; the text between them is tokenized on its own
//   normalized      added tokens flagged normalized are matched likewise, but on
//   added tokens    the normalized text of each piece between raw matches, against
//                   their own normalized form (see matchNormalized)
//   clean_text      drop U+0000, U+FFFD and category C* except \t \n \r; any
//                   White_Space becomes ' '
//   chinese chars   ' ' around each CJK ideograph (isChineseChar)
//   strip_accents   NFD, drop Mn           } per code point, see unicode.ts
//   lowercase       char-wise lowercase    }   for where that differs from strings
//   pre-tokenize    split on White_Space (dropped) and on punctuation (kept, one
//                   code point per word)
//   WordPiece       greedy longest-match-first with "##" continuations; a word of
//                   more than max_input_chars_per_word code points, or one that
//                   cannot be covered completely, becomes [UNK]; linear in the
//                   word's length (bounds in vocab.ts)
//
// Where the two Hugging Face implementations disagree, this follows the tokenizers
// (fast) one, which is what transformers v5 calls BertTokenizer and what
// AutoTokenizer has returned since v4:
//   - pair truncation, see template.ts;
//   - no NFC: the legacy Python tokenizer NFC-composes the text, which only shows
//     when accents are kept (a cased model): "e" + U+0301 stays two code points here.
// Category and CJK details follow the Python definitions instead (see unicode.ts):
// tokenizers' Rust tables differ on unassigned and private-use code points (its
// is_other() is Cc|Cf|Co, no Cn) and its CJK list starts extension E at U+2B920
// instead of U+2B820.
//
// Offsets: every token also gets the [start, end) UTF-8 byte range of the raw text it
// came from (offsets(), u32[2 * n]), as tokenizers' offset_mapping gives it: each
// normalized code point carries the range of the raw code point it came from (the
// pieces of a lowercased or decomposed character all carry that character's range,
// as NormalizedString's alignments do; dropped characters carry none), a WordPiece
// piece spans its first code point's start to its last one's end, an [UNK] word the
// whole word, an added token the text it matched. [CLS], [SEP]: 0, 0. A pair's second
// text has offsets into its own bytes.
//
// Memory: the sorted vocabulary (vocab.ts), a word buffer, the second text's ids and
// the offsets live on the heap, allocated once (the word buffer grows with the longest
// word seen, up to max_input_chars_per_word; the pair buffer on the first pair;
// tokenizeAll's buffers with the longest text it was given, 12 bytes a token) and
// released by dispose(). Nothing is allocated per call.

import { Config, StringList } from "../model/model";
import { fail } from "../errors";
import { decodeUtf8, encodeUtf8, REPLACEMENT } from "./utf8";
import {
  CLASS_CONTROL,
  CLASS_PUNCT,
  CLASS_WHITESPACE,
  MAX_MAPPED,
  charClass,
  isChineseChar,
  lowercase,
  stripAccents,
} from "./unicode";
import { Vocab } from "./vocab";
import { Trie } from "./trie";
import { assemble, truncatePair } from "./template";
import { MAX_ADDED_TOKENS, ADDED_NORMALIZED, ADDED_ID_MASK, MAX_ADDED_TOKEN_BYTES } from "../format/constants";

const MAX_SPECIALS = 5 + MAX_ADDED_TOKENS;
const SPACE: u32 = 0x20;
// The look-ahead ring: a normalized added token longer than this many code points
// (beyond what 128 bytes normalize to in practice) never matches.
const PENDING_CAPACITY: u32 = 512;
const PENDING_MASK: u32 = PENDING_CAPACITY - 1;

export class Tokenizer {
  cfg: Config;
  run: Pipeline | null;
  offsets: usize = 0;   // u32[2 * offsetsCap], [start, end) byte pairs of the last call's tokens
  offsetsCap: u32 = 0;
  allIds: usize = 0;    // i32[allCap], tokenizeAll's ids
  allCap: u32 = 0;

  // added: u32[addedCount] vocab ids of the added tokens to match in the text.
  constructor(cfg: Config, vocab: StringList, added: usize = 0, addedCount: u32 = 0) {
    this.cfg = cfg;
    this.run = new Pipeline(cfg, vocab, added, addedCount);
  }

  // The tokenizer of a loaded model, or null after fail() when the vocabulary
  // cannot be used (a repeated token).
  static create(cfg: Config, vocab: StringList, added: usize = 0, addedCount: u32 = 0): Tokenizer | null {
    const t = new Tokenizer(cfg, vocab, added, addedCount);
    if (t.run!.vocab.ok) return t;
    t.dispose();
    return null;
  }

  // Frees everything the tokenizer allocated; encode() fails afterwards.
  dispose(): void {
    if (this.run !== null) this.run!.dispose();
    this.run = null;
    if (this.offsetsCap != 0) heap.free(this.offsets);
    if (this.allCap != 0) heap.free(this.allIds);
    this.offsetsCap = 0;
    this.allCap = 0;
  }

  private reserve(n: u32): void {
    if (n <= this.offsetsCap) return;
    if (this.offsetsCap != 0) heap.free(this.offsets);
    this.offsetsCap = 0;
    this.offsets = heap.alloc(<usize>n << 3);
    this.offsetsCap = n;
  }

  // Every token of one text, no special tokens, no truncation (for the host's own
  // windows, e.g. question answering's doc_stride): ids at allIds, offsets at
  // offsets. Two passes: the first counts, the second stores. Returns the count.
  tokenizeAll(a: usize, aLen: u32): i32 {
    if (this.run === null) return fail("tokenizer: used after dispose()");
    const run = this.run!;
    const n = run.tokenize(a, aLen, 0, 0, 0, u32.MAX_VALUE);
    this.reserve(n);
    if (n > this.allCap) {
      if (this.allCap != 0) heap.free(this.allIds);
      this.allCap = 0;
      this.allIds = heap.alloc(<usize>n << 2);
      this.allCap = n;
    }
    run.tokenize(a, aLen, this.allIds, this.offsets, n, u32.MAX_VALUE);
    return <i32>n;
  }

  // Tokenizes text a (and b when bLen >= 0) into ids/types (i32[maxLen] each),
  // truncating to maxLen tokens (0: cfg.max_len; never more than cfg.max_len).
  // Returns the number of tokens, or a negative code after fail().
  encode(a: usize, aLen: u32, b: usize, bLen: i32, maxLen: u32, ids: usize, types: usize): i32 {
    const cfg = this.cfg;
    if (this.run === null) return fail("tokenizer: used after dispose()");
    const run = this.run!;
    const vocabSize = run.vocab.count;
    if (<u32>cfg.cls_id >= vocabSize) return fail(`tokenizer: cls_id ${cfg.cls_id} is outside the vocabulary (${vocabSize} tokens)`);
    if (<u32>cfg.sep_id >= vocabSize) return fail(`tokenizer: sep_id ${cfg.sep_id} is outside the vocabulary (${vocabSize} tokens)`);
    if (<u32>cfg.unk_id >= vocabSize) return fail(`tokenizer: unk_id ${cfg.unk_id} is outside the vocabulary (${vocabSize} tokens)`);
    if (cfg.max_len == 0) return fail("tokenizer: the model's max_len is 0");
    const limit = maxLen == 0 || maxLen > cfg.max_len ? cfg.max_len : maxLen;
    const isPair = bLen >= 0;
    const numSpecial: u32 = isPair ? 3 : 2;
    if (limit < numSpecial) {
      return fail(`tokenizer: max_len ${limit} leaves no room for the ${numSpecial} special tokens of ${isPair ? "a pair" : "a single text"}`);
    }
    const budget = limit - numSpecial; // tokens of text a and b together
    this.reserve(cfg.max_len);
    const offsets = this.offsets;

    // Text a goes straight to its final place after [CLS]; a single text needs no
    // more than `budget` tokens, each text of a pair stops at the end of the word that
    // brings it to `limit` (template.ts says why).
    let nA = run.tokenize(a, aLen, ids + 4, offsets + 8, budget, isPair ? limit : budget);
    let nB: i32 = -1;
    if (isPair) {
      run.reservePair(cfg.max_len);
      const kept = truncatePair(nA, run.tokenize(b, <u32>bLen, run.pairIds, run.pairOffsets, budget, limit), budget);
      nA = <u32>(kept >> 32);
      nB = <i32><u32>kept;
    } else if (nA > budget) {
      nA = budget;
    }
    // [CLS] a [SEP] (b [SEP]), type 0 up to the first [SEP], 1 after it.
    // CONFIG.flags bit 0 says every token has type 0 (the writer sets it for
    // DistilBERT, which has no token types: Hugging Face's tokenizer returns none).
    // A BERT with a single type row gets type 0 too: Hugging Face's BertTokenizer
    // would give the pair type 1 and BertEmbeddings would then fail with an index
    // error; the only row is the one answer that runs (docs/reliability.md).
    const secondType: i32 = (cfg.flags & 1) == 0 && cfg.type_vocab_size >= 2 ? 1 : 0;
    const n = assemble(ids, offsets, types, cfg.cls_id, cfg.sep_id, nA, run.pairIds, run.pairOffsets, nB, false, secondType);
    return <i32>n;
  }
}

// The per-character state and work, unmanaged: the incremental GC spills every
// managed reference to its shadow stack on each call, which on this path (several
// calls per character) cost more than the work itself.
@unmanaged
class Pipeline {
  vocab: Vocab;
  lowercase: bool;
  stripAccents: bool;
  chinese: bool;
  clean: bool;
  unkId: i32;
  maxWordChars: u32;

  // Special tokens matched in the text: (ptr into the vocab blob, byte length, id)
  // triples of u32, and which first bytes can start one (u8[256]).
  numSpecials: i32 = 0;
  specials: usize = 0;   // u32[3 * MAX_SPECIALS]
  firstBytes: usize = 0; // u8[256]
  rawTrie: Trie | null = null;  // the specials' bytes
  normTrie: Trie | null = null; // the normalized added tokens' normal forms

  // Normalized added tokens: (ptr to u32 code points, count, id) triples, their
  // code points, the longest count, and the ring of normalized code points not
  // yet passed on (pendingHead, pendingCount). normOn: the normalized text goes
  // through matchNormalized (also while a token's own normal form is captured).
  numNorm: i32 = 0;
  norms: usize = 0;      // u32[3 * MAX_ADDED_TOKENS]
  normCps: usize = 0;    // u32[total code points]
  normMax: u32 = 0;
  normOn: bool = false;
  capturing: bool = false;
  pending: usize = 0;    // u32[PENDING_CAPACITY]
  pendingSrc: usize = 0; // u32[2 * PENDING_CAPACITY], each pending code point's raw byte range
  pendingHead: u32 = 0;
  pendingCount: u32 = 0;

  // The word being built: UTF-8 bytes, and the byte offset where each code point
  // starts (wordOffsets[wordChars] = end). Only the first maxWordChars code points
  // are stored; wordChars keeps counting so a longer word is known to be [UNK].
  wordBytes: usize = 0;   // u8[4 * wordCapacity]
  wordOffsets: usize = 0; // u32[wordCapacity + 1]
  wordCapacity: u32 = 0;
  wordChars: u32 = 0;
  wordSrc: usize = 0;     // u32[2 * wordCapacity], each stored code point's raw byte range
  wordStart: u32 = 0;     // the word's raw byte range, all its code points
  wordEnd: u32 = 0;

  // The raw code point being normalized: its byte range from the text's start.
  base: usize = 0;
  srcStart: u32 = 0;
  srcEnd: u32 = 0;

  mapped: usize = 0;  // u32[MAX_MAPPED], stripAccents output
  lowered: usize = 0; // u32[MAX_MAPPED], lowercase output

  // Where ids go while one text is tokenized: the first outCapacity are stored at
  // outIds, outCount counts them all (pair truncation needs the full lengths).
  outIds: usize = 0;
  outOffsets: usize = 0; // u32[2 * outCapacity]
  outCapacity: u32 = 0;
  outCount: u32 = 0;
  stopAt: u32 = 0;       // a word that brings outCount to it is the last (template.ts)
  stopped: bool = false;

  pairIds: usize = 0; // i32[pairCapacity], the second text before assembly
  pairOffsets: usize = 0; // u32[2 * pairCapacity]
  pairCapacity: u32 = 0;

  constructor(cfg: Config, list: StringList, added: usize, addedCount: u32) {
    if (addedCount > <u32>MAX_ADDED_TOKENS) addedCount = MAX_ADDED_TOKENS;
    this.vocab = new Vocab(list);
    this.lowercase = cfg.do_lower_case;
    this.stripAccents = cfg.strip_accents;
    this.chinese = cfg.tokenize_chinese_chars;
    this.clean = cfg.clean_text;
    this.unkId = cfg.unk_id;
    this.maxWordChars = cfg.max_input_chars_per_word;
    this.mapped = heap.alloc(MAX_MAPPED << 2);
    this.lowered = heap.alloc(MAX_MAPPED << 2);
    this.specials = heap.alloc(MAX_SPECIALS * 12);
    this.firstBytes = heap.alloc(256);
    memory.fill(this.firstBytes, 0, 256);
    this.addSpecial(cfg.cls_id);
    this.addSpecial(cfg.sep_id);
    this.addSpecial(cfg.pad_id);
    this.addSpecial(cfg.unk_id);
    this.addSpecial(cfg.mask_id);
    for (let i: u32 = 0; i < addedCount; i++) {
      const e = load<u32>(added + (<usize>i << 2));
      if (!(e & ADDED_NORMALIZED)) this.addSpecial(<i32>(e & ADDED_ID_MASK));
    }
    this.pending = heap.alloc(PENDING_CAPACITY << 2);
    this.pendingSrc = heap.alloc(PENDING_CAPACITY << 3);
    this.norms = heap.alloc(MAX_ADDED_TOKENS * 12);
    let normalized: u32 = 0;
    for (let i: u32 = 0; i < addedCount; i++) if (load<u32>(added + (<usize>i << 2)) & ADDED_NORMALIZED) normalized++;
    this.normCps = heap.alloc(<usize>normalized * PENDING_CAPACITY * 4 + 4);
    for (let i: u32 = 0; i < addedCount; i++) {
      const e = load<u32>(added + (<usize>i << 2));
      if (e & ADDED_NORMALIZED) this.addNormalized(e & ADDED_ID_MASK);
    }
    this.normOn = this.numNorm > 0;
    this.rawTrie = buildTrie(this.specials, this.numSpecials, 1);
    this.normTrie = buildTrie(this.norms, this.numNorm, 4);
  }

  // The token's normal form, by running it through this pipeline's own
  // normalization with the output captured (so it is normalized exactly as text is).
  private addNormalized(id: u32): void {
    if (id >= this.vocab.count) return;
    const len = this.vocab.tokenLen(id);
    if (len == 0 || len > <u32>MAX_ADDED_TOKEN_BYTES) return;
    let used: u32 = 0;
    for (let i = 0; i < this.numNorm; i++) used += load<u32>(this.norms + <usize>(i * 12), 4);
    const at = this.normCps + (<usize>used << 2);
    this.capturing = true;
    this.normOn = true;
    this.pendingHead = 0;
    this.pendingCount = 0;
    const ptr = this.vocab.tokenPtr(id), end = ptr + <usize>len;
    let p = ptr;
    while (p < end) {
      const decoded = decodeUtf8(p, end);
      p += <usize>(decoded >> 32);
      this.normalizeChar(<u32>decoded);
    }
    this.capturing = false;
    const n = this.pendingCount;
    this.pendingCount = 0;
    if (n == 0 || n > PENDING_CAPACITY) return; // normalizes to nothing: never matches
    memory.copy(at, this.pending, <usize>n << 2);
    const entry = this.norms + <usize>(this.numNorm * 12);
    store<u32>(entry, <u32>at);
    store<u32>(entry, n, 4);
    store<u32>(entry, id, 8);
    if (n > this.normMax) this.normMax = n;
    this.numNorm++;
  }

  // A normalized code point: into the look-ahead ring, and once it holds as many
  // as the longest normalized token, one step of leftmost-longest matching. The
  // first code point is passed on unless a token matches there, so the result is
  // tokenizers' leftmost-longest split of the normalized piece.
  private matchNormalized(cp: u32): void {
    if (this.capturing) {
      if (this.pendingCount < PENDING_CAPACITY) store<u32>(this.pending + (<usize>this.pendingCount << 2), cp);
      this.pendingCount++;
      return;
    }
    const at = (this.pendingHead + this.pendingCount) & PENDING_MASK;
    store<u32>(this.pending + (<usize>at << 2), cp);
    store<u32>(this.pendingSrc + (<usize>at << 3), this.srcStart);
    store<u32>(this.pendingSrc + (<usize>at << 3), this.srcEnd, 4);
    this.pendingCount++;
    while (this.pendingCount >= this.normMax) this.normStep();
  }

  // Matches at the head of the ring (tokens longer than what it holds cannot).
  private normStep(): void {
    const head = this.pendingHead, count = this.pendingCount, ring = this.pending;
    const trie = this.normTrie!;
    const best = trie.longestRing(ring, head, count, PENDING_MASK);
    const bestLen = trie.matchLen;
    const src = this.pendingSrc;
    if (best >= 0) {
      this.endWord();
      const last = (head + bestLen - 1) & PENDING_MASK;
      if (!this.stopped) this.emit(best, load<u32>(src + (<usize>head << 3)), load<u32>(src + (<usize>last << 3), 4));
      this.pendingHead = (head + bestLen) & PENDING_MASK;
      this.pendingCount = count - bestLen;
    } else {
      this.pendingHead = (head + 1) & PENDING_MASK;
      this.pendingCount = count - 1;
      this.preTokenize(load<u32>(ring + (<usize>head << 2)), load<u32>(src + (<usize>head << 3)), load<u32>(src + (<usize>head << 3), 4));
    }
  }

  // End of a piece of raw text: what the ring holds is matched and passed on.
  private normFlush(): void {
    while (this.pendingCount > 0) this.normStep();
  }

  @inline private feed(cp: u32): void {
    if (this.normOn) this.matchNormalized(cp);
    else this.preTokenize(cp, this.srcStart, this.srcEnd);
  }

  private addSpecial(id: i32): void {
    if (id < 0 || <u32>id >= this.vocab.count) return;
    const len = this.vocab.tokenLen(<u32>id);
    if (len == 0) return;
    for (let i = 0; i < this.numSpecials; i++) if (load<i32>(this.specials + <usize>(i * 12), 8) == id) return;
    const ptr = this.vocab.tokenPtr(<u32>id);
    const entry = this.specials + <usize>(this.numSpecials * 12);
    store<u32>(entry, <u32>ptr);
    store<u32>(entry, len, 4);
    store<i32>(entry, id, 8);
    store<u8>(this.firstBytes + <usize>load<u8>(ptr), 1);
    this.numSpecials++;
  }

  dispose(): void {
    this.vocab.dispose();
    heap.free(this.mapped);
    heap.free(this.lowered);
    heap.free(this.specials);
    heap.free(this.firstBytes);
    heap.free(this.pending);
    heap.free(this.pendingSrc);
    heap.free(this.norms);
    heap.free(this.normCps);
    this.rawTrie!.dispose();
    this.normTrie!.dispose();
    if (this.wordCapacity != 0) {
      heap.free(this.wordBytes);
      heap.free(this.wordOffsets);
      heap.free(this.wordSrc);
    }
    if (this.pairCapacity != 0) {
      heap.free(this.pairIds);
      heap.free(this.pairOffsets);
    }
    heap.free(changetype<usize>(this));
  }

  reservePair(capacity: u32): void {
    if (this.pairCapacity >= capacity) return;
    if (this.pairCapacity != 0) {
      heap.free(this.pairIds);
      heap.free(this.pairOffsets);
    }
    this.pairCapacity = 0;
    this.pairIds = heap.alloc(<usize>capacity << 2);
    this.pairOffsets = heap.alloc(<usize>capacity << 3);
    this.pairCapacity = capacity;
  }

  // Tokenizes one text, storing up to `capacity` ids at `out`; returns how many ids
  // it has, counting up to the end of the word that brings it to `stopAt`.
  tokenize(ptr: usize, len: u32, out: usize, outOffsets: usize, capacity: u32, stopAt: u32): u32 {
    this.outIds = out;
    this.outOffsets = outOffsets;
    this.base = ptr;
    this.outCapacity = capacity;
    this.outCount = 0;
    this.stopAt = stopAt;
    this.stopped = false;
    this.wordChars = 0;
    this.pendingHead = 0;
    this.pendingCount = 0;
    const end = ptr + len;
    let p = ptr;
    while (p < end) {
      if (this.stopped) return this.outCount;
      const byte = load<u8>(p);
      if (load<u8>(this.firstBytes + <usize>byte)) {
        const trie = this.rawTrie!;
        const id = trie.longestBytes(p, end);
        if (id >= 0) {
          if (this.normOn) this.normFlush();
          this.endWord();
          const at = <u32>(p - ptr);
          if (!this.stopped) this.emit(id, at, at + trie.matchLen);
          p += <usize>trie.matchLen;
          continue;
        }
      }
      this.srcStart = <u32>(p - ptr);
      if (byte < 0x80) {
        this.srcEnd = this.srcStart + 1;
        this.normalizeChar(<u32>byte);
        p++;
      } else {
        const decoded = decodeUtf8(p, end);
        p += <usize>(decoded >> 32);
        this.srcEnd = <u32>(p - ptr);
        this.normalizeChar(<u32>decoded);
      }
    }
    if (this.normOn) this.normFlush();
    this.endWord();
    return this.outCount;
  }

  // BertNormalizer on one code point, feeding the pre-tokenizer.
  private normalizeChar(cp: u32): void {
    if (this.clean) {
      if (cp == 0 || cp == REPLACEMENT) return;
      const cls = charClass(cp);
      if (cls & CLASS_CONTROL) return;
      if (cls & CLASS_WHITESPACE) cp = SPACE;
    }
    if (this.chinese && isChineseChar(cp) && this.normOn) {
      // BertNormalizer's " c ": the spaces count when normalized tokens are matched.
      this.matchNormalized(SPACE);
      this.mapChar(cp);
      this.matchNormalized(SPACE);
      return;
    }
    if (this.chinese && isChineseChar(cp)) {
      this.endWord();
      this.mapChar(cp);
      this.endWord();
      return;
    }
    this.mapChar(cp);
  }

  @inline private mapChar(cp: u32): void {
    if (!this.stripAccents) {
      this.lowerChar(cp);
    } else if (cp < 0x80) {
      this.lowerChar(cp); // ASCII has nothing to strip
    } else {
      const mapped = this.mapped;
      const n = stripAccents(cp, mapped);
      for (let i = 0; i < n; i++) this.lowerChar(load<u32>(mapped + (<usize>i << 2)));
    }
  }

  @inline private lowerChar(cp: u32): void {
    if (!this.lowercase) {
      this.feed(cp);
    } else if (cp < 0x80) {
      this.feed(cp - 65 < 26 ? cp + 32 : cp);
    } else {
      const lowered = this.lowered;
      const n = lowercase(cp, lowered);
      for (let i = 0; i < n; i++) this.feed(load<u32>(lowered + (<usize>i << 2)));
    }
  }

  // BertPreTokenizer: whitespace ends a word, punctuation is a word of its own.
  // s, e: the raw byte range the code point came from.
  private preTokenize(cp: u32, s: u32, e: u32): void {
    const cls = charClass(cp);
    if (cls & CLASS_WHITESPACE) {
      this.endWord();
    } else if (cls & CLASS_PUNCT) {
      this.endWord();
      this.addToWord(cp, s, e);
      this.endWord();
    } else {
      this.addToWord(cp, s, e);
    }
  }

  @inline private addToWord(cp: u32, s: u32, e: u32): void {
    const n = this.wordChars;
    this.wordChars = n + 1;
    if (n == 0) this.wordStart = s;
    this.wordEnd = e;
    if (n < this.maxWordChars) {
      // (Beyond maxWordChars the word is [UNK] whatever it holds.)
      if (n >= this.wordCapacity) this.growWord(n + 1);
      const offsets = this.wordOffsets;
      const at = load<u32>(offsets + (<usize>n << 2));
      const size = cp < 0x80 ? encodeAscii(cp, this.wordBytes + <usize>at) : encodeUtf8(cp, this.wordBytes + <usize>at);
      store<u32>(offsets + (<usize>(n + 1) << 2), at + size);
      store<u32>(this.wordSrc + (<usize>n << 3), s);
      store<u32>(this.wordSrc + (<usize>n << 3), e, 4);
    }
  }

  private growWord(needed: u32): void {
    let capacity = this.wordCapacity < 32 ? <u32>32 : this.wordCapacity * 2;
    if (capacity < needed) capacity = needed;
    if (capacity > this.maxWordChars) capacity = this.maxWordChars;
    const bytes = heap.alloc(<usize>capacity << 2);
    const offsets = heap.alloc(<usize>(capacity + 1) << 2);
    const src = heap.alloc(<usize>capacity << 3);
    if (this.wordCapacity == 0) {
      store<u32>(offsets, 0);
    } else {
      memory.copy(bytes, this.wordBytes, <usize>this.wordCapacity << 2);
      memory.copy(offsets, this.wordOffsets, <usize>(this.wordCapacity + 1) << 2);
      memory.copy(src, this.wordSrc, <usize>this.wordCapacity << 3);
      heap.free(this.wordBytes);
      heap.free(this.wordOffsets);
      heap.free(this.wordSrc);
    }
    this.wordBytes = bytes;
    this.wordOffsets = offsets;
    this.wordSrc = src;
    this.wordCapacity = capacity;
  }

  // WordPiece on the word built so far, then starts a new word.
  private endWord(): void {
    const chars = this.wordChars;
    if (chars == 0) return;
    this.wordChars = 0;
    if (this.stopped) return; // (a word after the stop: a punctuation or CJK one in the same step)
    this.wordPiece(chars);
    if (this.outCount >= this.stopAt) this.stopped = true;
  }

  // WordPiece on the word of `chars` code points in wordBytes.
  private wordPiece(chars: u32): void {
    if (chars > this.maxWordChars) {
      this.emit(this.unkId, this.wordStart, this.wordEnd);
      return;
    }
    const vocab = this.vocab;
    const first = this.outCount;
    let start: u32 = 0;
    while (start < chars) {
      // Linear in the word: see the bounds in vocab.ts.
      const m = vocab.longestMatch(start > 0, this.wordBytes, this.wordOffsets, start, chars);
      const id = <i32>m;
      if (id < 0) {
        this.outCount = first;
        this.emit(this.unkId, this.wordStart, this.wordEnd);
        return;
      }
      const stop = <u32>(m >> 32);
      const src = this.wordSrc;
      this.emit(id, load<u32>(src + (<usize>start << 3)), load<u32>(src + (<usize>(stop - 1) << 3), 4));
      start = stop;
    }
  }

  @inline private emit(id: i32, s: u32, e: u32): void {
    const n = this.outCount;
    if (n < this.outCapacity) {
      store<i32>(this.outIds + (<usize>n << 2), id);
      store<u32>(this.outOffsets + (<usize>n << 3), s);
      store<u32>(this.outOffsets + (<usize>n << 3), e, 4);
    }
    this.outCount = n + 1;
  }
}

@inline
function encodeAscii(cp: u32, dst: usize): u32 {
  store<u8>(dst, <u8>cp);
  return 1;
}

// A trie of n (ptr, symbol count, id) triples, symbols `width` bytes each.
function buildTrie(entries: usize, n: i32, width: u32): Trie {
  let symbols: u32 = 0;
  for (let i = 0; i < n; i++) symbols += load<u32>(entries + <usize>(i * 12), 4);
  const trie = new Trie(symbols);
  for (let i = 0; i < n; i++) {
    const e = entries + <usize>(i * 12);
    trie.insert(<usize>load<u32>(e), load<u32>(e, 4), width, load<i32>(e, 8));
  }
  return trie;
}
