// Introspection of the loaded file for the host-side model loader
// (host/format/read.ts), so the file has a single parser: this one. Every
// function returns 0 when nothing is loaded or the index is out of range.

import {
  loaded, configWords, configCount, layerRecords, vocab, tensorCount, tensorTable, tensorNames, dataStart,
  metaStart, metaSize, config, stringPtr, stringLen, nameCompares, memoryNeeded,
} from "./reader";
import { addedTokens, addedCount, merges, mergeCount, classRangeCount } from "./reader";
import { unigramScores, charsmapAt, charsmapSize } from "./reader";
import {
  CONFIG_WORDS, LAYER_RECORD_SIZE, TENSOR_ENTRY_SIZE, DTYPE_INT8, LR_HAS_ATTENTION, LR_HAS_FFN, LR_NUM_HEADS,
  LR_FFN_WIDTH, LR_HARD_K, TE_NAME_OFFSET, TE_NAME_LEN, TE_DTYPE, TE_NDIM, TE_DIMS, TE_DATA_OFFSET, TE_SCALE_OFFSET,
  TE_LAYOUT,
} from "./constants";

export function config_word(i: u32): u32 {
  return loaded && i < configCount ? load<u32>(configWords + (i << 2)) : 0;
}

// f: 0 has_attention, 1 has_ffn, 2 num_heads, 3 ffn_width, 4 hard_k.
export function layer_field(i: u32, f: u32): u32 {
  if (!loaded || i >= config.num_layers || f > 4) return 0;
  let r = layerRecords + i * LAYER_RECORD_SIZE;
  if (f == 0) return <u32>load<u8>(r, LR_HAS_ATTENTION);
  if (f == 1) return <u32>load<u8>(r, LR_HAS_FFN);
  if (f == 2) return <u32>load<u16>(r, LR_NUM_HEADS);
  return f == 3 ? load<u32>(r, LR_FFN_WIDTH) : load<u32>(r, LR_HARD_K);
}

export function vocab_count(): u32 { return vocab.count; }
export function vocab_ptr(i: u32): usize { return i < vocab.count ? stringPtr(vocab, i) : 0; }
export function vocab_len(i: u32): u32 { return i < vocab.count ? stringLen(vocab, i) : 0; }
export function added_token_count(): u32 { return addedCount; }
// The Unigram tokenizer's sections as stored (0 when absent).
export function unigram_scores_ptr(): usize { return unigramScores; }
export function charsmap_ptr(): usize { return charsmapAt; }
export function charsmap_size(): u32 { return charsmapAt ? charsmapSize : 0; }
export function added_token_entry(i: u32): u32 { return i < addedCount ? load<u32>(addedTokens + (<usize>i << 2)) : 0; }
// The MERGES section (byte-level BPE): its start and size in bytes, 0 when absent.
export function merges_ptr(): usize { return merges ? merges - 8 - (<usize>classRangeCount << 2) : 0; }
export function merges_size(): u32 { return merges ? 8 + (classRangeCount << 2) + mergeCount * 16 : 0; }

function entry(i: u32): usize { return i < tensorCount ? tensorTable + i * TENSOR_ENTRY_SIZE : 0; }
function field(i: u32, at: u32): u32 { let e = entry(i); return e ? load<u32>(e + at) : 0; }

export function tensor_count(): u32 { return loaded ? tensorCount : 0; }
export function tensor_name_ptr(i: u32): usize { let e = entry(i); return e ? tensorNames + load<u32>(e, TE_NAME_OFFSET) : 0; }
export function tensor_name_len(i: u32): u32 { return field(i, TE_NAME_LEN); }
export function tensor_dtype(i: u32): u32 { return field(i, TE_DTYPE); }
export function tensor_ndim(i: u32): u32 { return field(i, TE_NDIM); }
export function tensor_dim(i: u32, d: u32): u32 { return d < 4 ? field(i, TE_DIMS + (d << 2)) : 0; }
// Absolute addresses of the stored bytes (not of any widened copy).
export function tensor_data_ptr(i: u32): usize { let e = entry(i); return e ? dataStart + load<u32>(e, TE_DATA_OFFSET) : 0; }
export function tensor_scales_ptr(i: u32): usize { let e = entry(i); return e && load<u32>(e, TE_DTYPE) == DTYPE_INT8 ? dataStart + load<u32>(e, TE_SCALE_OFFSET) : 0; }
// LAYOUT_ROWS or LAYOUT_PANELS (docs/format.md "Weight layout").
export function tensor_layout(i: u32): u32 { return field(i, TE_LAYOUT); }

export function meta_ptr(): usize { return loaded ? metaStart : 0; }
export function meta_len(): u32 { return loaded ? metaSize : 0; }

// Byte comparisons the last load's tensor-name index made (an operation count:
// tests hold it to a linear bound in the number of entries).
export function name_compares(): u32 { return <u32>min<u64>(nameCompares, 0xffffffff); }

// The memory the last loaded (or refused) model needs by docs/format.md's
// formula, in KiB, rounded up.
export function memory_needed_kb(): u32 { return <u32>min<u64>((memoryNeeded + 1023) >> 10, 0xffffffff); }
