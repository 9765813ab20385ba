// The host's one IEEE 754 half-precision codec: the writer narrows f32 weights
// with it, the reader and the safetensors loader widen f16 with it. (The runtime
// widens f16 in AssemblyScript with SIMD: assembly/, another language.)

// f32 bits -> f16 bits, round to nearest even, subnormals kept; -1 when the value
// overflows f16 (|x| >= 65520 rounds past 65504). NaN and Inf overflow too: the
// writer only stores finite weights.
export function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  const e = exp - 127 + 15; // biased f16 exponent
  let h: number;
  if (e >= 1) {
    h = roundShift((e << 23) | mant, 13); // a carry out of the mantissa bumps the exponent, as it should
  } else if (e >= -10) {
    h = roundShift(mant | 0x800000, 14 - e); // subnormal: units of 2^-24
  } else {
    h = 0; // below half the smallest subnormal (f32 subnormals included)
  }
  return h >= 0x7c00 ? -1 : sign | h;
}

function roundShift(m: number, s: number): number {
  const q = m >>> s, r = m & ((1 << s) - 1), half = 1 << (s - 1);
  return r > half || (r === half && q & 1) ? q + 1 : q;
}

let TABLE: Float32Array | null = null;

// f16 bits -> its value (exact: every f16 value is an f32 value).
export function f16ToF32(h: number): number {
  return (TABLE ??= buildTable())[h & 0xffff];
}

// A whole array of f16 bits -> f32 values.
export function f16ArrayToF32(src: Uint16Array): Float32Array {
  const table = (TABLE ??= buildTable());
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

// 65536 entries cost 256 KiB once.
function buildTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
}
