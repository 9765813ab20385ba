// A SentencePiece Unigram tokenizer (XLM-RoBERTa) -> vocabulary, scores, charsmap
// and flags, as Hugging Face's fast tokenizer would run it:
//
// - tokenizer.json of model.type "Unigram": its [piece, score] vocab, unk_id,
//   byte_fallback; the normalizer (Precompiled, Strip, Replace(" {2,}"), or a
//   Sequence of them with Precompiled first); the Metaspace pre-tokenizer; the
//   <s> A </s> (</s> B </s>) post-processor (TemplateProcessing or RobertaProcessing);
//   added_tokens (matched whole in the raw text).
// - otherwise sentencepiece.bpe.model (the sentencepiece protobuf, read by hand
//   below), converted as transformers' XLMRobertaConverter does: fairseq ids
//   (<s> <pad> </s> <unk>, the pieces from 3 on, <mask> last), the charsmap, then
//   Strip(right) and Replace(" {2,}", "▁"), Metaspace prepend always.
// - tokenizer_config.json: model_max_length, pad / mask tokens.
// Anything else is refused, naming the field.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as F from "../../assembly/format/constants.ts";
import type { AddedToken, TokenizerConfig } from "../model/model.ts";
import { ConvertError } from "./errors.ts";
import { finishVocab, maxLength, type HfTokenizer } from "./hf-tokenizer.ts";
import { graphemeBreakRanges } from "./grapheme-ranges.ts";

type Json = Record<string, unknown>;
const META = "\u2581";

// Whether the folder's tokenizer is a SentencePiece Unigram one.
export function isUnigramFolder(dir: string, tjson: Json | null): boolean {
  if (tjson) return (tjson.model as Json | undefined)?.type === "Unigram";
  return existsSync(join(dir, "sentencepiece.bpe.model")) && !existsSync(join(dir, "vocab.txt"));
}

interface Parsed {
  pieces: [string, number][];
  unkId: number;
  byteFallback: boolean;
  charsmap: Uint8Array | null;
  flags: number;
  cls: string;
  sep: string;
  added: { id: number; content: string; normalized: boolean; lstrip?: boolean; rstrip?: boolean; where: string }[];
}

