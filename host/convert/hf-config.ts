// config.json -> ModelConfig (all but the tokenizer) and the labels.
//
// Missing fields take the defaults of transformers' BertConfig / DistilBertConfig /
// RobertaConfig (XLMRobertaConfig, CamembertConfig) / ElectraConfig, as
// from_pretrained would; present fields must have the right type. A field
// present as null is not missing: transformers sets the attribute to None (and then
// fails, or for position_embedding_type adds no position embeddings), so null never
// falls back to a default here. The tensor
// shapes are checked against these numbers later (weights.ts), so a config that
// disagrees with its checkpoint is caught there.
import { PROBLEM_TYPES, type Arch, type HiddenAct, type ModelConfig, type ProblemType, type Task } from "../model/model.ts";
import { ConvertError } from "./errors.ts";

export type HfModelConfig = Omit<ModelConfig, "tokenizer">;

// Where the position embeddings come from. "none": BertEmbeddings adds them only
// when position_embedding_type is "absolute", so any other value (null too) means
// none, which the converter expresses as an all-zero table. "sinusoidal":
// DistilBERT's create_sinusoidal_embeddings fills the table when the checkpoint
// has none.
export type PositionSource = "stored" | "none" | "sinusoidal";

export interface HfConfigInfo {
  architecture: string;   // e.g. "BertForSequenceClassification"
  modelType: string;      // "bert" | "distilbert" | "roberta" | "xlm-roberta" | "camembert" | "electra"
  config: HfModelConfig;
  labels: string[];       // id2label in id order
  positions: PositionSource;
  heads: number[][];      // per layer, the original heads kept after pruned_heads, in order
}

// transformers' ACT2FN names that the runtime implements. gelu_fast is the same
// tanh formula as gelu_new, written differently.
const ACTIVATIONS: Record<string, HiddenAct> = {
  gelu: "gelu",
  relu: "relu",
  gelu_new: "gelu_tanh",
  gelu_pytorch_tanh: "gelu_tanh",
  gelu_fast: "gelu_tanh",
};

// DistilBERT hard-codes nn.LayerNorm(eps=1e-12) and has no config field for it.
const DISTILBERT_LAYER_NORM_EPS = 1e-12;

// The fields of config.json, read with a default, each error naming its field.
class Fields {
  constructor(readonly c: Record<string, unknown>, readonly file: string) {}
  bad(field: string, why: string): never {
    throw new ConvertError(`${this.file}: field ${field} ${why}`);
  }
  // The value of a field, the default only when it is absent (null stays null).
  get(field: string, dflt: unknown): unknown {
    return field in this.c ? this.c[field] : dflt;
  }
  int(field: string, dflt: number): number {
    const v = this.get(field, dflt);
    if (!Number.isSafeInteger(v) || (v as number) <= 0) this.bad(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  }
  // DistilBertConfig.attribute_map: the BERT name, when present, overrides the DistilBERT one.
  aliased(bertName: string, ownName: string, dflt: number): number {
    return this.c[bertName] !== undefined ? this.int(bertName, dflt) : this.int(ownName, dflt);
  }
}

// What a family's config says about the encoder's shape, under its own field names.
interface EncoderDims {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  headsField: string;  // the field numHeads came from, for errors
  intermediateSize: number;
  typeVocabSize: number;
  layerNormEps: number;
  actField: string;    // the field naming the activation
  positions: PositionSource;
  vocabSize: number;
  embeddingSize?: number;  // ELECTRA, when it differs from hiddenSize
  positionOffset?: number; // RoBERTa: padding_idx + 1
}

// BertConfig's fields and defaults.
function bertDims(f: Fields): EncoderDims {
  const d: EncoderDims = {
    vocabSize: f.int("vocab_size", 30522),
    hiddenSize: f.int("hidden_size", 768),
    numLayers: f.int("num_hidden_layers", 12),
    numHeads: f.int("num_attention_heads", 12),
    headsField: "num_attention_heads",
    intermediateSize: f.int("intermediate_size", 3072),
    typeVocabSize: f.int("type_vocab_size", 2),
    layerNormEps: 0,
    actField: "hidden_act",
    positions: "stored",
  };
  const eps = f.get("layer_norm_eps", 1e-12);
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps))
    f.bad("layer_norm_eps", `must be a positive number, got ${JSON.stringify(eps)}`);
  d.layerNormEps = eps as number;
  // BertSelfAttention adds relative distance embeddings for these two values only.
  const pos = f.get("position_embedding_type", "absolute");
  if (pos === "relative_key" || pos === "relative_key_query")
    f.bad("position_embedding_type", `is ${JSON.stringify(pos)}; relative position embeddings are not supported (only "absolute", or none)`);
  if (f.c.is_decoder === true) f.bad("is_decoder", "is true; only encoder (bidirectional) models are supported");
  if (f.c.add_cross_attention === true) f.bad("add_cross_attention", "is true; cross-attention is not supported");
  d.positions = pos === "absolute" ? "stored" : "none";
  return d;
}

