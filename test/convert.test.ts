// The Hugging Face -> Model converter, on synthetic folders written by
// helpers/hf-checkpoint.ts and on the torch-made fixtures of test/fixtures/parity.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertHfDir } from "../host/convert/index.ts";
import { rejects } from "./helpers/rejects.ts";
import { referenceForward } from "./helpers/reference-forward.ts";
import { readSafetensorsHeader, readTensorF32 } from "../host/convert/safetensors.ts";
import type { Model } from "../host/model/model.ts";
import {
  encodeSafetensors, encodeSafetensorsRaw, f32ToBf16Bits, f32ToF16Bits, writeHfCheckpoint,
  type HfCheckpoint, type HfCheckpointOptions,
} from "./helpers/hf-checkpoint.ts";
import { absent, skipUnless, SHARED_VOCAB } from "./helpers/needs.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const temps: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "axf-convert-"));
  temps.push(d);
  return d;
}
test.after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function make(o: HfCheckpointOptions = {}): HfCheckpoint {
  return writeHfCheckpoint(join(tmp(), "model"), o);
}

// The format's names for checkpoint names, restated from the table of docs/format.md.
function formatName(hf: string): string {
  const n = hf.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
  if (n.startsWith("bert.")) return n.slice(5);
  return n
    .replace(/^distilbert\.embeddings\./, "embeddings.")
    .replace(/^distilbert\.transformer\.layer\./, "encoder.layer.")
    .replace(".attention.q_lin.", ".attention.self.query.")
    .replace(".attention.k_lin.", ".attention.self.key.")
    .replace(".attention.v_lin.", ".attention.self.value.")
    .replace(".attention.out_lin.", ".attention.output.dense.")
    .replace(".sa_layer_norm.", ".attention.output.LayerNorm.")
    .replace(".ffn.lin1.", ".intermediate.dense.")
    .replace(".ffn.lin2.", ".output.dense.")
    .replace(".output_layer_norm.", ".output.LayerNorm.");
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function assertWeights(m: Model, ck: HfCheckpoint): void {
  assert.is(m.tensors.size, ck.tensors.size);
  for (const [hf, t] of ck.tensors) {
    const got = m.tensors.get(formatName(hf));
    assert.ok(got, `no format tensor for ${hf}`);
    assert.equal(got.shape, t.shape, hf);
    assert.ok(sameBits(got.data, t.data), `values of ${hf} differ`);
  }
}

// ---------------------------------------------------------------- safetensors

test("safetensors: F16 and BF16 bit patterns widen exactly", async () => {
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555, 0x0400]);
  const bf16 = new Uint16Array([0x3f80, 0x4049, 0xc2f7, 0x0001]);
  const path = join(tmp(), "bits.safetensors");
  writeFileSync(path, encodeSafetensors([
    { name: "h", dtype: "F16", shape: [7], bytes: new Uint8Array(f16.buffer) },
    { name: "b", dtype: "BF16", shape: [2, 2], bytes: new Uint8Array(bf16.buffer) },
  ]));
  const file = await readSafetensorsHeader(path);
  assert.equal([...(await readTensorF32(file, "h"))], [1, -2, 65504, 2 ** -24, -0, 0.333251953125, 2 ** -14]);
  assert.equal([...(await readTensorF32(file, "b"))], [1, 3.140625, -123.5, 2 ** -133]);
  assert.ok(Object.is((await readTensorF32(file, "h"))[4], -0));
});