export function readUnigramTokenizer(dir: string, tjson: Json | null, tcfg: Json, vocabSize: number, maxPosition: number, files: string[]): HfTokenizer {
  const p = tjson ? fromTokenizerJson(tjson) : fromSentencePiece(readFileSync(join(dir, "sentencepiece.bpe.model")));
  files.push(tjson ? "tokenizer.json" : "sentencepiece.bpe.model");
  const src = tjson ? "tokenizer.json" : "sentencepiece.bpe.model";
  const vocab: (string | null)[] = p.pieces.map(([t]) => t);
  for (const a of [...p.added].sort((x, y) => x.id - y.id)) {
    if (a.id < vocab.length) {
      if (vocab[a.id] !== a.content) throw new ConvertError(`${a.where}: the vocab holds ${JSON.stringify(vocab[a.id])} at id ${a.id}`);
    } else if (a.id === vocab.length) vocab.push(a.content);
    else throw new ConvertError(`${a.where}: id ${a.id} leaves a gap after the vocab's ${vocab.length} tokens`);
  }
  if (vocab.length > vocabSize)
    throw new ConvertError(`${src}: has ${vocab.length} tokens but config.json vocab_size is ${vocabSize}; ids beyond the word embedding cannot be embedded`);
  const seen = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (t === null) return;
    if (seen.has(t)) throw new ConvertError(`${src}: token ${JSON.stringify(t)} has ids ${seen.get(t)} and ${i}; tokens must be distinct`);
    seen.set(t, i);
  });
  const tokens = finishVocab(vocab, vocabSize);
  const scores = new Float64Array(vocabSize).fill(NaN);
  p.pieces.forEach(([, s], i) => (scores[i] = s));

  const idOf = (token: string | null, what: string, from: string, required: boolean): number | null => {
    const id = token === null ? undefined : seen.get(token);
    if (id === undefined) {
      if (required) throw new ConvertError(`${from}: the ${what} token ${JSON.stringify(token)} is not in ${src}`);
      return null;
    }
    return id;
  };
  const special = (key: string, dflt: string): string | null => {
    const v = tcfg[key] ?? dflt;
    if (v === null || typeof v === "string") return v;
    if (typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
    throw new ConvertError(`tokenizer_config.json: field ${key} must be a token string or {"content": ...}, got ${JSON.stringify(v)}`);
  };
  if (p.unkId < 0 || p.unkId >= p.pieces.length) throw new ConvertError(`${src}: field model.unk_id ${p.unkId} is not a piece id`);
  const clsId = idOf(p.cls, "<s>", `${src} post_processor`, true)!;
  const sepId = idOf(p.sep, "</s>", `${src} post_processor`, true)!;
  const padId = idOf(special("pad_token", "<pad>"), "pad", "tokenizer_config.json pad_token", false) ?? p.unkId;
  const maskId = idOf(special("mask_token", "<mask>"), "mask", "tokenizer_config.json mask_token", false);

  const addedTokens: AddedToken[] = [];
  for (const a of p.added) {
    if (a.content === "") continue; // tokenizers ignores empty tokens
    if (a.normalized) throw new ConvertError(`${a.where}: normalized is true; the Unigram runtime matches added tokens on the raw text only`);
    if (new TextEncoder().encode(a.content).length > F.MAX_ADDED_TOKEN_BYTES)
      throw new ConvertError(`${a.where}: longer than ${F.MAX_ADDED_TOKEN_BYTES} bytes; not supported`);
    if (!addedTokens.some((x) => x.id === a.id)) addedTokens.push({ id: a.id, normalized: false, lstrip: a.lstrip === true, rstrip: a.rstrip === true });
  }
  if (addedTokens.length > F.MAX_ADDED_TOKENS)
    throw new ConvertError(`${src}: ${addedTokens.length} added tokens; the format holds at most ${F.MAX_ADDED_TOKENS}`);

  const tokenizer: TokenizerConfig = {
    doLowerCase: false, stripAccents: false, tokenizeChineseChars: false, cleanText: false,
    clsId, sepId, padId, unkId: p.unkId, maskId,
    maxLen: maxLength(tcfg, maxPosition), maxInputCharsPerWord: 100,
    unigram: {
      scores,
      charsmap: p.charsmap ? charsmapSection(p.charsmap, src) : null,
      flags: p.flags | (p.byteFallback ? F.TOKFLAG_BYTE_FALLBACK : 0),
    },
  };
  return { vocab: tokens, addedTokens: addedTokens.sort((x, y) => x.id - y.id), tokenizer, files };
}

