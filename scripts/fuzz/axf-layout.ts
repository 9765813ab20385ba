// Where the fields of a VALID .axf file lie (docs/format.md), so the fuzzer can
// aim its mutations at structure (a count, an offset, a dims word) instead of
// only at random bytes, and recompute the checksums afterwards so that the
// mutation reaches the reader's checks behind the CRCs.
//
// This is a test tool's view of the file, trusting it (it only ever reads the
// unmutated seed files); the runtime's reader is assembly/format/reader.ts.

import * as F from "../../assembly/format/constants.ts";
import { crc32 } from "../../host/format/crc32.ts";

export interface Section {
  kind: number;
  entry: number;   // byte offset of its section-table entry (SECTION_ENTRY_SIZE bytes)
  offset: number;  // byte offset of the section
  size: number;
}

export interface TensorEntry {
  at: number;      // byte offset of the entry (TENSOR_ENTRY_SIZE bytes)
  name: string;
  dtype: number;
  ndim: number;
  dims: number[];
  dataOffset: number;  // absolute (file) offset of the data
  dataSize: number;
  scaleOffset: number; // absolute, int8 only (else -1)
  scaleSize: number;
}

export interface Layout {
  size: number;
  sections: Section[];            // in table order
  byKind: Map<number, Section>;
  tensors: TensorEntry[];
  namesAt: number;                // absolute offset of the TENSORS names blob
}

const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

export function readU32(b: Uint8Array, at: number): number {
  return u32(b, at);
}

export function writeU32(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 4 > b.length) return; // a truncated file: nothing there to write
  v >>>= 0;
  b[at] = v & 255; b[at + 1] = (v >>> 8) & 255; b[at + 2] = (v >>> 16) & 255; b[at + 3] = v >>> 24;
}

export function writeU16(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 2 > b.length) return;
  b[at] = v & 255; b[at + 1] = (v >>> 8) & 255;
}

export function parseLayout(b: Uint8Array): Layout {
  if (u32(b, F.HDR_MAGIC) !== F.MAGIC) throw new Error("parseLayout: not an .axf file");
  const count = u32(b, F.HDR_SECTION_COUNT);
  const sections: Section[] = [];
  const byKind = new Map<number, Section>();
  for (let i = 0; i < count; i++) {
    const entry = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    const s = { kind: u32(b, entry + F.SEC_KIND), entry, offset: u32(b, entry + F.SEC_OFFSET), size: u32(b, entry + F.SEC_SIZE) };
    sections.push(s);
    byKind.set(s.kind, s);
  }
  const t = byKind.get(F.SECTION_TENSORS)!, data = byKind.get(F.SECTION_DATA)!;
  const n = u32(b, t.offset);
  const namesAt = t.offset + F.TENSOR_COUNT_SIZE + n * F.TENSOR_ENTRY_SIZE;
  const tensors: TensorEntry[] = [];
  const dec = new TextDecoder();
  for (let i = 0; i < n; i++) {
    const at = t.offset + F.TENSOR_COUNT_SIZE + i * F.TENSOR_ENTRY_SIZE;
    const dtype = u32(b, at + F.TE_DTYPE), ndim = u32(b, at + F.TE_NDIM);
    tensors.push({
      at,
      name: dec.decode(b.subarray(namesAt + u32(b, at + F.TE_NAME_OFFSET), namesAt + u32(b, at + F.TE_NAME_OFFSET) + u32(b, at + F.TE_NAME_LEN))),
      dtype,
      ndim,
      dims: [0, 1, 2, 3].map((d) => u32(b, at + F.TE_DIMS + 4 * d)).slice(0, ndim),
      dataOffset: data.offset + u32(b, at + F.TE_DATA_OFFSET),
      dataSize: u32(b, at + F.TE_DATA_SIZE),
      scaleOffset: dtype === F.DTYPE_INT8 ? data.offset + u32(b, at + F.TE_SCALE_OFFSET) : -1,
      scaleSize: u32(b, at + F.TE_SCALE_SIZE),
    });
  }
  return { size: b.length, sections, byKind, tensors, namesAt };
}

