// The mutations of the model-file fuzzer. Each takes a fresh copy of a valid
// file and returns the mutated bytes and a name for the statistics.
//
// Two families here, and the generative gen.* families of families.ts:
//   raw.*      bytes changed with the checksums left alone: what a damaged disk
//              or a bad download does. The CRCs must catch almost all of it.
//   struct.*   one field of the structure changed (a count, an offset, a dims
//              word, a CONFIG value, a string-list offset, a weight value), then
//              every section CRC and the header CRC recomputed, as a buggy or
//              hostile writer would: this reaches the reader's checks behind the
//              checksums, and some of it loads (a valid but odd model) and must
//              then run without trapping.

import * as F from "../../assembly/format/constants.ts";
import { fixCrcs, parseLayout, readU32, writeU16, writeU32, type Layout } from "./axf-layout.ts";
import { generate } from "./families.ts";

export type Rand = () => number;

export interface Mutation {
  bytes: Uint8Array;
  kind: string;
}

const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[int(rand, xs.length)];

// Values that sit on the boundaries the reader checks, or wrap its arithmetic.
function interesting(rand: Rand, orig: number, fileSize: number): number {
  const r = int(rand, 12);
  if (r < 4) {
    return pick(rand, [
      0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 0x7fff, 0x8000, 0xffff,
      0x10000, 0x10001, 1 << 20, (1 << 20) + 1, 1 << 24, (1 << 24) + 1, 1 << 26, 1 << 28, 1 << 30,
      0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffff0, 0xfffffffe, 0xffffffff,
    ]);
  }
  if (r < 8) return (orig + pick(rand, [-16, -4, -2, -1, 1, 2, 4, 16, 64])) >>> 0;
  if (r < 9) return (orig * 2) >>> 0;
  if (r < 10) return pick(rand, [fileSize, fileSize - 1, fileSize + 1, fileSize - orig, fileSize + 16]) >>> 0;
  if (r < 11) return (orig ^ (1 << int(rand, 32))) >>> 0;
  return (rand() * 2 ** 32) >>> 0;
}

// ---- raw mutations (checksums untouched)

function rawBitflip(b: Uint8Array, _l: Layout, rand: Rand): string {
  const n = 1 + int(rand, 8);
  for (let i = 0; i < n; i++) b[int(rand, b.length)] ^= 1 << int(rand, 8);
  return "raw.bitflip";
}

function rawBytes(b: Uint8Array, _l: Layout, rand: Rand): string {
  const len = 1 + int(rand, 32), at = int(rand, b.length);
  const fill = int(rand, 3);
  for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = fill === 0 ? 0 : fill === 1 ? 0xff : int(rand, 256);
  return "raw.bytes";
}

// Flips bits inside DATA only: the weights. The DATA CRC must catch every one.
export function dataBitflips(b: Uint8Array, l: Layout, rand: Rand, bits: number): void {
  const d = l.byKind.get(F.SECTION_DATA)!;
  for (let i = 0; i < bits; i++) b[d.offset + int(rand, d.size)] ^= 1 << int(rand, 8);
}

// ---- structured mutations (checksums recomputed by the caller)

function header(b: Uint8Array, _l: Layout, rand: Rand): string {
  const field = pick(rand, [["magic", F.HDR_MAGIC], ["version", F.HDR_VERSION], ["file_size", F.HDR_FILE_SIZE], ["section_count", F.HDR_SECTION_COUNT], ["reserved", F.HDR_RESERVED + 4 * int(rand, 11)]] as const);
  writeU32(b, field[1], interesting(rand, readU32(b, field[1]), b.length));
  return `struct.header.${field[0]}`;
}

