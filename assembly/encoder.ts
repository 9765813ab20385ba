// The forward pass of BERT / DistilBERT sequence classification, one sequence
// of n tokens, no padding:
//   embeddings -> LayerNorm -> L post-LN layers -> [CLS] -> pooler or
//   pre_classifier -> classifier -> logits.
// DistilBERT checkpoints are renamed to BERT's tensor names by the converter, so
// one code path runs both; they differ only in the token-type embedding and the
// head, which Config and Weights describe.
import { Config, Weights, LayerWeights, Matrix, RunState } from "./model";
import { ACT_GELU, ACT_RELU, DTYPE_F16, DTYPE_INT8 } from "./format_constants";
import { matmul } from "./kernels/matmul";
import { matmulI8, quantizeRows } from "./kernels/matmul_i8";
import { addLayerNorm } from "./kernels/layernorm";
import { attention } from "./kernels/attention";
import { gelu, geluTanh, relu, tanhInPlace } from "./kernels/gelu";
import { widenF16 } from "./format";

// s.hidden[n, H] = LayerNorm(word[ids] + token_type[type_ids] + position[0..n)).
// ids and type ids are validated by the caller.
export function embed(cfg: Config, w: Weights, s: RunState, n: u32): void {
  const H = cfg.hidden_size;
  const rowBytes = <usize>H << 2;
  const we = w.word_embeddings;
  for (let t: u32 = 0; t < n; t++) {
    const id = load<u32>(s.input_ids + (<usize>t << 2));
    const out = s.hidden + <usize>t * rowBytes;
    wordRow(out, we, w.word_embeddings_f16, id, H);
    // Hugging Face's order: (word + token_type) + position.
    if (w.token_type_embeddings) {
      const tt = load<u32>(s.token_type_ids + (<usize>t << 2));
      addRow(out, w.token_type_embeddings + <usize>tt * rowBytes, H);
    }
    addRow(out, w.position_embeddings + <usize>t * rowBytes, H);
  }
  addLayerNorm(s.hidden, 0, n, H, w.embeddings_ln_weight, w.embeddings_ln_bias, cfg.layer_norm_eps);
}

// out[H] = row id of the word embedding, widened from f16 or dequantised from
// int8 as it is looked up (the table itself stays in its stored form).
function wordRow(out: usize, we: Matrix, isF16: bool, id: u32, H: u32): void {
  if (isF16 || we.dtype == DTYPE_F16) {
    widenF16(we.data + ((<usize>id * H) << 1), out, H);
  } else if (we.dtype == DTYPE_INT8) {
    const row = we.data + <usize>id * H;
    const scale = load<f32>(we.scales + (<usize>id << 2));
    for (let c: u32 = 0; c < H; c++) store<f32>(out + (<usize>c << 2), <f32>load<i8>(row + <usize>c) * scale);
  } else {
    memory.copy(out, we.data + ((<usize>id * H) << 2), <usize>H << 2);
  }
}

function addRow(out: usize, row: usize, H: u32): void {
  for (let o: usize = 0, e = <usize>H << 2; o < e; o += 4) store<f32>(out + o, load<f32>(out + o) + load<f32>(row + o));
}

// Layers [from, to) on s.hidden[n, H] in place.
export function runLayers(cfg: Config, w: Weights, s: RunState, n: u32, from: u32, to: u32): void {
  for (let i = from; i < to; i++) layer(cfg, w.layers[i], s, n);
}

function layer(cfg: Config, l: LayerWeights, s: RunState, n: u32): void {
  const H = cfg.hidden_size;
  const eps = cfg.layer_norm_eps;
  // Attention sub-layer: x = LN(x + attn(x) W_o + b_o); removed: x = LN(x).
  if (l.has_attention) {
    linear(s, s.q, s.hidden, l.query, l.query_bias, n);   // q[n, h_i*D]
    linear(s, s.k, s.hidden, l.key, l.key_bias, n);       // k[n, h_i*D]
    linear(s, s.v, s.hidden, l.value, l.value_bias, n);   // v[n, h_i*D]
    attention(s.context, s.q, s.k, s.v, n, l.num_heads, cfg.head_dim, l.hard_k, s.scores, s.topk_idx);
    linear(s, s.tmp, s.context, l.attn_out, l.attn_out_bias, n); // tmp[n, H]
    addLayerNorm(s.hidden, s.tmp, n, H, l.attn_ln_weight, l.attn_ln_bias, eps);
  } else {
    addLayerNorm(s.hidden, 0, n, H, l.attn_ln_weight, l.attn_ln_bias, eps);
  }
  // FFN sub-layer: x = LN(x + act(x W_i + b_i) W_o + b_o); removed: x = LN(x).
  if (l.has_ffn) {
    linear(s, s.ffn, s.hidden, l.intermediate, l.intermediate_bias, n); // ffn[n, F_i]
    activation(cfg.hidden_act, s.ffn, n * l.ffn_width);
    linear(s, s.tmp, s.ffn, l.output, l.output_bias, n);               // tmp[n, H]
    addLayerNorm(s.hidden, s.tmp, n, H, l.ffn_ln_weight, l.ffn_ln_bias, eps);
  } else {
    addLayerNorm(s.hidden, 0, n, H, l.ffn_ln_weight, l.ffn_ln_bias, eps);
  }
}

function activation(act: u32, x: usize, len: u32): void {
  if (act == ACT_GELU) gelu(x, len);
  else if (act == ACT_RELU) relu(x, len);
  else geluTanh(x, len);
}

// y[n, m.rows] = x[n, m.cols] · m^T + bias, for the matrix's storage type.
function linear(s: RunState, y: usize, x: usize, m: Matrix, bias: usize, n: u32): void {
  if (m.dtype == DTYPE_INT8) {
    quantizeRows(s.xq, s.xq_scales, x, n, m.cols);
    matmulI8(y, s.xq, s.xq_scales, m.data, m.scales, bias, n, m.cols, m.rows);
  } else {
    matmul(y, x, m.data, bias, n, m.cols, m.rows);
  }
}

// s.logits[C] from the [CLS] row of s.hidden: BERT's pooler (dense + tanh) or
// DistilBERT's pre_classifier (dense + ReLU), then the classifier.
export function runHead(cfg: Config, w: Weights, s: RunState): void {
  const H = cfg.hidden_size;
  let x = s.hidden; // [CLS] is row 0
  if (cfg.has_pooler) {
    linear(s, s.pooled, x, w.pooler, w.pooler_bias, 1);
    tanhInPlace(s.pooled, H);
    x = s.pooled;
  }
  if (cfg.has_pre_classifier) {
    linear(s, s.pooled2, x, w.pre_classifier, w.pre_classifier_bias, 1);
    relu(s.pooled2, H);
    x = s.pooled2;
  }
  linear(s, s.logits, x, w.classifier, w.classifier_bias, 1);
}

export function forward(cfg: Config, w: Weights, s: RunState, n: u32): void {
  embed(cfg, w, s, n);
  runLayers(cfg, w, s, n, 0, cfg.num_layers);
  runHead(cfg, w, s);
}