test("helper encoders round to nearest even", () => {
  assert.is(f32ToF16Bits(1), 0x3c00);
  assert.is(f32ToF16Bits(65504), 0x7bff);
  assert.is(f32ToF16Bits(65520), 0x7c00); // halfway to the next binade rounds to Inf
  assert.is(f32ToF16Bits(2 ** -24), 0x0001);
  assert.is(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie -> even
  assert.is(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.is(f32ToBf16Bits(3.140625), 0x4049);
  assert.is(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie -> even
});

test("safetensors: header length beyond the file", async () => {
  const path = join(tmp(), "x.safetensors");
  writeFileSync(path, encodeSafetensorsRaw("{}", [], 1000n));
  await rejects(readSafetensorsHeader(path), "x.safetensors", "header length 1000");
});

test("safetensors: bad JSON header", async () => {
  const path = join(tmp(), "x.safetensors");
  writeFileSync(path, encodeSafetensorsRaw("{\"a\": ", []));
  await rejects(readSafetensorsHeader(path), "x.safetensors", "JSON");
});

test("safetensors: offsets out of range, overlapping, wrong size", async () => {
  const d = tmp();
  const bytes = new Uint8Array(16);
  const cases: [string, string[]][] = [
    [`{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 32]}}`, ["tensor w", "beyond"]],
    [`{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}`, ["tensor w", "end before"]],
    [`{"u": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}, "v": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}`,
      ["u", "v", "overlap"]],
    [`{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}`, ["tensor w", "16 bytes", "needs 12"]],
    [`{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 16]}}`, ["tensor w", "shape"]],
    [`{"w": {"dtype": 7, "shape": [4], "data_offsets": [0, 16]}}`, ["tensor w", "dtype"]],
    [`[1, 2]`, ["not a JSON object"]],
  ];
  for (const [i, [header, parts]] of cases.entries()) {
    const path = join(d, `case${i}.safetensors`);
    writeFileSync(path, encodeSafetensorsRaw(header, [bytes]));
    await rejects(readSafetensorsHeader(path), `case${i}.safetensors`, ...parts);
  }
});

test("safetensors: an unsupported dtype is named when the tensor is read", async () => {
  const path = join(tmp(), "x.safetensors");
  writeFileSync(path, encodeSafetensors([{ name: "ids", dtype: "I64", shape: [2], bytes: new Uint8Array(16) }]));
  const file = await readSafetensorsHeader(path);
  await rejects(readTensorF32(file, "ids"), "x.safetensors", "ids", "I64");
});

// ---------------------------------------------------------------- whole folders

for (const arch of ["bert", "distilbert"] as const) {
  for (const dtype of ["F32", "F16", "BF16"] as const) {
    test(`${arch} ${dtype}: weights, config, vocab, layers, meta`, async () => {
      const ck = make({ arch, dtype, seed: 7 });
      const m = await convertHfDir(ck.dir);
      assertWeights(m, ck);
      const c = m.config;
      assert.is(c.arch, arch);
      assert.is(c.hiddenSize, 8);
      assert.is(c.numLayers, 2);
      assert.is(c.numHeads, 2);
      assert.is(c.headDim, 4);
      assert.is(c.intermediateSize, 12);
      assert.is(c.typeVocabSize, arch === "bert" ? 2 : 0);
      assert.is(c.hasPooler, arch === "bert");
      assert.is(c.hasPreClassifier, arch === "distilbert");
      assert.is(c.problemType, "single_label_classification");
      assert.is(c.hiddenAct, "gelu");
      assert.is(c.layerNormEps, 1e-12);
      assert.equal(m.vocab, ck.vocab);
      assert.equal(m.labels, ["LABEL_0", "LABEL_1"]);
      assert.is(m.layers.length, 2);
      for (const l of m.layers) assert.equal(l, { hasAttention: true, hasFfn: true, heads: [0, 1], ffnNeurons: [...Array(12).keys()], hardK: 0 });
      const src = (m.meta.source as Record<string, unknown>);
      assert.is(src.architecture, arch === "bert" ? "BertForSequenceClassification" : "DistilBertForSequenceClassification");
      assert.is(src.model_type, arch);
      assert.ok((src.files as string[]).includes("model.safetensors"));
      assert.is(m.meta.converted_by, "axformer");
      for (const t of m.tensors.values()) assert.is(t.storage, "f32");
    });
  }
}

test("storage f16 applies to matrices and the word embedding only", async () => {
  const ck = make({ arch: "bert" });
  const m = await convertHfDir(ck.dir, { storage: "f16" });
  for (const [name, t] of m.tensors) {
    const table = /position_embeddings|token_type_embeddings/.test(name);
    assert.is(t.storage, t.shape.length === 2 && !table ? "f16" : "f32", name);
  }
  assert.is(m.tensors.get("embeddings.word_embeddings.weight")!.storage, "f16");
  assert.is(m.tensors.get("classifier.weight")!.storage, "f16");
});

test("sharded checkpoint with model.safetensors.index.json", async () => {
  const ck = make({ arch: "distilbert", dtype: "BF16", shards: 3 });
  const m = await convertHfDir(ck.dir);
  assertWeights(m, ck);
  const files = (m.meta.source as { files: string[] }).files;
  assert.ok(files.includes("model.safetensors.index.json"));
  assert.ok(files.includes("model-00003-of-00003.safetensors"));
});

test("sharded: a missing shard and a tensor not in its shard are named", async () => {
  const ck = make({ shards: 2 });
  const indexPath = join(ck.dir, "model.safetensors.index.json");
  const index = JSON.parse(readFileSync(indexPath, "utf8"));
  index.weight_map["classifier.bias"] = "model-00001-of-00002.safetensors";
  writeFileSync(indexPath, JSON.stringify(index));
  await rejects(convertHfDir(ck.dir), "classifier.bias", "model-00001-of-00002.safetensors");
  index.weight_map["classifier.bias"] = "model-00002-of-00002.safetensors";
  writeFileSync(indexPath, JSON.stringify(index));
  unlinkSync(join(ck.dir, "model-00002-of-00002.safetensors"));
  await rejects(convertHfDir(ck.dir), "model.safetensors.index.json", "model-00002-of-00002.safetensors", "does not exist");
  index.weight_map["classifier.bias"] = "../elsewhere.safetensors";
  writeFileSync(indexPath, JSON.stringify(index));
  await rejects(convertHfDir(ck.dir), "classifier.bias", "not a file name");
});

test("old LayerNorm.gamma / .beta names load as .weight / .bias", async () => {
  const ck = make({ arch: "bert", layerNormNames: "gamma" });
  assert.ok(ck.tensors.has("bert.embeddings.LayerNorm.gamma"));
  const m = await convertHfDir(ck.dir);
  assertWeights(m, ck);
});

test("a checkpoint saved without the bert. prefix still loads", async () => {
  const ck = make({ arch: "bert", rename: (n) => n.replace(/^bert\./, "") });
  assert.ok(ck.tensors.has("encoder.layer.0.attention.self.query.weight"));
  const m = await convertHfDir(ck.dir);
  assert.ok(sameBits(m.tensors.get("pooler.dense.weight")!.data, ck.tensors.get("pooler.dense.weight")!.data));
});

test("buffers such as an I64 position_ids are ignored and listed", async () => {
  const ids = new BigInt64Array(16).map((_, i) => BigInt(i));
  const ck = make({
    extraTensors: [{ name: "bert.embeddings.position_ids", dtype: "I64", shape: [1, 16], bytes: new Uint8Array(ids.buffer) }],
  });
  const m = await convertHfDir(ck.dir);
  assert.equal((m.meta.source as { ignored_tensors: string[] }).ignored_tensors, ["bert.embeddings.position_ids"]);
});

test("DistilBERT with sinusoidal_pos_embds converts (the sinusoids are stored)", async () => {
  const ck = make({ arch: "distilbert", config: { sinusoidal_pos_embds: true } });
  assertWeights(await convertHfDir(ck.dir), ck);
});

// ---------------------------------------------------------------- weight errors

test("only pytorch_model.bin: says safetensors is required and how to convert", async () => {
  const ck = make();
  unlinkSync(join(ck.dir, "model.safetensors"));
  writeFileSync(join(ck.dir, "pytorch_model.bin"), "not really");
  await rejects(convertHfDir(ck.dir), "pytorch_model.bin", "safetensors", "save_pretrained");
});

test("missing tensor, wrong shape, unsupported dtype, NaN and Inf are named", async () => {
  await rejects(convertHfDir(make({ omit: ["bert.pooler.dense.weight"] }).dir), "bert.pooler.dense.weight");
  await rejects(
    convertHfDir(make({ arch: "distilbert", omit: ["distilbert.transformer.layer.1.ffn.lin2.bias"] }).dir),
    "distilbert.transformer.layer.1.ffn.lin2.bias",
  );
  // The config says 3 labels, the checkpoint holds a 2-label classifier.
  await rejects(
    convertHfDir(make({ config: { id2label: { 0: "a", 1: "b", 2: "c" } } }).dir),
    "model.safetensors", "classifier.weight", "[2,8]", "[3,8]",
  );
  const f64 = make();
  const raw: Parameters<typeof encodeSafetensors>[0] = [];
  const header = await readSafetensorsHeader(join(f64.dir, "model.safetensors"));
  for (const [name, t] of f64.tensors) {
    const wide = name === "classifier.weight";
    raw.push({
      name, dtype: wide ? "F64" : "F32", shape: t.shape,
      bytes: new Uint8Array(wide ? Float64Array.from(t.data).buffer : t.data.slice().buffer),
    });
  }
  assert.ok(header.tensors.size > 0);
  writeFileSync(join(f64.dir, "model.safetensors"), encodeSafetensors(raw));
  await rejects(convertHfDir(f64.dir), "classifier.weight", "F64");
  await rejects(
    convertHfDir(make({ edit: (n, d) => n === "bert.encoder.layer.1.output.dense.weight" && (d[5] = NaN) }).dir),
    "bert.encoder.layer.1.output.dense.weight", "NaN", "index 5",
  );
  await rejects(
    convertHfDir(make({ dtype: "F16", edit: (n, d) => n === "bert.embeddings.LayerNorm.bias" && (d[0] = 1e6) }).dir),
    "bert.embeddings.LayerNorm.bias", "Infinity",
  );
});

// ---------------------------------------------------------------- config

test("config errors name the field", async () => {
  const cases: [HfCheckpointOptions, string[]][] = [
    [{ config: { architectures: ["BertForMaskedLM"] } }, ["config.json", "architectures", "BertForMaskedLM"]],
    [{ config: { architectures: undefined, model_type: undefined } }, ["config.json", "architectures"]],
    [{ config: { model_type: "roberta" } }, ["config.json", "model_type", "roberta"]],
    [{ config: { hidden_act: "silu" } }, ["config.json", "hidden_act", "silu"]],
    [{ arch: "distilbert", config: { activation: "quick_gelu" } }, ["config.json", "activation", "quick_gelu"]],
    [{ config: { position_embedding_type: "relative_key" } }, ["config.json", "position_embedding_type", "relative_key"]],
    [{ config: { is_decoder: true } }, ["config.json", "is_decoder"]],
    [{ config: { hidden_size: "8" } }, ["config.json", "hidden_size"]],
    [{ config: { num_attention_heads: 3 } }, ["config.json", "num_attention_heads", "divide"]],
    [{ config: { layer_norm_eps: -1 } }, ["config.json", "layer_norm_eps"]],
    [{ config: { id2label: { 0: "a", 2: "b" } } }, ["config.json", "id2label", "\"2\""]],
    [{ config: { id2label: { 0: "a", 1: [5] } } }, ["config.json", "id2label.1"]],
    [{ config: { problem_type: "ranking" } }, ["config.json", "problem_type", "ranking"]],
    [{ config: { problem_type: "regression" } }, ["config.json", "problem_type", "regression", "2 labels"]],
  ];
  for (const [o, parts] of cases) await rejects(convertHfDir(make(o).dir), ...parts);
});

test("activations gelu_new / gelu_pytorch_tanh / relu", async () => {
  for (const [act, want] of [["gelu_new", "gelu_tanh"], ["gelu_pytorch_tanh", "gelu_tanh"], ["relu", "relu"]]) {
    assert.is((await convertHfDir(make({ config: { hidden_act: act } }).dir)).config.hiddenAct, want);
    assert.is((await convertHfDir(make({ arch: "distilbert", config: { activation: act } }).dir)).config.hiddenAct, want);
  }
});

test("labels: id2label in id order; LABEL_i from num_labels; one label means regression", async () => {
  let m = await convertHfDir(make({ numLabels: 3, config: { id2label: { 2: "pos", 0: "neg", 1: "neu" } } }).dir);
  assert.equal(m.labels, ["neg", "neu", "pos"]);
  m = await convertHfDir(make({ numLabels: 3, config: { id2label: undefined, label2id: undefined, num_labels: 3 } }).dir);
  assert.equal(m.labels, ["LABEL_0", "LABEL_1", "LABEL_2"]);
  m = await convertHfDir(make({ numLabels: 1 }).dir);
  assert.is(m.config.problemType, "regression");
  assert.is(m.config.numLabels, 1);
  m = await convertHfDir(make({ numLabels: 1, config: { problem_type: "multi_label_classification" } }).dir);
  assert.is(m.config.problemType, "multi_label_classification");
  m = await convertHfDir(make({ numLabels: 4, config: { problem_type: "multi_label_classification" } }).dir);
  assert.is(m.config.problemType, "multi_label_classification");
});

// ---------------------------------------------------------------- tokenizer

test("special token ids, maxLen and defaults from vocab.txt + tokenizer_config.json", async () => {
  const m = await convertHfDir(make({ maxPosition: 16 }).dir);
  const t = m.config.tokenizer;
  assert.equal(
    [t.padId, t.unkId, t.clsId, t.sepId, t.maskId],
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map((s) => m.vocab.indexOf(s)),
  );
  assert.equal([t.doLowerCase, t.stripAccents, t.tokenizeChineseChars, t.cleanText], [true, null, true, true]);
  assert.is(t.maxLen, 16);
  assert.is(t.maxInputCharsPerWord, 100);
});

test("model_max_length: the 1e30 sentinel means max_position; a smaller one wins", async () => {
  const base = { do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false };
  let t = (await convertHfDir(make({ tokenizerConfig: { ...base, model_max_length: 1000000000000000019884624838656 } }).dir)).config.tokenizer;
  assert.is(t.maxLen, 16);
  assert.equal([t.doLowerCase, t.stripAccents, t.tokenizeChineseChars], [false, false, false]);
  t = (await convertHfDir(make({ tokenizerConfig: { model_max_length: 10 } }).dir)).config.tokenizer;
  assert.is(t.maxLen, 10);
  t = (await convertHfDir(make({ tokenizerConfig: { model_max_length: 4096 } }).dir)).config.tokenizer;
  assert.is(t.maxLen, 16);
  await rejects(convertHfDir(make({ tokenizerConfig: { model_max_length: 1 } }).dir), "tokenizer_config.json", "model_max_length");
});

test("no tokenizer config at all: BertTokenizer defaults", async () => {
  const t = (await convertHfDir(make({ arch: "distilbert", tokenizerConfig: null }).dir)).config.tokenizer;
  assert.equal([t.doLowerCase, t.stripAccents, t.tokenizeChineseChars, t.cleanText, t.maxLen], [true, null, true, true, 16]);
});

test("special tokens named by special_tokens_map.json over tokenizer_config.json", async () => {
  const vocab = ["<pad>", "<unk>", "<s>", "</s>", "x", "y", "[CLS]", "[SEP]", "[PAD]", "[UNK]"];
  const ck = make({
    vocab,
    tokenizerConfig: { cls_token: "[CLS]", sep_token: { content: "[SEP]", __type: "AddedToken" }, pad_token: "[PAD]", unk_token: "[UNK]" },
    specialTokensMap: { cls_token: "<s>", sep_token: { content: "</s>", lstrip: false }, pad_token: "<pad>", unk_token: "<unk>", mask_token: null },
  });
  const t = (await convertHfDir(ck.dir)).config.tokenizer;
  assert.equal([t.padId, t.unkId, t.clsId, t.sepId, t.maskId], [0, 1, 2, 3, null]);
});

test("a special token missing from the vocab is named with its source", async () => {
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "x"];
  await rejects(convertHfDir(make({ vocab }).dir), "[SEP]", "vocab.txt", "tokenizer_config.json");
  await rejects(convertHfDir(make({ vocab, tokenizerConfig: null }).dir), "[SEP]", "vocab.txt");
  const t = (await convertHfDir(make({ vocab: [...vocab, "[SEP]"] }).dir)).config.tokenizer;
  assert.is(t.maskId, null); // [MASK] may be absent
});

test("vocab.txt is read as transformers reads it", async () => {
  const ck = make({ tokenizerConfig: { pad_token: "\uFEFF[PAD]" } });
  const lines = ["\uFEFF[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", " spaced ", "tab\there", "dup", "", "dup", "é", "last"];
  writeFileSync(join(ck.dir, "vocab.txt"), lines[0] + "\r\n" + lines.slice(1, 6).join("\n") + "\r" + lines.slice(6).join("\n"));
  // The checkpoint's embedding has 25 rows; the 12 lines become ids 0..11, the rest placeholders.
  const model = await convertHfDir(ck.dir);
  assert.is(model.config.tokenizer.padId, 0);
  assert.is(model.vocab.length, 25);
  assert.is(model.vocab[0], "\uFEFF[PAD]"); // utf-8, not utf-8-sig: the BOM stays
  assert.equal(model.vocab.slice(1, 7), ["[UNK]", "[CLS]", "[SEP]", "[MASK]", " spaced ", "tab\there"]);
  assert.is(model.vocab[8], "");
  assert.is(model.vocab[9], "dup"); // the later duplicate wins, as in load_vocab's dict
  assert.ok(model.vocab[7].startsWith("[unused_pad_"), model.vocab[7]);
  assert.equal(model.vocab.slice(10, 12), ["é", "last"]);
  assert.is(new Set(model.vocab).size, 25);
  for (const p of model.vocab.slice(12)) assert.match(p, /^\[unused_pad_\d+\]$/);
});

test("vocab larger than vocab_size is an error; smaller is padded with placeholders", async () => {
  const ck = make();
  writeFileSync(join(ck.dir, "vocab.txt"), [...ck.vocab, "extra1", "extra2"].join("\n") + "\n");
  await rejects(convertHfDir(ck.dir), "vocab.txt", "27 tokens", "vocab_size is 25");
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused_pad_0]", "a"];
  const m = await convertHfDir(make({ vocab, vocabSize: 10 }).dir);
  assert.is(m.config.vocabSize, 10);
  assert.equal(m.vocab.slice(0, 7), vocab);
  assert.equal(m.vocab.slice(7), ["[unused_pad_1]", "[unused_pad_2]", "[unused_pad_3]"]); // skips the real token
  assert.is(m.tensors.get("embeddings.word_embeddings.weight")!.shape[0], 10);
});

test("tokenizer.json: same model as vocab.txt, post-processor ids", async () => {
  const a = await convertHfDir(make({ tokenizer: "vocab.txt", seed: 3 }).dir);
  const b = await convertHfDir(make({ tokenizer: "tokenizer.json", seed: 3 }).dir);
  assert.equal(b.vocab, a.vocab);
  assert.equal(b.config.tokenizer, a.config.tokenizer);
  assert.ok((b.meta.source as { files: string[] }).files.includes("tokenizer.json"));
  const c = await convertHfDir(make({ tokenizer: "both", tokenizerJson: (t) => (t.model.max_input_chars_per_word = 50) }).dir);
  assert.is(c.config.tokenizer.maxInputCharsPerWord, 50);
});

test("tokenizer.json: normalizer flags, overridden by the tokenizer config as BertTokenizerFast does", async () => {
  const cased = (t: Record<string, any>) => Object.assign(t.normalizer, { lowercase: false, strip_accents: false, clean_text: false });
  // No tokenizer_config.json: BertTokenizerFast's defaults (lowercase) replace the normalizer's.
  let t = (await convertHfDir(make({ tokenizer: "tokenizer.json", tokenizerConfig: null, tokenizerJson: cased }).dir)).config.tokenizer;
  assert.equal([t.doLowerCase, t.stripAccents, t.cleanText], [true, null, false]);
  t = (await convertHfDir(make({ tokenizer: "tokenizer.json", tokenizerConfig: { do_lower_case: false, strip_accents: false }, tokenizerJson: cased }).dir)).config.tokenizer;
  assert.equal([t.doLowerCase, t.stripAccents, t.cleanText], [false, false, false]);
  // PreTrainedTokenizerFast uses tokenizer.json as written.
  t = (await convertHfDir(make({ tokenizer: "tokenizer.json", tokenizerConfig: { tokenizer_class: "PreTrainedTokenizerFast" }, tokenizerJson: cased }).dir)).config.tokenizer;
  assert.equal([t.doLowerCase, t.stripAccents, t.cleanText], [false, false, false]);
});

test("tokenizer.json: holes in the vocab become placeholders; added tokens extend it", async () => {
  const ck = make({
    vocabSize: 30,
    tokenizer: "tokenizer.json",
    tokenizerJson: (t) => {
      delete t.model.vocab["movie"]; // id 10
      t.added_tokens.push({ id: 25, content: "<new>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
    },
  });
  const m = await convertHfDir(ck.dir);
  assert.match(m.vocab[10], /^\[unused_pad_\d+\]$/);
  assert.is(m.vocab[25], "<new>");
  assert.is(m.vocab.length, 30);
});

test("tokenizer.json errors name the field", async () => {
  const cases: [(t: Record<string, any>) => void, string[]][] = [
    [(t) => (t.model.type = "BPE"), ["tokenizer.json", "model.type", "BPE", "WordPiece"]],
    [(t) => (t.model.continuing_subword_prefix = "@@"), ["tokenizer.json", "continuing_subword_prefix", "@@"]],
    [(t) => (t.normalizer = { type: "Sequence", normalizers: [] }), ["tokenizer.json", "normalizer", "Sequence"]],
    [(t) => (t.pre_tokenizer = { type: "Metaspace" }), ["tokenizer.json", "pre_tokenizer", "Metaspace"]],
    [(t) => (t.post_processor = null), ["tokenizer.json", "post_processor"]],
    [(t) => t.post_processor.single.shift(), ["tokenizer.json", "post_processor.single"]],
    [(t) => (t.post_processor.pair[3].Sequence.type_id = 0), ["tokenizer.json", "post_processor.pair"]],
    [(t) => (t.model.vocab["x"] = 3), ["tokenizer.json", "model.vocab", "id 3"]],
    [(t) => (t.model.vocab["x"] = -1), ["tokenizer.json", "model.vocab[\"x\"]"]],
    [(t) => (t.model.unk_token = "<unk>"), ["tokenizer.json", "model.unk_token", "<unk>"]],
    [(t) => t.added_tokens.push({ id: 40, content: "<far>" }), ["tokenizer.json", "<far>", "gap"]],
    [(t) => t.added_tokens.push({ id: 3, content: "<clash>" }), ["tokenizer.json", "<clash>", "id 3"]],
  ];
  for (const [edit, parts] of cases) await rejects(convertHfDir(make({ tokenizer: "tokenizer.json", tokenizerJson: edit }).dir), ...parts);
  await rejects(convertHfDir(make({ tokenizerConfig: { tokenizer_class: "XLMRobertaTokenizer" } }).dir), "tokenizer_config.json", "tokenizer_class", "XLMRobertaTokenizer");
  const ck = make();
  unlinkSync(join(ck.dir, "vocab.txt"));
  await rejects(convertHfDir(ck.dir), "tokenizer.json", "vocab.txt");
});

test("missing or broken config.json", async () => {
  const ck = make();
  writeFileSync(join(ck.dir, "config.json"), "{ nope");
  await rejects(convertHfDir(ck.dir), "config.json", "JSON");
  unlinkSync(join(ck.dir, "config.json"));
  await rejects(convertHfDir(ck.dir), "config.json");
});

skipUnless(test, absent(SHARED_VOCAB))("the real bert-base-uncased vocab.txt (../shared)", async () => {
  const ck = make({ vocab: ["[PAD]"], vocabSize: 30522, hiddenSize: 4, numHeads: 1, intermediateSize: 4, numLayers: 1 });
  writeFileSync(join(ck.dir, "vocab.txt"), readFileSync(SHARED_VOCAB));
  const m = await convertHfDir(ck.dir);
  const t = m.config.tokenizer;
  assert.equal([t.padId, t.unkId, t.clsId, t.sepId, t.maskId], [0, 100, 101, 102, 103]);
  assert.is(m.vocab.length, 30522);
  assert.is(new Set(m.vocab).size, 30522);
  assert.not.ok(m.vocab.some((v) => v.startsWith("[unused_pad_")));
});

// ---------------------------------------------------------------- torch-made fixtures

// A plain float64 forward pass of the converted model, to hold the converter's
// mapping against the logits transformers computed (in float64) for the same checkpoint:
// any misplaced or mis-widened tensor moves them far beyond the 1e-9 allowed.
function referenceLogits(m: Model, ids: number[], types: number[]): number[] {
  const c = m.config, H = c.hiddenSize, D = c.headDim, N = ids.length;
  const W = (n: string) => m.tensors.get(n)!.data;
  const linear = (x: Float64Array, rows: number, name: string): Float64Array => {
    const w = W(`${name}.weight`), b = W(`${name}.bias`), cols = w.length / (b.length);
    const y = new Float64Array(rows * b.length);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < b.length; o++) {
        let s = b[o];
        for (let i = 0; i < cols; i++) s += x[r * cols + i] * w[o * cols + i];
        y[r * b.length + o] = s;
      }
    return y;
  };
  const layerNorm = (x: Float64Array, name: string): Float64Array => {
    const g = W(`${name}.weight`), b = W(`${name}.bias`), y = new Float64Array(x.length);
    for (let r = 0; r < x.length / H; r++) {
      let mean = 0, vr = 0;
      for (let i = 0; i < H; i++) mean += x[r * H + i] / H;
      for (let i = 0; i < H; i++) vr += (x[r * H + i] - mean) ** 2 / H;
      for (let i = 0; i < H; i++) y[r * H + i] = ((x[r * H + i] - mean) / Math.sqrt(vr + c.layerNormEps)) * g[i] + b[i];
    }
    return y;
  };
  const act = (v: number) =>
    c.hiddenAct === "relu" ? Math.max(0, v)
    : c.hiddenAct === "gelu" ? 0.5 * v * (1 + erf(v / Math.SQRT2))
    : 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

  let x: Float64Array = new Float64Array(N * H);
  for (let t = 0; t < N; t++)
    for (let i = 0; i < H; i++)
      x[t * H + i] = W("embeddings.word_embeddings.weight")[ids[t] * H + i] + W("embeddings.position_embeddings.weight")[t * H + i] +
        (c.arch === "bert" ? W("embeddings.token_type_embeddings.weight")[types[t] * H + i] : 0);
  x = layerNorm(x, "embeddings.LayerNorm");
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const q = linear(x, N, `${p}attention.self.query`), k = linear(x, N, `${p}attention.self.key`), v = linear(x, N, `${p}attention.self.value`);
    const ctx = new Float64Array(N * H);
    for (let h = 0; h < c.numHeads; h++)
      for (let i = 0; i < N; i++) {
        const s = Array.from({ length: N }, (_, j) => {
          let d = 0;
          for (let e = 0; e < D; e++) d += q[i * H + h * D + e] * k[j * H + h * D + e];
          return d / Math.sqrt(D);
        });
        const mx = Math.max(...s), ex = s.map((z) => Math.exp(z - mx)), sum = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < N; j++) for (let e = 0; e < D; e++) ctx[i * H + h * D + e] += (ex[j] / sum) * v[j * H + h * D + e];
      }
    const a = linear(ctx, N, `${p}attention.output.dense`);
    x = layerNorm(x.map((z, i) => z + a[i]), `${p}attention.output.LayerNorm`);
    const f = linear(linear(x, N, `${p}intermediate.dense`).map(act), N, `${p}output.dense`);
    x = layerNorm(x.map((z, i) => z + f[i]), `${p}output.LayerNorm`);
  }
  const cls = x.slice(0, H);
  const pooled = c.hasPooler ? linear(cls, 1, "pooler.dense").map(Math.tanh) : linear(cls, 1, "pre_classifier").map((z) => Math.max(0, z));
  return [...linear(pooled, 1, "classifier")];
}

