// Hugging Face checkpoints that from_pretrained loads and the converter used to
// refuse or convert wrongly (issue 10, items 16 to 20). Expectations are derived
// from transformers' and safetensors' own code, as the comments say.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertHfDir } from "../host/convert/index.ts";
import { rejects } from "./helpers/rejects.ts";
import { readSafetensorsHeader } from "../host/convert/safetensors.ts";
import {
  encodeSafetensors, encodeSafetensorsRaw, encodeValues, writeHfCheckpoint, type HfCheckpointOptions, type RawTensor,
} from "./helpers/hf-checkpoint.ts";
import { referenceForward } from "./helpers/reference-forward.ts";
import { writeModel } from "../host/format/writer.ts";
import { readModel, type FormatExports } from "../host/format/read.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AutoTokenizer, env } from "@huggingface/transformers";

const temps: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "axf-hfcompat-"));
  temps.push(d);
  return d;
}
test.after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const make = (o: HfCheckpointOptions = {}) => writeHfCheckpoint(join(tmp(), "model"), o);

const IDS = [3, 8, 10, 12, 6, 4];

// ---------------------------------------------------------------- 16: null fields

test("position_embedding_type null (or any value but absolute/relative_*) adds no position embeddings", async () => {
  // BertEmbeddings.forward: `if self.position_embedding_type == "absolute": embeddings += ...`
  const abs = await convertHfDir(make({ seed: 7 }).dir);
  for (const v of [null, "none"]) {
    const m = await convertHfDir(make({ seed: 7, config: { position_embedding_type: v } }).dir);
    const pos = m.tensors.get("embeddings.position_embeddings.weight")!;
    assert.ok(pos.data.every((x) => x === 0), "the position table is all zeros");
    // The same as the absolute model with its position table removed by hand.
    abs.tensors.get("embeddings.position_embeddings.weight")!.data.fill(0);
    assert.equal(Array.from(referenceForward(m, IDS)), Array.from(referenceForward(abs, IDS)));
  }
});

test("relative position embeddings and null config fields are refused, naming the field", async () => {
  const cases: [HfCheckpointOptions, string[]][] = [
    [{ config: { position_embedding_type: "relative_key_query" } }, ["position_embedding_type", "relative_key_query"]],
    [{ config: { hidden_size: null } }, ["hidden_size", "null"]],
    [{ config: { num_hidden_layers: null } }, ["num_hidden_layers", "null"]],
    [{ config: { vocab_size: null } }, ["vocab_size", "null"]],
    [{ config: { max_position_embeddings: null } }, ["max_position_embeddings", "null"]],
    [{ config: { layer_norm_eps: null } }, ["layer_norm_eps", "null"]],
    [{ config: { hidden_act: null } }, ["hidden_act", "null"]],
    [{ config: { model_type: null } }, ["model_type", "null"]],
    [{ config: { id2label: undefined, label2id: undefined, num_labels: null } }, ["num_labels", "null"]],
    [{ arch: "distilbert", config: { activation: null } }, ["activation", "null"]],
    [{ arch: "distilbert", config: { hidden_dim: null } }, ["hidden_dim", "null"]],
    // DistilBertConfig.attribute_map: hidden_size sets dim, even to None.
    [{ arch: "distilbert", config: { hidden_size: null } }, ["hidden_size", "null"]],
  ];
  for (const [o, parts] of cases) await rejects(convertHfDir(make(o).dir), "config.json", ...parts);
});

// ---------------------------------------------------------------- 17: added tokens

