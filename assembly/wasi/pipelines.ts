// The standalone WASI command's token-classification and question-answering lines:
// the post-processing of host/runtime/token-classification.ts and
// question-answering.ts (Hugging Face's pipelines; docs/pipelines.md says what is
// matched and how), written again in AssemblyScript because the WASI command runs
// without JavaScript. The JS files are the reference: test/deploy-wasi-pipelines.test.ts
// runs both on the committed pipeline fixtures and checks that they print the same
// JSON (and Hugging Face's). A change to one is a change to the other. Only the WASI
// build links this file.
//
//   nerLine(text, len, o)                   {"entities": [...]}
//   qaLine(question, qLen, context, cLen, o)   {"answer","score","start","end"}, null,
//                                           or {"answers": [...]} for top_k > 1
// Both return "" with the runtime's error set, or "!message" for the caller's mistake.
//
// The tokenizer kind's word rules are those of host/runtime/subwords.ts (isSubword,
// decodeTokens, wordIds): WordPiece, byte-level BPE and Unigram.

import {
  tokenize, tokenize_all, all_ids_ptr, all_words_ptr, token_offsets_ptr, ids_ptr, type_ids_ptr, forward, logits_ptr,
  num_labels, label_ptr, label_len, vocab_ptr, vocab_len, config_word, added_token_count, added_token_entry,
  max_len, text_buffer,
} from "../index";
import { CFG_CLS_ID, CFG_SEP_ID, CFG_UNK_ID, CFG_TOKENIZER, TOKENIZER_WORDPIECE, TOKENIZER_BPE } from "../format/constants";
import { decodeUtf8 } from "../tokenizer/utf8";
import { lowercase } from "../tokenizer/unicode";
import { jsonString } from "./json";

export class PipelineOptions {
  aggregation: i32 = AGG_NONE;
  ignoreLabels: string[] = ["O"];
  topK: i32 = 1;
  maxAnswerLen: i32 = 15;
  maxSeqLen: i32 = 0;        // 0: min(max_len, 384)
  docStride: i32 = -1;       // -1: min(maxSeqLen / 2, 128)
  maxQuestionLen: i32 = 0;   // 0: the question is never cut
  handleImpossible: bool = false;
}

export const AGGREGATIONS = ["none", "simple", "first", "average", "max"];
const AGG_NONE = 0, AGG_SIMPLE = 1, AGG_FIRST = 2, AGG_AVERAGE = 3, AGG_MAX = 4;

// Code points before each byte offset of a UTF-8 text, decoded as the tokenizer does.
function codePointIndex(text: usize, len: u32): Int32Array {
  const at = new Int32Array(len + 1);
  let p: u32 = 0, n = 0;
  while (p < len) {
    const size = <u32>(decodeUtf8(text + p, text + len) >> 32);
    for (let k: u32 = 0; k < size; k++) at[p + k] = n;
    p += size;
    n++;
  }
  at[len] = n;
  return at;
}

function utf8(p: usize, len: u32): string {
  return String.UTF8.decodeUnsafe(p, <usize>len);
}

function tokenString(id: i32): string {
  return utf8(vocab_ptr(<u32>id), vocab_len(<u32>id));
}

function label(k: i32): string {
  return utf8(label_ptr(<u32>k), <u32>label_len(<u32>k));
}

function configId(word: i32): i32 {
  return <i32>config_word(<u32>word);
}

// ------------------------------------------------------------ token classification

// One token (`index` >= 0) or a word or group of them, with its label scores.
class Piece {
  constructor(public word: string, public scores: Float64Array, public start: i32, public end: i32,
    public index: i32, public subword: bool, public label: string = "", public score: f64 = 0) {}
}

// numpy's float32 softmax, as token-classification.ts softmax().
function softmax32(p: usize, c: i32): Float64Array {
  let m: f32 = -Infinity;
  for (let i = 0; i < c; i++) m = max(m, load<f32>(p + (<usize>i << 2)));
  const out = new Float64Array(c);
  for (let i = 0; i < c; i++) out[i] = <f64><f32>Math.exp(<f64>(load<f32>(p + (<usize>i << 2)) - m));
  const sum = pairwiseSum32(out, 0, c);
  for (let i = 0; i < c; i++) out[i] = <f64><f32>(out[i] / <f64>sum);
  return out;
}

