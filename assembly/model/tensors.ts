// The one description of the tensors of a model: which tensors the file holds,
// their shapes in config terms, how each may be stored, and what each family's
// Hugging Face checkpoint calls them. The converter (host/convert), the writer
// (host/format/writer.ts), the reader (assembly/format) and the tests all walk
// these tables; nothing else lists tensor names.
//
// Imported by both AssemblyScript and TypeScript, so, like format/constants.ts,
// it uses only what both languages accept: untyped consts of integers, strings
// and arrays of them.
//
// Each row i of the parallel arrays below is one tensor:
//   TENSOR_NAMES[i]   its name in the file (BERT's names without the `bert.`
//                     prefix, for every family); `{i}` stands for the layer index
//   TENSOR_ROWS[i]    its first dimension, a DIM_* code
//   TENSOR_COLS[i]    its second dimension, a DIM_* code; DIM_NONE for a vector
//   TENSOR_FLAGS[i]   T_* bits: how it may be stored and when it is present
// and, per family, <FAMILY>_CHECKPOINT_NAMES[i] is the name in that family's
// checkpoint ("" when the family has no such tensor).
//
// Adding a family: one more *_CHECKPOINT_NAMES array (and its FAMILY_* code in
// format/constants.ts), one config parser entry, one forward function. Adding a
// head or a tensor: one more row in every array, with a T_NEEDS_* bit saying when
// it is present.

// ---- dimensions in config terms
export const DIM_NONE = 0;         // (the second dimension of a vector)
export const DIM_VOCAB = 1;        // V = vocab_size
export const DIM_HIDDEN = 2;       // H = hidden_size
export const DIM_MAX_POSITION = 3; // P = max_position
export const DIM_TYPE_VOCAB = 4;   // T = type_vocab_size
export const DIM_LAYER_HEADS = 5;  // h_i * D: the heads kept in layer i times head_dim
export const DIM_LAYER_FFN = 6;    // F_i: the FFN neurons kept in layer i
export const DIM_LABELS = 7;       // C = num_labels

// ---- flags
export const T_QUANTIZABLE = 1;        // may be stored f16 or int8; otherwise always f32
export const T_LINEAR = 2;             // a linear layer's weight [out, in]: stored in panels
export const T_PER_LAYER = 4;          // one per layer: the name holds `{i}`
export const T_NEEDS_ATTENTION = 8;    // present only when layer i keeps its attention block
export const T_NEEDS_FFN = 16;         // present only when layer i keeps its FFN block
export const T_NEEDS_TOKEN_TYPES = 32; // present only when type_vocab_size > 0
export const T_NEEDS_POOLER = 64;      // present only when has_pooler (BERT: dense + tanh on [CLS])
export const T_NEEDS_PRE_CLASSIFIER = 128; // present only when has_pre_classifier (DistilBERT: dense + ReLU)
export const T_NEEDS_CLASSIFIER = 256; // present only for sequence and token classification (CONFIG.task)
export const T_NEEDS_QA = 512;         // present only for question answering (CONFIG.task)

// The largest magnitude of any value of any tensor, every kind alike: the largest
// finite f16, so every f16 checkpoint fits, and far above what trained encoders
// hold (|w| < 100). With it and the reader's dimension limits every activation of
// the forward pass stays finite (docs/format.md, "Magnitude bound"). The writer
// refuses the same values; int8 scales are held to MAX_ABS_WEIGHT / 127.
export const MAX_ABS_WEIGHT = 65504;

// The layer index placeholder in per-layer names.
export const LAYER_INDEX = "{i}";

// ---- row indices, for code that picks one tensor (the reader's Weights fields)
export const W_WORD_EMBEDDINGS = 0;
export const W_POSITION_EMBEDDINGS = 1;
export const W_TOKEN_TYPE_EMBEDDINGS = 2;
export const W_EMBEDDINGS_LN_WEIGHT = 3;
export const W_EMBEDDINGS_LN_BIAS = 4;
export const W_QUERY_WEIGHT = 5;
export const W_QUERY_BIAS = 6;
export const W_KEY_WEIGHT = 7;
export const W_KEY_BIAS = 8;
export const W_VALUE_WEIGHT = 9;
export const W_VALUE_BIAS = 10;
export const W_ATTENTION_OUTPUT_WEIGHT = 11;
export const W_ATTENTION_OUTPUT_BIAS = 12;
export const W_ATTENTION_LN_WEIGHT = 13;
export const W_ATTENTION_LN_BIAS = 14;
export const W_INTERMEDIATE_WEIGHT = 15;
export const W_INTERMEDIATE_BIAS = 16;
export const W_OUTPUT_WEIGHT = 17;
export const W_OUTPUT_BIAS = 18;
export const W_OUTPUT_LN_WEIGHT = 19;
export const W_OUTPUT_LN_BIAS = 20;
export const W_POOLER_WEIGHT = 21;
export const W_POOLER_BIAS = 22;
export const W_PRE_CLASSIFIER_WEIGHT = 23;
export const W_PRE_CLASSIFIER_BIAS = 24;
export const W_CLASSIFIER_WEIGHT = 25;
export const W_CLASSIFIER_BIAS = 26;
export const W_QA_OUTPUTS_WEIGHT = 27;
export const W_QA_OUTPUTS_BIAS = 28;
export const TENSOR_KINDS = 29;

