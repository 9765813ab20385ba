// Token offsets: the runtime gives UTF-8 byte ranges (token_offsets_ptr(), see
// assembly/tokenizer/wordpiece.ts); Hugging Face's offset_mapping counts Python string
// indices, i.e. Unicode code points, and JavaScript strings count UTF-16 code units.
// These convert one to the others. Universal (no Node built-ins).

// [start, end) pairs.
export type Span = [number, number];

// For a text, the code point index and the UTF-16 index at each UTF-8 byte offset
// that starts a character (and at its end). Offsets inside a character never come from
// the runtime: every range it gives starts and ends on a character boundary.
export class CharIndex {
  readonly byteLength: number;
  private readonly cp: Int32Array;  // byte offset -> code points before it
  private readonly u16: Int32Array; // byte offset -> UTF-16 code units before it

  constructor(text: string) {
    // A lone surrogate becomes U+FFFD (3 bytes) in the runtime's copy, as TextEncoder
    // writes it; it is still one code point and one code unit here.
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        bytes += 4;
        i++;
      } else bytes += 3;
    }
    this.byteLength = bytes;
    this.cp = new Int32Array(bytes + 1);
    this.u16 = new Int32Array(bytes + 1);
    let b = 0, points = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let size: number, units = 1;
      if (c < 0x80) size = 1;
      else if (c < 0x800) size = 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        size = 4;
        units = 2;
      } else size = 3;
      for (let k = 0; k < size; k++) {
        this.cp[b + k] = points;
        this.u16[b + k] = i;
      }
      b += size;
      points++;
      i += units - 1;
    }
    this.cp[bytes] = points;
    this.u16[bytes] = text.length;
  }

  codePoint(byte: number): number {
    return this.cp[this.check(byte)];
  }

  utf16(byte: number): number {
    return this.u16[this.check(byte)];
  }

  private check(byte: number): number {
    if (!(byte >= 0 && byte <= this.byteLength)) throw new RangeError(`byte offset ${byte} is outside the text (${this.byteLength} bytes)`);
    return byte;
  }
}

// The length of a string in code points (Python's len()).
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    n++;
  }
  return n;
}