function pairwiseSum32(a: Float64Array, from: i32, n: i32): f32 {
  if (n < 8) {
    let res: f32 = 0;
    for (let i = 0; i < n; i++) res += <f32>a[from + i];
    return res;
  }
  if (n > 128) {
    const half = n / 2 - (n / 2) % 8;
    return pairwiseSum32(a, from, half) + pairwiseSum32(a, from + half, n - half);
  }
  const r = new StaticArray<f32>(8);
  for (let j = 0; j < 8; j++) r[j] = <f32>a[from + j];
  const whole = n - n % 8;
  for (let i = 8; i < whole; i += 8) for (let j = 0; j < 8; j++) r[j] += <f32>a[from + i + j];
  let res: f32 = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (let i = whole; i < n; i++) res += <f32>a[from + i];
  return res;
}

function argmax(v: Float64Array): i32 {
  let k = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[k]) k = i;
  return k;
}

function labelled(p: Piece, scores: Float64Array): Piece {
  const k = argmax(scores);
  p.label = label(k);
  p.score = scores[k];
  return p;
}

// subwords.ts decodeTokens(): tokenizers' WordPiece decoder with cleanup, ByteLevel
// decoder (bytes_to_unicode's inverse, lossy UTF-8) or Metaspace decoder.
function decodeTokens(run: Piece[]): string {
  const kind = config_word(CFG_TOKENIZER);
  let out = "";
  if (kind == TOKENIZER_BPE) {
    const bytes: u8[] = [];
    for (let i = 0; i < run.length; i++) {
      const t = run[i].word, mine: u8[] = [];
      for (let k = 0; k < t.length; ) {
        const c = t.codePointAt(k), n = c - 256;
        k += c > 0xffff ? 2 : 1;
        // GPT-2's bytes_to_unicode(): printable bytes stand for themselves, the other 68
        // (0..32, 127..160, 173) are U+0100.. in order
        const b = (c >= 33 && c <= 126) || (c >= 161 && c <= 255 && c != 173) ? c : n < 0 || n > 67 ? -1 : n < 33 ? n : n < 67 ? n + 94 : 173;
        if (b < 0) { mine.length = 0; break; }
        mine.push(<u8>b);
      }
      if (mine.length == 0 && t.length > 0) {
        const u = Uint8Array.wrap(String.UTF8.encode(t));
        for (let k = 0; k < u.length; k++) bytes.push(u[k]);
      } else for (let k = 0; k < mine.length; k++) bytes.push(mine[k]);
    }
    const p = bytes.dataStart, end = p + <usize>bytes.length;
    for (let q = p; q < end; ) {
      const d = decodeUtf8(q, end);
      out += String.fromCodePoint(<i32><u32>d);
      q += <usize>(d >> 32);
    }
    return out;
  }
  for (let i = 0; i < run.length; i++) {
    let t = run[i].word;
    if (kind != TOKENIZER_WORDPIECE) { out += t.replaceAll("\u2581", i == 0 ? "" : " "); continue; }
    if (i != 0) t = t.startsWith("##") ? t.substring(2) : " " + t;
    out += t.replaceAll(" .", ".").replaceAll(" ?", "?").replaceAll(" !", "!").replaceAll(" ,", ",")
      .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" do not", " don't")
      .replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
  }
  return out;
}

// The tokens of a word agree on one label: first, average or max.
function aggregateWord(group: Piece[], agg: i32): Piece {
  let scores = group[0].scores;
  if (agg == AGG_MAX) {
    let best = 0;
    for (let i = 1; i < group.length; i++) if (group[i].scores[argmax(group[i].scores)] > group[best].scores[argmax(group[best].scores)]) best = i;
    scores = group[best].scores;
  } else if (agg == AGG_AVERAGE) {
    scores = new Float64Array(scores.length);
    for (let i = 0; i < group.length; i++) for (let k = 0; k < scores.length; k++) scores[k] += group[i].scores[k];
    for (let k = 0; k < scores.length; k++) scores[k] /= <f64>group.length;
  }
  return labelled(new Piece(decodeTokens(group), scores, group[0].start, group[group.length - 1].end, -1, false), scores);
}

function tagOf(name: string): string {
  return name.startsWith("B-") || name.startsWith("I-") ? name.substring(2) : name;
}

// A run of B-/I- entities of one tag: the first one's label after its first "-", the
// mean score.
function groupOf(run: Piece[]): Piece {
  const first = run[0].label;
  let score: f64 = 0;
  for (let i = 0; i < run.length; i++) score += run[i].score;
  const g = new Piece(decodeTokens(run), run[0].scores, run[0].start, run[run.length - 1].end, -1, false);
  g.label = first.substring(first.indexOf("-") + 1);
  g.score = score / <f64>run.length;
  return g;
}