// Recomputes every section CRC (over the bytes the table entry now names, when
// they lie inside the file) and then the header CRC, as a writer would.
export function fixCrcs(b: Uint8Array): void {
  if (b.length < F.HEADER_SIZE) return;
  const count = u32(b, F.HDR_SECTION_COUNT);
  if (count < 1 || count > F.MAX_SECTIONS) return;
  const tableEnd = F.HEADER_SIZE + count * F.SECTION_ENTRY_SIZE;
  if (tableEnd > b.length) return;
  for (let i = 0; i < count; i++) {
    const e = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    const off = u32(b, e + F.SEC_OFFSET), len = u32(b, e + F.SEC_SIZE);
    if (off + len <= b.length) writeU32(b, e + F.SEC_CRC, crc32(b.subarray(off, off + len)));
  }
  fixHeaderCrc(b);
}

export function fixHeaderCrc(b: Uint8Array): void {
  const count = u32(b, F.HDR_SECTION_COUNT);
  const tableEnd = F.HEADER_SIZE + count * F.SECTION_ENTRY_SIZE;
  if (b.length < F.HEADER_SIZE || count > F.MAX_SECTIONS || tableEnd > b.length) return;
  const copy = b.slice(0, tableEnd);
  writeU32(copy, F.HDR_CRC, 0);
  writeU32(b, F.HDR_CRC, crc32(copy));
}

// A copy of the file with section `kind` replaced by `bytes`: the old bytes are
// zeroed (padding must be zero), the new ones appended at the end on a 16-byte
// boundary, the table entry, file_size and every CRC updated. How the fuzzer
// grows a string table, the tensor table or META without moving the others.
export function replaceSection(b: Uint8Array, kind: number, bytes: Uint8Array): Uint8Array {
  const l = parseLayout(b);
  const s = l.byKind.get(kind);
  if (!s) throw new Error(`replaceSection: no section of kind ${kind}`);
  const at = Math.ceil(b.length / F.ALIGN) * F.ALIGN;
  const out = new Uint8Array(at + bytes.length);
  out.set(b);
  out.fill(0, s.offset, s.offset + s.size);
  out.set(bytes, at);
  writeU32(out, s.entry + F.SEC_OFFSET, at);
  writeU32(out, s.entry + F.SEC_SIZE, bytes.length);
  writeU32(out, F.HDR_FILE_SIZE, out.length);
  fixCrcs(out);
  return out;
}

// A string list section (VOCAB, LABELS): u32 count, u32 offsets[count + 1], blob.
export function stringListBytes(strings: Uint8Array[]): Uint8Array {
  const head = 4 * (strings.length + 2);
  const out = new Uint8Array(head + strings.reduce((n, s) => n + s.length, 0));
  writeU32(out, 0, strings.length);
  let at = 0;
  strings.forEach((s, i) => { out.set(s, head + at); at += s.length; writeU32(out, 4 * (i + 2), at); });
  return out;
}

// The TENSORS section of `l` with `extra` more entries, each a copy of entry
// `copyOf` under the name `name(k)` (names appended after the existing ones).
export function tensorsWithExtraEntries(b: Uint8Array, l: Layout, extra: number, copyOf: number, name: (k: number) => string): Uint8Array {
  const t = l.byKind.get(F.SECTION_TENSORS)!;
  const n = l.tensors.length;
  const oldNamesAt = l.namesAt - t.offset, oldNames = b.subarray(l.namesAt, t.offset + t.size);
  const enc = new TextEncoder();
  const names = Array.from({ length: extra }, (_, k) => enc.encode(name(k)));
  const count = n + extra;
  const namesAt = F.TENSOR_COUNT_SIZE + count * F.TENSOR_ENTRY_SIZE;
  const out = new Uint8Array(namesAt + oldNames.length + names.reduce((a, e) => a + e.length, 0));
  writeU32(out, 0, count);
  out.set(b.subarray(t.offset + F.TENSOR_COUNT_SIZE, t.offset + oldNamesAt), F.TENSOR_COUNT_SIZE);
  out.set(oldNames, namesAt);
  let nameAt = oldNames.length;
  const src = l.tensors[copyOf].at;
  names.forEach((e, k) => {
    const o = F.TENSOR_COUNT_SIZE + (n + k) * F.TENSOR_ENTRY_SIZE;
    out.set(b.subarray(src, src + F.TENSOR_ENTRY_SIZE), o);
    writeU32(out, o + F.TE_NAME_OFFSET, nameAt);
    writeU32(out, o + F.TE_NAME_LEN, e.length);
    out.set(e, namesAt + nameAt);
    nameAt += e.length;
  });
  return out;
}
