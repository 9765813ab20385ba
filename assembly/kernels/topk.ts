// Hard attention's selection: the indices of the k largest of p[0, n) (k < n),
// written in increasing order to idx. Ties go to the lower index, so the choice
// is deterministic. No sort:
//
// The values are probabilities (>= 0, finite, <= 1), whose bit patterns order
// like the values, so the k-th largest is found digit by digit from the top (a
// radix select): a histogram of the top 8 bits (the exponent) over all n, then
// histograms of the next 4-bit digits of the mantissa over only the values that
// share the chosen prefix (copied to scratch, u32[n]; it may alias idx, which is
// written only after scratch is last read). A last pass writes every index whose
// value is above the k-th largest, plus the lowest-indexed of those equal to it.
//
// The passes over all n are what costs: the first histogram is split four ways
// (value j counts in histogram j % 4), so that runs of equal digits do not chain
// load-add-store through one counter; the copy of the candidates and the last pass
// compare four values at a time and pack the lanes that match to the front with
// one shuffle (no branch per lane: how many match is unpredictable).

const hist = memory.data(4 * 256 << 2, 16); // u32[4][256]

// PACK[mask]: the i8x16.swizzle that moves the u32 lanes set in the 4-bit mask to
// the front, in order.
const PACK = memory.data<u8>([
  0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,          // 0000
  0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,          // 0001
  4, 5, 6, 7, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,          // 0010
  0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 0, 1, 2, 3,          // 0011
  8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,        // 0100
  0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3,        // 0101
  4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3,        // 0110
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3,        // 0111
  12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,      // 1000
  0, 1, 2, 3, 12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3,      // 1001
  4, 5, 6, 7, 12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3,      // 1010
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 1, 2, 3,      // 1011
  8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 0, 1, 2, 3,    // 1100
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3,    // 1101
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3,    // 1110
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,    // 1111
], 16);

// memory.fill is a call out of wasm in V8; this is a few stores.
@inline function clear(p: usize, bytes: usize): void {
  const z = i32x4.splat(0);
  for (let o: usize = 0; o < bytes; o += 64) {
    v128.store(p + o, z); v128.store(p + o, z, 16); v128.store(p + o, z, 32); v128.store(p + o, z, 48);
  }
}

// Stores the lanes of v set in mask at out, packed; returns how many.
@inline function pack(out: usize, v: v128, mask: i32): u32 {
  v128.store(out, i8x16.swizzle(v, v128.load(PACK + (<usize>mask << 4))));
  return <u32>popcnt(mask);
}

// Phase 1, the first pass: histogram of the top 8 bits of all n values, split four
// ways (value j counts in hist[j % 4]).
@inline function histogramExponents(p: usize, n: u32): void {
  clear(hist, 4 * 256 << 2);
  const n4 = n & ~3;
  let j: u32 = 0;
  for (; j < n4; j += 4) {
    const q = p + (<usize>j << 2);
    const b0 = hist + (<usize>(load<u32>(q) >> 23) << 2);
    const b1 = hist + (256 << 2) + (<usize>(load<u32>(q, 4) >> 23) << 2);
    const b2 = hist + (512 << 2) + (<usize>(load<u32>(q, 8) >> 23) << 2);
    const b3 = hist + (768 << 2) + (<usize>(load<u32>(q, 12) >> 23) << 2);
    store<u32>(b0, load<u32>(b0) + 1);
    store<u32>(b1, load<u32>(b1) + 1);
    store<u32>(b2, load<u32>(b2) + 1);
    store<u32>(b3, load<u32>(b3) + 1);
  }
  for (; j < n; j++) {
    const b = hist + (<usize>(load<u32>(p + (<usize>j << 2)) >> 23) << 2);
    store<u32>(b, load<u32>(b) + 1);
  }
}

// Phase 1, later passes: histogram (in hist[0][0, 16)) of the digit (v >> shift) & mask
// of the `count` candidates at src.
@inline function histogramDigits(src: usize, count: u32, shift: u32, mask: u32): void {
  clear(hist, 16 << 2);
  for (let j: u32 = 0; j < count; j++) {
    const b = hist + (<usize>((load<u32>(src + (<usize>j << 2)) >> shift) & mask) << 2);
    store<u32>(b, load<u32>(b) + 1);
  }
}

// How many values fall in bucket d (summed over the four histograms of the first pass).
@inline function bucketCount(d: u32, split: bool): u32 {
  const b = hist + (<usize>d << 2);
  return split ? load<u32>(b) + load<u32>(b, 256 << 2) + load<u32>(b, 512 << 2) + load<u32>(b, 768 << 2) : load<u32>(b);
}

