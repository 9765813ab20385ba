// The tokenizer files of a Hugging Face folder -> the vocabulary (token i has id i)
// and TokenizerConfig, following what transformers' AutoTokenizer would build:
//
// - tokenizer.json, when present, is the fast tokenizer: its WordPiece vocab,
//   its unk token, the [CLS]/[SEP] ids of its post-processor. Otherwise vocab.txt,
//   read as load_vocab does (one token per line, universal newlines, only the line
//   end stripped, a later duplicate wins).
// - do_lower_case / strip_accents / tokenize_chinese_chars come from
//   tokenizer_config.json or the BertTokenizer(Fast) defaults (true / None / true);
//   BertTokenizerFast imposes them on tokenizer.json's normalizer too. Only with
//   tokenizer_class PreTrainedTokenizerFast is the normalizer taken as written.
// - special tokens: special_tokens_map.json over tokenizer_config.json over the
//   defaults [CLS] [SEP] [PAD] [UNK] [MASK]; each must be in the vocab ([MASK] may
//   be absent).
//
// The format needs exactly vocab_size distinct tokens. Ids that no text can
// produce (an earlier duplicate line of vocab.txt, a hole in tokenizer.json's
// vocab, embedding rows beyond the vocab) get placeholders like "[unused_pad_0]":
// brackets are punctuation to BERT's pre-tokenizer, so no word ever matches one.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_ADDED_TOKENS, MAX_ADDED_TOKEN_BYTES } from "../../assembly/format/constants.ts";
import type { AddedToken, TokenizerConfig } from "../model/model.ts";
import { ConvertError } from "./errors.ts";
import { isBpeFolder, readHfBpe } from "./hf-bpe.ts";
import { isUnigramFolder, readUnigramTokenizer } from "./hf-unigram.ts";

export interface HfTokenizer {
  vocab: string[];          // exactly vocabSize tokens
  addedTokens: AddedToken[]; // the added tokens the runtime matches whole before WordPiece
  tokenizer: TokenizerConfig;
  files: string[];          // the files read
  merges?: Uint8Array;      // byte-level BPE: the MERGES section (hf-bpe.ts)
}

type Json = Record<string, unknown>;

const ROLES = ["cls_token", "sep_token", "pad_token", "unk_token", "mask_token"] as const;
type Role = (typeof ROLES)[number];
const DEFAULT_TOKENS: Record<Role, string> = {
  cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", unk_token: "[UNK]", mask_token: "[MASK]",
};
// ELECTRA's tokenizers are BERT's WordPiece, option for option.
const TOKENIZER_CLASSES = ["BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast",
  "ElectraTokenizer", "ElectraTokenizerFast"];

// transformers' "no limit" model_max_length is int(1e30); anything this large means none.
const NO_MAX_LENGTH = 1e15;

// BertTokenizer and DistilBertTokenizer share every default, so the architecture
// does not matter here.
export function readHfTokenizer(dir: string, vocabSize: number, maxPosition: number): HfTokenizer {
  if (isBpeFolder(dir, TOKENIZER_CLASSES)) return readHfBpe(dir, vocabSize, maxPosition);
  const files = new TokenizerFiles(dir);
  const tcfg = files.json("tokenizer_config.json") ?? {};
  const smap = files.json("special_tokens_map.json") ?? {};
  const tjson = files.json("tokenizer.json");
  if (isUnigramFolder(dir, tjson)) return readUnigramTokenizer(dir, tjson, { ...tcfg, ...smap }, vocabSize, maxPosition, files.read);
  const options = basicTokenizerOptions(tcfg, tjson !== null);
  const special = specialTokens(tcfg, smap);
  const v = readVocab(files, tjson, options, special.unk_token);
  if (tcfg.added_tokens_decoder !== undefined)
    addTokens(v.vocab, addedTokensOf(tcfg.added_tokens_decoder, "tokenizer_config.json", "added_tokens_decoder"), "tokenizer_config.json");
  const tokenizer = resolveIds(v, special, vocabSize, tjson ? "tokenizer.json" : "vocab.txt");
  const addedTokens = matchedAddedTokens(tokenizer.tokens, Object.values(tokenizer.ids), [
    ...addedTokenFlags(tjson?.added_tokens, "tokenizer.json", "added_tokens"),
    ...addedTokenFlags(tcfg.added_tokens_decoder, "tokenizer_config.json", "added_tokens_decoder"),
  ]);
  return {
    vocab: tokenizer.tokens,
    addedTokens,
    tokenizer: { ...v.options, ...tokenizer.ids, maxLen: maxLength(tcfg, maxPosition), maxInputCharsPerWord: v.maxInputCharsPerWord },
    files: files.read,
  };
}