// tokenizers' AddedVocabulary: tokens with normalized: false are found in the raw
// text first (leftmost-longest), kept whole; each piece between them is normalized
// (BertNormalizer), then split on the normalized: true tokens' normal forms, and
// what is left goes through BertPreTokenizer and WordPiece on its own.
test("added tokens (past the vocab and inside it) are matched whole in the raw text", async () => {
  const added = (id: number, content: string, special: boolean, more: Record<string, unknown> = {}) =>
    ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special, ...more });
  const ck = make({
    tokenizer: "tokenizer.json",
    vocabSize: 29, // DEFAULT_VOCAB has 25 tokens; [NEW] is id 25, [TAG] 26, Café 27, 新词 28
    tokenizerJson: (t) => t.added_tokens.push(
      added(25, "[NEW]", false, { rstrip: true }), added(10, "movie", true), added(26, "[TAG]", false, { normalized: true }),
      added(27, "Café", false, { normalized: true }), added(28, "新词", false, { normalized: true })),
  });
  const m = await convertHfDir(ck.dir);
  const want = [
    { id: 10, normalized: false }, { id: 25, normalized: false }, { id: 26, normalized: true }, { id: 27, normalized: true }, { id: 28, normalized: true },
  ];
  assert.equal(m.addedTokens, want);
  assert.is(m.vocab[25], "[NEW]");
  const bytes = writeModel(m);
  assert.equal(readModel(bytes, (await loadEngine()).exports as unknown as FormatExports).addedTokens, want);
  const run = (await loadEngine()).loadModel(bytes);
  // By hand with DEFAULT_VOCAB: "a" 7, "bad" 9, "good" 8, "movie" 10, [CLS] 3, [SEP] 4, [UNK] 2.
  // "goodmovie" splits at the added "movie"; without it WordPiece finds no "##movie": [UNK].
  // "[new]" differs in case from "[NEW]": it is text, punctuation and a word.
  const cases: [string, number[]][] = [
    ["a[NEW]bad", [3, 7, 25, 9, 4]],
    ["goodmovie [NEW]  movies", [3, 8, 10, 25, 10, 2, 4]], // "s" after "movie" starts a new word: no "s", [UNK]
    ["[new] [NEW][NEW]", [3, 2, 2, 2, 25, 25, 4]],
    // [TAG] is matched on the lowercased text against its normal form "[tag]".
    ["x[TAG]y [tag] [Tag]", [3, 2, 26, 2, 26, 26, 4]],
    // The raw "movie" is split off first; "[TAG]" is then a piece of its own.
    ["[TAG]movie", [3, 26, 10, 4]],
    // Normal forms: "cafe" (lowercased, accent stripped), " 新  词 " (CJK spaced).
    ["CAFÉ!cafe caf\u0065\u0301", [3, 27, 23, 27, 27, 4]],
    ["我新词新 词", [3, 2, 28, 2, 2, 4]],
  ];
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = join(ck.dir, "..");
  const oracle = await AutoTokenizer.from_pretrained("model");
  for (const [text, want] of cases) {
    assert.equal(run.tokenize(text).inputIds, want, text);
    assert.equal(Array.from(oracle(text).input_ids.data as BigInt64Array, Number), want, `transformers.js on ${text}`);
  }
  // Flags the runtime does not implement are refused, naming the flag and the token.
  const bad = make({ tokenizer: "tokenizer.json", vocabSize: 26, tokenizerJson: (t) => t.added_tokens.push(added(25, "[NEW]", false, { single_word: true })) });
  await rejects(convertHfDir(bad.dir), "tokenizer.json", "[NEW]", "single_word");
});

// ---------------------------------------------------------------- 18: pruned heads

// The checkpoint save_pretrained writes after prune_heads({0: [0, 2]}): layer 0's
// query/key/value keep the rows of heads 1 and 3, attention.output.dense their columns.
test("pruned_heads: the checkpoint's smaller attention loads as the kept heads", async () => {
  const H = 8, heads = 4, D = 2, gone = [0, 2];
  const ck = make({ hiddenSize: H, numHeads: heads, seed: 3 });
  const dense = await convertHfDir(ck.dir);
  const keep = (i: number) => !gone.includes(Math.floor(i / D));
  const raw: RawTensor[] = [];
  for (const [name, t] of ck.tensors) {
    let { shape, data } = t;
    if (/^bert\.encoder\.layer\.0\.attention\.self\.\w+\.weight$/.test(name)) {
      data = data.filter((_, i) => keep(Math.floor(i / H)));
      shape = [data.length / H, H];
    } else if (/^bert\.encoder\.layer\.0\.attention\.self\.\w+\.bias$/.test(name)) {
      data = data.filter((_, i) => keep(i));
      shape = [data.length];
    } else if (name === "bert.encoder.layer.0.attention.output.dense.weight") {
      data = data.filter((_, i) => keep(i % H));
      shape = [H, data.length / H];
    }
    raw.push({ name, dtype: "F32", shape, bytes: encodeValues(data, "F32") });
  }
  writeFileSync(join(ck.dir, "model.safetensors"), encodeSafetensors(raw));
  const cfg = { ...ck.config, pruned_heads: { "0": gone } };
  writeFileSync(join(ck.dir, "config.json"), JSON.stringify(cfg));
  const m = await convertHfDir(ck.dir);
  assert.equal(m.layers[0].heads, [1, 3]);
  assert.equal(m.layers[1].heads, [0, 1, 2, 3]);
  assert.equal(m.tensors.get("encoder.layer.0.attention.self.query.weight")!.shape, [4, 8]);
  // A pruned head contributes nothing: the dense model with the output columns of
  // heads 0 and 2 zeroed computes the same logits.
  const w = dense.tensors.get("encoder.layer.0.attention.output.dense.weight")!.data;
  for (let i = 0; i < w.length; i++) if (!keep(i % H)) w[i] = 0;
  const got = referenceForward(m, IDS), want = referenceForward(dense, IDS);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-9, `logit ${i}: ${got[i]} vs ${want[i]}`);

  // Errors name the field.
  for (const [p, part] of [[{ "0": [0, 1, 2, 3] }, "every head"], [{ "5": [0] }, "\"5\""], [{ "0": [4] }, "pruned_heads.0"]] as const) {
    writeFileSync(join(ck.dir, "config.json"), JSON.stringify({ ...ck.config, pruned_heads: p }));
    await rejects(convertHfDir(ck.dir), "config.json", "pruned_heads", part);
  }
});

