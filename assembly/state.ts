// The activation buffers of one model, sized once at load for max_len tokens
// (nothing is allocated per call).
//
// They live in one region at the top of wasm memory, grown to the exact size
// with memory.grow, not in the TLSF heap: TLSF grows memory by max(current size,
// request), so allocating activations after a large model file would double the
// memory. The region outlives the model and is reused by the next one (grown in
// place while it is still the top of memory).
import { Config, Weights, RunState } from "./model";
import { DTYPE_INT8 } from "./format/constants";
import { QUERY_BLOCK } from "./kernels/attention";

let regionStart: usize = 0;
let regionBytes: usize = 0;

// A 16-aligned region of at least `bytes`, or 0 when memory cannot grow.
function region(bytes: usize): usize {
  if (regionStart && bytes <= regionBytes) return regionStart;
  const top = <usize>memory.size() << 16;
  // Grow in place if nothing was placed above the region since; otherwise start
  // a new one at the top (the old one is given up).
  const start = regionStart && regionStart + regionBytes == top ? regionStart : top;
  const end = start + bytes;
  if (end > top && memory.grow(<i32>((end - top + 0xffff) >> 16)) < 0) return 0;
  regionStart = start;
  regionBytes = (<usize>memory.size() << 16) - start;
  return start;
}

// Null when memory cannot grow to hold the buffers.
export function allocRunState(cfg: Config, w: Weights): RunState | null {
  const n = <usize>cfg.max_len;
  const H = <usize>cfg.hidden_size;
  let hMax: usize = 0, fMax: usize = 0;
  for (let i = 0; i < w.layers.length; i++) {
    const l = w.layers[i];
    if (l.has_attention) hMax = max(hMax, <usize>l.num_heads);
    if (l.has_ffn) fMax = max(fMax, <usize>l.ffn_width);
  }
  const hd = hMax * <usize>cfg.head_dim;
  const inMax = max(H, max(hd, fMax));
  const int8 = hasInt8(w);
  const batch = maxBatch(cfg);
  // q, k, v and context are dead once the attention sub-layer has added its
  // output to hidden, so the FFN activations share their memory (work).
  const qkv = ((n * hd << 2) + 15) & ~15;
  // Byte sizes in field order, each rounded up to 16.
  const sizes: usize[] = [
    n << 2, n << 2,                 // input_ids, token_type_ids
    n * H << 2, n * H << 2,         // hidden, tmp
    max<usize>(4 * qkv, n * fMax << 2), // work: q, k, v, context / ffn
    n * <usize>QUERY_BLOCK << 2, n << 2, // scores, topk_idx
    n * <usize>cfg.head_dim << 2,   // kt
    n * <usize>cfg.head_dim << 2,   // vt
    H << 2, H << 2,                 // pooled, pooled2
    <usize>batch * cfg.num_labels << 2, // logits
    int8 ? n * inMax << 1 : 0,      // xq
    int8 ? n << 2 : 0,              // xq_scales
  ];
  let total: usize = 0;
  for (let i = 0; i < sizes.length; i++) total += (sizes[i] + 15) & ~15;
  const base = region(total);
  if (!base) return null;
  memory.fill(base, 0, total); // reading a buffer before the first forward pass is harmless
  const at = new StaticArray<usize>(sizes.length);
  let p = base;
  for (let i = 0; i < sizes.length; i++) {
    at[i] = sizes[i] ? p : 0;
    p += (sizes[i] + 15) & ~15;
  }
  const s = new RunState();
  s.max_tokens = cfg.max_len;
  s.max_batch = batch;
  s.input_ids = at[0];
  s.token_type_ids = at[1];
  s.hidden = at[2];
  s.tmp = at[3];
  const work = at[4];
  if (hd) {
    s.q = work;
    s.k = work + qkv;
    s.v = work + 2 * qkv;
    s.context = work + 3 * qkv;
  }
  if (fMax) s.ffn = work;
  s.scores = at[5];
  s.topk_idx = at[6];
  s.kt = at[7];
  s.vt = at[8];
  s.pooled = at[9];
  s.pooled2 = at[10];
  s.logits = at[11];
  s.xq = at[12];
  s.xq_scales = at[13];
  return s;
}

// A batch has at most max_len sequences (of 1 token), and its logits take at
// most 256 KiB.
function maxBatch(cfg: Config): u32 {
  return min(cfg.max_len, max<u32>(1, (1 << 16) / cfg.num_labels));
}

// The region stays for the next model.
export function freeRunState(s: RunState): void {
  s.max_tokens = 0;
}

function hasInt8(w: Weights): bool {
  for (let i = 0; i < w.layers.length; i++) {
    const l = w.layers[i];
    if (l.query.dtype == DTYPE_INT8 || l.key.dtype == DTYPE_INT8 || l.value.dtype == DTYPE_INT8 ||
        l.attn_out.dtype == DTYPE_INT8 || l.intermediate.dtype == DTYPE_INT8 || l.output.dtype == DTYPE_INT8) return true;
  }
  return w.pooler.dtype == DTYPE_INT8 || w.pre_classifier.dtype == DTYPE_INT8 || w.classifier.dtype == DTYPE_INT8;
}