// DistilBertConfig's fields and defaults. With sinusoidal_pos_embds the sinusoids
// fill the position table when the checkpoint has none (a stored one wins, as
// from_pretrained loads it over the initialisation).
function distilbertDims(f: Fields): EncoderDims {
  return {
    hiddenSize: f.aliased("hidden_size", "dim", 768),
    numLayers: f.aliased("num_hidden_layers", "n_layers", 6),
    numHeads: f.aliased("num_attention_heads", "n_heads", 12),
    headsField: "n_heads",
    intermediateSize: f.int("hidden_dim", 4 * 768),
    typeVocabSize: 0,
    vocabSize: f.int("vocab_size", 30522),
    layerNormEps: DISTILBERT_LAYER_NORM_EPS,
    actField: "activation",
    positions: f.c.sinusoidal_pos_embds ? "sinusoidal" : "stored", // Python truthiness, as `if config.sinusoidal_pos_embds`
  };
}

// RoBERTa and ELECTRA take BERT's fields (and its refusals), but only absolute
// position embeddings: transformers 4.x gave both families BERT's relative
// attention for "relative_key(_query)" (5.x ignores the field), so anything else
// is refused rather than run as a different model.
function absolutePositions(f: Fields, d: EncoderDims): EncoderDims {
  const pos = f.get("position_embedding_type", "absolute");
  if (pos !== "absolute")
    f.bad("position_embedding_type", `is ${JSON.stringify(pos)}; only "absolute" position embeddings are supported for this family`);
  return d;
}

// RobertaConfig (XLMRobertaConfig, CamembertConfig: the same fields; only RoBERTa's
// vocab_size default differs). RobertaEmbeddings numbers positions from
// padding_idx + 1 = pad_token_id + 1 (create_position_ids_from_input_ids), so a
// sequence of n tokens reads rows up to pad_token_id + n of the position table.
function robertaDims(vocabDefault: number) {
  return (f: Fields): EncoderDims => {
    const d = absolutePositions(f, { ...bertDims(f), vocabSize: f.int("vocab_size", vocabDefault) });
    const pad = f.get("pad_token_id", 1);
    if (!Number.isSafeInteger(pad) || (pad as number) < 0)
      f.bad("pad_token_id", `must be a token id (RoBERTa's positions start after it), got ${JSON.stringify(pad)}`);
    const maxPosition = f.int("max_position_embeddings", 512);
    if ((pad as number) + 3 > maxPosition)
      f.bad("max_position_embeddings", `is ${maxPosition}: with pad_token_id ${pad}, positions start at ${(pad as number) + 1}, leaving no room for 2 tokens`);
    return { ...d, positionOffset: (pad as number) + 1 };
  };
}

// ElectraConfig: BERT's fields with ELECTRA's defaults, and embedding_size (the
// width of the embeddings, projected to hidden_size when it differs).
function electraDims(f: Fields): EncoderDims {
  const d = absolutePositions(f, {
    ...bertDims(f),
    vocabSize: f.int("vocab_size", 30522),
    hiddenSize: f.int("hidden_size", 256),
    numHeads: f.int("num_attention_heads", 4),
    intermediateSize: f.int("intermediate_size", 1024),
  });
  const e = f.int("embedding_size", 128);
  return e === d.hiddenSize ? d : { ...d, embeddingSize: e };
}