// ---------------------------------------------------------------- 19

test("DistilBERT sinusoidal_pos_embds without a stored table: HF's sinusoids", async () => {
  const ck = make({ arch: "distilbert", hiddenSize: 8, omit: ["distilbert.embeddings.position_embeddings.weight"], config: { sinusoidal_pos_embds: true } });
  const m = await convertHfDir(ck.dir);
  const p = m.tensors.get("embeddings.position_embeddings.weight")!;
  assert.equal(p.shape, [16, 8]);
  // create_sinusoidal_embeddings, by hand for dim 8: angle(pos, j) = pos / 10000^(2*(j//2)/8),
  // so the frequencies are 1, 0.1, 0.01, 0.001; sin on even j, cos on odd j.
  const at = (pos: number, j: number) => p.data[pos * 8 + j];
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7].map((j) => at(0, j)), [0, 1, 0, 1, 0, 1, 0, 1]);
  assert.is(at(1, 0), Math.fround(Math.sin(1)));
  assert.is(at(1, 1), Math.fround(Math.cos(1)));
  assert.is(at(3, 2), Math.fround(Math.sin(0.3)));
  assert.is(at(3, 3), Math.fround(Math.cos(0.3)));
  assert.is(at(15, 7), Math.fround(Math.cos(0.015)));
  // Without the flag the table is required.
  await rejects(convertHfDir(make({ arch: "distilbert", omit: ["distilbert.embeddings.position_embeddings.weight"] }).dir),
    "distilbert.embeddings.position_embeddings.weight");
});

test("id2label with integer values; no architectures but a known model_type", async () => {
  // PretrainedConfig keeps int values; what a pipeline prints is str(value).
  let m = await convertHfDir(make({ config: { id2label: { 0: 0, 1: "pos" } } }).dir);
  assert.equal(m.labels, ["0", "pos"]);
  await rejects(convertHfDir(make({ config: { id2label: { 0: 1.5, 1: "pos" } } }).dir), "id2label.0");
  // AutoModelForSequenceClassification picks the class from model_type.
  m = await convertHfDir(make({ arch: "distilbert", config: { architectures: undefined } }).dir);
  assert.is(m.config.arch, "distilbert");
  assert.is((m.meta.source as { architecture: string }).architecture, "DistilBertForSequenceClassification");
  m = await convertHfDir(make({ config: { architectures: null } }).dir);
  assert.is(m.config.arch, "bert");
  await rejects(convertHfDir(make({ config: { architectures: undefined, model_type: "gpt2" } }).dir), "architectures", "model_type");
});

// ---------------------------------------------------------------- 20: safetensors validation

// safetensors' Metadata::validate: sorted by data_offsets, the tensors must tile the
// data from 0 to its end with no gap; each holds exactly its shape times its dtype size.
test("safetensors: gaps, out-of-range starts, trailing bytes and unknown dtypes are refused", async () => {
  const d = tmp();
  const cases: [string, number, string[]][] = [
    [`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}`, 12, ["tensor b", "gap"]],
    [`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}`, 6, ["tensor a", "gap"]],
    [`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}`, 8, ["4 trailing bytes"]],
    [`{"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}}`, 4, ["tensor a", "dtype", "Q4"]],
    [`{"__metadata__": {"format": 1}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}`, 4, ["__metadata__", "format"]],
  ];
  for (const [i, [header, size, parts]] of cases.entries()) {
    const path = join(d, `case${i}.safetensors`);
    writeFileSync(path, encodeSafetensorsRaw(header, [new Uint8Array(size)]));
    await rejects(readSafetensorsHeader(path), `case${i}.safetensors`, ...parts);
  }
  // Any order in the JSON is fine, and empty tensors sit anywhere.
  const ok = join(d, "ok.safetensors");
  writeFileSync(ok, encodeSafetensorsRaw(
    `{"b": {"dtype": "F16", "shape": [2], "data_offsets": [4, 8]}, "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}, "a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}`,
    [new Uint8Array(8)]));
  assert.is((await readSafetensorsHeader(ok)).tensors.size, 3);
});

test.run();