// subwords.ts isSubword(). WordPiece: the token's string is not as long, in code
// points, as the text it covers ("##ing" for "ing"). BPE, Unigram: the token does not
// start the text and neither the character before its start (UTF-8 offset s) nor the
// one at it is " ".
function isSubwordToken(id: i32, cpLength: i32, text: usize, s: u32, size: u32): bool {
  if (config_word(CFG_TOKENIZER) != TOKENIZER_WORDPIECE) return s > 0 && load<u8>(text + s - 1) != 32 && (s >= size || load<u8>(text + s) != 32);
  const p = vocab_ptr(<u32>id), len = vocab_len(<u32>id);
  let n = 0;
  for (let i: u32 = 0; i < len; i++) if ((load<u8>(p + i) & 0xc0) != 0x80) n++;
  return n != cpLength;
}

export function nerLine(text: usize, len: u32, o: PipelineOptions): string {
  const buf = text_buffer(len);
  if (buf == 0) return "";
  memory.copy(buf, text, len);
  const n = tokenize(len, -1, 0);
  if (n < 0 || forward(<u32>n) < 0) return "";
  const c = num_labels(), agg = o.aggregation;
  const cp = codePointIndex(text, len);
  const unk = configId(CFG_UNK_ID), cls = configId(CFG_CLS_ID), sep = configId(CFG_SEP_ID);
  const offsets = token_offsets_ptr(), ids = ids_ptr(), logits = logits_ptr();
  const pieces: Piece[] = [];
  for (let t = 0; t < n; t++) {
    const s = load<u32>(offsets + (<usize>t << 3)), e = load<u32>(offsets + (<usize>t << 3), 4);
    const id = load<i32>(ids + (<usize>t << 2));
    if (e == 0 && (id == cls || id == sep)) continue; // the template's [CLS] / [SEP]
    const start = cp[s], end = cp[e];
    const scores = softmax32(logits + (<usize>(t * c) << 2), c);
    // an [UNK] takes the text it covers as its word and is never a subword
    if (id == unk) pieces.push(new Piece(utf8(text + s, e - s), scores, start, end, t, false));
    else pieces.push(new Piece(tokenString(id), scores, start, end, t, isSubwordToken(id, end - start, text, s, len)));
  }
  let ents: Piece[] = [];
  if (agg == AGG_NONE || agg == AGG_SIMPLE) {
    for (let i = 0; i < pieces.length; i++) ents.push(labelled(pieces[i], pieces[i].scores));
  } else {
    let group: Piece[] = [];
    for (let i = 0; i < pieces.length; i++) {
      if (group.length > 0 && !pieces[i].subword) { ents.push(aggregateWord(group, agg)); group = []; }
      group.push(pieces[i]);
    }
    if (group.length > 0) ents.push(aggregateWord(group, agg));
  }
  if (agg != AGG_NONE) {
    const groups: Piece[] = [];
    let run: Piece[] = [];
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      if (run.length > 0 && !(tagOf(e.label) == tagOf(run[run.length - 1].label) && !e.label.startsWith("B-"))) {
        groups.push(groupOf(run));
        run = [];
      }
      run.push(e);
    }
    if (run.length > 0) groups.push(groupOf(run));
    ents = groups;
  }
  let out = "{\"entities\":[";
  let first = true;
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i];
    if (o.ignoreLabels.includes(e.label)) continue;
    if (!first) out += ",";
    first = false;
    out += (agg == AGG_NONE ? "{\"entity\":" : "{\"entity_group\":") + jsonString(e.label) + ",\"score\":" + e.score.toString();
    if (agg == AGG_NONE) out += ",\"index\":" + e.index.toString();
    out += ",\"word\":" + jsonString(e.word) + ",\"start\":" + e.start.toString() + ",\"end\":" + e.end.toString() + "}";
  }
  return out + "]}";
}

// --------------------------------------------------------------- question answering

class Found {
  constructor(public answer: string, public key: string, public score: f64, public start: i32, public end: i32) {}
}

// The answers are merged when equal after lowercasing: per code point, with the
// tokenizer's table (JavaScript's toLowerCase differs only by Final_Sigma).
function lowerKey(s: string): string {
  const scratch = memory.data(64);
  let out = "";
  for (let i = 0; i < s.length; ) {
    const c = s.codePointAt(i);
    i += c > 0xffff ? 2 : 1;
    const n = lowercase(<u32>c, scratch);
    for (let k = 0; k < n; k++) out += String.fromCodePoint(load<i32>(scratch + (<usize>k << 2)));
  }
  return out;
}