function fromTokenizerJson(t: Json): Parsed {
  const F_ = "tokenizer.json";
  const bad = (field: string, why: string): never => {
    throw new ConvertError(`${F_}: field ${field} ${why}`);
  };
  const model = t.model as Json;
  if (!Array.isArray(model.vocab) || model.vocab.length === 0) bad("model.vocab", "must be a non-empty list of [piece, score] pairs");
  const pieces = (model.vocab as unknown[]).map((e, i) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string" || typeof e[1] !== "number" || !Number.isFinite(e[1]))
      bad(`model.vocab[${i}]`, `must be a [piece, finite score] pair, got ${JSON.stringify(e)}`);
    return e as [string, number];
  });
  const unkId = model.unk_id;
  if (!Number.isSafeInteger(unkId)) bad("model.unk_id", `must be a piece id, got ${JSON.stringify(unkId)} (the runtime needs an unknown token)`);
  const byteFallback = model.byte_fallback ?? false;
  if (typeof byteFallback !== "boolean") bad("model.byte_fallback", `must be true or false, got ${JSON.stringify(byteFallback)}`);

  // Normalizer: [Precompiled] [Strip] [Replace] in a Sequence, Precompiled first.
  let flags = 0;
  let charsmap: Uint8Array | null = null;
  const norm = t.normalizer as Json | null;
  const steps: Json[] = norm === null || norm === undefined ? [] : norm.type === "Sequence" ? (norm.normalizers as Json[]) : [norm];
  if (!Array.isArray(steps)) bad("normalizer.normalizers", "is not a list");
  let seenStrip = false, seenReplace = false;
  steps.forEach((n, i) => {
    const field = norm!.type === "Sequence" ? `normalizer.normalizers[${i}]` : "normalizer";
    if (n?.type === "Precompiled") {
      if (i !== 0) bad(field, "is Precompiled after another step; only Precompiled first is supported");
      if (typeof n.precompiled_charsmap !== "string") bad(`${field}.precompiled_charsmap`, "must be a base64 string");
      const bytes = Buffer.from(n.precompiled_charsmap as string, "base64");
      if (bytes.length > 0) charsmap = new Uint8Array(bytes); // empty: no mapping (spm's identity)
    } else if (n?.type === "Strip") {
      if (seenStrip) bad(field, "is a second Strip; not supported");
      seenStrip = true;
      if (n.strip_left) flags |= F.TOKFLAG_STRIP_LEFT;
      if (n.strip_right) flags |= F.TOKFLAG_STRIP_RIGHT;
    } else if (n?.type === "Replace") {
      const pat = n.pattern as Json | undefined;
      if (seenReplace || pat?.Regex !== " {2,}" || (n.content !== " " && n.content !== META))
        bad(field, `is ${JSON.stringify(n)}; the only Replace supported is Regex " {2,}" -> " " or "${META}"`);
      seenReplace = true;
      flags |= F.TOKFLAG_COLLAPSE_SPACES | (n.content === META ? F.TOKFLAG_COLLAPSE_TO_META : 0) | (seenStrip ? 0 : F.TOKFLAG_COLLAPSE_FIRST);
    } else {
      bad(field, `is ${JSON.stringify(n?.type ?? n)}; supported: Precompiled, Strip, Replace(" {2,}") (NFKC, Nmt and others are not)`);
    }
  });

  const pre = t.pre_tokenizer as Json | null;
  if (pre?.type !== "Metaspace") bad("pre_tokenizer", `is ${JSON.stringify(pre?.type ?? pre)}; only Metaspace is supported`);
  if ((pre!.replacement ?? META) !== META) bad("pre_tokenizer.replacement", `is ${JSON.stringify(pre!.replacement)}; only "${META}" is supported`);
  let scheme = pre!.prepend_scheme;
  if (scheme === undefined) scheme = pre!.add_prefix_space === false ? "never" : "always"; // tokenizers < 0.14
  if (scheme === "always") flags |= F.TOKFLAG_PREPEND_ALWAYS;
  else if (scheme === "first") flags |= F.TOKFLAG_PREPEND_FIRST;
  else if (scheme !== "never") bad("pre_tokenizer.prepend_scheme", `is ${JSON.stringify(scheme)}; expected always, first or never`);
  const split = pre!.split ?? true;
  if (typeof split !== "boolean") bad("pre_tokenizer.split", "must be true or false");
  if (split) flags |= F.TOKFLAG_SPLIT;

  const { cls, sep } = robertaTemplate(t.post_processor as Json | null, bad);
  const added = Array.isArray(t.added_tokens)
    ? (t.added_tokens as Json[]).map((a) => {
        const where = `${F_}: added_tokens entry ${JSON.stringify(a?.content)} (id ${a?.id})`;
        if (!Number.isSafeInteger(a?.id) || typeof a?.content !== "string") throw new ConvertError(`${where}: needs an integer id and a content string`);
        if (a.single_word === true) throw new ConvertError(`${where}: single_word is true; not supported`);
        return { id: a.id as number, content: a.content as string, normalized: (a.normalized ?? !a.special) === true, lstrip: a.lstrip === true, rstrip: a.rstrip === true, where };
      })
    : [];
  return { pieces, unkId: unkId as number, byteFallback: byteFallback as boolean, charsmap, flags, cls, sep, added };
}

