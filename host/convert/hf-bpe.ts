// A byte-level BPE tokenizer (GPT-2's, as RoBERTa uses it) from a Hugging Face
// folder -> vocabulary, added tokens, TokenizerConfig and the MERGES section, as
// transformers' AutoTokenizer builds the fast tokenizer:
//
// - tokenizer.json when present: model.type BPE with the ByteLevel pre-tokenizer
//   (use_regex), no normalizer, and a RobertaProcessing post-processor (or a
//   TemplateProcessing of <s> $A </s> / <s> $A </s> </s> $B </s>, alone or after a
//   ByteLevel one in a Sequence). Otherwise vocab.json + merges.txt
//   (+ added_tokens.json), read as RobertaTokenizer does.
// - tokenizer_config.json's add_prefix_space / trim_offsets override tokenizer.json's
//   (RobertaTokenizer passes them to the backend), except for tokenizer_class
//   PreTrainedTokenizerFast, which takes tokenizer.json as written.
// - special tokens as for WordPiece (hf-tokenizer.ts) with RoBERTa's defaults; the
//   added tokens (specials included) keep their lstrip / rstrip flags; without a
//   list of them (tokenizer.json's added_tokens, tokenizer_config.json's
//   added_tokens_decoder) the special tokens are the added tokens, with the flags
//   transformers 5 gives them (none).
// Refused, naming the file and field: BPE dropout, continuing_subword_prefix,
// end_of_word_suffix, byte_fallback, ignore_merges, a normalizer, a pre-tokenizer
// other than ByteLevel with its regex, a template other than RoBERTa's, single_word
// added tokens, merges whose tokens are not in the vocabulary.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MAX_ADDED_TOKENS, MAX_ADDED_TOKEN_BYTES } from "../../assembly/format/constants.ts";
import type { AddedToken, TokenizerConfig } from "../model/model.ts";
import { mergesSection, type Merge } from "../format/merges.ts";
import { ConvertError } from "./errors.ts";
import { bytesToUnicode } from "../runtime/subwords.ts";
import {
  TokenizerFiles, addTokens, addedTokenFlags, addedTokensOf, finishVocab, maxLength, tokenString, type AddedTokenFlags, type HfTokenizer,
} from "./hf-tokenizer.ts";

type Json = Record<string, unknown>;

const ROLES = { cls_token: "<s>", sep_token: "</s>", pad_token: "<pad>", unk_token: "<unk>", mask_token: "<mask>" } as const;
type Role = keyof typeof ROLES;
const CLASSES = ["RobertaTokenizer", "RobertaTokenizerFast", "BartTokenizer", "BartTokenizerFast", "LongformerTokenizer", "LongformerTokenizerFast"];

// A folder is byte-level BPE when its tokenizer.json says BPE, or, without one,
// when it has merges.txt; unless tokenizer_config.json names a WordPiece class
// (`wordPiece`), which the WordPiece reader then checks against tokenizer.json.
export function isBpeFolder(dir: string, wordPiece: string[]): boolean {
  const files = new TokenizerFiles(dir);
  if (wordPiece.includes(files.json("tokenizer_config.json")?.tokenizer_class as string)) return false;
  if (existsSync(join(dir, "tokenizer.json"))) return (files.json("tokenizer.json")?.model as Json | undefined)?.type === "BPE";
  return existsSync(join(dir, "merges.txt"));
}

const bad = (file: string, field: string, why: string): never => {
  throw new ConvertError(`${file}: field ${field} ${why}`);
};

