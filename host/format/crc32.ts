// CRC-32 (IEEE 802.3, the zlib one), slicing-by-8 like the reader's twin
// assembly/crc32.ts (the writer runs it over every weight); the round-trip tests
// hold the two to each other. Where Node has zlib.crc32 (20.15 and later), the same
// CRC in native code, the writer uses that: about 5x faster, which the optimizer
// feels (it writes a whole model file per candidate, 435 MB at bert-base).
import * as zlib from "node:zlib";

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

// T[k * 256 + b] = CRC of byte b followed by k zero bytes.
const T = new Uint32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[i] = c;
}
for (let i = 0; i < 256; i++) {
  for (let k = 1; k < 8; k++) T[k * 256 + i] = T[T[(k - 1) * 256 + i] & 255] ^ (T[(k - 1) * 256 + i] >>> 8);
}

// CRC of `bytes`, continuing from `crc` (the CRC of what came before, 0 to
// start), as zlib's crc32(crc, buf, len).
export function crc32(bytes: Uint8Array, crc = 0): number {
  return native ? native(bytes, crc) : crc32Portable(bytes, crc);
}

// The same in plain JS, for a Node without zlib.crc32.
export function crc32Portable(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  let i = 0;
  const n8 = bytes.length & ~7;
  for (; i < n8; i += 8) {
    const a = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ c;
    c = T[1792 + (a & 255)] ^ T[1536 + ((a >>> 8) & 255)] ^ T[1280 + ((a >>> 16) & 255)] ^ T[1024 + (a >>> 24)] ^
        T[768 + bytes[i + 4]] ^ T[512 + bytes[i + 5]] ^ T[256 + bytes[i + 6]] ^ T[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = T[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}