// The folder's tokenizer files, each read at most once, in the order asked.
export class TokenizerFiles {
  readonly read: string[] = [];
  constructor(readonly dir: string) {}

  json(name: string): Json | null {
    const path = join(this.dir, name);
    if (!existsSync(path)) return null;
    this.read.push(name);
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(path, "utf8").replace(/^\uFEFF/, ""));
    } catch (e) {
      throw new ConvertError(`${name}: not valid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ConvertError(`${name}: not a JSON object`);
    return v as Json;
  }

  bytes(name: string): Uint8Array | null {
    const path = join(this.dir, name);
    if (!existsSync(path)) return null;
    this.read.push(name);
    return readFileSync(path);
  }
}

const bad = (file: string, field: string, why: string): never => {
  throw new ConvertError(`${file}: field ${field} ${why}`);
};

type BasicOptions = Pick<TokenizerConfig, "doLowerCase" | "stripAccents" | "tokenizeChineseChars" | "cleanText">;

// The tokenizer class and BERT's basic-tokenizer options from tokenizer_config.json.
// rawFast: tokenizer.json's normalizer is taken as written (PreTrainedTokenizerFast).
function basicTokenizerOptions(tcfg: Json, hasTokenizerJson: boolean): BasicOptions & { rawFast: boolean } {
  const tokenizerClass = tcfg.tokenizer_class;
  const rawFast = tokenizerClass === "PreTrainedTokenizerFast" && hasTokenizerJson;
  if (tokenizerClass !== undefined && tokenizerClass !== null && !rawFast && !TOKENIZER_CLASSES.includes(tokenizerClass as string))
    bad("tokenizer_config.json", "tokenizer_class",
      `is ${JSON.stringify(tokenizerClass)}; supported: ${TOKENIZER_CLASSES.join(", ")} (or PreTrainedTokenizerFast with a tokenizer.json)`);
  if (tcfg.do_basic_tokenize === false)
    bad("tokenizer_config.json", "do_basic_tokenize", "is false; the runtime always runs BERT's basic tokenizer");

  const flag = (field: string, dflt: boolean): boolean => {
    const v = tcfg[field] ?? dflt;
    if (typeof v !== "boolean") bad("tokenizer_config.json", field, `must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  };
  const doLowerCase = flag("do_lower_case", true);
  let stripAccents: boolean | null = null;
  const sa = tcfg.strip_accents;
  if (sa !== undefined && sa !== null) {
    if (typeof sa !== "boolean") bad("tokenizer_config.json", "strip_accents", `must be true, false or null, got ${JSON.stringify(sa)}`);
    stripAccents = sa as boolean;
  }
  const tokenizeChineseChars = flag("tokenize_chinese_chars", true);
  return { doLowerCase, stripAccents, tokenizeChineseChars, cleanText: true, rawFast };
}

interface SpecialToken { token: string | null; from: string }

// Special token strings by role, and where each came from (for error messages).
function specialTokens(tcfg: Json, smap: Json): Record<Role, SpecialToken> {
  const special = {} as Record<Role, SpecialToken>;
  for (const role of ROLES) {
    let from = "BertTokenizer default";
    let v: unknown = DEFAULT_TOKENS[role];
    if (role in tcfg) [v, from] = [tcfg[role], `tokenizer_config.json field ${role}`];
    if (role in smap) [v, from] = [smap[role], `special_tokens_map.json field ${role}`];
    special[role] = { token: tokenString(v, from), from };
  }
  return special;
}

interface VocabSource {
  vocab: (string | null)[];
  options: BasicOptions;
  maxInputCharsPerWord: number;
  cls: string | null;   // from tokenizer.json's post-processor, when there is one
  sep: string | null;
  unk: SpecialToken;
}

