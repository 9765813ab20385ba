// CRC-32 (IEEE 802.3, the zlib one), slicing-by-8: the loader runs it over the
// whole file, so it eats 8 bytes per step with 8 table lookups. The 8 KiB table
// is built on first use rather than shipped as data, to keep the .wasm small.

let table: usize = 0; // u32[8][256]; table[k][b] = CRC of byte b followed by k zero bytes

function buildTable(): usize {
  let t = heap.alloc(8 * 256 * 4);
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(t + (i << 2), c);
  }
  for (let i: u32 = 0; i < 256; i++) {
    let c = load<u32>(t + (i << 2));
    for (let k: u32 = 1; k < 8; k++) {
      c = load<u32>(t + ((c & 255) << 2)) ^ (c >>> 8);
      store<u32>(t + (((k << 8) + i) << 2), c);
    }
  }
  return t;
}

// @ts-ignore: decorator
@inline function T(k: u32, b: u32): u32 {
  return load<u32>(table + (((k << 8) + b) << 2));
}

// CRC of bytes [ptr, ptr + len), continuing from `crc` (the CRC of what came
// before, 0 to start), as zlib's crc32(crc, buf, len).
export function crc32(ptr: usize, len: usize, crc: u32 = 0): u32 {
  if (!table) table = buildTable();
  let c = ~crc;
  let end = ptr + len;
  while (end - ptr >= 8) {
    let a = load<u32>(ptr) ^ c;
    let b = load<u32>(ptr, 4);
    c = T(7, a & 255) ^ T(6, (a >>> 8) & 255) ^ T(5, (a >>> 16) & 255) ^ T(4, a >>> 24) ^
        T(3, b & 255) ^ T(2, (b >>> 8) & 255) ^ T(1, (b >>> 16) & 255) ^ T(0, b >>> 24);
    ptr += 8;
  }
  while (ptr < end) c = T(0, (c ^ load<u8>(ptr++)) & 255) ^ (c >>> 8);
  return ~c;
}