// The supported model classes: one entry per family and head. The bare encoder
// (BertModel) is an embedding model. Without `architectures`, the first class of
// the model_type is taken (sequence classification, as AutoModelForSequenceClassification).
const ARCHITECTURES: Record<string, { arch: Arch; modelType: string; dims: (f: Fields) => EncoderDims; task: Task }> = {
  BertForSequenceClassification: { arch: "bert", modelType: "bert", dims: bertDims, task: "sequence-classification" },
  DistilBertForSequenceClassification: { arch: "distilbert", modelType: "distilbert", dims: distilbertDims, task: "sequence-classification" },
  BertModel: { arch: "bert", modelType: "bert", dims: bertDims, task: "embedding" },
  DistilBertModel: { arch: "distilbert", modelType: "distilbert", dims: distilbertDims, task: "embedding" },
  BertForTokenClassification: { arch: "bert", modelType: "bert", dims: bertDims, task: "token-classification" },
  DistilBertForTokenClassification: { arch: "distilbert", modelType: "distilbert", dims: distilbertDims, task: "token-classification" },
  BertForQuestionAnswering: { arch: "bert", modelType: "bert", dims: bertDims, task: "question-answering" },
  DistilBertForQuestionAnswering: { arch: "distilbert", modelType: "distilbert", dims: distilbertDims, task: "question-answering" },
  // Issue 16: the RoBERTa family and ELECTRA, sequence classification first (the class
  // taken without `architectures`), then the bare encoder and the other heads of issue 15.
  RobertaForSequenceClassification: { arch: "roberta", modelType: "roberta", dims: robertaDims(50265), task: "sequence-classification" },
  XLMRobertaForSequenceClassification: { arch: "roberta", modelType: "xlm-roberta", dims: robertaDims(30522), task: "sequence-classification" },
  CamembertForSequenceClassification: { arch: "roberta", modelType: "camembert", dims: robertaDims(30522), task: "sequence-classification" },
  ElectraForSequenceClassification: { arch: "electra", modelType: "electra", dims: electraDims, task: "sequence-classification" },
  ...familyHeads("Roberta", "roberta", robertaDims(50265)),
  ...familyHeads("XLMRoberta", "xlm-roberta", robertaDims(30522)),
  ...familyHeads("Camembert", "camembert", robertaDims(30522)),
  ...familyHeads("Electra", "electra", electraDims),
};

// <Family>Model (an embedding model), <Family>ForTokenClassification (classifier on
// every token) and <Family>ForQuestionAnswering (qa_outputs): the same encoder as the
// family's sequence classifier, with BERT's heads (modeling_roberta.py, modeling_electra.py).
function familyHeads(prefix: string, modelType: string, dims: (f: Fields) => EncoderDims) {
  const arch: Arch = modelType === "electra" ? "electra" : "roberta";
  return {
    [`${prefix}Model`]: { arch, modelType, dims, task: "embedding" as Task },
    [`${prefix}ForTokenClassification`]: { arch, modelType, dims, task: "token-classification" as Task },
    [`${prefix}ForQuestionAnswering`]: { arch, modelType, dims, task: "question-answering" as Task },
  };
}


// Model classes that are not this graph, each with the field that says so and why.
// DeBERTa (v1, v2 / v3) is the next family: it needs its own attention block
// (docs/architecture.md, "A different attention").
const UNSUPPORTED: Record<string, string> = {
  deberta: "DeBERTa's disentangled attention (relative position terms in every layer) is not supported yet",
  "deberta-v2": "DeBERTa-v2/v3's disentangled attention (relative position terms in every layer) is not supported yet",
  albert: "ALBERT shares one layer's weights across all layers and factorises its embeddings; not supported",
  "roberta-prelayernorm": "RoBERTa-PreLayerNorm puts LayerNorm before each sub-layer; only post-LayerNorm encoders are supported",
  "xlm-roberta-xl": "XLM-RoBERTa-XL puts LayerNorm before each sub-layer; only post-LayerNorm encoders are supported",
};
const UNSUPPORTED_CLASSES: Record<string, string> = {
  Deberta: "deberta", DebertaV2: "deberta-v2", Albert: "albert", RobertaPreLayerNorm: "roberta-prelayernorm", XLMRobertaXL: "xlm-roberta-xl",
};

function refuseUnsupported(f: Fields): void {
  const archs = f.c.architectures;
  const cls = Array.isArray(archs) && typeof archs[0] === "string" ? archs[0] : undefined;
  // The longest class prefix first (DebertaV2 before Deberta), followed by the head's name (For...).
  const byClass = cls === undefined ? undefined : Object.keys(UNSUPPORTED_CLASSES).sort((a, b) => b.length - a.length)
    .find((p) => cls.startsWith(p) && /^[A-Z]/.test(cls.slice(p.length)));
  if (byClass) f.bad("architectures", `is ${JSON.stringify(cls)}: ${UNSUPPORTED[UNSUPPORTED_CLASSES[byClass]]}`);
  const t = f.c.model_type;
  if (typeof t === "string" && Object.hasOwn(UNSUPPORTED, t)) f.bad("model_type", `is ${JSON.stringify(t)}: ${UNSUPPORTED[t]}`);
}

export interface ParseOptions {
  // A sentence-transformers folder: its Transformer module loads the encoder with
  // AutoModel whatever head the class names, so the task is "embedding".
  embedding?: boolean;
}