function section(b: Uint8Array, l: Layout, rand: Rand): string {
  const s = pick(rand, l.sections);
  const r = int(rand, 4);
  if (r === 0) {
    writeU32(b, s.entry + F.SEC_KIND, pick(rand, [0, 1, 2, 3, 4, 5, 6, 7, 8, 99, 0xffffffff]));
    return "struct.section.kind";
  }
  if (r === 3) {
    // Point it at another section (overlap, or a section read as another kind).
    const o = pick(rand, l.sections);
    writeU32(b, s.entry + F.SEC_OFFSET, o.offset);
    if (rand() < 0.5) writeU32(b, s.entry + F.SEC_SIZE, o.size);
    return "struct.section.aliased";
  }
  const at = s.entry + (r === 1 ? 4 : 8);
  writeU32(b, at, interesting(rand, readU32(b, at), b.length));
  return r === 1 ? "struct.section.offset" : "struct.section.size";
}

function config(b: Uint8Array, l: Layout, rand: Rand): string {
  const c = l.byKind.get(F.SECTION_CONFIG)!;
  const w = int(rand, F.CONFIG_WORDS);
  const at = c.offset + 4 * w;
  writeU32(b, at, w === F.CFG_LAYER_NORM_EPS && rand() < 0.5
    ? pick(rand, [0x7fc00000, 0x7f800000, 0xff800000, 0x80000000, 0, 0x00000001, 0xbf800000, 0x7f7fffff])
    : interesting(rand, readU32(b, at), b.length));
  return "struct.config";
}

function layers(b: Uint8Array, l: Layout, rand: Rand): string {
  const s = l.byKind.get(F.SECTION_LAYERS)!;
  const r = s.offset + F.LAYER_RECORD_SIZE * int(rand, s.size / F.LAYER_RECORD_SIZE);
  const f = int(rand, 6);
  // f: has_attention, has_ffn (u8), num_heads (u16), ffn_width, hard_k, reserved (u32, consecutive)
  if (f === 0 || f === 1) b[r + (f === 0 ? F.LR_HAS_ATTENTION : F.LR_HAS_FFN)] = pick(rand, [0, 1, 2, 255]);
  else if (f === 2) writeU16(b, r + F.LR_NUM_HEADS, interesting(rand, b[r + F.LR_NUM_HEADS] | (b[r + F.LR_NUM_HEADS + 1] << 8), 0) & 0xffff);
  else writeU32(b, r + F.LR_FFN_WIDTH + 4 * (f - 3), interesting(rand, readU32(b, r + F.LR_FFN_WIDTH + 4 * (f - 3)), b.length));
  return `struct.layers.${["has_attention", "has_ffn", "num_heads", "ffn_width", "hard_k", "reserved"][f]}`;
}

// Byte sequences that are not UTF-8: a lone continuation, an overlong encoding,
// a surrogate, a code point past U+10FFFF, a truncated sequence, bytes never used.
const BAD_UTF8 = [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]];

function stringList(b: Uint8Array, l: Layout, rand: Rand): string {
  const kind = rand() < 0.7 ? F.SECTION_VOCAB : F.SECTION_LABELS;
  const name = kind === F.SECTION_VOCAB ? "vocab" : "labels";
  const s = l.byKind.get(kind)!;
  const count = readU32(b, s.offset);
  const blob = s.offset + 4 * (count + 2);
  const r = int(rand, 5);
  if (r === 0) {
    writeU32(b, s.offset, interesting(rand, count, b.length));
    return `struct.${name}.count`;
  }
  if (r === 1) {
    const at = s.offset + 4 + 4 * int(rand, count + 1);
    writeU32(b, at, interesting(rand, readU32(b, at), s.size));
    return `struct.${name}.offsets`;
  }
  if (r === 2 && blob < s.offset + s.size) {
    const seq = pick(rand, BAD_UTF8);
    const at = blob + int(rand, s.offset + s.size - blob);
    for (let i = 0; i < seq.length && at + i < s.offset + s.size; i++) b[at + i] = seq[i];
    return `struct.${name}.bad-utf8`;
  }
  if (r === 3) {
    // Two offsets made equal: an empty string, and often duplicate tokens.
    const i = 1 + int(rand, count);
    writeU32(b, s.offset + 4 + 4 * i, readU32(b, s.offset + 4 * i));
    return `struct.${name}.empty-string`;
  }
  // Valid UTF-8 rewritten: duplicate or odd tokens, still a well-formed list.
  if (blob < s.offset + s.size) {
    const at = blob + int(rand, s.offset + s.size - blob);
    b[at] = pick(rand, [0x23, 0x5b, 0x5d, 0x20, 0x00, 0x41, 0x61, 0x7f]); // # [ ] space NUL A a DEL
  }
  return `struct.${name}.ascii`;
}

