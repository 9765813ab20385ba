// The three structs of the runtime, in the manner of llama2.c's run.c:
// Config (what the file says about the model), Weights (pointers into the loaded
// file, never copies, except f16 matrices widened once at load), RunState (the
// activation buffers, sized once per model for max_len tokens).
//
// Shapes use: H = hidden_size, D = head_dim, h_i = heads kept in layer i,
// F_i = FFN width kept in layer i, V = vocab_size, P = max_position,
// T = type_vocab_size, C = num_labels, N = tokens in the current input (N <= max_len).

export class Config {
  arch: u32 = 0;                 // ARCH_BERT, ARCH_DISTILBERT, ARCH_ROBERTA or ARCH_ELECTRA
  vocab_size: u32 = 0;           // V
  hidden_size: u32 = 0;          // H
  num_layers: u32 = 0;           // L
  num_heads: u32 = 0;            // heads per layer of the original checkpoint
  head_dim: u32 = 0;             // D
  intermediate_size: u32 = 0;    // FFN width of the original checkpoint
  max_position: u32 = 0;         // P
  type_vocab_size: u32 = 0;      // T (0 for DistilBERT)
  embedding_size: u32 = 0;       // E, ELECTRA's embedding width when it differs from H (embeddings_project); 0 = H
  position_offset: u32 = 0;      // RoBERTa: padding_idx + 1, the first position id; 0 = positions 0..n)
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
  flags: u32 = 0;                // CONFIG.flags; bit 0: every token has type 0
  temperature: f32 = 1;          // scores use logits / temperature (calibration)
  head_act: u32 = 0;             // the pre_classifier's activation: 0 = ReLU, else ACT_* (ELECTRA: GELU)
  tokenizer: u32 = 0;            // TOKENIZER_*
  template: u32 = 0;             // TEMPLATE_*: [CLS] A [SEP] (B [SEP]) or <s> A </s> (</s> B </s>)
  tokenizer_flags: u32 = 0;      // TOKFLAG_* (byte-level BPE: bits 0..7, Unigram: 8..16)
  task: u32 = 0;                 // TASK_*: what the head computes
  pooling: u32 = 0;              // embeddings: POOL_* bits, concatenated in bit order
  normalize: bool = false;       // embeddings: L2-normalise the pooled vector
  pooled_size: u32 = 0;       // H x (pooling bits set): the embedding's length, 0 for other tasks
}

// A weight matrix of PyTorch's logical shape [rows = out, cols = in]. Exactly one
// of the data pointers is used, per dtype; `layout` orders the elements
// (docs/format.md "Weight layout"): row-major, or panels for the broadcast kernels.
export class Matrix {
  rows: u32 = 0;
  cols: u32 = 0;
  dtype: u32 = 0;     // DTYPE_F32 or DTYPE_INT8; DTYPE_F16 only for the word embedding, which
                      // stays f16 in the file (rows widened on lookup): every other f16 matrix
                      // is widened to f32 once, at load
  layout: u32 = 0;    // LAYOUT_ROWS or LAYOUT_PANELS
  data: usize = 0;    // f32[rows * cols], f16[rows * cols] or i8[rows * cols]
  scales: usize = 0;  // int8 only: f32[rows], w[r][c] = q[r][c] * scales[r]
}

// torch.nn.Linear: y = x weight^T + bias.
export class Linear {
  weight: Matrix = new Matrix(); // [out, in]
  bias: usize = 0;               // f32[out]
}

// torch.nn.LayerNorm over the last dimension.
export class LayerNormWeights {
  weight: usize = 0;  // f32[H]
  bias: usize = 0;    // f32[H]
}

// The classes below follow the checkpoint's modules (BERT's names; the converter
// renames DistilBERT's, see model/tensors.ts), so a field's path is the tensor's
// name: layers[i].attention.self.query.weight is
// encoder.layer.{i}.attention.self.query.weight. Each links the class's lines
// in modeling_bert.py at the commit encoder/forward.ts names.

// BertEmbeddings: embeddings.*
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L159-L220
// (ELECTRA's ElectraEmbeddings: the same with width E = embedding_size.)
export class Embeddings {
  word_embeddings: Matrix = new Matrix(); // [V, E], f32, f16 (kept in place) or int8; E = H but for ELECTRA
  position_embeddings: usize = 0;         // f32[P, E]
  token_type_embeddings: usize = 0;       // f32[T, E]; 0 for DistilBERT (T = 0)
  LayerNorm: LayerNormWeights = new LayerNormWeights(); // [E]
}

// BertSelfAttention: encoder.layer.{i}.attention.self.*
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L223-L354
export class SelfAttention {
  query: Linear = new Linear();  // [h_i * D, H]
  key: Linear = new Linear();    // [h_i * D, H]
  value: Linear = new Linear();  // [h_i * D, H]
}