// The vocabulary from tokenizer.json, else vocab.txt (+ added_tokens.json), with
// what tokenizer.json overrides.
function readVocab(files: TokenizerFiles, tjson: Json | null, o: BasicOptions & { rawFast: boolean }, unk: SpecialToken): VocabSource {
  const { rawFast, ...options } = o;
  if (tjson) {
    const t = readTokenizerJson(tjson);
    const vocab = t.vocab;
    if (rawFast) Object.assign(options, { doLowerCase: t.doLowerCase, stripAccents: t.stripAccents, tokenizeChineseChars: t.tokenizeChineseChars });
    options.cleanText = t.cleanText;
    addTokens(vocab, addedTokensOf(tjson.added_tokens, "tokenizer.json", "added_tokens"), "tokenizer.json");
    return {
      vocab, options, maxInputCharsPerWord: t.maxInputCharsPerWord, cls: t.clsToken, sep: t.sepToken,
      unk: { token: t.unkToken, from: "tokenizer.json field model.unk_token" },
    };
  }
  const txt = files.bytes("vocab.txt");
  if (!txt) throw new ConvertError(`${files.dir}: no tokenizer.json or vocab.txt found`);
  const vocab: (string | null)[] = readVocabTxt(txt, "vocab.txt");
  const extra = files.json("added_tokens.json");
  if (extra) addTokens(vocab, addedTokensJson(extra), "added_tokens.json");
  return { vocab, options, maxInputCharsPerWord: 100, cls: null, sep: null, unk };
}

// Exactly vocabSize tokens, and the special tokens' ids.
function resolveIds(v: VocabSource, special: Record<Role, SpecialToken>, vocabSize: number, source: string) {
  const { vocab } = v;
  if (vocab.length > vocabSize)
    throw new ConvertError(
      `${source}: has ${vocab.length} tokens but config.json vocab_size is ${vocabSize}; ids beyond the word embedding cannot be embedded`,
    );
  const tokens = finishVocab(vocab, vocabSize);

  // Lookup as the tokenizer does: a token's id is its last occurrence, which
  // finishVocab has made the only one.
  const ids = new Map<string, number>();
  tokens.forEach((tok, i) => ids.set(tok, i));
  const idOf = (token: string | null, from: string, role: string): number => {
    if (token === null) throw new ConvertError(`${from}: the ${role} token is null; the runtime needs one`);
    const id = ids.get(token);
    if (id === undefined || vocab[id] !== token)
      throw new ConvertError(`${from}: ${role} token ${JSON.stringify(token)} is not in ${source}`);
    return id;
  };
  const maskToken = special.mask_token.token;
  const maskAt = maskToken === null ? undefined : ids.get(maskToken);
  return {
    tokens,
    ids: {
      clsId: idOf(v.cls ?? special.cls_token.token, v.cls ? "tokenizer.json post_processor" : special.cls_token.from, "[CLS]"),
      sepId: idOf(v.sep ?? special.sep_token.token, v.sep ? "tokenizer.json post_processor" : special.sep_token.from, "[SEP]"),
      padId: idOf(special.pad_token.token, special.pad_token.from, "[PAD]"),
      unkId: idOf(v.unk.token, v.unk.from, "[UNK]"),
      maskId: maskAt !== undefined && vocab[maskAt] === maskToken ? maskAt : null,
    },
  };
}

// A special token in tokenizer_config.json / special_tokens_map.json: a string,
// an AddedToken dict {"content": ...}, or null (none).
export function tokenString(v: unknown, from: string): string | null {
  if (v === null || typeof v === "string") return v;
  if (typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  throw new ConvertError(`${from}: must be a token string or {"content": ...}, got ${JSON.stringify(v)}`);
}

export function maxLength(tcfg: Json, maxPosition: number): number {
  const field = tcfg.model_max_length !== undefined ? "model_max_length" : "max_len"; // max_len: transformers < 4
  const v = tcfg[field];
  if (v === undefined || v === null || (typeof v === "number" && v >= NO_MAX_LENGTH)) return maxPosition;
  if (!Number.isSafeInteger(v) || (v as number) < 2)
    throw new ConvertError(`tokenizer_config.json: field ${field} must be an integer >= 2 (room for [CLS] and [SEP]), got ${JSON.stringify(v)}`);
  return Math.min(v as number, maxPosition);
}

// transformers' load_vocab: Python text mode turns \r\n and \r into \n, readlines
// splits there, rstrip("\n") removes only the line end. Spaces, tabs and a BOM
// (the file is read as "utf-8", not "utf-8-sig") stay part of the token.
export function readVocabTxt(bytes: Uint8Array, file: string): string[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ConvertError(`${file}: not valid UTF-8`);
  }
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop(); // the last line end does not start a token
  if (lines.length === 0) throw new ConvertError(`${file}: is empty`);
  return lines;
}

