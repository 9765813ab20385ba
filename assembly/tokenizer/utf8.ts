// UTF-8 decoding with Python's errors="replace" semantics, and encoding.
//
// Invalid input becomes U+FFFD, one per "maximal subpart" (Unicode 3.9, Table 3-7;
// the same rule as Python's decoder and WHATWG's TextDecoder): a lead byte followed
// by the valid continuation bytes it allows, cut short by a byte it does not allow,
// is replaced by a single U+FFFD and decoding resumes at that byte. So a non-
// continuation byte always starts a new character, which is why the tokenizer may
// match special tokens on raw bytes.

export const REPLACEMENT: u32 = 0xfffd;

// Decodes the character at p (p < end). Returns its code point in the low 32 bits
// and its length in bytes in the high 32 bits.
export function decodeUtf8(p: usize, end: usize): u64 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) return (<u64>1 << 32) | b0;

  let need: i32;    // continuation bytes after the lead
  let cp: u32;
  let lo: u32 = 0x80; // allowed range of the first continuation byte
  let hi: u32 = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1; cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2; cp = b0 & 0x0f;
    if (b0 == 0xe0) lo = 0xa0;      // no overlongs
    else if (b0 == 0xed) hi = 0x9f; // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3; cp = b0 & 0x07;
    if (b0 == 0xf0) lo = 0x90;      // no overlongs
    else if (b0 == 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else {
    // 0x80-0xc1 (continuation or overlong lead), 0xf5-0xff.
    return (<u64>1 << 32) | REPLACEMENT;
  }

  let n: u32 = 1;
  for (let i = 0; i < need; i++) {
    if (p + n >= end) return (<u64>n << 32) | REPLACEMENT;
    const b = <u32>load<u8>(p + n);
    if (b < lo || b > hi) return (<u64>n << 32) | REPLACEMENT;
    cp = (cp << 6) | (b & 0x3f);
    lo = 0x80;
    hi = 0xbf;
    n++;
  }
  return (<u64>n << 32) | cp;
}

// Writes the UTF-8 encoding of cp (a scalar value) at dst; returns its length.
export function encodeUtf8(cp: u32, dst: usize): u32 {
  if (cp < 0x80) {
    store<u8>(dst, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(dst, <u8>(0xc0 | (cp >> 6)));
    store<u8>(dst, <u8>(0x80 | (cp & 0x3f)), 1);
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(dst, <u8>(0xe0 | (cp >> 12)));
    store<u8>(dst, <u8>(0x80 | ((cp >> 6) & 0x3f)), 1);
    store<u8>(dst, <u8>(0x80 | (cp & 0x3f)), 2);
    return 3;
  }
  store<u8>(dst, <u8>(0xf0 | (cp >> 18)));
  store<u8>(dst, <u8>(0x80 | ((cp >> 12) & 0x3f)), 1);
  store<u8>(dst, <u8>(0x80 | ((cp >> 6) & 0x3f)), 2);
  store<u8>(dst, <u8>(0x80 | (cp & 0x3f)), 3);
  return 4;
}
