// What the pipelines need to know of a tokenizer's words, one function per tokenizer
// kind (WordPiece, byte-level BPE, SentencePiece Unigram), as Hugging Face decides it:
//   isSubword      does a token continue the word before it? (token-classification's
//                  gather_pre_entities, transformers 5.18 pipelines/token_classification.py)
//   decodeTokens   the tokenizer's decoder on token strings (convert_tokens_to_string:
//                  tokenizers' WordPiece, ByteLevel and Metaspace decoders)
//   wordIds        each token's word (Encoding.word_ids, for question answering's
//                  align_to_words)
// Pure and universal (no Node built-ins).

import { codePointLength } from "./offsets.ts";

export type TokenizerKind = "wordpiece" | "bpe" | "unigram";

// gather_pre_entities: a tokenizer whose model has a continuing_subword_prefix
// (WordPiece's "##") compares the token's length with the text it covers ("##ing"
// against "ing": a subword). Byte-level BPE and Unigram have none, and the pipeline
// falls back to its heuristic: a token continues a word when it does not start the
// text and the characters at start - 1 and start hold no " " (the ASCII space only).
// `text`: the text's code points.
export function isSubword(kind: TokenizerKind, text: string[], token: string, start: number, end: number): boolean {
  if (kind === "wordpiece") return codePointLength(token) !== end - start;
  return start > 0 && text[start - 1] !== " " && text[start] !== " ";
}

export function decodeTokens(kind: TokenizerKind, tokens: string[]): string {
  if (kind === "bpe") return byteLevelDecode(tokens);
  if (kind === "unigram") return metaspaceDecode(tokens);
  return wordPieceDecode(tokens);
}

// tokenizers' WordPiece decoder (prefix "##", cleanup on): a "##" piece joins the
// previous token, any other token after the first gets a space; each token then has
// the cleanup replacements (" ." -> "." and so on) applied on its own.
function wordPieceDecode(tokens: string[]): string {
  return tokens.map((tok, i) => {
    let t = tok;
    if (i !== 0) t = t.startsWith("##") ? t.slice(2) : " " + t;
    return cleanup(t);
  }).join("");
}

function cleanup(s: string): string {
  return s
    .replaceAll(" .", ".").replaceAll(" ?", "?").replaceAll(" !", "!").replaceAll(" ,", ",")
    .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" do not", " don't")
    .replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

// GPT-2's bytes_to_unicode(): the printable character standing for each byte.
export function bytesToUnicode(): string[] {
  const out: string[] = [];
  let n = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    out.push(String.fromCharCode(printable ? b : n++));
  }
  return out;
}

let charBytes: Map<string, number> | null = null;
const lossy = new TextDecoder("utf-8"); // U+FFFD per maximal invalid subpart, as Rust's from_utf8_lossy

// tokenizers' ByteLevel decoder: each token's characters back to their bytes (a token
// with any character outside the byte alphabet, e.g. "<s>" or an already decoded
// word, stays its own UTF-8), all the bytes then read as UTF-8, lossily.
function byteLevelDecode(tokens: string[]): string {
  if (!charBytes) charBytes = new Map(bytesToUnicode().map((c, b) => [c, b]));
  const bytes: number[] = [];
  const utf8 = new TextEncoder();
  for (const t of tokens) {
    const mine: number[] = [];
    let ok = true;
    for (const c of t) {
      const b = charBytes.get(c);
      if (b === undefined) { ok = false; break; }
      mine.push(b);
    }
    bytes.push(...(ok ? mine : utf8.encode(t)));
  }
  return lossy.decode(new Uint8Array(bytes));
}

// tokenizers' Metaspace decoder (replacement "▁", prepend_scheme always or first):
// every "▁" is a space, but in the first token, where every "▁" goes.
function metaspaceDecode(tokens: string[]): string {
  return tokens.map((t, i) => (i === 0 ? t.replaceAll("▁", "") : t.replaceAll("▁", " "))).join("");
}

// Word ids of a text's tokens. Byte-level BPE and Unigram: the pre-tokenizer's words,
// as the runtime's tokenizer reports them (tokenizeAll's `words`). WordPiece: a new
// word at every token but a "##" continuation that is not a whole-matched (special or
// added) token.
export function wordIds(words: number[] | undefined, ids: ArrayLike<number>, tokenString: (id: number) => string, added: Set<number>): number[] {
  if (words) return words;
  const out: number[] = [];
  let w = -1;
  for (let i = 0; i < ids.length; i++) {
    const cont = i > 0 && !added.has(ids[i]) && tokenString(ids[i]).startsWith("##");
    if (!cont) w++;
    out.push(w);
  }
  return out;
}
