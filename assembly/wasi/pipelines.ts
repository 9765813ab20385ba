// The standalone WASI command's token-classification and question-answering lines:
// the same post-processing as host/runtime/token-classification.ts and
// question-answering.ts (Hugging Face's pipelines; docs/pipelines.md says what is
// matched), written again here because the WASI command runs without JavaScript. The
// JS files are the reference: test/deploy-wasi-pipelines.test.ts checks that both
// print the same JSON. Only the WASI build links this file.
//
//   nerLine(text, len, aggregation)          {"entities":[...]}
//   qaLine(question, qLen, context, cLen, topK)   {"answer","score","start","end"} (or {"answers":[...]})

import {
  tokenize, tokenize_all, all_ids_ptr, token_offsets_ptr, ids_ptr, type_ids_ptr, forward, logits_ptr,
  num_labels, label_ptr, label_len, vocab_ptr, vocab_len, config_word, added_token_count, added_token_entry,
  max_len, text_buffer,
} from "../index";
import { CFG_CLS_ID, CFG_SEP_ID, CFG_UNK_ID, ADDED_ID_MASK } from "../format/constants";
import { decodeUtf8 } from "../tokenizer/utf8";
import { lowercase } from "../tokenizer/unicode";

export const AGG_NONE = 0;
export const AGG_SIMPLE = 1;
export const AGG_FIRST = 2;
export const AGG_AVERAGE = 3;
export const AGG_MAX = 4;

export function aggregationCode(name: string): i32 {
  if (name == "none") return AGG_NONE;
  if (name == "simple") return AGG_SIMPLE;
  if (name == "first") return AGG_FIRST;
  if (name == "average") return AGG_AVERAGE;
  if (name == "max") return AGG_MAX;
  return -1;
}

