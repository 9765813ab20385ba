// A trie of token strings over u32 symbols (UTF-8 bytes of the raw text, or code
// points of the normalized text), for the leftmost-longest matching of special and
// added tokens. At one position it walks the longest candidate once, scanning the
// sibling list at each step; the siblings left behind along one path root disjoint
// subtrees, each ending in a token, so a position costs at most the token count
// plus the longest token's length, never their product.
//
// Nodes: u32 symbol, i32 first child, i32 next sibling, i32 token id (-1: none);
// node 0 is the root. Allocated once with room for every symbol inserted.

const NODE = 16;

@unmanaged
export class Trie {
  nodes: usize;
  count: u32;
  capacity: u32;
  matchLen: u32; // symbols of the last match

  constructor(symbols: u32) {
    this.capacity = symbols + 1;
    this.nodes = heap.alloc(<usize>this.capacity * NODE);
    this.count = 1;
    this.matchLen = 0;
    store<u32>(this.nodes, 0);
    store<i32>(this.nodes, -1, 4);
    store<i32>(this.nodes, -1, 8);
    store<i32>(this.nodes, -1, 12);
  }

  dispose(): void {
    heap.free(this.nodes);
    heap.free(changetype<usize>(this));
  }

  @inline private child(node: i32, sym: u32): i32 {
    let c = load<i32>(this.nodes + <usize>node * NODE, 4);
    while (c >= 0 && load<u32>(this.nodes + <usize>c * NODE) != sym) c = load<i32>(this.nodes + <usize>c * NODE, 8);
    return c;
  }

  private childOrNew(node: i32, sym: u32): i32 {
    let c = this.child(node, sym);
    if (c >= 0 || this.count >= this.capacity) return c;
    c = <i32>this.count;
    this.count++;
    const at = this.nodes + <usize>c * NODE, parent = this.nodes + <usize>node * NODE;
    store<u32>(at, sym);
    store<i32>(at, -1, 4);
    store<i32>(at, load<i32>(parent, 4), 8);
    store<i32>(at, -1, 12);
    store<i32>(parent, c, 4);
    return c;
  }

  // Adds a token of n symbols, each `width` bytes (1: bytes, 4: u32); the first
  // id given for a string is kept.
  insert(ptr: usize, n: u32, width: u32, id: i32): void {
    let node: i32 = 0;
    for (let i: u32 = 0; i < n && node >= 0; i++) {
      const sym = width == 1 ? <u32>load<u8>(ptr + <usize>i) : load<u32>(ptr + (<usize>i << 2));
      node = this.childOrNew(node, sym);
    }
    if (node > 0 && load<i32>(this.nodes + <usize>node * NODE, 12) < 0) store<i32>(this.nodes + <usize>node * NODE, id, 12);
  }

  // The id of the longest token starting at p in the bytes [p, end), or -1.
  longestBytes(p: usize, end: usize): i32 {
    let node: i32 = 0, best: i32 = -1;
    let i: u32 = 0;
    this.matchLen = 0;
    while (p + <usize>i < end) {
      node = this.child(node, <u32>load<u8>(p + <usize>i));
      if (node < 0) break;
      i++;
      const id = load<i32>(this.nodes + <usize>node * NODE, 12);
      if (id >= 0) { best = id; this.matchLen = i; }
    }
    return best;
  }

  // The same over `count` code points of a ring buffer of u32, from `head`.
  longestRing(ring: usize, head: u32, count: u32, mask: u32): i32 {
    let node: i32 = 0, best: i32 = -1;
    this.matchLen = 0;
    for (let i: u32 = 0; i < count; i++) {
      node = this.child(node, load<u32>(ring + (<usize>((head + i) & mask) << 2)));
      if (node < 0) break;
      const id = load<i32>(this.nodes + <usize>node * NODE, 12);
      if (id >= 0) { best = id; this.matchLen = i + 1; }
    }
    return best;
  }
}
