// Hard attention's selection: the indices of the k largest of p[0, n) (k < n),
// written in increasing order to idx. Ties go to the lower index, so the choice
// is deterministic. No sort, and no data-dependent branches in the passes over
// all n values (mispredictions would cost more than the arithmetic):
//
// The values are probabilities (>= 0, finite), whose bit patterns order like the
// values, so the k-th largest is found digit by digit from the top (a radix
// select): a histogram of the top 8 bits over all n, then histograms of the next
// digits over only the values that share the chosen prefix (copied to scratch,
// u32[n]; it may alias idx, which is written only after scratch is last read).
// A last pass writes every index whose value is above the k-th largest, plus the
// lowest-indexed of those equal to it.

const hist = memory.data(256 << 2, 16); // u32[256]

export function topK(p: usize, n: u32, k: u32, idx: usize, scratch: usize): u32 {
  let need = k;       // how many of the current candidates are still to be kept
  let prefix: u32 = 0;
  let count = n;      // candidates: p on the first pass, scratch after
  let src = p;
  for (let pass = 0; pass < 4; pass++) {
    // Digits: bits 23..30 (the sign bit is 0), 15..22, 7..14, 0..6.
    const shift: u32 = pass == 0 ? 23 : pass == 1 ? 15 : pass == 2 ? 7 : 0;
    const mask: u32 = pass == 3 ? 0x7f : 0xff;
    memory.fill(hist, 0, 256 << 2);
    for (let j: u32 = 0; j < count; j++) {
      const b = hist + (<usize>((load<u32>(src + (<usize>j << 2)) >> shift) & mask) << 2);
      store<u32>(b, load<u32>(b) + 1);
    }
    // The bucket that holds the need-th largest; all in higher buckets are kept.
    // (Probabilities are <= 1.0, so the top digit is at most 0x7f.)
    let d: u32 = pass == 0 ? 0x7f : mask, above: u32 = 0;
    while (true) {
      const c = load<u32>(hist + (<usize>d << 2));
      if (above + c >= need) break;
      above += c;
      d--;
    }
    need -= above;
    prefix |= d << shift;
    // Done when the digits are exhausted, or when all of bucket d is kept (then
    // t = prefix with zero low bits selects exactly the kept values below).
    if (pass == 3 || load<u32>(hist + (<usize>d << 2)) == need) break;
    // Compact the candidates of bucket d to the front of scratch.
    let m: u32 = 0;
    for (let j: u32 = 0; j < count; j++) {
      const v = load<u32>(src + (<usize>j << 2));
      store<u32>(scratch + (<usize>m << 2), v);
      m += <u32>(((v >> shift) & mask) == d);
    }
    count = m;
    src = scratch;
  }
  // prefix is the bit pattern of the k-th largest value t; `need` of the values
  // equal to t are kept, the lowest-indexed ones.
  const t = prefix;
  let ties = need;
  let m: u32 = 0;
  for (let j: u32 = 0; j < n; j++) {
    const v = load<u32>(p + (<usize>j << 2));
    const eq = <u32>(v == t) & <u32>(ties > 0);
    store<u32>(idx + (<usize>m << 2), j);
    m += <u32>(v > t) | eq;
    ties -= eq;
  }
  return m;
}
