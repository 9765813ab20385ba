// Test-only wasm entry for test/unigram-hardening.test.ts (AssemblyScript; .as so
// that neither uvu nor tsc picks it up): the Unigram tokenizer on a raw ABI, with
// the vocabulary's work counter (binary-search steps, charsmap trie steps, tokens).

import { Config, StringList } from "../../assembly/model/model";
import { Unigram } from "../../assembly/tokenizer/unigram";
import { resetVocabSteps, vocabSteps } from "../../assembly/tokenizer/vocab";
import { errorLen, errorPtr } from "../../assembly/errors";

let tokenizer: Unigram | null = null;

export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

// vocab: u32 count, u32 offsets[count + 1], UTF-8 blob; scores: f64[count];
// charsmap: the CHARSMAP section (0: none); added: u32[addedCount] ADDED_TOKENS
// entries. <s> </s> <unk> are ids 0, 1, 2. Returns 0, or negative after fail().
export function make(vocab: usize, scores: usize, charsmap: usize, charsmapSize: u32, added: usize, addedCount: u32, flags: u32, maxLen: u32): i32 {
  if (tokenizer !== null) tokenizer!.dispose();
  tokenizer = null;
  const cfg = new Config();
  cfg.cls_id = 0;
  cfg.sep_id = 1;
  cfg.unk_id = 2;
  cfg.max_len = maxLen;
  cfg.tokenizer_flags = flags;
  const list = new StringList();
  list.count = load<u32>(vocab);
  list.offsets = vocab + 4;
  list.blob = vocab + 4 + (<usize>(list.count + 1) << 2);
  tokenizer = Unigram.create(cfg, list, scores, charsmap, charsmapSize, added, addedCount);
  return tokenizer === null ? -1 : 0;
}

export function encode(a: usize, aLen: u32, b: usize, bLen: i32, maxLen: u32, ids: usize, types: usize, offsets: usize): i32 {
  return tokenizer!.encode(a, aLen, b, bLen, maxLen, ids, types, offsets);
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