interface TokenizerJson {
  vocab: (string | null)[];
  unkToken: string;
  clsToken: string;
  sepToken: string;
  cleanText: boolean;
  doLowerCase: boolean;
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  maxInputCharsPerWord: number;
}

function readTokenizerJson(t: Json): TokenizerJson {
  const F = "tokenizer.json";
  const bad = (field: string, why: string): never => {
    throw new ConvertError(`${F}: field ${field} ${why}`);
  };
  const obj = (v: unknown, field: string): Json => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) bad(field, "is missing or not an object");
    return v as Json;
  };
  const bool = (o: Json, key: string, field: string, dflt: boolean): boolean => {
    const v = o[key] ?? dflt;
    if (typeof v !== "boolean") bad(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  };

  const model = obj(t.model, "model");
  if (model.type !== "WordPiece")
    bad("model.type", `is ${JSON.stringify(model.type)}; only WordPiece tokenizers (BERT, DistilBERT) are supported`);
  const prefix = model.continuing_subword_prefix ?? "##";
  if (prefix !== "##") bad("model.continuing_subword_prefix", `is ${JSON.stringify(prefix)}; the format supports only "##"`);
  const maxChars = model.max_input_chars_per_word ?? 100;
  if (!Number.isSafeInteger(maxChars) || (maxChars as number) <= 0)
    bad("model.max_input_chars_per_word", `must be a positive integer, got ${JSON.stringify(maxChars)}`);
  const unkToken = model.unk_token ?? "[UNK]";
  if (typeof unkToken !== "string") bad("model.unk_token", `must be a string, got ${JSON.stringify(unkToken)}`);

  const vocabObj = obj(model.vocab, "model.vocab");
  const vocab: (string | null)[] = [];
  for (const [token, id] of Object.entries(vocabObj)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= 1 << 24)
      bad(`model.vocab[${JSON.stringify(token)}]`, `must be a token id, got ${JSON.stringify(id)}`);
    while (vocab.length <= (id as number)) vocab.push(null);
    if (vocab[id as number] !== null)
      bad("model.vocab", `gives id ${id} to both ${JSON.stringify(vocab[id as number])} and ${JSON.stringify(token)}`);
    vocab[id as number] = token;
  }
  if (vocab.length === 0) bad("model.vocab", "is empty");

  const norm = t.normalizer;
  if (norm === null || typeof norm !== "object" || (norm as Json).type !== "BertNormalizer")
    bad("normalizer", `is ${JSON.stringify((norm as Json | null)?.type ?? norm)}; only BertNormalizer is supported`);
  const n = norm as Json;
  const pre = t.pre_tokenizer as Json | null;
  if (pre === null || typeof pre !== "object" || pre.type !== "BertPreTokenizer")
    bad("pre_tokenizer", `is ${JSON.stringify(pre?.type ?? pre)}; only BertPreTokenizer is supported`);

  const { cls, sep } = specialTokensOfPostProcessor(t.post_processor, bad);
  return {
    vocab,
    unkToken: unkToken as string,
    clsToken: cls,
    sepToken: sep,
    cleanText: bool(n, "clean_text", "normalizer.clean_text", true),
    doLowerCase: bool(n, "lowercase", "normalizer.lowercase", true),
    stripAccents: n.strip_accents === undefined || n.strip_accents === null ? null : bool(n, "strip_accents", "normalizer.strip_accents", false),
    tokenizeChineseChars: bool(n, "handle_chinese_chars", "normalizer.handle_chinese_chars", true),
    maxInputCharsPerWord: maxChars as number,
  };
}