// ---- the table, in file order
export const TENSOR_NAMES = [
  "embeddings.word_embeddings.weight",
  "embeddings.position_embeddings.weight",
  "embeddings.token_type_embeddings.weight",
  "embeddings.LayerNorm.weight",
  "embeddings.LayerNorm.bias",
  "encoder.layer.{i}.attention.self.query.weight",
  "encoder.layer.{i}.attention.self.query.bias",
  "encoder.layer.{i}.attention.self.key.weight",
  "encoder.layer.{i}.attention.self.key.bias",
  "encoder.layer.{i}.attention.self.value.weight",
  "encoder.layer.{i}.attention.self.value.bias",
  "encoder.layer.{i}.attention.output.dense.weight",
  "encoder.layer.{i}.attention.output.dense.bias",
  "encoder.layer.{i}.attention.output.LayerNorm.weight",
  "encoder.layer.{i}.attention.output.LayerNorm.bias",
  "encoder.layer.{i}.intermediate.dense.weight",
  "encoder.layer.{i}.intermediate.dense.bias",
  "encoder.layer.{i}.output.dense.weight",
  "encoder.layer.{i}.output.dense.bias",
  "encoder.layer.{i}.output.LayerNorm.weight",
  "encoder.layer.{i}.output.LayerNorm.bias",
  "pooler.dense.weight",
  "pooler.dense.bias",
  "pre_classifier.weight",
  "pre_classifier.bias",
  "classifier.weight",
  "classifier.bias",
  "qa_outputs.weight",
  "qa_outputs.bias",
];

export const TENSOR_ROWS = [
  DIM_VOCAB, DIM_MAX_POSITION, DIM_TYPE_VOCAB, DIM_HIDDEN, DIM_HIDDEN,
  DIM_LAYER_HEADS, DIM_LAYER_HEADS, DIM_LAYER_HEADS, DIM_LAYER_HEADS, DIM_LAYER_HEADS, DIM_LAYER_HEADS,
  DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN,
  DIM_LAYER_FFN, DIM_LAYER_FFN, DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN,
  DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN,
  DIM_LABELS, DIM_LABELS,
  DIM_LABELS, DIM_LABELS,
];

export const TENSOR_COLS = [
  DIM_HIDDEN, DIM_HIDDEN, DIM_HIDDEN, DIM_NONE, DIM_NONE,
  DIM_HIDDEN, DIM_NONE, DIM_HIDDEN, DIM_NONE, DIM_HIDDEN, DIM_NONE,
  DIM_LAYER_HEADS, DIM_NONE, DIM_NONE, DIM_NONE,
  DIM_HIDDEN, DIM_NONE, DIM_LAYER_FFN, DIM_NONE, DIM_NONE, DIM_NONE,
  DIM_HIDDEN, DIM_NONE, DIM_HIDDEN, DIM_NONE,
  DIM_HIDDEN, DIM_NONE,
  DIM_HIDDEN, DIM_NONE,
];

// Shorthands, private to this table (const arithmetic is fine in both languages).
const MATRIX = 1 | 2;       // T_QUANTIZABLE | T_LINEAR
const LAYER_ATT = 4 | 8;    // T_PER_LAYER | T_NEEDS_ATTENTION
const LAYER_FFN = 4 | 16;   // T_PER_LAYER | T_NEEDS_FFN

