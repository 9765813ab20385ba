// Test-only wasm entry for test/tokenizer.test.ts (AssemblyScript). It has the .as
// extension so that neither uvu (which imports every *.ts under test/) nor tsc (which
// checks test/**/*.ts) picks it up; the test hands it to asc as a virtual .ts file.
// It exposes the tokenizer and its Unicode/UTF-8 helpers on a raw ABI.

import { Config, StringList } from "../../assembly/model/model";
import { Tokenizer } from "../../assembly/tokenizer/wordpiece";
import { truncatePair } from "../../assembly/tokenizer/template";
import { errorLen, errorPtr } from "../../assembly/errors";
import { charClass, isChineseChar, lowercase, stripAccents } from "../../assembly/tokenizer/unicode";
import { decodeUtf8 } from "../../assembly/tokenizer/utf8";

let tokenizer: Tokenizer | null = null;

export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

// vocab: u32 count, u32 offsets[count + 1], UTF-8 blob (the model file's layout).
// flags: 1 do_lower_case, 2 strip_accents, 4 tokenize_chinese_chars, 8 clean_text.
export function make(
  vocab: usize, flags: u32, cls: i32, sep: i32, pad: i32, unk: i32, mask: i32, maxLen: u32, maxChars: u32,
): void {
  if (tokenizer !== null) tokenizer!.dispose();
  const cfg = new Config();
  cfg.do_lower_case = (flags & 1) != 0;
  cfg.strip_accents = (flags & 2) != 0;
  cfg.tokenize_chinese_chars = (flags & 4) != 0;
  cfg.clean_text = (flags & 8) != 0;
  cfg.cls_id = cls;
  cfg.sep_id = sep;
  cfg.pad_id = pad;
  cfg.unk_id = unk;
  cfg.mask_id = mask;
  cfg.max_len = maxLen;
  cfg.max_input_chars_per_word = maxChars;
  cfg.type_vocab_size = 2; // a BERT: the second segment gets type 1
  const list = new StringList();
  list.count = load<u32>(vocab);
  list.offsets = vocab + 4;
  list.blob = vocab + 4 + (<usize>(list.count + 1) << 2);
  tokenizer = new Tokenizer(cfg, list);
}

export function dispose(): void {
  if (tokenizer !== null) tokenizer!.dispose();
  tokenizer = null;
}

export function encode(a: usize, aLen: u32, b: usize, bLen: i32, maxLen: u32, ids: usize, types: usize): i32 {
  return tokenizer!.encode(a, aLen, b, bLen, maxLen, ids, types);
}

export function error_ptr(): usize {
  return errorPtr();
}

export function error_len(): i32 {
  return errorLen();
}

export function char_class(cp: u32): u32 {
  return charClass(cp) | (isChineseChar(cp) ? 16 : 0);
}

export function lower(cp: u32, out: usize): i32 {
  return lowercase(cp, out);
}

export function strip(cp: u32, out: usize): i32 {
  return stripAccents(cp, out);
}

export function decode(p: usize, end: usize): u64 {
  return decodeUtf8(p, end);
}

export function truncate_pair(nA: u32, nB: u32, budget: u32): u64 {
  return truncatePair(nA, nB, budget);
}
