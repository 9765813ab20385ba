// Vocabularies crafted against a 32-bit FNV-1a hash table (issue 10, item 4), and
// random ones of the same shape to compare with.
//
// collidingTokens(k): 2^k distinct tokens of 6k lowercase letters that all have the
// same 32-bit FNV-1a hash (the runtime's old vocabulary table put them all in one
// probe chain). A Joux multicollision: from the hash state h, find two 6-letter
// blocks x != y with fnv(h, x) == fnv(h, y) (a birthday search: about 2^17 blocks
// for a 32-bit hash); every token picks x or y at each of the k steps.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

export function fnv1a(bytes: string, h = FNV_OFFSET): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes.charCodeAt(i), FNV_PRIME) >>> 0;
  return h >>> 0;
}

// Block i of BLOCK letters, i scrambled so that consecutive i differ in every letter.
const BLOCK = 6;
function block(i: number): string {
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  let s = "";
  for (let j = 0; j < BLOCK; j++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    s += LETTERS[x % 26];
  }
  return s;
}

export function collidingTokens(k: number): string[] {
  const pairs: [string, string][] = [];
  let h = FNV_OFFSET;
  for (let step = 0; step < k; step++) {
    const seen = new Map<number, string>();
    let found: [string, string] | null = null;
    for (let i = 0; i < 1 << 21 && !found; i++) {
      const b = block(i);
      const hb = fnv1a(b, h);
      const other = seen.get(hb);
      if (other !== undefined && other !== b) found = [other, b];
      else seen.set(hb, b);
    }
    if (!found) throw new Error(`collidingTokens: no collision among 2^21 blocks from state ${h}`);
    pairs.push(found);
    h = fnv1a(found[0], h);
  }
  const out: string[] = [];
  for (let m = 0; m < 2 ** k; m++) out.push(pairs.map((p, i) => p[(m >> i) & 1]).join(""));
  return out;
}

// n distinct random tokens of `len` lowercase letters (deterministic per seed).
export function randomTokens(n: number, len: number, seed = 1): string[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Set<string>();
  while (out.size < n) {
    let s = "";
    for (let i = 0; i < len; i++) s += LETTERS[Math.floor(rand() * 26)];
    out.add(s);
  }
  return [...out];
}