const ENTRY_FIELDS = ["name_offset", "name_length", "dtype", "ndim", "dims0", "dims1", "dims2", "dims3",
  "data_offset", "data_size", "scale_offset", "scale_size", "layout", "reserved"];

function tensorTable(b: Uint8Array, l: Layout, rand: Rand): string {
  const t = l.byKind.get(F.SECTION_TENSORS)!;
  const r = int(rand, 10);
  if (r === 0) {
    writeU32(b, t.offset, interesting(rand, l.tensors.length, b.length));
    return "struct.tensors.count";
  }
  const e = pick(rand, l.tensors);
  if (r === 1) {
    // A shape whose element count overflows 32 bits, with data_size wrapped to
    // what 32-bit arithmetic would compute (the classic overflow).
    const item = e.dtype === F.DTYPE_F32 ? 4 : e.dtype === F.DTYPE_F16 ? 2 : 1;
    const rows = pick(rand, [0x10000, 0x40000000, 0x80000000, 0xffffffff, e.dims[0]]);
    const cols = pick(rand, [0x10000, 0x10001, 0x40000000, 4, e.dims[1] ?? 1]);
    writeU32(b, e.at + F.TE_NDIM, 2);
    writeU32(b, e.at + F.TE_DIMS, rows);
    writeU32(b, e.at + F.TE_DIMS + 4, cols);
    writeU32(b, e.at + F.TE_DATA_SIZE, Number((BigInt(rows) * BigInt(cols) * BigInt(item)) & 0xffffffffn));
    return "struct.tensors.shape-overflow";
  }
  if (r === 2) {
    // Data that points past the end of DATA, with a consistent size.
    const d = l.byKind.get(F.SECTION_DATA)!;
    writeU32(b, e.at + F.TE_DATA_OFFSET, (Math.ceil(d.size / 16) * 16 + 16 * int(rand, 4)) >>> 0);
    return "struct.tensors.data-past-end";
  }
  if (r === 3 && l.tensors.length > 1) {
    // Two entries' names swapped: each name now has the other's shape and data.
    const o = pick(rand, l.tensors);
    const a = b.slice(e.at, e.at + F.TE_DTYPE); // name_offset, name_len
    b.copyWithin(e.at, o.at, o.at + F.TE_DTYPE);
    b.set(a, o.at);
    return "struct.tensors.swap-names";
  }
  if (r === 4) {
    // A name changed to another tensor's name (a duplicate) or to bad UTF-8.
    if (rand() < 0.5) {
      const o = pick(rand, l.tensors);
      writeU32(b, e.at + F.TE_NAME_OFFSET, readU32(b, o.at + F.TE_NAME_OFFSET));
      writeU32(b, e.at + F.TE_NAME_LEN, readU32(b, o.at + F.TE_NAME_LEN));
      return "struct.tensors.duplicate-name";
    }
    // Bytes in the name that must not reach a terminal through an error message
    // (an escape sequence, NUL, DEL, a quote, bad UTF-8); half the time the entry
    // is also made invalid, so that the message names it.
    const at = l.namesAt + readU32(b, e.at + F.TE_NAME_OFFSET) + int(rand, Math.max(1, readU32(b, e.at + F.TE_NAME_LEN)));
    const seq = pick(rand, [...BAD_UTF8, [0x1b, 0x5b, 0x33, 0x31, 0x6d], [0x00], [0x7f], [0x27], [0x0a], [0x9b]]);
    for (let i = 0; i < seq.length && at + i < t.offset + t.size; i++) b[at + i] = seq[i];
    if (rand() < 0.5) { writeU32(b, e.at + F.TE_RESERVED, 1); return "struct.tensors.name-bytes-named"; }
    return "struct.tensors.name-bytes";
  }
  const f = int(rand, ENTRY_FIELDS.length);
  const at = e.at + 4 * f;
  writeU32(b, at, f === 2 || f === 3 || f === 12 ? pick(rand, [0, 1, 2, 3, 4, 0xffffffff]) : interesting(rand, readU32(b, at), b.length));
  return `struct.tensors.${ENTRY_FIELDS[f]}`;
}

