// The forward pass of BERT / DistilBERT / RoBERTa / ELECTRA, on b sequences of n
// tokens each (b = 1 for a single input):
//   embeddings -> LayerNorm (-> embeddings_project) -> L post-LN layers -> the task's head (runHead):
//   sequence classification: [CLS] -> pooler or pre_classifier -> classifier -> logits;
//   embedding: pooling over the tokens -> L2 normalisation (encoder/pooling.ts);
//   token classification: classifier on every token; question answering:
//   qa_outputs on every token -> start and end logits.
// Every family's checkpoint is renamed to BERT's tensor names by the converter
// (model/checkpoint-names.ts), so one code path runs all four; they differ only where
// Config and Weights say: token types (not DistilBERT), RoBERTa's position ids
// (position_offset), ELECTRA's narrower embeddings (embedding_size +
// embeddings_project), and the sequence-classification head: dense + tanh (BERT's
// pooler, RoBERTa's classifier.dense) or dense + ReLU / GELU (DistilBERT's
// pre_classifier, ELECTRA's classifier.dense, head_act). Their encoder layers are
// BERT's, module for module. A different attention (DeBERTa's disentangled relative
// attention) would be a second attentionBlock chosen on CFG_ARCH in runLayers
// (docs/architecture.md).
//
// A batch lies in the buffers as b * n token rows, sequence after sequence: the
// matrix multiplies, LayerNorms and activations run over all the rows at once
// (more rows per weight panel), attention and the head per sequence. Every row
// is computed exactly as it would be alone, so a batch gives the same logits, bit
// for bit, as its sequences one at a time.
import { Config, Weights, LayerWeights, Linear, Matrix, RunState } from "../model/model";
import { ACT_GELU, ACT_RELU, DTYPE_F16, DTYPE_INT8 } from "../format/constants";
import { TASK_SEQUENCE_CLASSIFICATION, TASK_EMBEDDING, TASK_TOKEN_CLASSIFICATION, TASK_QUESTION_ANSWERING, POOL_CLS } from "../format/constants";
import { pool, l2Normalize } from "./pooling";
import { matmul } from "../kernels/matmul";
import { matmulI8, quantizeRows } from "../kernels/matmul_i8";
import { matmulI8Relaxed, quantizeRows7 } from "../kernels/matmul_i8_relaxed";
import { addLayerNorm } from "../kernels/layernorm";
import { attention } from "../kernels/attention";
import { gelu, geluTanh, relu, tanhInPlace } from "../kernels/gelu";
import { widenF16 } from "../format/reader";

// Each function below mirrors one Hugging Face module (the class named above it;
// eval mode, so no dropout), linked to its exact lines. The links pin commits,
// not tags: the two commits whose source we could read line by line.
//   BERT:       modeling_bert.py at commit 8ec58104181bfb34d824d89bccc009b4f6be6e0e
//               (main during 4.47 development: setup.py there says 4.47.0.dev0)
//   DistilBERT: modeling_distilbert.py at commit e368c1a8819d54720956961ea7cd47d99239bd39
//               (an older 4.x main; its version was not available to check)
//   RoBERTa, ELECTRA: modeling_roberta.py / modeling_electra.py at tag v5.18.0 (the
//               version the goldens of these two families come from; line numbers
//               read from its released files)
// The BERT goldens come from transformers 4.57.6, whose files are laid out differently
// (line numbers differ) but compute the same thing in eval mode.

export function forward(cfg: Config, w: Weights, s: RunState, n: u32, b: u32 = 1): void {
  embed(cfg, w, s, n, b);
  runToHead(cfg, w, s, n, 0, b);
}

