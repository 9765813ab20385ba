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