// f32 / f16 bit patterns: NaN, infinities, the largest finite values, denormals.
const F32_SPECIAL = [0x7fc00000, 0x7f800000, 0xff800000, 0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000000, 0x7f800001, 0x4b800000];
const F16_SPECIAL = [0x7e00, 0x7c00, 0xfc00, 0x7bff, 0xfbff, 0x0001, 0x8000, 0x7c01];

function dataValues(b: Uint8Array, l: Layout, rand: Rand): string {
  const e = pick(rand, l.tensors);
  const scales = e.dtype === F.DTYPE_INT8 && rand() < 0.5;
  const n = 1 + int(rand, 4);
  for (let k = 0; k < n; k++) {
    if (scales) {
      writeU32(b, e.scaleOffset + 4 * int(rand, e.scaleSize / 4), pick(rand, [...F32_SPECIAL, 0, 0xbf800000]));
    } else if (e.dtype === F.DTYPE_F32) {
      writeU32(b, e.dataOffset + 4 * int(rand, e.dataSize / 4), pick(rand, F32_SPECIAL));
    } else if (e.dtype === F.DTYPE_F16) {
      writeU16(b, e.dataOffset + 2 * int(rand, e.dataSize / 2), pick(rand, F16_SPECIAL));
    } else {
      b[e.dataOffset + int(rand, e.dataSize)] = pick(rand, [0x80, 0x7f, 0x00, 0x81]);
    }
  }
  return scales ? "struct.data.int8-scales" : `struct.data.${["", "f32", "f16", "int8"][e.dtype]}-values`;
}

// Changes that keep the file valid: a model that loads, with an odd config the
// forward pass and the tokenizer must handle.
function validVariant(b: Uint8Array, l: Layout, rand: Rand): string {
  const c = l.byKind.get(F.SECTION_CONFIG)!.offset;
  const word = (i: number) => readU32(b, c + 4 * i);
  const set = (i: number, v: number) => writeU32(b, c + 4 * i, v);
  const vocab = word(F.CFG_VOCAB_SIZE), labels = word(F.CFG_NUM_LABELS);
  const r = int(rand, 9);
  if (r === 0) set(F.CFG_HIDDEN_ACT, 1 + int(rand, 3));
  else if (r === 1 && labels > 1) set(F.CFG_PROBLEM_TYPE, pick(rand, [0, 2]));
  else if (r === 2) {
    set(F.CFG_DO_LOWER_CASE, int(rand, 2)); set(F.CFG_STRIP_ACCENTS, int(rand, 3));
    set(F.CFG_TOKENIZE_CHINESE_CHARS, int(rand, 2)); set(F.CFG_CLEAN_TEXT, int(rand, 2));
  } else if (r === 3) set(F.CFG_MAX_LEN, 2 + int(rand, word(F.CFG_MAX_POSITION) - 1));
  else if (r === 4) set(F.CFG_MAX_INPUT_CHARS_PER_WORD, pick(rand, [1, 2, 3, 5, 100, 0xffffffff]));
  else if (r === 5) {
    for (const f of [F.CFG_CLS_ID, F.CFG_SEP_ID, F.CFG_PAD_ID, F.CFG_UNK_ID]) if (rand() < 0.5) set(f, int(rand, vocab));
    set(F.CFG_MASK_ID, rand() < 0.5 ? F.NO_TOKEN : int(rand, vocab));
  } else if (r === 6) {
    // Hard attention with any K on the layers that have attention (K >= n runs dense).
    const s = l.byKind.get(F.SECTION_LAYERS)!;
    for (let i = 0; i < s.size / F.LAYER_RECORD_SIZE; i++) {
      const rec = s.offset + i * F.LAYER_RECORD_SIZE;
      if (b[rec + F.LR_HAS_ATTENTION]) writeU32(b, rec + F.LR_HARD_K, pick(rand, [0, 1, 2, 3, 7, 16, 31, 32, 33, 1000, 0xffffffff]));
    }
  } else if (r === 7) set(F.CFG_LAYER_NORM_EPS, pick(rand, [0x00000001, 0x7f7fffff, 0x3f800000, 0x2edbe6ff]));
  else writeU32(b, 4, 1); // version 1: valid only when every tensor is in layout 0
  return "struct.valid-variant";
}