export const TENSOR_FLAGS = [
  T_QUANTIZABLE, 0, T_NEEDS_TOKEN_TYPES, 0, 0,
  MATRIX | LAYER_ATT, LAYER_ATT, MATRIX | LAYER_ATT, LAYER_ATT, MATRIX | LAYER_ATT, LAYER_ATT,
  MATRIX | LAYER_ATT, LAYER_ATT, T_PER_LAYER, T_PER_LAYER,
  MATRIX | LAYER_FFN, LAYER_FFN, MATRIX | LAYER_FFN, LAYER_FFN, T_PER_LAYER, T_PER_LAYER,
  MATRIX | T_NEEDS_POOLER, T_NEEDS_POOLER, MATRIX | T_NEEDS_PRE_CLASSIFIER, T_NEEDS_PRE_CLASSIFIER,
  MATRIX | T_NEEDS_CLASSIFIER, T_NEEDS_CLASSIFIER,
  MATRIX | T_NEEDS_QA, T_NEEDS_QA,
];

// BertForSequenceClassification (transformers/models/bert/modeling_bert.py); the
// same names serve BertModel (embeddings: no head), BertForTokenClassification
// (classifier [C, H] on every token) and BertForQuestionAnswering (qa_outputs [2, H]).
export const BERT_CHECKPOINT_NAMES = [
  "bert.embeddings.word_embeddings.weight",
  "bert.embeddings.position_embeddings.weight",
  "bert.embeddings.token_type_embeddings.weight",
  "bert.embeddings.LayerNorm.weight",
  "bert.embeddings.LayerNorm.bias",
  "bert.encoder.layer.{i}.attention.self.query.weight",
  "bert.encoder.layer.{i}.attention.self.query.bias",
  "bert.encoder.layer.{i}.attention.self.key.weight",
  "bert.encoder.layer.{i}.attention.self.key.bias",
  "bert.encoder.layer.{i}.attention.self.value.weight",
  "bert.encoder.layer.{i}.attention.self.value.bias",
  "bert.encoder.layer.{i}.attention.output.dense.weight",
  "bert.encoder.layer.{i}.attention.output.dense.bias",
  "bert.encoder.layer.{i}.attention.output.LayerNorm.weight",
  "bert.encoder.layer.{i}.attention.output.LayerNorm.bias",
  "bert.encoder.layer.{i}.intermediate.dense.weight",
  "bert.encoder.layer.{i}.intermediate.dense.bias",
  "bert.encoder.layer.{i}.output.dense.weight",
  "bert.encoder.layer.{i}.output.dense.bias",
  "bert.encoder.layer.{i}.output.LayerNorm.weight",
  "bert.encoder.layer.{i}.output.LayerNorm.bias",
  "bert.pooler.dense.weight",
  "bert.pooler.dense.bias",
  "",
  "",
  "classifier.weight",
  "classifier.bias",
  "qa_outputs.weight",
  "qa_outputs.bias",
];

// DistilBertForSequenceClassification (transformers/models/distilbert/modeling_distilbert.py):
// no token types, no pooler; pre_classifier + ReLU instead. DistilBertModel,
// DistilBertForTokenClassification and DistilBertForQuestionAnswering as for BERT.
export const DISTILBERT_CHECKPOINT_NAMES = [
  "distilbert.embeddings.word_embeddings.weight",
  "distilbert.embeddings.position_embeddings.weight",
  "",
  "distilbert.embeddings.LayerNorm.weight",
  "distilbert.embeddings.LayerNorm.bias",
  "distilbert.transformer.layer.{i}.attention.q_lin.weight",
  "distilbert.transformer.layer.{i}.attention.q_lin.bias",
  "distilbert.transformer.layer.{i}.attention.k_lin.weight",
  "distilbert.transformer.layer.{i}.attention.k_lin.bias",
  "distilbert.transformer.layer.{i}.attention.v_lin.weight",
  "distilbert.transformer.layer.{i}.attention.v_lin.bias",
  "distilbert.transformer.layer.{i}.attention.out_lin.weight",
  "distilbert.transformer.layer.{i}.attention.out_lin.bias",
  "distilbert.transformer.layer.{i}.sa_layer_norm.weight",
  "distilbert.transformer.layer.{i}.sa_layer_norm.bias",
  "distilbert.transformer.layer.{i}.ffn.lin1.weight",
  "distilbert.transformer.layer.{i}.ffn.lin1.bias",
  "distilbert.transformer.layer.{i}.ffn.lin2.weight",
  "distilbert.transformer.layer.{i}.ffn.lin2.bias",
  "distilbert.transformer.layer.{i}.output_layer_norm.weight",
  "distilbert.transformer.layer.{i}.output_layer_norm.bias",
  "",
  "",
  "pre_classifier.weight",
  "pre_classifier.bias",
  "classifier.weight",
  "classifier.bias",
  "qa_outputs.weight",
  "qa_outputs.bias",
];