// BertSelfOutput: encoder.layer.{i}.attention.output.*
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L458-L469
export class SelfOutput {
  dense: Linear = new Linear();  // [H, h_i * D]
  LayerNorm: LayerNormWeights = new LayerNormWeights(); // [H], present even when the attention block is removed
}

// BertAttention: encoder.layer.{i}.attention.*
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L478-L526
export class Attention {
  self: SelfAttention = new SelfAttention();
  output: SelfOutput = new SelfOutput();
}

// BertIntermediate: encoder.layer.{i}.intermediate.*
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L529-L541
export class Intermediate {
  dense: Linear = new Linear();  // [F_i, H]
}

// BertOutput: encoder.layer.{i}.output.*
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L544-L555
export class Output {
  dense: Linear = new Linear();  // [H, F_i]
  LayerNorm: LayerNormWeights = new LayerNormWeights(); // [H], present even when the FFN block is removed
}

// BertLayer: encoder.layer.{i}.*, with what the optimizer kept of it (the LAYERS record).
// https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L558-L641
export class LayerWeights {
  has_attention: bool = false;
  has_ffn: bool = false;
  num_heads: u32 = 0;            // h_i
  ffn_width: u32 = 0;            // F_i
  hard_k: u32 = 0;               // 0 = dense softmax attention

  attention: Attention = new Attention();
  intermediate: Intermediate = new Intermediate();
  output: Output = new Output();
}

export class Weights {
  embeddings: Embeddings = new Embeddings();
  embeddings_project: Linear = new Linear(); // ELECTRA's embeddings_project: [H, E]; absent (weight.data 0) when E = H
  layers: LayerWeights[] = [];               // L entries
  pooler: Linear = new Linear();             // BertPooler pooler.dense: [H, H] (BERT; RoBERTa: classifier.dense)
  pre_classifier: Linear = new Linear();     // [H, H] (DistilBERT; ELECTRA: classifier.dense)
  classifier: Linear = new Linear();         // [C, H], on [CLS] or (token classification) on every token (RoBERTa, ELECTRA: classifier.out_proj)
  qa_outputs: Linear = new Linear();         // [2, H] (question answering): start and end logits of every token
}

// The vocabulary and labels as the file stores them (docs/format.md string
// lists); the tokenizer builds its hash table over `vocab`.
export class StringList {
  count: u32 = 0;
  offsets: usize = 0; // u32[count + 1]
  blob: usize = 0;    // UTF-8 bytes
}

// The activations, allocated once per model for max_len token rows (one sequence
// or a batch of sequences, one after the other); a forward pass on N <= max_len
// rows uses the first N of each. h_max and F_max are the most heads and FFN
// neurons any layer kept; in_max = max(H, h_max * D, F_max).
export class RunState {
  max_batch: u32 = 0;        // sequences per batch: logits holds this many rows
  input_ids: usize = 0;      // i32[max_len]
  token_type_ids: usize = 0; // i32[max_len]
  emb: usize = 0;       // f32[max_len, E], ELECTRA's embeddings before embeddings_project (0 when E = H)
  hidden: usize = 0;    // f32[max_len, H], the residual stream; input and output of every layer
  tmp: usize = 0;       // f32[max_len, H], sub-layer output before the residual sum
  q: usize = 0;         // f32[max_len, h_max * D]
  k: usize = 0;         // f32[max_len, h_max * D]
  v: usize = 0;         // f32[max_len, h_max * D]
  context: usize = 0;   // f32[max_len, h_max * D], attention output before the output projection
  ffn: usize = 0;       // f32[max_len, F_max], in the memory of q, k, v, context (dead when the FFN runs)
  scores: usize = 0;    // f32[QUERY_BLOCK, max_len]: attention probabilities of a block of queries of one head
  topk_idx: usize = 0;  // i32[max_len], indices kept by hard attention
  kt: usize = 0;        // f32[D, max_len]: the keys of one head, transposed, in panels of 16 keys
  vt: usize = 0;        // f32[D, max_len]: the values of one head, in panels of 16 columns
  pooled: usize = 0;    // f32[H], the pooler's output
  pooled2: usize = 0;   // f32[H], the pre-classifier's output
  logits: usize = 0;    // the head's output (encoder/forward.ts runHead), by CONFIG.task:
                        //   sequence classification f32[max_batch, C]; embedding f32[max_batch, E];
                        //   token classification f32[max_len, C]; question answering f32[max_len, 2]
                        //   as start[n] then end[n] of each sequence
  span: usize = 0;      // f32[max_len, 2], question answering only: qa_outputs' output before the split
  label_scores: usize = 0; // f64[max_batch, C]: softmax / sigmoid of logits / temperature (encoder/scores.ts);
                           // token classification: one row per token (max_batch = max_len)
  xq: usize = 0;        // i16[max_len, in_max], int8 matrices only: activations quantised per row
  xq_scales: usize = 0; // f32[max_len], one scale per row of xq
}
