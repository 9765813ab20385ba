// Token string -> id lookup over the model file's VOCAB string list, an open-
// addressing hash table (linear probing) built once per model. The strings stay in
// the file; the table holds (hash, id) pairs, so a probe compares bytes only on a
// full 32-bit hash match. WordPiece looks up "##" + piece without building that
// string: the hash and the comparison take the prefix as a flag.
//
// Unmanaged (no GC header, no shadow-stack traffic on the hot path): the owner
// calls dispose(), which frees the table and the object itself.

import { StringList } from "../model/model";

const EMPTY: i32 = -1;
const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;
const HASH = 0x23; // '#'

@inline
function fnv(h: u32, ptr: usize, len: u32): u32 {
  for (let i: usize = 0; i < <usize>len; i++) h = (h ^ <u32>load<u8>(ptr + i)) * FNV_PRIME;
  return h;
}

const FNV_HASH_HASH: u32 = ((((FNV_OFFSET ^ HASH) * FNV_PRIME) ^ HASH) * FNV_PRIME);

@unmanaged
export class Vocab {
  count: u32;
  offsets: usize;       // u32[count + 1], byte offsets into blob
  blob: usize;          // UTF-8 token bytes
  slots: usize = 0;     // (u32 hash, i32 id)[capacity], id -1 = empty
  mask: u32 = 0;        // capacity - 1, capacity a power of two >= 2 * count
  maxTokenBytes: u32 = 0; // longest token in bytes: WordPiece never tries longer pieces

  constructor(list: StringList) {
    this.count = list.count;
    this.offsets = list.offsets;
    this.blob = list.blob;
    let capacity: u32 = 16;
    while (capacity < this.count * 2) capacity <<= 1;
    this.mask = capacity - 1;
    this.slots = heap.alloc(<usize>capacity << 3);
    memory.fill(this.slots, 0xff, <usize>capacity << 3);
    for (let id: u32 = 0; id < this.count; id++) {
      const ptr = this.tokenPtr(id);
      const len = this.tokenLen(id);
      if (len > this.maxTokenBytes) this.maxTokenBytes = len;
      this.insert(fnv(FNV_OFFSET, ptr, len), <i32>id);
    }
  }

  @inline tokenPtr(id: u32): usize {
    return this.blob + <usize>load<u32>(this.offsets + (<usize>id << 2));
  }

  @inline tokenLen(id: u32): u32 {
    const at = this.offsets + (<usize>id << 2);
    return load<u32>(at, 4) - load<u32>(at);
  }

  // A repeated token keeps its last id, like Python's load_vocab (dict assignment
  // in file order); the format forbids repeats, so this only matters for bad files.
  private insert(hash: u32, id: i32): void {
    let i = hash & this.mask;
    while (true) {
      const slot = this.slots + (<usize>i << 3);
      const other = load<i32>(slot, 4);
      if (other == EMPTY) {
        store<u32>(slot, hash);
        store<i32>(slot, id, 4);
        return;
      }
      if (load<u32>(slot) == hash && this.equals(<u32>other, false, this.tokenPtr(id), this.tokenLen(id))) {
        store<i32>(slot, id, 4);
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  @inline private equals(id: u32, prefixed: bool, ptr: usize, len: u32): bool {
    const tlen = this.tokenLen(id);
    const tptr = this.tokenPtr(id);
    if (!prefixed) return tlen == len && memory.compare(tptr, ptr, len) == 0;
    return (
      tlen == len + 2 &&
      load<u8>(tptr) == HASH &&
      load<u8>(tptr, 1) == HASH &&
      memory.compare(tptr + 2, ptr, len) == 0
    );
  }

  // The id of the token whose bytes are ptr[0, len), preceded by "##" when
  // `prefixed`; -1 when the vocabulary has no such token.
  lookup(prefixed: bool, ptr: usize, len: u32): i32 {
    const hash = fnv(prefixed ? FNV_HASH_HASH : FNV_OFFSET, ptr, len);
    let i = hash & this.mask;
    while (true) {
      const slot = this.slots + (<usize>i << 3);
      const id = load<i32>(slot, 4);
      if (id == EMPTY) return -1;
      if (load<u32>(slot) == hash && this.equals(<u32>id, prefixed, ptr, len)) return id;
      i = (i + 1) & this.mask;
    }
  }

  dispose(): void {
    heap.free(this.slots);
    heap.free(changetype<usize>(this));
  }
}