function answerJson(a: Found): string {
  return "{\"answer\":" + jsonString(a.answer) + ",\"score\":" + a.score.toString() + ",\"start\":" + a.start.toString() + ",\"end\":" + a.end.toString() + "}";
}

// The token continues the previous token's word (question-answering.ts wordIds()):
// a "##" piece that is not an added (whole-matched) token.
function isContinuation(id: i32): bool {
  for (let i: u32 = 0; i < added_token_count(); i++) if (<i32>(added_token_entry(i) & 0xffffff) == id) return false;
  return vocab_len(<u32>id) >= 2 && load<u16>(vocab_ptr(<u32>id)) == 0x2323; // "##"
}

// Indices of the scores, highest first, equal scores in index order: the order of
// JavaScript's and Python's stable sorts (AssemblyScript's sort is not stable, so
// the index breaks ties). O(n log n). u64 indices: the reader's sort of u64s is in the
// wasm already, only this comparator is added.
let sortScores: f64[] = [];
function byScore(scores: f64[]): u64[] {
  sortScores = scores;
  const idx = new Array<u64>(scores.length);
  for (let k = 0; k < idx.length; k++) idx[k] = <u64>k;
  return idx.sort((a: u64, b: u64): i32 => {
    const x = sortScores[<i32>a], y = sortScores[<i32>b];
    return x > y ? -1 : x < y ? 1 : <i32>a - <i32>b;
  });
}