// Layers [from, L) and the head on s.hidden[b * n, H]. A head that reads only [CLS]
// (a sequence classifier, an embedding with CLS pooling) needs of the last layer
// only the [CLS] row's output: that layer computes keys and values of every token,
// and the query, attention, dense, LayerNorms and FFN of [CLS] alone, about 1/6 of
// its work at n = 25 and less at longer n. Every kernel computes a row the same
// way whatever the rows around it, so the logits are bit for bit those of the full
// layer (embed + run_layers(0, L) + run_head; test/forward.test.ts). Only the
// [CLS] rows of s.hidden hold the last layer's output; the others hold states
// entering it (in a batch, rows 1..b-1 copies of [CLS] rows).
export function runToHead(cfg: Config, w: Weights, s: RunState, n: u32, from: u32, b: u32 = 1): void {
  const L = cfg.num_layers;
  const clsOnly = from < L && headReadsClsOnly(cfg);
  runLayers(cfg, w, s, n, from, clsOnly ? L - 1 : L, b);
  if (clsOnly) {
    const l = w.layers[L - 1];
    attentionBlock(cfg, l, s, n, b, true); // leaves hidden[b, H]: the [CLS] rows, gathered
    ffnBlock(cfg, l, s, b);
    moveClsRows(s.hidden, n, b, cfg.hidden_size, false);
  }
  runHead(cfg, w, s, n, b);
}

function headReadsClsOnly(cfg: Config): bool {
  return cfg.task == TASK_SEQUENCE_CLASSIFICATION || (cfg.task == TASK_EMBEDDING && cfg.pooling == POOL_CLS);
}

// Sequence i's [CLS] (row i * n of x[b * n, H]) to row i (gather) or back (scatter).
// Rows i * n >= i: gathering upwards and scattering downwards never overwrite a
// row still to be moved.
function moveClsRows(x: usize, n: u32, b: u32, H: u32, gather: bool): void {
  const rowBytes = <usize>H << 2;
  for (let j: u32 = 1; j < b; j++) {
    const i = gather ? j : b - j;
    const at = x + <usize>i * rowBytes, seqRow = x + <usize>i * n * rowBytes;
    if (gather) memory.copy(at, seqRow, rowBytes);
    else memory.copy(seqRow, at, rowBytes);
  }
}

// BertEmbeddings.forward (DistilBERT: Embeddings.forward, without token types;
// RobertaEmbeddings.forward and ElectraEmbeddings.forward + ElectraModel's
// embeddings_project):
//   https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L181-L220
//   https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L114-L139
//   https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/roberta/modeling_roberta.py#L75-L121
//     (create_position_ids_from_input_ids: https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/roberta/modeling_roberta.py#L142-L155)
//   https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/electra/modeling_electra.py#L73-L108
//     (embeddings_project: https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/electra/modeling_electra.py#L605-L606)
// s.hidden[b * n, H] = LayerNorm(word[ids] + token_type[type_ids] + position),
// then for ELECTRA with E != H embeddings_project of that ([b * n, E] in s.emb).
// Positions: 0..n) in each sequence; RoBERTa's (position_offset = padding_idx + 1)
// as create_position_ids_from_input_ids makes them: padding_idx for a padding
// token, padding_idx + the count of non-padding tokens up to and including this one
// otherwise, so at most padding_idx + max_len < max_position (the reader checks).
// ids and type ids are validated by the caller.
export function embed(cfg: Config, w: Weights, s: RunState, n: u32, b: u32 = 1): void {
  const E = cfg.embedding_size ? cfg.embedding_size : cfg.hidden_size;
  const x = cfg.embedding_size ? s.emb : s.hidden; // [b * n, E]
  const rowBytes = <usize>E << 2;
  const e = w.embeddings;
  const padding = cfg.position_offset - 1; // RoBERTa's padding_idx (a token id and a position)
  let counted: u32 = 0;                     // RoBERTa: non-padding tokens so far in this sequence
  for (let t: u32 = 0; t < n * b; t++) {
    const id = load<u32>(s.input_ids + (<usize>t << 2));
    const out = x + <usize>t * rowBytes;
    wordRow(out, e.word_embeddings, id, E);
    // Hugging Face's order: (word + token_type) + position.
    if (e.token_type_embeddings) {
      const tt = load<u32>(s.token_type_ids + (<usize>t << 2));
      addRow(out, e.token_type_embeddings + <usize>tt * rowBytes, E);
    }
    let pos = t % n;
    if (cfg.position_offset) {
      if (pos == 0) counted = 0;
      if (id == padding) pos = padding;
      else pos = padding + ++counted;
    }
    addRow(out, e.position_embeddings + <usize>pos * rowBytes, E);
  }
  addLayerNorm(x, 0, n * b, E, e.LayerNorm.weight, e.LayerNorm.bias, cfg.layer_norm_eps);
  if (cfg.embedding_size) linear(s, s.hidden, s.emb, w.embeddings_project, n * b);
}