// erf to ~1e-12 (series near 0, continued fraction in the tails).
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const PARITY = join(ROOT, "test/fixtures/parity");
test("the parity fixtures convert and reproduce transformers' logits", async () => {
  const dirs = readdirSync(PARITY).filter((d) => existsSync(join(PARITY, d, "config.json")));
  assert.ok(dirs.length > 0);
  for (const d of dirs) {
    const m = await convertHfDir(join(PARITY, d));
    const goldenPath = join(PARITY, d, "golden.json");
    if (!existsSync(goldenPath)) continue;
    const golden = JSON.parse(readFileSync(goldenPath, "utf8")) as { input_ids: number[]; token_type_ids: number[]; logits: number[] }[];
    for (const g of golden) {
      // The issue 16 families (RoBERTa's positions, ELECTRA's projection and head) through the
      // f64 reference the optimizer tests use: this holds it to transformers too.
      const bertLike = m.config.arch === "bert" || m.config.arch === "distilbert";
      const got = bertLike ? referenceLogits(m, g.input_ids, g.token_type_ids) : Array.from(referenceForward(m, g.input_ids, g.token_type_ids));
      assert.is(got.length, g.logits.length, d);
      got.forEach((v, i) => assert.ok(Math.abs(v - g.logits[i]) < 1e-9 * Math.max(1, Math.abs(g.logits[i])), `${d}: logit ${i} is ${v}, transformers says ${g.logits[i]}`));
    }
  }
});

test.run();