export function qaLine(question: usize, qLen: u32, context: usize, cLen: u32, o: PipelineOptions): string {
  const modelMax = max_len();
  const maxSeq = o.maxSeqLen > 0 ? o.maxSeqLen : min<i32>(modelMax, 384);
  const stride = o.docStride >= 0 ? o.docStride : min<i32>(maxSeq / 2, 128);
  if (maxSeq > modelMax) return "!maxSeqLen " + maxSeq.toString() + " is more than the model's max_len " + modelMax.toString();
  if (stride > maxSeq) return "!docStride (" + stride.toString() + ") is larger than maxSeqLen (" + maxSeq.toString() + ")";
  const cls = configId(CFG_CLS_ID), sep = configId(CFG_SEP_ID);
  let buf = text_buffer(max(qLen, cLen));
  if (buf == 0) return "";
  // "" + "": [CLS] [SEP] [SEP] (<s> </s> </s> </s>): the template's tokens between the
  // texts and the second text's token type
  const nE = tokenize(0, 0, 0);
  if (nE < 0) return "";
  const second = load<i32>(type_ids_ptr() + (<usize>(nE - 1) << 2)), m = nE - 2;
  const middle = new Int32Array(m);
  for (let i = 0; i < m; i++) middle[i] = load<i32>(ids_ptr() + (<usize>(i + 1) << 2));
  memory.copy(buf, question, qLen);
  let nQ = tokenize_all(qLen);
  if (nQ < 0) return "";
  if (o.maxQuestionLen > 0 && nQ > o.maxQuestionLen) nQ = o.maxQuestionLen;
  const q = new Int32Array(nQ);
  for (let i = 0; i < nQ; i++) q[i] = load<i32>(all_ids_ptr() + (<usize>i << 2));
  memory.copy(buf, context, cLen);
  const nC = tokenize_all(cLen);
  if (nC < 0) return "";
  // context tokens: id, UTF-8 [start, end), word
  const ctx = new Int32Array(nC), off = new Int32Array(2 * nC), words = new Int32Array(nC);
  const cp = codePointIndex(context, cLen);
  // BPE, Unigram: the pre-tokenizer's words, as tokenize_all reports them (0: WordPiece)
  const wordsAt = all_words_ptr();
  let w = -1;
  for (let i = 0; i < nC; i++) {
    const id = load<i32>(all_ids_ptr() + (<usize>i << 2));
    ctx[i] = id;
    off[2 * i] = <i32>load<u32>(token_offsets_ptr() + (<usize>i << 3));
    off[2 * i + 1] = <i32>load<u32>(token_offsets_ptr() + (<usize>i << 3), 4);
    if (wordsAt) w = load<i32>(wordsAt + (<usize>i << 2));
    else if (!(i > 0 && isContinuation(id))) w++;
    words[i] = w;
  }
  // windows(): tokenizers' only_second truncation with overflowing tokens
  let size = nC;
  if (nQ + nC + m + 2 > maxSeq) {
    const remove = nQ + nC + m + 2 - maxSeq;
    if (nC <= remove) return "!the question (" + nQ.toString() + " tokens) leaves no room for the context in a window of " + maxSeq.toString() + " tokens (maxSeqLen); shorten it or set maxQuestionLen";
    size = nC - remove;
    if (stride >= size) return "!docStride " + stride.toString() + " must be less than the " + size.toString() + " context tokens a window holds (maxSeqLen " + maxSeq.toString() + " minus the question's " + nQ.toString() + " tokens and " + (m + 2).toString() + " special tokens)";
  }
  const found: Found[] = [];
  const preTopK = o.topK * 2 + 10;
  let minNull: f64 = 1000000;
  for (let from = 0; ; from += size - stride) {
    const to = min(from + size, nC), cn = to - from, cs = nQ + 1 + m, n = cs + cn + 1;
    const ids = ids_ptr();
    for (let i = 0; i < n; i++) {
      const id = i == 0 ? cls : i <= nQ ? q[i - 1] : i < cs ? middle[i - nQ - 1] : i == n - 1 ? sep : ctx[from + i - cs];
      store<i32>(ids + (<usize>i << 2), id);
      store<i32>(type_ids_ptr() + (<usize>i << 2), i < cs ? 0 : second);
    }
    if (forward(<u32>n) < 0) return "";
    // p_mask: 0 for the context and every [CLS]
    const allowed = new StaticArray<bool>(n);
    for (let i = 0; i < n; i++) allowed[i] = (i >= cs && i < cs + cn) || load<i32>(ids + (<usize>i << 2)) == cls;
    const ps = maskedSoftmax(logits_ptr(), allowed), pe = maskedSoftmax(logits_ptr() + (<usize>n << 2), allowed);
    if (o.handleImpossible) minNull = min(minNull, ps[0] * pe[0]);
    ps[0] = 0;
    pe[0] = 0;
    const scores: f64[] = [], spans: i32[] = [];
    for (let i = 0; i < n; i++) {
      if (!allowed[i] || ps[i] == 0) continue;
      for (let j = i; j < n && j - i < o.maxAnswerLen; j++) {
        const s = ps[i] * pe[j];
        if (allowed[j] && s > 0) { scores.push(s); spans.push(i * n + j); }
      }
    }
    const order = byScore(scores);
    for (let r = 0; r < min(preTopK, order.length); r++) {
      const k = <i32>order[r], score = scores[k];
      // charSpan(): aligned to the words, within the window's tokens
      const i = spans[k] / n, j = spans[k] % n;
      const inI = i >= cs && i < cs + cn, inJ = j >= cs && j < cs + cn;
      let a = from + i - cs, b = from + j - cs;
      if (inI && inJ) {
        while (a > from && words[a - 1] == words[a]) a--;
        while (b < to - 1 && words[b + 1] == words[b]) b++;
      }
      const s = inI ? off[2 * a] : 0, e = inJ ? off[2 * b + 1] : 0;
      const text = e > s ? utf8(context + s, e - s) : "";
      const key = lowerKey(text);
      let same = -1;
      for (let f = 0; f < found.length; f++) if (found[f].key == key) { same = f; break; }
      if (same >= 0) found[same].score += score;
      else found.push(new Found(text, key, score, cp[s], cp[e]));
    }
    if (to >= nC) break;
  }
  if (o.handleImpossible) found.push(new Found("", "", minNull, 0, 0));
  const scores: f64[] = [];
  for (let f = 0; f < found.length; f++) scores.push(found[f].score);
  const order = byScore(scores);
  let out = "";
  for (let r = 0; r < min(o.topK, order.length); r++) out += (r > 0 ? "," : "") + answerJson(found[<i32>order[r]]);
  if (o.topK == 1) return out.length > 0 ? out : "null";
  return "{\"answers\":[" + out + "]}";
}

// The softmax of the logits with the tokens not allowed at -10000.
function maskedSoftmax(p: usize, allowed: StaticArray<bool>): Float64Array {
  const n = allowed.length;
  const v = new Float64Array(n);
  let m: f64 = -Infinity;
  for (let i = 0; i < n; i++) {
    v[i] = allowed[i] ? <f64>load<f32>(p + (<usize>i << 2)) : -10000;
    m = max(m, v[i]);
  }
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) { v[i] = Math.exp(v[i] - m); sum += v[i]; }
  for (let i = 0; i < n; i++) v[i] /= sum;
  return v;
}