// <s> $A </s> and <s> $A </s> </s> $B </s>, every type id 0.
function robertaTemplate(p: Json | null, bad: (field: string, why: string) => never): { cls: string; sep: string } {
  if (p?.type === "RobertaProcessing") {
    const cls = (p.cls as unknown[])?.[0], sep = (p.sep as unknown[])?.[0];
    if (typeof cls !== "string" || typeof sep !== "string") bad("post_processor", "RobertaProcessing needs cls and sep");
    return { cls: cls as string, sep: sep as string };
  }
  if (p?.type !== "TemplateProcessing") bad("post_processor", `is ${JSON.stringify(p?.type ?? p)}; supported: TemplateProcessing <s> $A </s> (</s> $B </s>), RobertaProcessing`);
  const piece = (x: Json): string => {
    const s = x?.SpecialToken as Json | undefined;
    if (s) return `${s.id}:${s.type_id}`;
    const q = x?.Sequence as Json | undefined;
    return q ? `$${q.id}:${q.type_id}` : "?";
  };
  const single = Array.isArray(p!.single) ? (p!.single as Json[]).map(piece) : [];
  const pair = Array.isArray(p!.pair) ? (p!.pair as Json[]).map(piece) : [];
  const m = /^(.*):0 \$A:0 (.*):0$/.exec(single.join(" "));
  if (!m) bad("post_processor.single", `is ${JSON.stringify(p!.single)}; the runtime supports only <s> $A </s>`);
  const [, cls, sep] = m!;
  if (pair.join(" ") !== `${cls}:0 $A:0 ${sep}:0 ${sep}:0 $B:0 ${sep}:0`)
    bad("post_processor.pair", `is ${JSON.stringify(p!.pair)}; the runtime supports only <s> $A </s> </s> $B </s>, type ids 0`);
  const st = (p!.special_tokens ?? {}) as Record<string, Json>;
  for (const tok of [cls, sep]) {
    const ts = st[tok]?.tokens;
    if (ts !== undefined && !(Array.isArray(ts) && ts.length === 1 && ts[0] === tok))
      bad(`post_processor.special_tokens[${JSON.stringify(tok)}]`, "must stand for exactly that one token");
  }
  return { cls, sep };
}

