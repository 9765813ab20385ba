// Test-only wasm entry for test/tokenizer-hardening.test.ts (AssemblyScript; .as
// so that neither uvu nor tsc picks it up, see wordpiece_exports.as). The tokenizer
// on a raw ABI, with the vocabulary's work counter.

import { Config, StringList } from "../../assembly/model/model";
import { Tokenizer } from "../../assembly/tokenizer/wordpiece";
import { resetVocabSteps, vocabSteps } from "../../assembly/tokenizer/vocab";
import { errorLen, errorPtr } from "../../assembly/errors";

let tokenizer: Tokenizer | null = null;

export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

// vocab: u32 count, u32 offsets[count + 1], UTF-8 blob (the model file's layout).
// No normalization but clean_text; [CLS] [SEP] [PAD] [UNK] are ids 0..3.
// Returns 0, or negative with the message at error_ptr().
export function make(vocab: usize, maxLen: u32, maxChars: u32, typeVocabSize: u32, flags: u32): i32 {
  if (tokenizer !== null) tokenizer!.dispose();
  tokenizer = null;
  const cfg = new Config();
  cfg.clean_text = true;
  cfg.cls_id = 0;
  cfg.sep_id = 1;
  cfg.pad_id = 2;
  cfg.unk_id = 3;
  cfg.max_len = maxLen;
  cfg.max_input_chars_per_word = maxChars;
  cfg.type_vocab_size = typeVocabSize;
  cfg.flags = flags;
  const list = new StringList();
  list.count = load<u32>(vocab);
  list.offsets = vocab + 4;
  list.blob = vocab + 4 + (<usize>(list.count + 1) << 2);
  tokenizer = Tokenizer.create(cfg, list);
  return tokenizer === null ? -1 : 0;
}

export function encode(a: usize, aLen: u32, b: usize, bLen: i32, maxLen: u32, ids: usize, types: usize): i32 {
  return tokenizer!.encode(a, aLen, b, bLen, maxLen, ids, types);
}

export function steps(): f64 {
  return <f64>vocabSteps;
}

export function reset_steps(): void {
  resetVocabSteps();
}

export function error_ptr(): usize {
  return errorPtr();
}

export function error_len(): i32 {
  return errorLen();
}
