// Token offsets (token_offsets_ptr(), LoadedModel.tokenize().offsets) against Hugging
// Face's tokenizers (the Rust library through its npm binding, `tokenizers`): ids,
// offset_mapping (code points), special-tokens mask and sequence ids, for single texts
// and pairs, uncased and cased, with and without accent stripping, with added tokens.
// The UTF-16 offsets are checked against the code point ones by slicing.
//
// Inputs: the GLUE dev sentences and pairs (../shared; skipped visibly when absent)
// and the hostile strings of test/helpers/text-samples.ts (these need only the
// bert-base-uncased vocab from ../shared too; a small built-in vocab covers the rest).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { Tokenizer } from "tokenizers";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { Encoding, LoadedModel } from "../host/runtime/index.ts";
import type { Model } from "../host/model/model.ts";
import { randomModel, SPECIAL_TOKENS, DEFAULT_WORDS } from "./helpers/random-model.ts";
import { absent, skipUnless, SHARED_DATA, SHARED_VOCAB } from "./helpers/needs.ts";
import { glueDev, HOSTILE } from "./helpers/text-samples.ts";

interface Setting { name: string; lowercase: boolean; stripAccents: boolean | null; added?: Array<[string, boolean]> }

const SETTINGS: Setting[] = [
  { name: "uncased", lowercase: true, stripAccents: null },
  { name: "cased", lowercase: false, stripAccents: null },
  { name: "cased, strip_accents", lowercase: false, stripAccents: true },
  { name: "lowercase, keep accents", lowercase: true, stripAccents: false },
  // raw and normalized added tokens (Hugging Face's `normalized` flag)
  { name: "uncased + added tokens", lowercase: true, stripAccents: null, added: [["<ent>", false], ["new york", true], ["é!", true]] },
];

// A model whose tokenizer has the given vocabulary (specials first, as randomModel
// lays them out) and normalizer settings; its weights do not matter here.
function modelFor(words: string[], s: Setting, maxLen: number): Model {
  const extra = (s.added ?? []).map(([t]) => t).filter((t) => !words.includes(t));
  const m = randomModel({ words: [...words, ...extra], maxPosition: maxLen, hiddenSize: 8, numHeads: 1, numLayers: 1, intermediateSize: 8, doLowerCase: s.lowercase });
  m.config.tokenizer.stripAccents = s.stripAccents;
  if (s.added) m.addedTokens = s.added.map(([t, normalized]) => ({ id: m.vocab.indexOf(t), normalized }));
  return m;
}

// The same tokenizer as tokenizers builds it from a BERT tokenizer.json.
function reference(m: Model, s: Setting): Tokenizer {
  const vocab: Record<string, number> = {};
  m.vocab.forEach((t, i) => { vocab[t] = i; });
  const added = [
    ...SPECIAL_TOKENS.map((content) => ({ content, normalized: false, special: true })),
    ...(s.added ?? []).map(([content, normalized]) => ({ content, normalized, special: false })),
  ].map((t) => ({ id: vocab[t.content], single_word: false, lstrip: false, rstrip: false, ...t }));
  const seq = (id: string, type_id: number) => ({ Sequence: { id, type_id } });
  const sp = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
  const json = {
    version: "1.0", truncation: null, padding: null, added_tokens: added,
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: s.stripAccents, lowercase: s.lowercase },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [sp("[CLS]", 0), seq("A", 0), sp("[SEP]", 0)],
      pair: [sp("[CLS]", 0), seq("A", 0), sp("[SEP]", 0), seq("B", 1), sp("[SEP]", 1)],
      special_tokens: { "[CLS]": { id: "[CLS]", ids: [vocab["[CLS]"]], tokens: ["[CLS]"] }, "[SEP]": { id: "[SEP]", ids: [vocab["[SEP]"]], tokens: ["[SEP]"] } },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  };
  return Tokenizer.fromString(JSON.stringify(json));
}

interface Want { ids: number[]; offsets: number[][]; mask: number[]; seq: Array<number | null> }

async function expected(t: Tokenizer, a: string, b?: string): Promise<Want> {
  const e = b === undefined ? await t.encode(a) : await t.encode(a, b);
  return { ids: e.getIds(), offsets: e.getOffsets(), mask: e.getSpecialTokensMask(), seq: e.getSequenceIds().map((s) => s ?? null) };
}

// Code point slice of a string.
function cpSlice(s: string, start: number, end: number): string {
  return [...s].slice(start, end).join("");
}

