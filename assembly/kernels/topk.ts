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

export function topK(p: usize, n: u32, k: u32, idx: usize, scratch: usize): u32 {
  let need = k;       // how many of the current candidates are still to be kept
  let prefix: u32 = 0;
  let count = n;      // candidates: p on the first pass, scratch after
  let src = p;
  const n4 = n & ~3;
  for (let pass = 0; pass < 7; pass++) {
    // Digits: bits 23..30 (the sign bit is 0), then 19..22, 15..18, 11..14, 7..10, 3..6, 0..2.
    const shift: u32 = pass == 0 ? 23 : pass == 6 ? 0 : 23 - 4 * pass;
    const mask: u32 = pass == 0 ? 0xff : pass == 6 ? 0x7 : 0xf;
    let c: u32; // how many values fall in bucket d
    let d: u32 = pass == 0 ? 0x7f : mask, above: u32 = 0;
    if (pass == 0) {
      clear(hist, 4 * 256 << 2);
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
      // The bucket that holds the need-th largest; all in higher buckets are kept.
      // (Probabilities are <= 1.0, so the top digit is at most 0x7f.)
      while (true) {
        const b = hist + (<usize>d << 2);
        c = load<u32>(b) + load<u32>(b, 256 << 2) + load<u32>(b, 512 << 2) + load<u32>(b, 768 << 2);
        if (above + c >= need) break;
        above += c;
        d--;
      }
    } else {
      clear(hist, 16 << 2);
      for (let j: u32 = 0; j < count; j++) {
        const b = hist + (<usize>((load<u32>(src + (<usize>j << 2)) >> shift) & mask) << 2);
        store<u32>(b, load<u32>(b) + 1);
      }
      while (true) {
        c = load<u32>(hist + (<usize>d << 2));
        if (above + c >= need) break;
        above += c;
        d--;
      }
    }
    need -= above;
    prefix |= d << shift;
    // Done when the digits are exhausted, or when all of bucket d is kept (then
    // t = prefix with zero low bits selects exactly the kept values below).
    if (pass == 6 || c == need) break;
    // Copy the candidates of bucket d (values) to the front of scratch.
    let m: u32 = 0;
    if (pass == 0) {
      const dv = i32x4.splat(d);
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
    } else {
      for (let j: u32 = 0; j < count; j++) {
        const v = load<u32>(src + (<usize>j << 2));
        store<u32>(scratch + (<usize>m << 2), v);
        m += <u32>(((v >> shift) & mask) == d);
      }
    }
    count = m;
    src = scratch;
  }
  // prefix is the bit pattern of the k-th largest value t; `need` of the values
  // equal to t are kept, the lowest-indexed ones. (As i32 the bit patterns of
  // values >= 0 order like the values.)
  const t = prefix;
  const tv = i32x4.splat(t);
  let ties = need;
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