// Phase 2: the bucket that holds the need-th largest, walking down from bucket `top`;
// all in higher buckets are kept. Returns the bucket in the low 32 bits and how many
// values lie above it in the high 32.
@inline function selectBucket(top: u32, need: u32, split: bool): u64 {
  let d = top, above: u32 = 0;
  while (true) {
    const c = bucketCount(d, split);
    if (above + c >= need) break;
    above += c;
    d--;
  }
  return (<u64>above << 32) | d;
}

// Phase 3, the first pass: copies the values of all n whose top 8 bits are d to the
// front of scratch; returns how many.
@inline function copyExponentBucket(p: usize, n: u32, d: u32, scratch: usize): u32 {
  const n4 = n & ~3;
  const dv = i32x4.splat(d);
  let m: u32 = 0;
  let j: u32 = 0;
  for (; j < n4; j += 4) {
    const v = v128.load(p + (<usize>j << 2));
    m += pack(scratch + (<usize>m << 2), v, i32x4.bitmask(i32x4.eq(i32x4.shr_u(v, 23), dv)));
  }
  for (; j < n; j++) {
    const v = load<u32>(p + (<usize>j << 2));
    store<u32>(scratch + (<usize>m << 2), v);
    m += <u32>((v >> 23) == d);
  }
  return m;
}

// Phase 3, later passes: keeps (in place at the front of scratch) the candidates whose
// digit is d; returns how many.
@inline function copyDigitBucket(src: usize, count: u32, shift: u32, mask: u32, d: u32, scratch: usize): u32 {
  let m: u32 = 0;
  for (let j: u32 = 0; j < count; j++) {
    const v = load<u32>(src + (<usize>j << 2));
    store<u32>(scratch + (<usize>m << 2), v);
    m += <u32>(((v >> shift) & mask) == d);
  }
  return m;
}

// Phase 4: t is the bit pattern of the k-th largest value; writes to idx the index of
// every value above t and of the lowest-indexed `ties` values equal to it. (As i32 the
// bit patterns of values >= 0 order like the values.) Returns how many (k).
@inline function writeKept(p: usize, n: u32, t: u32, ties: u32, idx: usize): u32 {
  const n4 = n & ~3;
  const tv = i32x4.splat(t);
  let m: u32 = 0;
  let j: u32 = 0;
  let lanes = i32x4(0, 1, 2, 3);
  for (; j < n4; j += 4) {
    const v = v128.load(p + (<usize>j << 2));
    let keep = i32x4.bitmask(i32x4.gt_s(v, tv));
    let eq = i32x4.bitmask(i32x4.eq(v, tv));
    while (eq) { // rare: the k-th largest itself and its equals
      const bit = eq & -eq;
      if (ties > 0) { keep |= bit; ties--; }
      eq ^= bit;
    }
    m += pack(idx + (<usize>m << 2), lanes, keep);
    lanes = i32x4.add(lanes, i32x4.splat(4));
  }
  for (; j < n; j++) {
    const v = load<u32>(p + (<usize>j << 2));
    const eq = <u32>(v == t) & <u32>(ties > 0);
    store<u32>(idx + (<usize>m << 2), j);
    m += <u32>(v > t) | eq;
    ties -= eq;
  }
  return m;
}

export function topK(p: usize, n: u32, k: u32, idx: usize, scratch: usize): u32 {
  let need = k;       // how many of the current candidates are still to be kept
  let prefix: u32 = 0;
  let count = n;      // candidates: p on the first pass, scratch after
  let src = p;
  for (let pass = 0; pass < 7; pass++) {
    // Digits: bits 23..30 (the sign bit is 0), then 19..22, 15..18, 11..14, 7..10, 3..6, 0..2.
    const shift: u32 = pass == 0 ? 23 : pass == 6 ? 0 : 23 - 4 * pass;
    const mask: u32 = pass == 0 ? 0xff : pass == 6 ? 0x7 : 0xf;
    const split = pass == 0;
    if (split) histogramExponents(p, n);
    else histogramDigits(src, count, shift, mask);
    // (Probabilities are <= 1.0, so the top digit is at most 0x7f.)
    const picked = selectBucket(split ? 0x7f : mask, need, split);
    const d = <u32>picked;
    need -= <u32>(picked >> 32);
    prefix |= d << shift;
    // Done when the digits are exhausted, or when all of bucket d is kept (then
    // t = prefix with zero low bits selects exactly the kept values below).
    if (pass == 6 || bucketCount(d, split) == need) break;
    count = split ? copyExponentBucket(p, n, d, scratch) : copyDigitBucket(src, count, shift, mask, d, scratch);
    src = scratch;
  }
  // prefix is the bit pattern of the k-th largest value; `need` of its equals are kept.
  return writeKept(p, n, prefix, need, idx);
}
