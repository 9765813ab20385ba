// The issue 16 families beyond the logits of test/parity.test.ts: the CLI contract
// (convert, run --json --ids with --type-ids optional), refusals that name the
// field, RoBERTa's position ids in batches and around padding tokens, the file
// round trip of the new CONFIG words, and the optimizer on a random-weight RoBERTa.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { parseHfConfig } from "../host/convert/hf-config.ts";
import { ConvertError } from "../host/convert/errors.ts";
import { writeModel } from "../host/format/writer.ts";
import { readModel } from "../host/format/read.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { optimize } from "../host/optimize/index.ts";
import type { Row } from "../host/optimize/datasets.ts";
import { DEFAULT_WORDS, prng, randomModel } from "./helpers/random-model.ts";
import { positionIds, referenceForward } from "./helpers/reference-forward.ts";

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ["bin/axformer.js", ...args], { maxBuffer: 1 << 24 });
const PARITY = fileURLToPath(new URL("./fixtures/parity/", import.meta.url));

interface GoldenCase { input_ids: number[]; token_type_ids: number[]; logits: number[]; hf_padded?: boolean }

function close(got: number[], want: number[], bound: number, what: string) {
  assert.is(got.length, want.length, `${what}: number of logits`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= bound, `${what}: logit ${i} is ${g}, transformers says ${want[i]}`));
}

// ---- the CLI contract, on the transformers fixtures