// The runtime builds "[CLS] A [SEP]" and "[CLS] A [SEP] B [SEP]" (B with type id 1);
// the post-processor must say the same, and it names the tokens actually emitted.
function specialTokensOfPostProcessor(pp: unknown, bad: (field: string, why: string) => never): { cls: string; sep: string } {
  if (pp === null || typeof pp !== "object") bad("post_processor", "is missing; BERT needs [CLS] ... [SEP] added");
  const p = pp as Json;
  if (p.type === "BertProcessing") {
    const pair = (v: unknown, field: string): string => {
      if (!Array.isArray(v) || typeof v[0] !== "string") bad(`post_processor.${field}`, "must be [token, id]");
      return (v as [string])[0];
    };
    return { cls: pair(p.cls, "cls"), sep: pair(p.sep, "sep") };
  }
  if (p.type !== "TemplateProcessing")
    bad("post_processor.type", `is ${JSON.stringify(p.type)}; supported: TemplateProcessing, BertProcessing`);
  const piece = (x: unknown): string => {
    const s = (x as Json)?.SpecialToken as Json | undefined;
    if (s) return `special:${s.id}:${s.type_id}`;
    const q = (x as Json)?.Sequence as Json | undefined;
    if (q) return `seq:${q.id}:${q.type_id}`;
    return "?";
  };
  const single = Array.isArray(p.single) ? p.single.map(piece) : [];
  const m = single.length === 3 && single[1] === "seq:A:0" ? [single[0], single[2]].map((s) => /^special:(.*):0$/.exec(s)) : null;
  if (!m || !m[0] || !m[1])
    bad("post_processor.single", `is ${JSON.stringify(p.single)}; the runtime supports only [CLS] $A [SEP]`);
  const [cls, sep] = [m![0]![1], m![1]![1]];
  if (Array.isArray(p.pair)) {
    const pair = p.pair.map(piece);
    const want = [`special:${cls}:0`, "seq:A:0", `special:${sep}:0`, "seq:B:1", `special:${sep}:1`];
    if (pair.join(" ") !== want.join(" "))
      bad("post_processor.pair", `is ${JSON.stringify(p.pair)}; the runtime supports only [CLS] $A [SEP] $B:1 [SEP]:1`);
  }
  const st = (p.special_tokens ?? {}) as Record<string, Json>;
  for (const tok of [cls, sep]) {
    const ids = st[tok]?.tokens;
    if (ids !== undefined && !(Array.isArray(ids) && ids.length === 1 && ids[0] === tok))
      bad(`post_processor.special_tokens[${JSON.stringify(tok)}]`, "must stand for exactly that one token");
  }
  return { cls, sep };
}

// Added tokens as [id, content] pairs from tokenizer.json's added_tokens list or
// tokenizer_config.json's added_tokens_decoder {"id": {content}}.
export function addedTokensOf(v: unknown, file: string, field: string): [number, string][] {
  if (v === undefined || v === null) return [];
  if (typeof v !== "object") throw new ConvertError(`${file}: field ${field} is not a list or object`);
  const items: [unknown, unknown][] = Array.isArray(v)
    ? v.map((a) => [(a as Json)?.id, (a as Json)?.content])
    : Object.entries(v as Json).map(([k, a]) => [/^\d+$/.test(k) ? Number(k) : k, (a as Json)?.content]);
  return items.map(([id, content]) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0 || typeof content !== "string")
      throw new ConvertError(`${file}: field ${field} has an entry without an integer id and a content string: ${JSON.stringify([id, content])}`);
    return [id as number, content];
  });
}

function addedTokensJson(v: Json): [number, string][] {
  return Object.entries(v).map(([content, id]) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0)
      throw new ConvertError(`added_tokens.json: token ${JSON.stringify(content)} has id ${JSON.stringify(id)}, not an integer`);
    return [id as number, content];
  });
}

// An added token with its AddedToken flags, as tokenizers serialises it.
export interface AddedTokenFlags {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;  // default !special, as AddedToken::from(content, special)
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  where: string;
}

