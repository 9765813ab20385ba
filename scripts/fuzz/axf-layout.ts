// Where the fields of a VALID .axf file lie (docs/format.md), so the fuzzer can
// aim its mutations at structure (a count, an offset, a dims word) instead of
// only at random bytes, and recompute the checksums afterwards so that the
// mutation reaches the reader's checks behind the CRCs.
//
// This is a test tool's view of the file, trusting it (it only ever reads the
// unmutated seed files); the runtime's reader is assembly/format.ts.

import * as F from "../../assembly/format/constants.ts";
import { crc32 } from "../../host/format/crc32.ts";

export interface Section {
  kind: number;
  entry: number;   // byte offset of its 16-byte section-table entry
  offset: number;  // byte offset of the section
  size: number;
}

export interface TensorEntry {
  at: number;      // byte offset of the 56-byte entry
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
  if (u32(b, 0) !== F.MAGIC) throw new Error("parseLayout: not an .axf file");
  const count = u32(b, 12);
  const sections: Section[] = [];
  const byKind = new Map<number, Section>();
  for (let i = 0; i < count; i++) {
    const entry = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    const s = { kind: u32(b, entry), entry, offset: u32(b, entry + 4), size: u32(b, entry + 8) };
    sections.push(s);
    byKind.set(s.kind, s);
  }
  const t = byKind.get(F.SECTION_TENSORS)!, data = byKind.get(F.SECTION_DATA)!;
  const n = u32(b, t.offset);
  const namesAt = t.offset + 4 + n * F.TENSOR_ENTRY_SIZE;
  const tensors: TensorEntry[] = [];
  const dec = new TextDecoder();
  for (let i = 0; i < n; i++) {
    const at = t.offset + 4 + i * F.TENSOR_ENTRY_SIZE;
    const dtype = u32(b, at + 8), ndim = u32(b, at + 12);
    tensors.push({
      at,
      name: dec.decode(b.subarray(namesAt + u32(b, at), namesAt + u32(b, at) + u32(b, at + 4))),
      dtype,
      ndim,
      dims: [0, 1, 2, 3].map((d) => u32(b, at + 16 + 4 * d)).slice(0, ndim),
      dataOffset: data.offset + u32(b, at + 32),
      dataSize: u32(b, at + 36),
      scaleOffset: dtype === F.DTYPE_INT8 ? data.offset + u32(b, at + 40) : -1,
      scaleSize: u32(b, at + 44),
    });
  }
  return { size: b.length, sections, byKind, tensors, namesAt };
}

// Recomputes every section CRC (over the bytes the table entry now names, when
// they lie inside the file) and then the header CRC, as a writer would.
export function fixCrcs(b: Uint8Array): void {
  if (b.length < F.HEADER_SIZE) return;
  const count = u32(b, 12);
  if (count < 1 || count > F.MAX_SECTIONS) return;
  const tableEnd = F.HEADER_SIZE + count * F.SECTION_ENTRY_SIZE;
  if (tableEnd > b.length) return;
  for (let i = 0; i < count; i++) {
    const e = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    const off = u32(b, e + 4), len = u32(b, e + 8);
    if (off + len <= b.length) writeU32(b, e + 12, crc32(b.subarray(off, off + len)));
  }
  fixHeaderCrc(b);
}

export function fixHeaderCrc(b: Uint8Array): void {
  const count = u32(b, 12);
  const tableEnd = F.HEADER_SIZE + count * F.SECTION_ENTRY_SIZE;
  if (b.length < F.HEADER_SIZE || count > F.MAX_SECTIONS || tableEnd > b.length) return;
  const copy = b.slice(0, tableEnd);
  writeU32(copy, 16, 0);
  writeU32(b, 16, crc32(copy));
}
