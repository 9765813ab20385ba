// What the three tokenizers (wordpiece.ts, bpe.ts, unigram.ts) share after each has
// split its texts: Hugging Face's pair truncation and the post-processor's template.
//
// Truncation, as tokenizers 0.23 does it for a pair (TokenizerImpl::encode with
// truncation, then truncate_encodings, src/utils/truncation.rs, LongestFirst):
//   1. each text is tokenized word by word (pre-tokenizer pieces and added tokens)
//      and stops at the end of the first word that brings it to max_len tokens:
//      the counts nA, nB the next step sees are these, not the full lengths
//      (tokenizers 0.22 and older counted every token; the counts differ only when
//      a text is longer than max_len, and then only which text keeps the odd token);
//   2. truncatePair shares budget = max_len - the template's special tokens out.
// Every tokenizer's `tokenize` takes that stop (`stopAt`, in tokens) for this reason.

// truncate_encodings, LongestFirst, for texts of nA and nB tokens (counted as in
// step 1 above). Returns the kept lengths as nA' << 32 | nB'. A text shorter than
// its half of the budget is kept whole and the other gets the rest; when both are
// cut, the shorter keeps floor(budget / 2) and the longer the other half, b
// counting as the longer on a tie. (The legacy Python truncate_sequences, one token
// at a time from the longer text, gives the odd token to a instead when both are
// cut, the budget is odd and a is not longer than b.)
export function truncatePair(nA: u32, nB: u32, budget: u32): u64 {
  if (nA + nB <= budget) return (<u64>nA << 32) | nB;
  let n1 = nA;
  let n2 = nB;
  const swap = n1 > n2;
  if (swap) {
    n1 = nB;
    n2 = nA;
  }
  // n1 is the shorter.
  if (n1 > budget) n2 = n1;
  else n2 = max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = budget / 2;
    n2 = n1 + (budget % 2);
  }
  let keepA = swap ? n2 : n1;
  let keepB = swap ? n1 : n2;
  if (keepA > nA) keepA = nA;
  if (keepB > nB) keepB = nB;
  return (<u64>keepA << 32) | keepB;
}

// The template around text a (nA ids already at ids[1..], offsets at offsets[1..])
// and, when nB >= 0, text b (nB ids at pairIds, offsets at pairOffsets):
//   cls a sep                      single
//   cls a sep b sep                BERT's pair (doubleSep false)
//   cls a sep sep b sep            RoBERTa's (doubleSep true)
// Template tokens get offsets (0, 0); types are 0 up to the first sep, secondType
// after it. Returns the token count.
export function assemble(
  ids: usize, offsets: usize, types: usize, clsId: i32, sepId: i32, nA: u32,
  pairIds: usize, pairOffsets: usize, nB: i32, doubleSep: bool, secondType: i32,
): u32 {
  let n = put(ids, offsets, 0, clsId) + nA;
  n = put(ids, offsets, n, sepId);
  const firstEnd = n;
  if (nB >= 0) {
    if (doubleSep) n = put(ids, offsets, n, sepId);
    memory.copy(ids + (<usize>n << 2), pairIds, <usize>nB << 2);
    memory.copy(offsets + (<usize>n << 3), pairOffsets, <usize>nB << 3);
    n = put(ids, offsets, n + <u32>nB, sepId);
  }
  for (let i: u32 = 0; i < n; i++) store<i32>(types + (<usize>i << 2), i < firstEnd ? 0 : secondType);
  return n;
}

@inline
function put(ids: usize, offsets: usize, n: u32, id: i32): u32 {
  store<i32>(ids + (<usize>n << 2), id);
  store<u64>(offsets + (<usize>n << 3), 0);
  return n + 1;
}