export function jsonString(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else if (c < 0x20) out += "\\u00" + (c < 16 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

// Code points before each byte offset of a UTF-8 text (decoded as the tokenizer does).
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

function utf8Length(p: usize, len: u32): i32 {
  let n = 0;
  for (let i: u32 = 0; i < len; i++) if ((load<u8>(p + i) & 0xc0) != 0x80) n++;
  return n;
}

function token(id: i32): string {
  return String.UTF8.decodeUnsafe(vocab_ptr(<u32>id), <usize>vocab_len(<u32>id));
}

function label(k: i32): string {
  return String.UTF8.decodeUnsafe(label_ptr(<u32>k), <usize>label_len(<u32>k));
}

// ------------------------------------------------------------ token classification

class Tok {
  constructor(public word: string, public scores: Float64Array, public start: i32, public end: i32, public index: i32, public sub: bool) {}
}

class Ent {
  constructor(public label: string, public score: f64, public word: string, public start: i32, public end: i32, public index: i32 = -1) {}
}

// numpy's float32 softmax, as host/runtime/token-classification.ts softmax().
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

// tokenizers' WordPiece decoder with cleanup.
function decodeTokens(words: string[]): string {
  let out = "";
  for (let i = 0; i < words.length; i++) {
    let t = words[i];
    if (i != 0) t = t.startsWith("##") ? t.substring(2) : " " + t;
    t = t.replaceAll(" .", ".").replaceAll(" ?", "?").replaceAll(" !", "!").replaceAll(" ,", ",")
      .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" do not", " don't")
      .replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
    out += t;
  }
  return out;
}

function aggregateWord(group: Tok[], agg: i32): Ent {
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
  const words = new Array<string>(group.length);
  for (let i = 0; i < group.length; i++) words[i] = group[i].word;
  const k = argmax(scores);
  return new Ent(label(k), scores[k], decodeTokens(words), group[0].start, group[group.length - 1].end);
}

function tagOf(name: string): string {
  return name.startsWith("B-") || name.startsWith("I-") ? name.substring(2) : name;
}

function groupOf(run: Ent[]): Ent {
  const first = run[0].label;
  const dash = first.indexOf("-");
  let score: f64 = 0;
  const words = new Array<string>(run.length);
  for (let i = 0; i < run.length; i++) { score += run[i].score; words[i] = run[i].word; }
  return new Ent(dash < 0 ? first : first.substring(dash + 1), score / <f64>run.length, decodeTokens(words), run[0].start, run[run.length - 1].end);
}

// One text -> {"entities": [...]} as the JS library prints it (ignore_labels ["O"]).
export function nerLine(text: usize, len: u32, agg: i32): string {
  const buf = text_buffer(len);
  if (buf == 0) return "";
  memory.copy(buf, text, len);
  const n = tokenize(len, -1, 0);
  if (n < 0 || forward(<u32>n) < 0) return "";
  const c = num_labels();
  const cp = codePointIndex(text, len);
  const unk = <i32>config_word(CFG_UNK_ID);
  const offsets = token_offsets_ptr(), ids = ids_ptr(), logits = logits_ptr();
  const toks: Tok[] = [];
  for (let t = 0; t < n; t++) {
    const s = load<u32>(offsets + (<usize>t << 3)), e = load<u32>(offsets + (<usize>t << 3), 4);
    if (e == 0) continue; // [CLS] / [SEP]
    const id = load<i32>(ids + (<usize>t << 2));
    const start = cp[s], end = cp[e];
    let word = "", sub = false;
    if (id == unk) {
      word = String.UTF8.decodeUnsafe(text + s, <usize>(e - s));
      sub = false;
    } else {
      word = token(id);
      sub = utf8Length(vocab_ptr(<u32>id), vocab_len(<u32>id)) != end - start;
    }
    toks.push(new Tok(word, softmax32(logits + (<usize>(t * c) << 2), c), start, end, t, sub));
  }
  let ents: Ent[] = [];
  if (agg == AGG_NONE || agg == AGG_SIMPLE) {
    for (let i = 0; i < toks.length; i++) {
      const k = argmax(toks[i].scores);
      ents.push(new Ent(label(k), toks[i].scores[k], toks[i].word, toks[i].start, toks[i].end, toks[i].index));
    }
  } else {
    let group: Tok[] = [];
    for (let i = 0; i < toks.length; i++) {
      if (group.length > 0 && !toks[i].sub) { ents.push(aggregateWord(group, agg)); group = []; }
      group.push(toks[i]);
    }
    if (group.length > 0) ents.push(aggregateWord(group, agg));
  }
  if (agg != AGG_NONE) {
    const groups: Ent[] = [];
    let run: Ent[] = [];
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
    if (e.label == "O") continue;
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

// Python's str.lower() compared per code point (the tokenizer's char-wise mapping:
// no Final_Sigma, which only matters between two answers that differ by it).
function lowerKey(s: string): string {
  const buf = String.UTF8.encode(s);
  const p = changetype<usize>(buf), len = <u32>buf.byteLength;
  const scratch = heap.alloc(64);
  let out = "";
  let i: u32 = 0;
  while (i < len) {
    const d = decodeUtf8(p + i, p + len);
    i += <u32>(d >> 32);
    const n = lowercase(<u32>d, scratch);
    for (let k = 0; k < n; k++) out += String.fromCodePoint(load<u32>(scratch + (<usize>k << 2)));
  }
  heap.free(scratch);
  return out;
}

function answerJson(a: Found): string {
  return "{\"answer\":" + jsonString(a.answer) + ",\"score\":" + a.score.toString() + ",\"start\":" + a.start.toString() + ",\"end\":" + a.end.toString() + "}";
}

// The pipeline's defaults (max_seq_len min(max_len, 384), doc_stride min(max_seq_len / 2,
// 128), max_answer_len 15, no impossible answer); "" with the runtime's error set,
// or an error message starting with "!".
export function qaLine(question: usize, qLen: u32, context: usize, cLen: u32, topK: i32): string {
  const maxSeq = min<i32>(max_len(), 384), stride = min<i32>(maxSeq / 2, 128), maxAnswer = 15;
  const cls = <i32>config_word(CFG_CLS_ID), sep = <i32>config_word(CFG_SEP_ID);
  let buf = text_buffer(max(qLen, cLen));
  if (buf == 0) return "";
  memory.copy(buf, question, qLen);
  const nQ = tokenize_all(qLen);
  if (nQ < 0) return "";
  const q = new Int32Array(nQ);
  for (let i = 0; i < nQ; i++) q[i] = load<i32>(all_ids_ptr() + (<usize>i << 2));
  // the type of the second text: [CLS] [SEP] [SEP] of "" + ""
  if (tokenize(0, 0, 0) < 0) return "";
  const second = load<i32>(type_ids_ptr() + 8);
  buf = text_buffer(cLen);
  memory.copy(buf, context, cLen);
  const nC = tokenize_all(cLen);
  if (nC < 0) return "";
  const ctx = new Int32Array(nC), off = new Int32Array(2 * nC), words = new Int32Array(nC);
  const added = new Set<i32>();
  for (let i: u32 = 0; i < added_token_count(); i++) added.add(<i32>(added_token_entry(i) & ADDED_ID_MASK));
  const cp = codePointIndex(context, cLen);
  let w = -1;
  for (let i = 0; i < nC; i++) {
    const id = load<i32>(all_ids_ptr() + (<usize>i << 2));
    ctx[i] = id;
    off[2 * i] = <i32>load<u32>(token_offsets_ptr() + (<usize>i << 3));
    off[2 * i + 1] = <i32>load<u32>(token_offsets_ptr() + (<usize>i << 3), 4);
    if (!(i > 0 && !added.has(id) && token(id).startsWith("##"))) w++;
    words[i] = w;
  }
  let size = nC;
  if (nQ + nC + 3 > maxSeq) {
    const remove = nQ + nC + 3 - maxSeq;
    if (nC <= remove) return "!the question (" + nQ.toString() + " tokens) leaves no room for the context in a window of " + maxSeq.toString() + " tokens";
    size = nC - remove;
    if (stride >= size) return "!doc_stride " + stride.toString() + " must be less than the " + size.toString() + " context tokens a window holds";
  }
  const found: Found[] = [];
  const preTopK = topK * 2 + 10;
  for (let from = 0; ; from += size - stride) {
    const to = min(from + size, nC), cn = to - from, cs = nQ + 2, n = cs + cn + 1;
    const ids = ids_ptr(), types = type_ids_ptr();
    for (let i = 0; i < n; i++) {
      const id = i == 0 ? cls : i <= nQ ? q[i - 1] : i == nQ + 1 || i == n - 1 ? sep : ctx[from + i - cs];
      store<i32>(ids + (<usize>i << 2), id);
      store<i32>(types + (<usize>i << 2), i < cs ? 0 : second);
    }
    if (forward(<u32>n) < 0) return "";
    const ps = maskedSoftmax(logits_ptr(), n, cs, cn, cls), pe = maskedSoftmax(logits_ptr() + (<usize>n << 2), n, cs, cn, cls);
    ps[0] = 0;
    pe[0] = 0;
    // spans (i, j) with positive scores, best first: score, i, j
    const spans: f64[] = [];
    const order: i32[] = [];
    for (let i = 0; i < n; i++) {
      if (ps[i] == 0 || !(i >= cs && i < cs + cn || ids_at(i) == cls)) continue;
      for (let j = i; j < min(n, i + maxAnswer); j++) {
        if (!(j >= cs && j < cs + cn || ids_at(j) == cls)) continue;
        const s = ps[i] * pe[j];
        if (s > 0) { spans.push(s); order.push(i * n + j); }
      }
    }
    const idx = byScore(spans);
    for (let r = 0; r < min(preTopK, idx.length); r++) {
      const i = order[idx[r]] / n, j = order[idx[r]] % n;
      const inI = i >= cs && i < cs + cn, inJ = j >= cs && j < cs + cn;
      let a = from + i - cs, b = from + j - cs;
      if (inI && inJ) {
        // aligned to words, within the window's tokens
        while (a > from && words[a - 1] == words[a]) a--;
        while (b < to - 1 && words[b + 1] == words[b]) b++;
      }
      const s = inI ? off[2 * a] : 0, e = inJ ? off[2 * b + 1] : 0;
      const text = e > s ? String.UTF8.decodeUnsafe(context + s, <usize>(e - s)) : "";
      const key = lowerKey(text);
      let same = -1;
      for (let k = 0; k < found.length; k++) if (found[k].key == key) { same = k; break; }
      if (same >= 0) found[same].score += spans[idx[r]];
      else found.push(new Found(text, key, spans[idx[r]], cp[s], cp[e]));
    }
    if (to >= nC) break;
  }
  const scores: f64[] = [];
  for (let k = 0; k < found.length; k++) scores.push(found[k].score);
  const rank = byScore(scores);
  if (topK == 1) return found.length == 0 ? "null" : answerJson(found[rank[0]]);
  let out = "{\"answers\":[";
  for (let r = 0; r < min(topK, rank.length); r++) out += (r > 0 ? "," : "") + answerJson(found[rank[r]]);
  return out + "]}";
}

// Indices of the scores, highest first, equal scores in index order (a stable sort, as
// JavaScript's and Python's).
let sortScores: f64[] = [];
function byScore(scores: f64[]): i32[] {
  sortScores = scores;
  const idx = new Array<i32>(scores.length);
  for (let k = 0; k < idx.length; k++) idx[k] = k;
  idx.sort((a: i32, b: i32): i32 => {
    const d = sortScores[b] - sortScores[a];
    return d > 0 ? 1 : d < 0 ? -1 : a - b;
  });
  return idx;
}

@inline function ids_at(i: i32): i32 {
  return load<i32>(ids_ptr() + (<usize>i << 2));
}

// Softmax over the window of the logits with everything but the context and [CLS]
// tokens at -10000.
function maskedSoftmax(p: usize, n: i32, cs: i32, cn: i32, cls: i32): Float64Array {
  const v = new Float64Array(n);
  let m: f64 = -Infinity;
  for (let i = 0; i < n; i++) {
    v[i] = (i >= cs && i < cs + cn) || ids_at(i) == cls ? <f64>load<f32>(p + (<usize>i << 2)) : -10000;
    m = max(m, v[i]);
  }
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) { v[i] = Math.exp(v[i] - m); sum += v[i]; }
  for (let i = 0; i < n; i++) v[i] /= sum;
  return v;
}
