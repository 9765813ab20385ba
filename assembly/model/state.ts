// The activation buffers of one model, sized once at load for max_len tokens
// (nothing is allocated per call).
//
// They live in one region at the top of wasm memory, grown to the exact size
// with memory.grow, not in the TLSF heap: TLSF grows memory by max(current size,
// request), so allocating activations after a large model file would double the
// memory. The region outlives the model and is reused by the next one (grown in
// place while it is still the top of memory).
import { Config, Weights, RunState } from "./model";
import { DTYPE_INT8, TASK_SEQUENCE_CLASSIFICATION, TASK_EMBEDDING, TASK_QUESTION_ANSWERING } from "../format/constants";
import { QUERY_BLOCK } from "../kernels/attention";

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
  const s = new RunState();
  s.max_batch = maxBatch(cfg);
  // Lay the buffers out once from 0 to learn the total, then for real.
  const total = layOut(s, cfg, w, hasInt8(w), 0);
  const base = region(total);
  if (!base) return null;
  memory.fill(base, 0, total); // reading a buffer before the first forward pass is harmless
  layOut(s, cfg, w, hasInt8(w), base);
  return s;
}

// The bytes allocRunState takes for this config and these layer records (the
// reader's memory check, before any weight is looked at): int8, whether any
// linear weight is stored int8.
export function runStateBytes(cfg: Config, w: Weights, int8: bool): usize {
  const s = new RunState();
  s.max_batch = maxBatch(cfg);
  return layOut(s, cfg, w, int8, 0);
}

let cursor: usize = 0;

// The next buffer of `bytes`, 16-aligned; 0 for a buffer of 0 bytes.
function next(bytes: usize): usize {
  if (!bytes) return 0;
  const at = cursor;
  cursor += (bytes + 15) & ~15;
  return at;
}

// Points the buffers of s into [base, base + total) and returns total.
function layOut(s: RunState, cfg: Config, w: Weights, int8: bool, base: usize): usize {
  const n = <usize>cfg.max_len;
  const H = <usize>cfg.hidden_size;
  const D = <usize>cfg.head_dim;
  let hMax: usize = 0, fMax: usize = 0;
  for (let i = 0; i < w.layers.length; i++) {
    const l = w.layers[i];
    if (l.has_attention) hMax = max(hMax, <usize>l.num_heads);
    if (l.has_ffn) fMax = max(fMax, <usize>l.ffn_width);
  }
  const hd = hMax * D;
  const inMax = max(H, max(hd, fMax));
  cursor = base;
  s.input_ids = next(n << 2);              // i32[max_len]
  s.token_type_ids = next(n << 2);         // i32[max_len]
  s.hidden = next(n * H << 2);             // f32[max_len, H]
  s.tmp = next(n * H << 2);                // f32[max_len, H]
  // q, k, v and context are dead once the attention sub-layer has added its
  // output to hidden, so the FFN activations share their memory (work).
  const qkv = ((n * hd << 2) + 15) & ~15;  // f32[max_len, h_max * D], rounded up to 16 bytes
  const work = next(max<usize>(4 * qkv, n * fMax << 2));
  s.q = hd ? work : 0;
  s.k = hd ? work + qkv : 0;
  s.v = hd ? work + 2 * qkv : 0;
  s.context = hd ? work + 3 * qkv : 0;
  s.ffn = fMax ? work : 0;                 // f32[max_len, F_max]
  s.scores = next(n * <usize>QUERY_BLOCK << 2); // f32[QUERY_BLOCK, max_len]
  s.topk_idx = next(n << 2);               // i32[max_len]
  s.kt = next(n * D << 2);                 // f32[D, max_len]
  s.vt = next(n * D << 2);                 // f32[D, max_len]
  s.pooled = next(H << 2);                 // f32[H]
  s.pooled2 = next(H << 2);                // f32[H]
  const out = <usize>outputWidth(cfg);
  s.logits = next(<usize>s.max_batch * out << 2); // f32[max_batch, out] (model.ts RunState.logits)
  s.span = next(cfg.task == TASK_QUESTION_ANSWERING ? n * 2 << 2 : 0); // f32[max_len, 2]
  s.label_scores = next(<usize>s.max_batch * cfg.num_labels << 3); // f64[max_batch, C]
  s.xq = next(int8 ? n * inMax << 1 : 0);  // i16[max_len, in_max]
  s.xq_scales = next(int8 ? n << 2 : 0);   // f32[max_len]
  return cursor - base;
}

// The head's output per row of s.logits: a sequence's C logits or E embedding
// values, or (token classification, question answering: one row per token) a
// token's C or 2 logits.
export function outputWidth(cfg: Config): u32 {
  if (cfg.task == TASK_EMBEDDING) return cfg.pooled_size;
  return cfg.task == TASK_QUESTION_ANSWERING ? 2 : cfg.num_labels;
}

// A batch has at most max_len sequences (of 1 token), and the outputs of a
// sequence-level head take at most 256 KiB; per-token heads have a row for each
// of the max_len tokens.
function maxBatch(cfg: Config): u32 {
  if (cfg.task != TASK_SEQUENCE_CLASSIFICATION && cfg.task != TASK_EMBEDDING) return cfg.max_len;
  return min(cfg.max_len, max<u32>(1, (1 << 16) / outputWidth(cfg)));
}

function hasInt8(w: Weights): bool {
  for (let i = 0; i < w.layers.length; i++) {
    const l = w.layers[i];
    if (l.attention.self.query.weight.dtype == DTYPE_INT8 || l.attention.self.key.weight.dtype == DTYPE_INT8 ||
        l.attention.self.value.weight.dtype == DTYPE_INT8 || l.attention.output.dense.weight.dtype == DTYPE_INT8 ||
        l.intermediate.dense.weight.dtype == DTYPE_INT8 || l.output.dense.weight.dtype == DTYPE_INT8) return true;
  }
  return w.pooler.weight.dtype == DTYPE_INT8 || w.pre_classifier.weight.dtype == DTYPE_INT8 || w.classifier.weight.dtype == DTYPE_INT8 ||
    w.qa_outputs.weight.dtype == DTYPE_INT8;
}
