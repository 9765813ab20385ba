// The three structs of the runtime, in the manner of llama2.c's run.c:
// Config (what the file says about the model), Weights (pointers into the loaded
// file, never copies, except f16 matrices widened once at load), RunState (the
// activation buffers, sized once per model for max_len tokens).
//
// Shapes use: H = hidden_size, D = head_dim, h_i = heads kept in layer i,
// F_i = FFN width kept in layer i, V = vocab_size, P = max_position,
// T = type_vocab_size, C = num_labels, N = tokens in the current input (N <= max_len).

export class Config {
  arch: u32 = 0;                 // ARCH_BERT or ARCH_DISTILBERT
  vocab_size: u32 = 0;           // V
  hidden_size: u32 = 0;          // H
  num_layers: u32 = 0;           // L
  num_heads: u32 = 0;            // heads per layer of the original checkpoint
  head_dim: u32 = 0;             // D
  intermediate_size: u32 = 0;    // FFN width of the original checkpoint
  max_position: u32 = 0;         // P
  type_vocab_size: u32 = 0;      // T (0 for DistilBERT)
  num_labels: u32 = 0;           // C
  problem_type: u32 = 0;         // PROBLEM_*
  hidden_act: u32 = 0;           // ACT_*
  layer_norm_eps: f32 = 0;
  has_pooler: bool = false;
  has_pre_classifier: bool = false;
  do_lower_case: bool = false;
  strip_accents: bool = false;   // resolved: true when accents are stripped
  tokenize_chinese_chars: bool = false;
  clean_text: bool = false;
  cls_id: i32 = 0;
  sep_id: i32 = 0;
  pad_id: i32 = 0;
  unk_id: i32 = 0;
  mask_id: i32 = -1;             // -1 when the vocabulary has no [MASK]
  max_len: u32 = 0;              // longest tokenized input, <= P
  max_input_chars_per_word: u32 = 100;
  temperature: f32 = 1;          // scores use logits / temperature (calibration)
}

// A weight matrix of PyTorch's logical shape [rows = out, cols = in]. Exactly one
// of the data pointers is used, per dtype; `layout` orders the elements
// (docs/format.md "Weight layout"): row-major, or panels for the broadcast kernels.
export class Matrix {
  rows: u32 = 0;
  cols: u32 = 0;
  dtype: u32 = 0;     // DTYPE_F32 or DTYPE_INT8 (f16 is widened to f32 at load)
  layout: u32 = 0;    // LAYOUT_ROWS or LAYOUT_PANELS
  data: usize = 0;    // f32[rows * cols] or i8[rows * cols]
  scales: usize = 0;  // int8 only: f32[rows], w[r][c] = q[r][c] * scales[r]
}

export class LayerWeights {
  has_attention: bool = false;
  has_ffn: bool = false;
  num_heads: u32 = 0;            // h_i
  ffn_width: u32 = 0;            // F_i
  hard_k: u32 = 0;               // 0 = dense softmax attention

  query: Matrix = new Matrix();  // [h_i * D, H]
  query_bias: usize = 0;         // f32[h_i * D]
  key: Matrix = new Matrix();    // [h_i * D, H]
  key_bias: usize = 0;           // f32[h_i * D]
  value: Matrix = new Matrix();  // [h_i * D, H]
  value_bias: usize = 0;         // f32[h_i * D]
  attn_out: Matrix = new Matrix(); // [H, h_i * D]
  attn_out_bias: usize = 0;      // f32[H]
  attn_ln_weight: usize = 0;     // f32[H], present even when the block is removed
  attn_ln_bias: usize = 0;       // f32[H]

  intermediate: Matrix = new Matrix(); // [F_i, H]
  intermediate_bias: usize = 0;  // f32[F_i]
  output: Matrix = new Matrix(); // [H, F_i]
  output_bias: usize = 0;        // f32[H]
  ffn_ln_weight: usize = 0;      // f32[H], present even when the block is removed
  ffn_ln_bias: usize = 0;        // f32[H]
}

export class Weights {
  word_embeddings: Matrix = new Matrix();  // [V, H], f32, f16 (used in place) or int8
  word_embeddings_f16: bool = false;       // true: data is f16[V * H], rows widened on lookup
  position_embeddings: usize = 0;          // f32[P * H]
  token_type_embeddings: usize = 0;        // f32[T * H], 0 for DistilBERT
  embeddings_ln_weight: usize = 0;         // f32[H]
  embeddings_ln_bias: usize = 0;           // f32[H]
  layers: LayerWeights[] = [];             // L entries
  pooler: Matrix = new Matrix();           // [H, H] (BERT)
  pooler_bias: usize = 0;                  // f32[H]
  pre_classifier: Matrix = new Matrix();   // [H, H] (DistilBERT)
  pre_classifier_bias: usize = 0;          // f32[H]
  classifier: Matrix = new Matrix();       // [C, H]
  classifier_bias: usize = 0;              // f32[C]
}

// The vocabulary and labels as the file stores them (docs/format.md string
// lists); the tokenizer builds its hash table over `vocab`.
export class StringList {
  count: u32 = 0;
  offsets: usize = 0; // u32[count + 1]
  blob: usize = 0;    // UTF-8 bytes
}

export class RunState {
  max_tokens: u32 = 0;  // buffers hold this many tokens (Config.max_len), in one sequence or a batch
  max_batch: u32 = 0;   // sequences per batch: logits holds this many rows
  input_ids: usize = 0;      // i32[max_tokens]
  token_type_ids: usize = 0; // i32[max_tokens]
  hidden: usize = 0;    // f32[N * H], the residual stream; input and output of every layer
  tmp: usize = 0;       // f32[N * H], sub-layer output before the residual sum
  q: usize = 0;         // f32[N * h_max * D]
  k: usize = 0;         // f32[N * h_max * D]
  v: usize = 0;         // f32[N * h_max * D]
  context: usize = 0;   // f32[N * h_max * D], attention output before the output projection
  scores: usize = 0;    // f32[QUERY_BLOCK * N]: attention probabilities of a block of queries of one head
  kt: usize = 0;        // f32[D * N]: the keys of one head, transposed, in panels of 16 keys
  vt: usize = 0;        // f32[D * N]: the values of one head, in panels of 16 columns
  topk_idx: usize = 0;  // i32[N], indices kept by hard attention
  ffn: usize = 0;       // f32[N * F_max], in the memory of q, k, v, context (dead when the FFN runs)
  pooled: usize = 0;    // f32[H]
  pooled2: usize = 0;   // f32[H]
  logits: usize = 0;    // f32[max_batch, C]
  xq: usize = 0;        // i16[N * in_max], int8 matrices only: activations quantised per row
  xq_scales: usize = 0; // f32[N], one scale per row of xq
}