test("CLI: convert a RoBERTa and an ELECTRA folder, run --json --ids (with and without --type-ids) gives transformers' logits", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-families-"));
  try {
    for (const [name, withTypes] of [["roberta-f32", false], ["electra-f32", true]] as const) {
      const out = join(dir, `${name}.axf`);
      await cli("convert", join(PARITY, name), "-o", out);
      const cases: GoldenCase[] = JSON.parse(readFileSync(join(PARITY, name, "golden.json"), "utf8"));
      // A pair with type ids (ELECTRA) or padding tokens among the ids (RoBERTa), and a plain one.
      const picked = [
        cases.find((c) => (withTypes ? c.token_type_ids.includes(1) : c.input_ids.slice(1).includes(1)))!,
        cases.find((c) => c.input_ids.length > 5 && c.token_type_ids.every((t) => t === 0))!,
      ];
      for (const c of picked) {
        const args = ["run", out, "--json", "--ids", c.input_ids.join(",")];
        if (withTypes) args.push("--type-ids", c.token_type_ids.join(","));
        close(JSON.parse((await cli(...args)).stdout).logits, c.logits, 1e-4, `${name} n=${c.input_ids.length}`);
      }
      // --type-ids is optional: all zeros is the default.
      const plain = picked[1];
      close(JSON.parse((await cli("run", out, "--json", "--ids", plain.input_ids.join(","))).stdout).logits, plain.logits, 1e-4, `${name} without --type-ids`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- config.json: what is this graph, what is refused (naming the field)

const roberta = (extra: Record<string, unknown> = {}) => ({ architectures: ["RobertaForSequenceClassification"], model_type: "roberta", ...extra });
const electra = (extra: Record<string, unknown> = {}) => ({ architectures: ["ElectraForSequenceClassification"], model_type: "electra", ...extra });

function refused(raw: unknown, field: string, why: RegExp) {
  try {
    parseHfConfig(raw);
  } catch (e) {
    assert.instance(e, ConvertError);
    assert.match((e as Error).message, `field ${field} `);
    assert.match((e as Error).message, why);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(raw)}`);
}

test("config.json: DeBERTa, ALBERT, pre-LN RoBERTa and non-absolute positions are refused, naming the field", () => {
  refused({ architectures: ["DebertaV2ForSequenceClassification"], model_type: "deberta-v2" }, "architectures", /DeBERTa-v2\/v3's disentangled attention/);
  refused({ architectures: ["DebertaForSequenceClassification"] }, "architectures", /DeBERTa's disentangled attention/);
  refused({ model_type: "deberta-v2" }, "model_type", /disentangled attention/);
  refused({ architectures: ["AlbertForSequenceClassification"], model_type: "albert" }, "architectures", /ALBERT shares one layer's weights/);
  refused({ model_type: "albert", num_labels: 2 }, "model_type", /ALBERT/);
  refused({ architectures: ["RobertaPreLayerNormForSequenceClassification"] }, "architectures", /LayerNorm before each sub-layer/);
  refused(roberta({ position_embedding_type: "relative_key_query" }), "position_embedding_type", /relative/);
  refused(roberta({ position_embedding_type: "none" }), "position_embedding_type", /only "absolute"/);
  refused(electra({ position_embedding_type: null }), "position_embedding_type", /only "absolute"/);
  refused(roberta({ pad_token_id: null }), "pad_token_id", /must be a token id/);
  refused(roberta({ pad_token_id: 1, max_position_embeddings: 3 }), "max_position_embeddings", /positions start at 2/);
  refused(roberta({ model_type: "xlm-roberta" }), "model_type", /needs "roberta"/);
});

test("config.json: each family's sizes and defaults as transformers reads them", () => {
  const r = parseHfConfig(roberta({ max_position_embeddings: 514, type_vocab_size: 1 })).config;
  assert.is(r.arch, "roberta");
  assert.is(r.vocabSize, 50265);                   // RobertaConfig's default
  assert.is(r.positionOffset, 2);                  // pad_token_id 1 (the default) + 1
  assert.is(r.typeVocabSize, 1);
  assert.ok(r.hasPooler && !r.hasPreClassifier);
  const x = parseHfConfig({ architectures: ["XLMRobertaForSequenceClassification"], pad_token_id: 0, type_vocab_size: 3 }).config;
  assert.equal([x.arch, x.vocabSize, x.positionOffset, x.typeVocabSize], ["roberta", 30522, 1, 3]);
  assert.is(parseHfConfig({ model_type: "camembert" }).architecture, "CamembertForSequenceClassification");
  const e = parseHfConfig(electra()).config;       // ElectraConfig's defaults: E 128, H 256, 4 heads
  assert.equal([e.arch, e.embeddingSize, e.hiddenSize, e.numHeads, e.intermediateSize, e.headAct], ["electra", 128, 256, 4, 1024, "gelu"]);
  assert.ok(e.hasPreClassifier && !e.hasPooler && e.positionOffset === undefined);
  assert.is(parseHfConfig(electra({ embedding_size: 256 })).config.embeddingSize, undefined, "no projection when E = H");
  assert.is(parseHfConfig(electra({ hidden_act: "relu" })).config.headAct, "gelu", "the head is GELU whatever hidden_act says");
});

// ---- the runtime: RoBERTa positions in batches and around padding, the new CONFIG words round trip

test("RoBERTa positions: padding tokens get padding_idx, the rest count on without them; batches as single runs", async () => {
  const m = randomModel({ arch: "roberta", hiddenSize: 16, numHeads: 2, seed: 4, maxPosition: 24 });
  // An independent statement of create_position_ids_from_input_ids (padding_idx 0).
  assert.equal(positionIds(m, [2, 7, 0, 8, 0, 0, 3]), [1, 2, 0, 3, 0, 0, 4]);
  const lm = (await loadEngine()).loadModel(writeModel(m));
  for (const ids of [[2, 7, 0, 8, 0, 0, 3], [0, 0, 2, 3], [2, ...Array.from({ length: 21 }, (_, i) => 5 + i), 3]]) {
    const want = referenceForward(m, ids);
    close(Array.from(lm.logits(ids)), Array.from(want), 1e-4, `ids ${ids.slice(0, 8)}`);
  }
  const texts = ["the movie", "a film", "good bad", "this was", "not very", ["love", "hate"] as [string, string]];
  const batch = lm.classifyBatch(texts);
  texts.forEach((t, i) => assert.equal(batch[i].logits, (Array.isArray(t) ? lm.classify(t[0], t[1]) : lm.classify(t)).logits, `text ${i}`));
  // RoBERTa's tokenizers give no token types: a pair is all type 0.
  assert.ok(lm.tokenize("love", "hate").tokenTypeIds.every((t) => t === 0));
});

test("ELECTRA with embedding_size != hidden_size and RoBERTa: the file round trip keeps the new CONFIG words, bit for bit", async () => {
  const engine = await loadEngine();
  for (const m of [randomModel({ arch: "electra", embeddingSize: 8, seed: 6 }), randomModel({ arch: "roberta", seed: 6 }), randomModel({ arch: "electra", embeddingSize: 16, seed: 6 })]) {
    const bytes = writeModel(m);
    const back = readModel(bytes, engine.exports);
    assert.equal(back.config, { ...m.config, layerNormEps: Math.fround(m.config.layerNormEps) });
    assert.ok(Buffer.from(writeModel(back)).equals(Buffer.from(bytes)), `${m.config.arch}: rewrite is identical`);
    const ids = [2, 9, 10, 11, 3];
    close(Array.from(engine.loadModel(bytes).logits(ids)), Array.from(referenceForward(m, ids)), 1e-4, `${m.config.arch} E=${m.config.embeddingSize}`);
  }
  // int8 storage, the projection included: the file shrinks and the logits stay near.
  const m = randomModel({ arch: "electra", embeddingSize: 8, seed: 6, hiddenSize: 32, numHeads: 4 });
  const q = randomModel({ arch: "electra", embeddingSize: 8, seed: 6, hiddenSize: 32, numHeads: 4, storage: "int8" });
  assert.is(q.tensors.get("embeddings_project.weight")!.storage, "int8");
  const bytes = writeModel(q);
  assert.ok(bytes.length < writeModel(m).length);
  const ids = [2, 20, 21, 22, 23, 3];
  close(Array.from(engine.loadModel(bytes).logits(ids)), Array.from(referenceForward(m, ids)), 0.05, "int8");
});

// ---- the optimizer, unchanged, on a random-weight RoBERTa

test("optimizer on a random-weight RoBERTa: the same decisions twice, a smaller file that loads and runs", async () => {
  const m = randomModel({ arch: "roberta", hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 3, maxPosition: 34, seed: 31 });
  const r = prng(32);
  const word = () => DEFAULT_WORDS[Math.floor(r() * DEFAULT_WORDS.length)];
  const rows: Row[] = Array.from({ length: 24 }, (_, i) => ({
    text: Array.from({ length: 2 + Math.floor(r() * 12) }, word).join(" "), pair: null, label: r() < 0.5 ? 0 : 1, line: i + 1,
  }));
  const task = { name: "test", metric: "accuracy" as const, regression: false };
  const opts = { task, hardK: 4, workers: 1, maxDrop: 10, measureSpeed: false };
  const one = await optimize(m, rows, opts), two = await optimize(m, rows, opts);
  assert.equal(two.summary.decisions, one.summary.decisions);
  assert.equal(two.summary.candidates, one.summary.candidates);
  assert.ok(one.summary.size_bytes.after < one.summary.size_bytes.before, `size ${one.summary.size_bytes.after} vs ${one.summary.size_bytes.before}`);
  const bytes = writeModel(one.model);
  assert.is(bytes.length, one.summary.size_bytes.after);
  const lm = (await loadEngine()).loadModel(bytes);
  const ids = [2, 30, 31, 0, 32, 3];
  close(Array.from(lm.logits(ids)), Array.from(referenceForward(one.model, ids)), 1e-4, "optimized RoBERTa");
  const c = lm.classify(rows[0].text);
  assert.ok(c.scores.every(Number.isFinite));
});

// ---- the CLI contract with the families' own tokenizers (byte-level BPE, Unigram with the
// nmt_nfkc charsmap, Unigram with byte fallback): text in, transformers' ids and logits out

interface TextCase extends GoldenCase { text?: string; text_pair?: string }

test("CLI: run --json <text> [<text_b>] and tokenize --json give transformers' fast tokenizer's ids and the model's logits, long texts truncated", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-families-"));
  try {
    for (const name of ["roberta-f32", "xlm-roberta-f32", "camembert-f32"]) {
      const out = join(dir, `${name}.axf`);
      await cli("convert", join(PARITY, name), "-o", out);
      const texts = (JSON.parse(readFileSync(join(PARITY, name, "golden.json"), "utf8")) as TextCase[]).filter((c) => c.text !== undefined);
      const long = Math.max(...texts.map((c) => c.input_ids.length));
      // A single text, a pair, one long text (truncated), a pair of two long ones (both cut).
      const picked = [
        texts.find((c) => c.text_pair === undefined && c.text!.length > 10)!,
        texts.find((c) => c.text_pair !== undefined && c.input_ids.length < long)!,
        texts.find((c) => c.text_pair === undefined && c.input_ids.length === long)!,
        texts.find((c) => c.text_pair !== undefined && c.text!.length > 100 && c.text_pair.length > 100)!,
      ];
      for (const c of picked) {
        const args = [c.text!, ...(c.text_pair === undefined ? [] : [c.text_pair])];
        const what = `${name} ${JSON.stringify(c.text!.slice(0, 30))}${c.text_pair === undefined ? "" : " + pair"}`;
        assert.equal(JSON.parse((await cli("tokenize", out, ...args, "--json")).stdout).input_ids, c.input_ids, `${what}: input_ids`);
        close(JSON.parse((await cli("run", out, "--json", ...args)).stdout).logits, c.logits, 1e-4, what);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