function compare(got: Encoding, want: Want, a: string, b: string | undefined, what: string): void {
  const show = (e: { ids: number[]; offsets: number[][]; mask: number[]; seq: Array<number | null> }) =>
    e.ids.map((id, i) => `${id}@${e.offsets[i].join(":")}${e.mask[i] ? "s" : ""}${e.seq[i] ?? "-"}`).join(" ");
  const g = { ids: got.inputIds, offsets: got.offsets, mask: got.specialTokensMask, seq: got.sequenceIds };
  if (show(g) !== show(want)) assert.fixture(show(g), show(want), `${what}: ${JSON.stringify(a.slice(0, 60))} / ${JSON.stringify(b?.slice(0, 60))}`);
  got.offsetsUtf16.forEach(([s, e], i) => {
    const text = got.sequenceIds[i] === 1 ? b! : a;
    const [cs, ce] = got.offsets[i];
    if (text.slice(s, e) !== cpSlice(text, cs, ce)) assert.unreachable(`${what}: UTF-16 offsets ${s}:${e} and code point offsets ${cs}:${ce} differ on token ${i}`);
  });
}

async function check(words: string[], s: Setting, inputs: Array<[string, string?]>, maxLen: number): Promise<number> {
  const m = modelFor(words, s, maxLen);
  const model: LoadedModel = (await loadEngine()).loadModel(writeModel(m));
  const ref = reference(m, s);
  let n = 0, skipped = 0;
  for (const [a, b] of inputs) {
    // Where the runtime follows Python's BasicTokenizer and tokenizers' Rust tables
    // differ (assembly/tokenizer/wordpiece.ts), the ids differ: CJK extension E starts
    // at U+2B820 in Python, U+2B920 in Rust; unassigned code points (Cn) are dropped
    // as control characters by Python, kept by Rust.
    if (/[\u{2B820}-\u{2B91F}\p{Cn}]/u.test(a + (b ?? ""))) { skipped++; continue; }
    const want = await expected(ref, a, b);
    if (want.ids.length > maxLen) continue; // truncation is tokenizer.test.ts's business
    const got = model.tokenize(a, b);
    compare(got, want, a, b, s.name);
    if (b === undefined) {
      // tokenize_all: the same tokens and offsets without [CLS] / [SEP]
      const all = model.tokenizeAll(a);
      assert.equal([Array.from(all.ids), all.offsets, all.offsetsUtf16], [got.inputIds.slice(1, -1), got.offsets.slice(1, -1), got.offsetsUtf16.slice(1, -1)], "tokenizeAll");
    }
    n++;
  }
  if (skipped) console.log(`offsets.test: ${s.name}: ${skipped} inputs with code points where Python's and Rust's tables differ left out`);
  return n;
}

const withVocab = skipUnless(test, absent(SHARED_VOCAB));
const withGlue = skipUnless(test, absent(SHARED_VOCAB, SHARED_DATA));

function bertWords(): string[] {
  return readFileSync(SHARED_VOCAB, "utf8").split("\n").filter((t) => t !== "" && !SPECIAL_TOKENS.includes(t));
}

const EDGES: Array<[string, string?]> = [
  ["Café CAFÉ cafe\u0301 naïve"],
  ["[CLS] x [SEP] y [MASK]", "[SEP]"],
  ["İstanbul ΟΔΟΣ ß ﬁ"],
  ["中文字符 a中b"],
  ["ctrl\u0001x nul\u0000y e\u0301\u0301 \u0301z"],
  ["😀 emoji👍🏽 x\u{20000}y"],
  ["qqqqqqqqqqqqqqqqqqqqq zzzzzzzz xyzzy", "Ünïcödé pair 😀"],
  ["a".repeat(101) + " b " + "é".repeat(120)],
  ["I live in New York<ent>é! and NEW YORK, new  york"],
  ["", ""],
];

test("offsets: small vocabulary, every setting, edge cases", async () => {
  let n = 0;
  for (const s of SETTINGS) n += await check(DEFAULT_WORDS, s, EDGES, 512);
  assert.ok(n >= SETTINGS.length * EDGES.length - 2, `${n} compared`);
});

withVocab("offsets: bert-base-uncased vocab, hostile strings and pairs, every setting", async () => {
  const words = bertWords();
  const inputs: Array<[string, string?]> = [...EDGES];
  HOSTILE.forEach((a, i) => {
    inputs.push([a]);
    inputs.push([a, HOSTILE[(i * 7 + 3) % HOSTILE.length]]);
  });
  let n = 0;
  for (const s of SETTINGS) n += await check(words, s, inputs, 512);
  console.log(`offsets.test: hostile: ${n} encodings match tokenizers' ids and offsets`);
  assert.ok(n > SETTINGS.length * HOSTILE.length);
});

withGlue("offsets: GLUE dev sentences and pairs, uncased and cased", async () => {
  const words = bertWords();
  const examples = glueDev();
  const inputs = examples.map((e): [string, string?] => [e.a, e.b]);
  let n = 0;
  for (const s of SETTINGS.slice(0, 2)) n += await check(words, s, inputs, 512);
  console.log(`offsets.test: GLUE dev: ${n} encodings match tokenizers' ids and offsets`);
  assert.ok(n > 2 * 9000);
});

test.run();