export function parseHfConfig(raw: unknown, file = "config.json", opts: ParseOptions = {}): HfConfigInfo {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConvertError(`${file}: not a JSON object`);
  const f = new Fields(raw as Record<string, unknown>, file);
  refuseUnsupported(f);
  const { architecture, known } = modelClass(f, opts.embedding === true);
  const arch = known.arch;
  const task: Task = opts.embedding ? "embedding" : known.task;
  const d = known.dims(f);
  if (d.hiddenSize % d.numHeads !== 0)
    f.bad(d.headsField, `(${d.numHeads}) does not divide the hidden size ${d.hiddenSize}`);

  const act = f.get(d.actField, "gelu");
  const hiddenAct = typeof act === "string" ? ACTIVATIONS[act] : undefined;
  if (!hiddenAct)
    f.bad(d.actField, `is ${JSON.stringify(act)}; supported: ${Object.keys(ACTIVATIONS).join(", ")}`);

  // Embedding models have no labels. Question answering has num_labels = 2 outputs
  // (qa_outputs: start, end); token classification, one per label of id2label,
  // scored by softmax whatever problem_type says (the forward uses CrossEntropyLoss).
  const labels = task === "embedding" ? [] : parseLabels(f.c, (field, why) => f.bad(field, why));
  if (task === "question-answering" && labels.length !== 2)
    f.bad("id2label" in f.c ? "id2label" : "num_labels", `gives ${labels.length} labels; ${architecture}'s qa_outputs has 2 outputs (start, end)`);
  const problemType = task === "sequence-classification" ? parseProblemType(f, labels.length) : "single_label_classification";
  return {
    architecture,
    modelType: known.modelType,
    labels,
    positions: d.positions,
    heads: keptHeads(f, d.numLayers, d.numHeads),
    config: {
      arch,
      vocabSize: d.vocabSize,
      hiddenSize: d.hiddenSize,
      numLayers: d.numLayers,
      numHeads: d.numHeads,
      headDim: d.hiddenSize / d.numHeads,
      intermediateSize: d.intermediateSize,
      maxPosition: f.int("max_position_embeddings", 512),
      typeVocabSize: d.typeVocabSize,
      numLabels: labels.length,
      problemType,
      hiddenAct: hiddenAct!,
      layerNormEps: d.layerNormEps,
      hasPooler: (arch === "bert" || arch === "roberta") && task === "sequence-classification",
      hasPreClassifier: (arch === "distilbert" || arch === "electra") && task === "sequence-classification",
      ...(task === "sequence-classification" ? {} : { task }),
      // ElectraClassificationHead hard-codes get_activation("gelu"), whatever hidden_act says.
      ...(arch === "electra" && task === "sequence-classification" ? { headAct: "gelu" as HiddenAct } : {}),
      ...(d.embeddingSize !== undefined ? { embeddingSize: d.embeddingSize } : {}),
      ...(d.positionOffset !== undefined ? { positionOffset: d.positionOffset } : {}),
    },
  };
}

// architectures[0] must be a supported class, and model_type (when given) its family.
// Without architectures (absent, null or []), AutoModelForSequenceClassification
// picks the class from model_type alone, and so does this.
// In a sentence-transformers folder (`encoder`) AutoModel loads the family's bare
// encoder whatever head class is named (e.g. BertForMaskedLM): model_type decides.
function modelClass(f: Fields, encoder = false) {
  const archs = f.c.architectures;
  if (encoder && Array.isArray(archs) && typeof archs[0] === "string" && !ARCHITECTURES[archs[0]]) {
    const base = Object.keys(ARCHITECTURES).find((a) => ARCHITECTURES[a].modelType === f.c.model_type && ARCHITECTURES[a].task === "embedding");
    if (base) return { architecture: archs[0] as string, known: ARCHITECTURES[base] };
  }
  if (archs === undefined || archs === null || (Array.isArray(archs) && archs.length === 0)) {
    const byType = Object.keys(ARCHITECTURES).find((a) => ARCHITECTURES[a].modelType === f.c.model_type);
    if (!byType)
      f.bad("architectures", `is missing and model_type is ${JSON.stringify(f.c.model_type)}; one of them must name the model ` +
        `(architectures e.g. ["BertForSequenceClassification"], or model_type ${[...new Set(Object.values(ARCHITECTURES).map((a) => JSON.stringify(a.modelType)))].join(" or ")})`);
    return { architecture: byType, known: ARCHITECTURES[byType] };
  }
  if (!Array.isArray(archs) || typeof archs[0] !== "string")
    f.bad("architectures", `must list the model class, e.g. ["BertForSequenceClassification"]; got ${JSON.stringify(archs)}`);
  const architecture = (archs as string[])[0];
  const known = ARCHITECTURES[architecture];
  if (!known)
    f.bad("architectures", `is ${JSON.stringify(architecture)}; supported: ${Object.keys(ARCHITECTURES).join(", ")}`);
  const modelType = f.get("model_type", known.modelType);
  if (modelType !== known.modelType)
    f.bad("model_type", `is ${JSON.stringify(modelType)} but ${architecture} needs ${JSON.stringify(known.modelType)}`);
  return { architecture, known };
}