const STRUCT = [header, section, config, layers, stringList, tensorTable, dataValues, validVariant];
const STRUCT_WEIGHTS = [1, 2, 3, 2, 3, 4, 2, 3];

function structured(b: Uint8Array, l: Layout, rand: Rand): string {
  let total = 0;
  for (const w of STRUCT_WEIGHTS) total += w;
  let x = rand() * total, i = 0;
  while (x >= STRUCT_WEIGHTS[i]) x -= STRUCT_WEIGHTS[i++];
  return STRUCT[i](b, l, rand);
}

// One mutation of `seed`. `rand` decides everything, so a case is reproduced
// from its own seed alone.
export function mutate(seed: Uint8Array, layout: Layout, rand: Rand): Mutation {
  if (rand() < 0.1) return generate(seed, layout, rand); // families.ts: gen.*
  let b = seed.slice();
  const r = rand();
  if (r < 0.08) return { bytes: b, kind: rawBitflip(b, layout, rand) };
  if (r < 0.14) return { bytes: b, kind: rawBytes(b, layout, rand) };
  if (r < 0.20) {
    // Cut anywhere, more often inside the header and table, or at a section edge.
    const s = pick(rand, layout.sections);
    const cut = pick(rand, [int(rand, 80), int(rand, b.length), s.offset, s.offset + s.size - 1, b.length - 1 - int(rand, 16)]);
    return { bytes: b.slice(0, Math.max(0, cut)), kind: "raw.truncate" };
  }
  if (r < 0.22) {
    const extra = new Uint8Array(1 + int(rand, 64)).map(() => int(rand, 256));
    const out = new Uint8Array(b.length + extra.length);
    out.set(b);
    out.set(extra, b.length);
    // Half the time the header's file_size is made to agree (with the CRC fixed).
    if (rand() < 0.5) { writeU32(out, 8, out.length); fixCrcs(out); return { bytes: out, kind: "struct.extended" }; }
    return { bytes: out, kind: "raw.extend" };
  }
  if (r < 0.30) {
    dataBitflips(b, layout, rand, 1);
    return { bytes: b, kind: "raw.data-bitflip" };
  }
  if (r < 0.33) {
    dataBitflips(b, layout, rand, 2 + int(rand, 7));
    return { bytes: b, kind: "raw.data-multiflip" };
  }
  if (r < 0.38) {
    // A weight bit flipped with the checksums recomputed: no CRC to catch it.
    dataBitflips(b, layout, rand, 1);
    fixCrcs(b);
    return { bytes: b, kind: "struct.data-bitflip" };
  }
  let kind: string;
  if (r < 0.88) {
    kind = structured(b, layout, rand);
  } else {
    const n = 2 + int(rand, 3);
    for (let i = 0; i < n; i++) structured(b, layout, rand);
    kind = "struct.multi";
  }
  // The header's own fields are left as mutated; everything else gets valid CRCs.
  if (!kind.startsWith("struct.header") || rand() < 0.9) fixCrcs(b);
  b = b.length ? b : new Uint8Array(0);
  return { bytes: b, kind };
}

export { parseLayout };