// sentencepiece's ModelProto (sentencepiece_model.proto): the fields this needs.
//   ModelProto: 1 pieces (SentencePiece: 1 piece string, 2 score float, 3 type enum),
//               2 trainer_spec (3 model_type: 1 = UNIGRAM; 35 byte_fallback),
//               3 normalizer_spec (2 precompiled_charsmap bytes)
export function fromSentencePiece(buf: Uint8Array): Parsed {
  const F_ = "sentencepiece.bpe.model";
  const pieces: [string, number, number][] = [];
  let charsmap: Uint8Array | null = null;
  let modelType = 1;
  const dec = new TextDecoder("utf-8", { fatal: true });
  walk(buf, F_, (field, wire, v) => {
    if (field === 1 && wire === 2) {
      let piece = "", score = 0, type = 1;
      walk(v as Uint8Array, `${F_} piece ${pieces.length}`, (f, w, x) => {
        if (f === 1 && w === 2) piece = dec.decode(x as Uint8Array);
        else if (f === 2 && w === 5) score = new DataView((x as Uint8Array).buffer, (x as Uint8Array).byteOffset, 4).getFloat32(0, true);
        else if (f === 3 && w === 0) type = Number(x);
      });
      pieces.push([piece, score, type]);
    } else if (field === 2 && wire === 2) {
      walk(v as Uint8Array, `${F_} trainer_spec`, (f, w, x) => {
        if (f === 3 && w === 0) modelType = Number(x);
      });
    } else if (field === 3 && wire === 2) {
      walk(v as Uint8Array, `${F_} normalizer_spec`, (f, w, x) => {
        if (f === 2 && w === 2 && (x as Uint8Array).length > 0) charsmap = new Uint8Array(x as Uint8Array);
      });
    }
  });
  if (modelType !== 1) throw new ConvertError(`${F_}: trainer_spec.model_type is ${modelType}; only Unigram (1) is supported`);
  if (pieces.length < 4) throw new ConvertError(`${F_}: has ${pieces.length} pieces; expected <unk> <s> </s> and more`);
  // XLMRobertaConverter.vocab(): fairseq's four, the pieces from 3 on, <mask>.
  const vocab: [string, number][] = [["<s>", 0], ["<pad>", 0], ["</s>", 0], ["<unk>", 0]];
  for (const [piece, score] of pieces.slice(3)) vocab.push([piece, score]);
  vocab.push(["<mask>", 0]);
  const added: { id: number; content: string; normalized: boolean; lstrip?: boolean; where: string }[] = ["<s>", "<pad>", "</s>", "<unk>"].map((content, id) => ({ id, content, normalized: false, where: `${F_}: ${content}` }));
  added.push({ id: vocab.length - 1, content: "<mask>", normalized: false, lstrip: true, where: `${F_}: <mask>` }); // as XLMRobertaTokenizer's mask_token
  // user-defined (4) and control (3) pieces are added tokens, matched raw.
  pieces.forEach(([content, , type], i) => {
    if (i >= 3 && (type === 3 || type === 4)) added.push({ id: i + 1, content, normalized: false, where: `${F_}: piece ${i}` });
  });
  const flags = F.TOKFLAG_STRIP_RIGHT | F.TOKFLAG_COLLAPSE_SPACES | F.TOKFLAG_COLLAPSE_TO_META | F.TOKFLAG_PREPEND_ALWAYS | F.TOKFLAG_SPLIT;
  return { pieces: vocab, unkId: 3, byteFallback: false, charsmap, flags, cls: "<s>", sep: "</s>", added };
}

// Protobuf wire format: calls fn(field, wire type, value) for each field of a message.
function walk(b: Uint8Array, what: string, fn: (field: number, wire: number, v: bigint | Uint8Array) => void): void {
  let i = 0;
  const varint = (): bigint => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (i >= b.length || shift > 63n) throw new ConvertError(`${what}: truncated or malformed protobuf`);
      const c = b[i++];
      v |= BigInt(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
      shift += 7n;
    }
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || i + n > b.length) throw new ConvertError(`${what}: truncated protobuf`);
    const v = b.subarray(i, i + n);
    i += n;
    return v;
  };
  while (i < b.length) {
    const key = Number(varint());
    const field = key >>> 3, wire = key & 7;
    if (wire === 0) fn(field, wire, varint());
    else if (wire === 1) fn(field, wire, take(8));
    else if (wire === 2) fn(field, wire, take(Number(varint())));
    else if (wire === 5) fn(field, wire, take(4));
    else throw new ConvertError(`${what}: protobuf wire type ${wire} not supported`);
  }
}

// CHARSMAP: u32 size, the charsmap, zero padding to 4, u32 range count, the ranges.
function charsmapSection(map: Uint8Array, src: string): Uint8Array {
  const bad = (why: string): never => {
    throw new ConvertError(`${src}: precompiled_charsmap ${why}`);
  };
  if (map.length < 4) bad("is shorter than its trie size");
  const trie = new DataView(map.buffer, map.byteOffset).getUint32(0, true);
  if (trie < 4 || trie % 4 !== 0 || trie + 4 > map.length) bad(`says its trie has ${trie} bytes, but it has ${map.length - 4}`);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(map.subarray(4 + trie));
  } catch {
    bad("has replacement strings that are not UTF-8");
  }
  const ranges = graphemeBreakRanges();
  const at = (4 + map.length + 3) & ~3;
  const out = new Uint8Array(at + 4 + 4 * ranges.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, map.length, true);
  out.set(map, 4);
  v.setUint32(at, ranges.length, true);
  ranges.forEach((r, i) => v.setUint32(at + 4 + 4 * i, r, true));
  return out;
}