// As transformers' forward: no problem_type and one label means regression.
function parseProblemType(f: Fields, numLabels: number): ProblemType {
  const pt = f.c.problem_type ?? (numLabels === 1 ? "regression" : "single_label_classification");
  if (!PROBLEM_TYPES.includes(pt as ProblemType))
    f.bad("problem_type", `is ${JSON.stringify(pt)}; supported: ${PROBLEM_TYPES.join(", ")}`);
  if (pt === "regression" && numLabels !== 1)
    f.bad("problem_type", `is "regression" with ${numLabels} labels; the format supports single-output regression only`);
  return pt as ProblemType;
}

// PretrainedConfig: id2label wins when present, over num_labels too (its keys are
// strings of ints); otherwise num_labels (default 2) labels named LABEL_i.
function parseLabels(c: Record<string, unknown>, bad: (field: string, why: string) => never): string[] {
  const id2label = c.id2label;
  if (id2label === undefined || id2label === null) {
    const n = "num_labels" in c ? c.num_labels : 2;
    if (!Number.isSafeInteger(n) || (n as number) <= 0) bad("num_labels", `must be a positive integer, got ${JSON.stringify(n)}`);
    return Array.from({ length: n as number }, (_, i) => `LABEL_${i}`);
  }
  if (typeof id2label !== "object" || Array.isArray(id2label)) bad("id2label", "must be an object {\"0\": label, ...}");
  const entries = Object.entries(id2label as Record<string, unknown>);
  if (entries.length === 0) bad("id2label", "is empty");
  const labels: string[] = new Array(entries.length);
  for (const [key, value] of entries) {
    const id = Number(key);
    if (!/^\d+$/.test(key) || id >= entries.length)
      bad("id2label", `has key ${JSON.stringify(key)}; keys must be the ids 0..${entries.length - 1}`);
    // PretrainedConfig keeps an integer label as it is, and what a pipeline prints
    // of it is str(value): the same digits as String() for an integer.
    if (typeof value !== "string" && !Number.isSafeInteger(value))
      bad(`id2label.${key}`, `must be a string or an integer, got ${JSON.stringify(value)}`);
    if (labels[id] !== undefined) bad("id2label", `has id ${id} twice`);
    labels[id] = String(value);
  }
  return labels;
}

// PretrainedConfig.pruned_heads {"layer": [head, ...]}: from_pretrained prunes these
// heads (original indices) before loading, so the checkpoint holds only the others,
// in order; that is exactly a layer state's `heads`.
function keptHeads(f: Fields, numLayers: number, numHeads: number): number[][] {
  const all = () => Array.from({ length: numHeads }, (_, h) => h);
  const kept = Array.from({ length: numLayers }, all);
  const p = f.c.pruned_heads;
  if (p === undefined || p === null) return kept;
  if (typeof p !== "object" || Array.isArray(p)) f.bad("pruned_heads", `must be an object {"layer": [heads]}, got ${JSON.stringify(p)}`);
  for (const [key, heads] of Object.entries(p as Record<string, unknown>)) {
    const layer = Number(key);
    if (!/^\d+$/.test(key) || layer >= numLayers)
      f.bad("pruned_heads", `has layer ${JSON.stringify(key)}; layers are 0..${numLayers - 1}`);
    if (!Array.isArray(heads) || !heads.every((h) => Number.isSafeInteger(h) && h >= 0 && h < numHeads))
      f.bad(`pruned_heads.${key}`, `must list heads 0..${numHeads - 1}, got ${JSON.stringify(heads)}`);
    const gone = new Set(heads as number[]);
    kept[layer] = all().filter((h) => !gone.has(h));
    if (kept[layer].length === 0)
      f.bad(`pruned_heads.${key}`, `prunes every head of layer ${layer}; a layer needs at least one attention head`);
  }
  return kept;
}