// out[H] = row id of the word embedding, widened from f16 or dequantised from
// int8 as it is looked up (the table itself stays in its stored form).
function wordRow(out: usize, we: Matrix, id: u32, H: u32): void {
  if (we.dtype == DTYPE_F16) {
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
  let o: usize = 0;
  for (const e4 = <usize>(H & ~3) << 2; o < e4; o += 16) v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
  for (const e = <usize>H << 2; o < e; o += 4) store<f32>(out + o, load<f32>(out + o) + load<f32>(row + o));
}

// BertEncoder.forward: layers [from, to) on s.hidden[b * n, H] in place; each
// iteration is one BertLayer.forward (DistilBERT: Transformer / TransformerBlock).
//   https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L651-L734
//   https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L573-L636
//   https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L318-L369
export function runLayers(cfg: Config, w: Weights, s: RunState, n: u32, from: u32, to: u32, b: u32 = 1): void {
  for (let i = from; i < to; i++) {
    const l = w.layers[i];
    attentionBlock(cfg, l, s, n, b, false);
    ffnBlock(cfg, l, s, n * b);
  }
}

// BertAttention.forward = BertSelfAttention + BertSelfOutput (DistilBERT:
// TransformerBlock.forward up to sa_layer_norm):
//   x = LayerNorm(x + dense(softmax(q k^T / sqrt(D)) v)); removed block: x = LayerNorm(x).
// hard_k > 0 keeps the hard_k largest probabilities of each row (AxFormer).
//   BertAttention.forward:     https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L505-L526
//   BertSelfAttention.forward: https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L255-L354
//     (eager; the default BertSdpaSelfAttention.forward, same math: https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L364-L455)
//   BertSelfOutput.forward:    https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L465-L469
//   MultiHeadSelfAttention.forward: https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L174-L234
//   TransformerBlock.forward to sa_layer_norm: https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L270-L300
function attentionBlock(cfg: Config, l: LayerWeights, s: RunState, n: u32, b: u32, clsOnly: bool): void {
  const rows = n * b;
  const outRows = clsOnly ? b : rows; // clsOnly: the [CLS] rows alone, gathered to hidden[b, H]
  const self = l.attention.self, out = l.attention.output;
  if (l.has_attention) {
    // k, v [rows, h_i * D], q [outRows, h_i * D]; an int8 matrix after an int8 one
    // reuses the quantised hidden state.
    linear(s, s.k, s.hidden, self.key, rows);
    linear(s, s.v, s.hidden, self.value, rows, self.key.weight.dtype == DTYPE_INT8);
    if (clsOnly) moveClsRows(s.hidden, n, b, cfg.hidden_size, true);
    linear(s, s.q, s.hidden, self.query, outRows, !clsOnly && self.value.weight.dtype == DTYPE_INT8);
    const A = <usize>l.num_heads * cfg.head_dim;
    for (let i: u32 = 0; i < b; i++) {
      const kv = (<usize>i * n * A) << 2, qc = clsOnly ? (<usize>i * A) << 2 : kv;
      attention(s.context + qc, s.q + qc, s.k + kv, s.v + kv, n, l.num_heads, cfg.head_dim, l.hard_k, s.scores, s.kt, s.vt, s.topk_idx, clsOnly ? 1 : n);
    }
    linear(s, s.tmp, s.context, out.dense, outRows); // tmp[outRows, H]
    addLayerNorm(s.hidden, s.tmp, outRows, cfg.hidden_size, out.LayerNorm.weight, out.LayerNorm.bias, cfg.layer_norm_eps);
  } else {
    if (clsOnly) moveClsRows(s.hidden, n, b, cfg.hidden_size, true);
    addLayerNorm(s.hidden, 0, outRows, cfg.hidden_size, out.LayerNorm.weight, out.LayerNorm.bias, cfg.layer_norm_eps);
  }
}

// BertIntermediate + BertOutput (DistilBERT: FFN + output_layer_norm):
//   x = LayerNorm(x + dense(act(dense(x)))); removed block: x = LayerNorm(x).
//   BertLayer.feed_forward_chunk: https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L638-L641
//   BertIntermediate.forward:     https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L538-L541
//   BertOutput.forward:           https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L551-L555
//   FFN.forward and ff_chunk:     https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L247-L255
//   TransformerBlock.forward, output_layer_norm: https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L302-L304
function ffnBlock(cfg: Config, l: LayerWeights, s: RunState, rows: u32): void {
  const out = l.output;
  if (l.has_ffn) {
    linear(s, s.ffn, s.hidden, l.intermediate.dense, rows); // ffn[rows, F_i]
    activation(cfg.hidden_act, s.ffn, rows * l.ffn_width);
    linear(s, s.tmp, s.ffn, out.dense, rows);               // tmp[rows, H]
    addLayerNorm(s.hidden, s.tmp, rows, cfg.hidden_size, out.LayerNorm.weight, out.LayerNorm.bias, cfg.layer_norm_eps);
  } else {
    addLayerNorm(s.hidden, 0, rows, cfg.hidden_size, out.LayerNorm.weight, out.LayerNorm.bias, cfg.layer_norm_eps);
  }
}

function activation(act: u32, x: usize, len: u32): void {
  if (act == ACT_GELU) gelu(x, len);
  else if (act == ACT_RELU) relu(x, len);
  else geluTanh(x, len);
}

// torch.nn.Linear: y[n, out] = x[n, in] · weight^T + bias, for the weight's
// storage type. quantised: s.xq already holds x quantised (int8 weights only).
function linear(s: RunState, y: usize, x: usize, f: Linear, n: u32, quantised: bool = false): void {
  const m = f.weight;
  if (ASC_FEATURE_RELAXED_SIMD && m.dtype == DTYPE_INT8 && m.cols >= 4) {
    // The relaxed build: 7-bit activations (kernels/matmul_i8_relaxed.ts); its row
    // stride in + 4 fits s.xq for in >= 4.
    if (!quantised) quantizeRows7(s.xq, s.xq_scales, x, n, m.cols);
    matmulI8Relaxed(y, s.xq, s.xq_scales, m.data, m.scales, f.bias, n, m.cols, m.rows, m.layout);
  } else if (m.dtype == DTYPE_INT8) {
    if (!quantised) quantizeRows(s.xq, s.xq_scales, x, n, m.cols);
    matmulI8(y, s.xq, s.xq_scales, m.data, m.scales, f.bias, n, m.cols, m.rows, m.layout);
  } else {
    matmul(y, x, m.data, f.bias, n, m.cols, m.rows, m.layout);
  }
}

// s.logits from s.hidden[b * n, H], by the task (model.ts RunState.logits has the shapes).
export function runHead(cfg: Config, w: Weights, s: RunState, n: u32 = 1, b: u32 = 1): void {
  if (cfg.task == TASK_TOKEN_CLASSIFICATION) linear(s, s.logits, s.hidden, w.classifier, n * b);
  else if (cfg.task == TASK_QUESTION_ANSWERING) spanHead(w, s, n, b);
  else {
    const seqBytes = (<usize>n * cfg.hidden_size) << 2;
    const C = <usize>cfg.num_labels, E = <usize>cfg.pooled_size;
    for (let i: u32 = 0; i < b; i++) {
      const hidden = s.hidden + <usize>i * seqBytes;
      if (cfg.task == TASK_EMBEDDING) embeddingHead(cfg, s.logits + ((<usize>i * E) << 2), hidden, n);
      else classificationHead(cfg, w, s, hidden, s.logits + ((<usize>i * C) << 2)); // [CLS] is row 0
    }
  }
}

// Token classification is the classifier on every row of s.hidden, as
// BertForTokenClassification and DistilBertForTokenClassification (dropout is the
// identity in eval mode): s.logits[b * n, C].
//   https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/bert/modeling_bert.py#L1272-L1275
//   https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/distilbert/modeling_distilbert.py#L775-L778

// BertForQuestionAnswering / DistilBertForQuestionAnswering: qa_outputs on every
// token gives [n, 2], split into start and end logits: s.logits holds, for each
// sequence, start[n] then end[n].
//   https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/bert/modeling_bert.py#L1325-L1330
//   https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/distilbert/modeling_distilbert.py#L688-L694
function spanHead(w: Weights, s: RunState, n: u32, b: u32): void {
  linear(s, s.span, s.hidden, w.qa_outputs, n * b); // span[b * n, 2]
  for (let i: u32 = 0; i < b; i++) {
    const start = s.logits + ((<usize>i * 2 * n) << 2), end = start + (<usize>n << 2);
    for (let t: u32 = 0; t < n; t++) {
      const row = s.span + ((<usize>(i * n + t) * 2) << 2);
      store<f32>(start + (<usize>t << 2), load<f32>(row));
      store<f32>(end + (<usize>t << 2), load<f32>(row, 4));
    }
  }
}

// A sentence-transformers model (Transformer -> Pooling -> Normalize): out[E]
// from the n rows of one sequence (encoder/pooling.ts links the modules).
function embeddingHead(cfg: Config, out: usize, hidden: usize, n: u32): void {
  pool(out, hidden, n, cfg.hidden_size, cfg.pooling);
  if (cfg.normalize) l2Normalize(out, cfg.pooled_size);
}

// BertForSequenceClassification: BertPooler (dense + tanh on [CLS]), then the
// classifier. DistilBertForSequenceClassification: pre_classifier + ReLU on
// [CLS], then the classifier. RoBERTa's head has BERT's math, ELECTRA's
// DistilBERT's with GELU (CONFIG.head_act).
//   BertForSequenceClassification.forward: https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L1647-L1716
//     (pooler output -> classifier: https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L1680-L1683)
//   BertPooler.forward:                    https://github.com/huggingface/transformers/blob/8ec58104181bfb34d824d89bccc009b4f6be6e0e/src/transformers/models/bert/modeling_bert.py#L743-L749
//   DistilBertForSequenceClassification.forward: https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L732-L799
//     ([CLS] -> pre_classifier -> ReLU -> classifier: https://github.com/huggingface/transformers/blob/e368c1a8819d54720956961ea7cd47d99239bd39/src/transformers/models/distilbert/modeling_distilbert.py#L760-L765)
//   RobertaClassificationHead.forward (<s> -> dense -> tanh -> out_proj, in the pooler and classifier rows):
//     https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/roberta/modeling_roberta.py#L1155-L1162
//   ElectraClassificationHead.forward ([CLS] -> dense -> GELU -> out_proj, in the pre_classifier and classifier rows):
//     https://github.com/huggingface/transformers/blob/v5.18.0/src/transformers/models/electra/modeling_electra.py#L679-L686
function classificationHead(cfg: Config, w: Weights, s: RunState, cls: usize, logits: usize): void {
  const H = cfg.hidden_size;
  let x = cls;
  if (cfg.has_pooler) {
    linear(s, s.pooled, x, w.pooler, 1);
    tanhInPlace(s.pooled, H);
    x = s.pooled;
  }
  if (cfg.has_pre_classifier) {
    linear(s, s.pooled2, x, w.pre_classifier, 1);
    if (cfg.head_act) activation(cfg.head_act, s.pooled2, H); // ELECTRA: GELU
    else relu(s.pooled2, H);
    x = s.pooled2;
  }
  linear(s, logits, x, w.classifier, 1);
}