export function readHfBpe(dir: string, vocabSize: number, maxPosition: number): HfTokenizer {
  const files = new TokenizerFiles(dir);
  const tcfg = files.json("tokenizer_config.json") ?? {};
  const smap = files.json("special_tokens_map.json") ?? {};
  const tjson = files.json("tokenizer.json");
  const cls = tcfg.tokenizer_class;
  const rawFast = cls === "PreTrainedTokenizerFast" && tjson !== null;
  if (cls !== undefined && cls !== null && !rawFast && !CLASSES.includes(cls as string))
    bad("tokenizer_config.json", "tokenizer_class", `is ${JSON.stringify(cls)}; byte-level BPE supports ${CLASSES.join(", ")} (or PreTrainedTokenizerFast with a tokenizer.json)`);

  const flag = (o: Json, key: string, file: string, field: string, dflt: boolean): boolean => {
    const v = o[key] ?? dflt;
    if (typeof v !== "boolean") bad(file, field, `must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  };

  let vocab: (string | null)[];
  let merges: [string, string][];
  let mergesFile: string;
  let options = { addPrefixSpace: false, trimOffsets: true, trimPrefixSpace: false };
  let post: { cls: string; sep: string } | null = null;
  let added: AddedFlags[] = [];
  if (tjson) {
    const t = readTokenizerJson(tjson);
    ({ vocab, merges, options, post } = t);
    mergesFile = "tokenizer.json";
    addTokens(vocab, addedTokensOf(tjson.added_tokens, "tokenizer.json", "added_tokens"), "tokenizer.json");
    added = addedFlags(tjson.added_tokens, "tokenizer.json", "added_tokens");
  } else {
    const vj = files.json("vocab.json");
    if (!vj) throw new ConvertError(`${dir}: no tokenizer.json, or vocab.json with merges.txt, found`);
    vocab = vocabOf(vj, "vocab.json", "");
    const mt = files.bytes("merges.txt");
    if (!mt) throw new ConvertError(`${dir}: vocab.json without merges.txt`);
    merges = readMergesTxt(mt);
    mergesFile = "merges.txt";
    const extra = files.json("added_tokens.json");
    if (extra) addTokens(vocab, Object.entries(extra).map(([content, id]) => {
      if (!Number.isSafeInteger(id) || (id as number) < 0) bad("added_tokens.json", JSON.stringify(content), `has id ${JSON.stringify(id)}, not an integer`);
      return [id as number, content] as [number, string];
    }), "added_tokens.json");
  }
  if (!rawFast) {
    if (tcfg.add_prefix_space !== undefined) {
      const v = flag(tcfg, "add_prefix_space", "tokenizer_config.json", "add_prefix_space", false);
      options = { ...options, addPrefixSpace: v, trimPrefixSpace: v };
    }
    if (tcfg.trim_offsets !== undefined) options.trimOffsets = flag(tcfg, "trim_offsets", "tokenizer_config.json", "trim_offsets", true);
  }
  if (tcfg.added_tokens_decoder !== undefined) {
    addTokens(vocab, addedTokensOf(tcfg.added_tokens_decoder, "tokenizer_config.json", "added_tokens_decoder"), "tokenizer_config.json");
    added.push(...addedFlags(tcfg.added_tokens_decoder, "tokenizer_config.json", "added_tokens_decoder"));
  }

  // Special tokens: special_tokens_map.json over tokenizer_config.json over RoBERTa's defaults.
  const special = {} as Record<Role, { token: string | null; from: string }>;
  for (const role of Object.keys(ROLES) as Role[]) {
    let from = "RobertaTokenizer default";
    let v: unknown = ROLES[role];
    if (role in tcfg) [v, from] = [tcfg[role], `tokenizer_config.json field ${role}`];
    if (role in smap) [v, from] = [smap[role], `special_tokens_map.json field ${role}`];
    special[role] = { token: tokenString(v, from), from };
  }
  if (vocab.length > vocabSize)
    throw new ConvertError(`${mergesFile === "merges.txt" ? "vocab.json" : "tokenizer.json"}: has ${vocab.length} tokens but config.json vocab_size is ${vocabSize}; ids beyond the word embedding cannot be embedded`);
  const tokens = finishVocab(vocab, vocabSize);
  const ids = new Map<string, number>();
  tokens.forEach((tok, i) => ids.set(tok, i));
  const idOf = (token: string | null, from: string, role: string): number => {
    if (token === null) throw new ConvertError(`${from}: the ${role} token is null; the runtime needs one`);
    const id = ids.get(token);
    if (id === undefined || vocab[id] !== token) throw new ConvertError(`${from}: ${role} token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  const specialIds = {
    clsId: idOf(post?.cls ?? special.cls_token.token, post ? "tokenizer.json post_processor" : special.cls_token.from, "<s>"),
    sepId: idOf(post?.sep ?? special.sep_token.token, post ? "tokenizer.json post_processor" : special.sep_token.from, "</s>"),
    padId: idOf(special.pad_token.token, special.pad_token.from, "<pad>"),
    unkId: ids.get(special.unk_token.token ?? "") ?? 0, // byte-level BPE never produces it
    maskId: special.mask_token.token !== null && ids.has(special.mask_token.token) ? ids.get(special.mask_token.token)! : null,
  };
  // Without a list of added tokens, the special tokens are the ones.
  if (added.length === 0) {
    for (const role of Object.keys(ROLES) as Role[]) {
      const tok = special[role].token;
      if (tok !== null && ids.has(tok)) added.push({ id: ids.get(tok)!, content: tok, normalized: false, lstrip: false, rstrip: false, where: special[role].from });
    }
  }

  // Every byte must have its byte-level character in the vocabulary.
  const byteChars = bytesToUnicode();
  for (let b = 0; b < 256; b++) {
    if (!ids.has(byteChars[b]))
      throw new ConvertError(`${mergesFile === "merges.txt" ? "vocab.json" : "tokenizer.json field model.vocab"}: no token for byte ${b} (byte-level character ${JSON.stringify(byteChars[b])}); a byte-level BPE vocabulary holds all 256`);
  }
  // Merges: the later of two equal pairs wins, as in tokenizers' merge map.
  const seen = new Map<string, number>();
  const list: Merge[] = [];
  merges.forEach(([a, b], line) => {
    const at = mergesFile === "merges.txt" ? `merges.txt: line ${line + 2}` : `tokenizer.json: model.merges[${line}]`;
    const ia = ids.get(a), ib = ids.get(b), ic = ids.get(a + b);
    if (ia === undefined || vocab[ia] !== a) throw new ConvertError(`${at}: token ${JSON.stringify(a)} is not in the vocabulary`);
    if (ib === undefined || vocab[ib] !== b) throw new ConvertError(`${at}: token ${JSON.stringify(b)} is not in the vocabulary`);
    if (ic === undefined || vocab[ic] !== a + b) throw new ConvertError(`${at}: the merged token ${JSON.stringify(a + b)} is not in the vocabulary`);
    const key = `${ia} ${ib}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) list[earlier] = null as unknown as Merge;
    seen.set(key, list.length);
    list.push([ia, ib, ic]);
  });
  const addedTokens = matchedAdded(tokens, added);
  const tokenizer: TokenizerConfig = {
    doLowerCase: false, stripAccents: false, tokenizeChineseChars: false, cleanText: false,
    ...specialIds,
    maxLen: maxLength(tcfg, maxPosition),
    maxInputCharsPerWord: 100,
    kind: "bpe",
    template: "roberta",
    bpe: options,
  };
  return { vocab: tokens, addedTokens, tokenizer, files: files.read, merges: mergesSection(list.filter((m) => m !== null)) };
}

// GPT-2's bytes_to_unicode(): byte -> its character (one definition, with the ByteLevel decoder).
export { bytesToUnicode };

function vocabOf(v: unknown, file: string, field: string): (string | null)[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) bad(file, field || "(top level)", "is not an object of token -> id");
  const vocab: (string | null)[] = [];
  for (const [token, id] of Object.entries(v as Json)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= 1 << 24)
      bad(file, `${field}[${JSON.stringify(token)}]`, `must be a token id, got ${JSON.stringify(id)}`);
    while (vocab.length <= (id as number)) vocab.push(null);
    if (vocab[id as number] !== null) bad(file, field || "(top level)", `gives id ${id} to both ${JSON.stringify(vocab[id as number])} and ${JSON.stringify(token)}`);
    vocab[id as number] = token;
  }
  if (vocab.length === 0) bad(file, field || "(top level)", "is empty");
  return vocab;
}

// merges.txt as tokenizers reads it: a first line starting with "#version" is
// skipped, every other line is two tokens separated by one space.
function readMergesTxt(bytes: Uint8Array): [string, string][] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConvertError("merges.txt: not valid UTF-8");
  }
  const lines = text.split("\n");
  const out: [string, string][] = [];
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (i === 0 && line.startsWith("#version")) return;
    if (line === "" && i === lines.length - 1) return;
    const parts = line.split(" ");
    if (parts.length !== 2) throw new ConvertError(`merges.txt: line ${i + 1} is not two tokens separated by one space: ${JSON.stringify(line.slice(0, 80))}`);
    out.push([parts[0], parts[1]]);
  });
  return out;
}

interface BpeJson {
  vocab: (string | null)[];
  merges: [string, string][];
  options: { addPrefixSpace: boolean; trimOffsets: boolean; trimPrefixSpace: boolean };
  post: { cls: string; sep: string };
}

function readTokenizerJson(t: Json): BpeJson {
  const F = "tokenizer.json";
  const model = t.model as Json;
  const empty = (key: string) => {
    const v = model[key];
    if (v !== undefined && v !== null && v !== "") bad(F, `model.${key}`, `is ${JSON.stringify(v)}; byte-level BPE supports none`);
  };
  if (model.dropout !== undefined && model.dropout !== null) bad(F, "model.dropout", `is ${JSON.stringify(model.dropout)}; BPE dropout is not supported`);
  empty("continuing_subword_prefix");
  empty("end_of_word_suffix");
  for (const key of ["byte_fallback", "ignore_merges"]) {
    if (model[key] !== undefined && model[key] !== false) bad(F, `model.${key}`, `is ${JSON.stringify(model[key])}; only false is supported`);
  }
  const vocab = vocabOf(model.vocab, F, "model.vocab");
  if (!Array.isArray(model.merges)) bad(F, "model.merges", "is not a list");
  const merges = (model.merges as unknown[]).map((m, i): [string, string] => {
    if (typeof m === "string") {
      const parts = m.split(" ");
      if (parts.length === 2) return [parts[0], parts[1]];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string") {
      return [m[0], m[1]];
    }
    return bad(F, `model.merges[${i}]`, `is ${JSON.stringify(m)}; expected "a b" or ["a", "b"]`);
  });
  if (t.normalizer !== null && t.normalizer !== undefined)
    bad(F, "normalizer", `is ${JSON.stringify((t.normalizer as Json).type)}; byte-level BPE supports none`);
  const pre = t.pre_tokenizer as Json | null;
  if (pre?.type !== "ByteLevel") bad(F, "pre_tokenizer", `is ${JSON.stringify(pre?.type ?? pre)}; byte-level BPE supports ByteLevel`);
  if (pre!.use_regex === false) bad(F, "pre_tokenizer.use_regex", "is false; only GPT-2's regex is supported");
  const bool = (o: Json, key: string, field: string, dflt: boolean): boolean => {
    const v = o[key] ?? dflt;
    if (typeof v !== "boolean") bad(F, field, `must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  };
  const addPrefixSpace = bool(pre!, "add_prefix_space", "pre_tokenizer.add_prefix_space", true);
  const pp = t.post_processor as Json | null;
  let trimOffsets = false, trimPrefixSpace = false;
  let post: { cls: string; sep: string };
  const pair = (v: unknown, field: string): string => {
    if (!Array.isArray(v) || typeof v[0] !== "string") bad(F, `post_processor.${field}`, "must be [token, id]");
    return (v as [string])[0];
  };
  if (pp?.type === "RobertaProcessing") {
    post = { cls: pair(pp.cls, "cls"), sep: pair(pp.sep, "sep") };
    trimOffsets = bool(pp, "trim_offsets", "post_processor.trim_offsets", true);
    trimPrefixSpace = bool(pp, "add_prefix_space", "post_processor.add_prefix_space", true);
  } else if (pp?.type === "TemplateProcessing") {
    post = robertaTemplate(pp, "post_processor");
  } else if (pp?.type === "Sequence" && Array.isArray(pp.processors) && pp.processors.length === 2 &&
    (pp.processors[0] as Json)?.type === "ByteLevel" && (pp.processors[1] as Json)?.type === "TemplateProcessing") {
    const bl = pp.processors[0] as Json;
    trimOffsets = bool(bl, "trim_offsets", "post_processor.processors[0].trim_offsets", true);
    trimPrefixSpace = bool(bl, "add_prefix_space", "post_processor.processors[0].add_prefix_space", true);
    post = robertaTemplate(pp.processors[1] as Json, "post_processor.processors[1]");
  } else {
    return bad(F, "post_processor", `is ${JSON.stringify(pp?.type ?? pp)}; supported: RobertaProcessing, TemplateProcessing (<s> $A </s>), Sequence of ByteLevel and TemplateProcessing`);
  }
  return { vocab, merges, options: { addPrefixSpace, trimOffsets, trimPrefixSpace }, post };
}

// <s> $A </s> and <s> $A </s> </s> $B </s>; returns <s> and </s>.
function robertaTemplate(p: Json, field: string): { cls: string; sep: string } {
  const piece = (x: unknown): string => {
    const s = (x as Json)?.SpecialToken as Json | undefined;
    if (s) return `special:${s.id}`;
    const q = (x as Json)?.Sequence as Json | undefined;
    return q ? `seq:${q.id}` : "?";
  };
  const single = Array.isArray(p.single) ? p.single.map(piece) : [];
  const m = single.length === 3 && single[1] === "seq:A" && single[0].startsWith("special:") && single[2].startsWith("special:");
  if (!m) bad("tokenizer.json", `${field}.single`, `is ${JSON.stringify(p.single)}; the runtime supports <s> $A </s>`);
  const [cls, sep] = [single[0].slice(8), single[2].slice(8)];
  const want = [`special:${cls}`, "seq:A", `special:${sep}`, `special:${sep}`, "seq:B", `special:${sep}`].join(" ");
  if (Array.isArray(p.pair) && p.pair.map(piece).join(" ") !== want)
    bad("tokenizer.json", `${field}.pair`, `is ${JSON.stringify(p.pair)}; the runtime supports <s> $A </s> </s> $B </s>`);
  return { cls, sep };
}

type AddedFlags = Pick<AddedTokenFlags, "id" | "content" | "normalized" | "lstrip" | "rstrip" | "where">;

// tokenizers' AddedToken flags; single_word is refused.
function addedFlags(v: unknown, file: string, field: string): AddedFlags[] {
  return addedTokenFlags(v, file, field).map((a) => {
    if (a.singleWord) throw new ConvertError(`${a.where}: single_word is true; not supported`);
    return a;
  });
}

// One entry per id (a later listing must agree), at most MAX_ADDED_TOKENS.
function matchedAdded(tokens: string[], added: AddedFlags[]): AddedToken[] {
  const byId = new Map<number, AddedFlags>();
  for (const a of added) {
    if (a.content === "") continue;
    if (tokens[a.id] !== a.content) throw new ConvertError(`${a.where}: the vocab holds ${JSON.stringify(tokens[a.id])} at that id`);
    if (new TextEncoder().encode(a.content).length > MAX_ADDED_TOKEN_BYTES)
      throw new ConvertError(`${a.where}: longer than ${MAX_ADDED_TOKEN_BYTES} bytes; not supported`);
    const o = byId.get(a.id);
    if (o && (o.normalized !== a.normalized || o.lstrip !== a.lstrip || o.rstrip !== a.rstrip))
      throw new ConvertError(`${a.where}: its flags differ from ${o.where}`);
    byId.set(a.id, a);
  }
  if (byId.size > MAX_ADDED_TOKENS) throw new ConvertError(`tokenizer: ${byId.size} added tokens; the format holds at most ${MAX_ADDED_TOKENS}`);
  return [...byId.values()].sort((x, y) => x.id - y.id).map((a) => ({
    id: a.id, normalized: a.normalized, ...(a.lstrip ? { lstrip: true } : {}), ...(a.rstrip ? { rstrip: true } : {}),
  }));
}
