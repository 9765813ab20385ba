// config.json -> ModelConfig (all but the tokenizer) and the labels.
//
// Missing fields take the defaults of transformers' BertConfig / DistilBertConfig,
// as from_pretrained would; present fields must have the right type. The tensor
// shapes are checked against these numbers later (weights.ts), so a config that
// disagrees with its checkpoint is caught there.
import { PROBLEM_TYPES, type Arch, type HiddenAct, type ModelConfig, type ProblemType } from "../model/model.ts";
import { ConvertError } from "./errors.ts";

export type HfModelConfig = Omit<ModelConfig, "tokenizer">;

export interface HfConfigInfo {
  architecture: string;   // e.g. "BertForSequenceClassification"
  modelType: string;      // "bert" | "distilbert"
  config: HfModelConfig;
  labels: string[];       // id2label in id order
}

const ARCHITECTURES: Record<string, { arch: Arch; modelType: string }> = {
  BertForSequenceClassification: { arch: "bert", modelType: "bert" },
  DistilBertForSequenceClassification: { arch: "distilbert", modelType: "distilbert" },
};

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

export function parseHfConfig(raw: unknown, file = "config.json"): HfConfigInfo {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConvertError(`${file}: not a JSON object`);
  const c = raw as Record<string, unknown>;
  const bad = (field: string, why: string): never => {
    throw new ConvertError(`${file}: field ${field} ${why}`);
  };
  const int = (field: string, dflt: number): number => {
    const v = c[field] ?? dflt;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) bad(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  // DistilBertConfig.attribute_map: the BERT name, when present, overrides the DistilBERT one.
  const aliased = (bertName: string, ownName: string, dflt: number): number =>
    c[bertName] !== undefined ? int(bertName, dflt) : int(ownName, dflt);

  const archs = c.architectures;
  if (!Array.isArray(archs) || archs.length === 0 || typeof archs[0] !== "string")
    bad("architectures", `must list the model class, e.g. ["BertForSequenceClassification"]; got ${JSON.stringify(archs)}`);
  const architecture = (archs as string[])[0];
  const known = ARCHITECTURES[architecture];
  if (!known)
    bad("architectures", `is ${JSON.stringify(architecture)}; supported: ${Object.keys(ARCHITECTURES).join(", ")}`);
  const modelType = c.model_type ?? known.modelType;
  if (modelType !== known.modelType)
    bad("model_type", `is ${JSON.stringify(modelType)} but ${architecture} needs ${JSON.stringify(known.modelType)}`);
  const arch = known.arch;

  let hiddenSize: number, numLayers: number, numHeads: number, intermediateSize: number;
  let typeVocabSize: number, layerNormEps: number, actField: string;
  if (arch === "bert") {
    hiddenSize = int("hidden_size", 768);
    numLayers = int("num_hidden_layers", 12);
    numHeads = int("num_attention_heads", 12);
    intermediateSize = int("intermediate_size", 3072);
    typeVocabSize = int("type_vocab_size", 2);
    actField = "hidden_act";
    const eps = c.layer_norm_eps ?? 1e-12;
    if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps))
      bad("layer_norm_eps", `must be a positive number, got ${JSON.stringify(eps)}`);
    layerNormEps = eps as number;
    const pos = c.position_embedding_type ?? "absolute";
    if (pos !== "absolute")
      bad("position_embedding_type", `is ${JSON.stringify(pos)}; only "absolute" position embeddings are supported`);
    if (c.is_decoder === true) bad("is_decoder", "is true; only encoder (bidirectional) models are supported");
    if (c.add_cross_attention === true) bad("add_cross_attention", "is true; cross-attention is not supported");
  } else {
    hiddenSize = aliased("hidden_size", "dim", 768);
    numLayers = aliased("num_hidden_layers", "n_layers", 6);
    numHeads = aliased("num_attention_heads", "n_heads", 12);
    intermediateSize = int("hidden_dim", 4 * 768);
    typeVocabSize = 0;
    actField = "activation";
    layerNormEps = DISTILBERT_LAYER_NORM_EPS;
    // sinusoidal_pos_embds is fine: the sinusoids are written into the stored position_embeddings.
  }
  if (hiddenSize % numHeads !== 0)
    bad(arch === "bert" ? "num_attention_heads" : "n_heads", `(${numHeads}) does not divide the hidden size ${hiddenSize}`);

  const act = c[actField] ?? "gelu";
  const hiddenAct = typeof act === "string" ? ACTIVATIONS[act] : undefined;
  if (!hiddenAct)
    bad(actField, `is ${JSON.stringify(act)}; supported: ${Object.keys(ACTIVATIONS).join(", ")}`);

  const labels = parseLabels(c, bad);
  const numLabels = labels.length;

  // As transformers' forward: no problem_type and one label means regression.
  const pt = c.problem_type ?? (numLabels === 1 ? "regression" : "single_label_classification");
  if (!PROBLEM_TYPES.includes(pt as ProblemType))
    bad("problem_type", `is ${JSON.stringify(pt)}; supported: ${PROBLEM_TYPES.join(", ")}`);
  if (pt === "regression" && numLabels !== 1)
    bad("problem_type", `is "regression" with ${numLabels} labels; the format supports single-output regression only`);

  return {
    architecture,
    modelType: known.modelType,
    labels,
    config: {
      arch,
      vocabSize: int("vocab_size", 30522),
      hiddenSize,
      numLayers,
      numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize,
      maxPosition: int("max_position_embeddings", 512),
      typeVocabSize,
      numLabels,
      problemType: pt as ProblemType,
      hiddenAct: hiddenAct!,
      layerNormEps,
      hasPooler: arch === "bert",
      hasPreClassifier: arch === "distilbert",
    },
  };
}

// PretrainedConfig: id2label wins when present, over num_labels too (its keys are
// strings of ints); otherwise num_labels (default 2) labels named LABEL_i.
function parseLabels(c: Record<string, unknown>, bad: (field: string, why: string) => never): string[] {
  const id2label = c.id2label;
  if (id2label === undefined || id2label === null) {
    const n = c.num_labels ?? 2;
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
    if (typeof value !== "string") bad(`id2label.${key}`, `must be a string, got ${JSON.stringify(value)}`);
    if (labels[id] !== undefined) bad("id2label", `has id ${id} twice`);
    labels[id] = value;
  }
  return labels;
}