export function addedTokenFlags(v: unknown, file: string, field: string): AddedTokenFlags[] {
  if (v === undefined || v === null) return [];
  const raw: [unknown, unknown][] = Array.isArray(v)
    ? v.map((a) => [(a as Json)?.id, a])
    : Object.entries(v as Json).map(([k, a]) => [/^\d+$/.test(k) ? Number(k) : k, a]);
  return raw.map(([id, a]) => {
    const t = (a ?? {}) as Json;
    const where = `${file}: ${field} entry ${JSON.stringify(t.content)} (id ${id})`;
    const flag = (key: string, dflt: boolean): boolean => {
      const f = t[key] ?? dflt;
      if (typeof f !== "boolean") throw new ConvertError(`${where}: ${key} must be true or false, got ${JSON.stringify(f)}`);
      return f;
    };
    const special = flag("special", false);
    // lstrip / rstrip only widen the match over whitespace next to the token, which
    // BERT's pre-tokenizer drops anyway: the ids are the same either way.
    const lstrip = flag("lstrip", false), rstrip = flag("rstrip", false);
    return { id: id as number, content: t.content as string, special, normalized: flag("normalized", !special), singleWord: flag("single_word", false), lstrip, rstrip, where };
  });
}

// The added tokens the runtime matches whole, leftmost-longest, as tokenizers'
// AddedVocabulary does: normalized: false ones on the raw text, normalized: true
// ones on the normalized text against their own normal form. single_word is
// refused, naming the flag; the [CLS] [SEP] [PAD] [UNK] [MASK] ids are always
// matched raw by the runtime and need no entry. A token listed twice (tokenizer.json
// and tokenizer_config.json) must carry the same flag both times.
function matchedAddedTokens(tokens: string[], specialIds: (number | null)[], added: AddedTokenFlags[]): AddedToken[] {
  const byId = new Map<number, AddedTokenFlags>();
  for (const a of added) {
    if (a.content === "" || specialIds.includes(a.id)) continue; // tokenizers ignores empty tokens
    if (tokens[a.id] !== a.content)
      throw new ConvertError(`${a.where}: the vocab holds ${JSON.stringify(tokens[a.id])} at that id`);
    if (a.singleWord) throw new ConvertError(`${a.where}: single_word is true; not supported`);
    if (new TextEncoder().encode(a.content).length > MAX_ADDED_TOKEN_BYTES)
      throw new ConvertError(`${a.where}: longer than ${MAX_ADDED_TOKEN_BYTES} bytes; not supported`);
    const other = byId.get(a.id);
    if (other && other.normalized !== a.normalized)
      throw new ConvertError(`${a.where}: normalized is ${a.normalized} but ${other.where} says ${other.normalized}`);
    byId.set(a.id, a);
  }
  if (byId.size > MAX_ADDED_TOKENS)
    throw new ConvertError(`tokenizer: ${byId.size} added tokens; the format holds at most ${MAX_ADDED_TOKENS}`);
  return [...byId.values()].sort((x, y) => x.id - y.id).map((a) => ({ id: a.id, normalized: a.normalized }));
}

// Added tokens inside the vocab must agree with it; those past its end extend it,
// in id order and without gaps. (matchedAddedTokens says which the runtime
// matches whole in the raw text, as transformers does.)
export function addTokens(vocab: (string | null)[], added: [number, string][], file: string): void {
  for (const [id, content] of [...added].sort((a, b) => a[0] - b[0])) {
    if (id < vocab.length) {
      if (vocab[id] !== content && vocab[id] !== null)
        throw new ConvertError(`${file}: added token ${JSON.stringify(content)} has id ${id}, which the vocab gives to ${JSON.stringify(vocab[id])}`);
      vocab[id] = content;
    } else if (id === vocab.length) {
      vocab.push(content);
    } else {
      throw new ConvertError(`${file}: added token ${JSON.stringify(content)} has id ${id}, leaving a gap after the vocab's ${vocab.length} tokens`);
    }
  }
}

// Distinct tokens, exactly vocabSize of them: an earlier duplicate (never produced,
// the later id wins the lookup), a hole, and every row past the vocab get placeholders.
export function finishVocab(vocab: (string | null)[], vocabSize: number): string[] {
  const last = new Map<string, number>();
  vocab.forEach((tok, i) => tok !== null && last.set(tok, i));
  let n = 0;
  const placeholder = (): string => {
    let p: string;
    do p = `[unused_pad_${n++}]`;
    while (last.has(p));
    return p;
  };
  const out: string[] = new Array(vocabSize);
  for (let i = 0; i < vocabSize; i++) {
    const tok = i < vocab.length ? vocab[i] : null;
    out[i] = tok !== null && last.get(tok) === i ? tok : placeholder();
  }
  return out;
}
