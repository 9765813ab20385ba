// What each family's Hugging Face checkpoint calls the rows of the tensor table
// (model/tensors.ts), row for row with TENSOR_NAMES; "" where the family has no
// such tensor. Read by the converter only (host/model/tensors.ts CHECKPOINT_NAMES);
// kept out of tensors.ts so these strings stay out of the runtime's wasm.
//
// Like tensors.ts, imported by TypeScript (and valid AssemblyScript): untyped
// consts of strings.

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
  "",
  "",
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
  "",
  "",
];

// RobertaForSequenceClassification, and XLMRobertaForSequenceClassification and
// CamembertForSequenceClassification, whose modules are RoBERTa's under the same
// `roberta.` prefix (transformers/models/roberta/modeling_roberta.py): BERT's
// encoder; no pooler, the head RobertaClassificationHead = dense + tanh + out_proj
// on <s>, the same math as BERT's pooler + classifier, so it fills those rows.
export const ROBERTA_CHECKPOINT_NAMES = [
  "roberta.embeddings.word_embeddings.weight",
  "roberta.embeddings.position_embeddings.weight",
  "roberta.embeddings.token_type_embeddings.weight",
  "roberta.embeddings.LayerNorm.weight",
  "roberta.embeddings.LayerNorm.bias",
  "roberta.encoder.layer.{i}.attention.self.query.weight",
  "roberta.encoder.layer.{i}.attention.self.query.bias",
  "roberta.encoder.layer.{i}.attention.self.key.weight",
  "roberta.encoder.layer.{i}.attention.self.key.bias",
  "roberta.encoder.layer.{i}.attention.self.value.weight",
  "roberta.encoder.layer.{i}.attention.self.value.bias",
  "roberta.encoder.layer.{i}.attention.output.dense.weight",
  "roberta.encoder.layer.{i}.attention.output.dense.bias",
  "roberta.encoder.layer.{i}.attention.output.LayerNorm.weight",
  "roberta.encoder.layer.{i}.attention.output.LayerNorm.bias",
  "roberta.encoder.layer.{i}.intermediate.dense.weight",
  "roberta.encoder.layer.{i}.intermediate.dense.bias",
  "roberta.encoder.layer.{i}.output.dense.weight",
  "roberta.encoder.layer.{i}.output.dense.bias",
  "roberta.encoder.layer.{i}.output.LayerNorm.weight",
  "roberta.encoder.layer.{i}.output.LayerNorm.bias",
  "classifier.dense.weight",  // RobertaClassificationHead.dense: the pooler row (dense + tanh)
  "classifier.dense.bias",
  "",
  "",
  "classifier.out_proj.weight",
  "classifier.out_proj.bias",
  "qa_outputs.weight",
  "qa_outputs.bias",
  "",
  "",
];

// ElectraForSequenceClassification (transformers/models/electra/modeling_electra.py):
// BERT's encoder on embeddings of width embedding_size, projected to hidden_size by
// embeddings_project when the two differ; no pooler, the head
// ElectraClassificationHead = dense + GELU + out_proj on [CLS], the math of
// DistilBERT's pre_classifier + classifier with another activation.
export const ELECTRA_CHECKPOINT_NAMES = [
  "electra.embeddings.word_embeddings.weight",
  "electra.embeddings.position_embeddings.weight",
  "electra.embeddings.token_type_embeddings.weight",
  "electra.embeddings.LayerNorm.weight",
  "electra.embeddings.LayerNorm.bias",
  "electra.encoder.layer.{i}.attention.self.query.weight",
  "electra.encoder.layer.{i}.attention.self.query.bias",
  "electra.encoder.layer.{i}.attention.self.key.weight",
  "electra.encoder.layer.{i}.attention.self.key.bias",
  "electra.encoder.layer.{i}.attention.self.value.weight",
  "electra.encoder.layer.{i}.attention.self.value.bias",
  "electra.encoder.layer.{i}.attention.output.dense.weight",
  "electra.encoder.layer.{i}.attention.output.dense.bias",
  "electra.encoder.layer.{i}.attention.output.LayerNorm.weight",
  "electra.encoder.layer.{i}.attention.output.LayerNorm.bias",
  "electra.encoder.layer.{i}.intermediate.dense.weight",
  "electra.encoder.layer.{i}.intermediate.dense.bias",
  "electra.encoder.layer.{i}.output.dense.weight",
  "electra.encoder.layer.{i}.output.dense.bias",
  "electra.encoder.layer.{i}.output.LayerNorm.weight",
  "electra.encoder.layer.{i}.output.LayerNorm.bias",
  "",
  "",
  "classifier.dense.weight",  // ElectraClassificationHead.dense: the pre_classifier row (dense + GELU, CONFIG.head_act)
  "classifier.dense.bias",
  "classifier.out_proj.weight",
  "classifier.out_proj.bias",
  "qa_outputs.weight",
  "qa_outputs.bias",
  "electra.embeddings_project.weight",
  "electra.embeddings_project.bias",
];

// Every family's *ForTokenClassification: one nn.Linear `classifier` on every token
// (RobertaForTokenClassification, XLMRoberta..., ElectraForTokenClassification too,
// whose sequence heads are classifier.dense + classifier.out_proj), for the
// classifier rows (W_CLASSIFIER_WEIGHT, W_CLASSIFIER_BIAS) when the task is token
// classification.
export const TOKEN_CLASSIFIER_CHECKPOINT_NAMES = ["classifier.weight", "classifier.bias"];
