// The SentencePiece Unigram tokenizer (XLM-RoBERTa) in the wasm runtime against
// Hugging Face's own: the npm `tokenizers` package (the Rust library transformers'
// fast tokenizers run) loads the same tokenizer.json and tokenizes the same texts;
// ids and offsets must be identical. Tokenizers: test/fixtures/unigram (trained here,
// see its SOURCE.md): a sentencepiece .model with a real nmt_nfkc charsmap (through
// both routes: its tokenizer.json, and the .model read by our own protobuf reader),
// a tokenizers UnigramTrainer vocabulary with that charsmap, and one with byte
// fallback. Texts: the GLUE dev sentences of ../shared/data (skipped visibly when
// absent) and hostile strings, single and paired, with truncation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Tokenizer } from "tokenizers";
import { readHfTokenizer } from "../host/convert/hf-tokenizer.ts";
import { fromSentencePiece } from "../host/convert/hf-unigram.ts";
import { writeModel } from "../host/format/writer.ts";
import { readModel } from "../host/format/read.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { randomModel } from "./helpers/random-model.ts";
import { writeHfCheckpoint } from "./helpers/hf-checkpoint.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
import { SHARED_DATA, absent, skipUnless } from "./helpers/needs.ts";

const FIX = new URL("./fixtures/unigram/", import.meta.url).pathname;
const MAX_LEN = 512;

interface Enc { ids: number[]; offsets: [number, number][] }

const models = new Map<string, LoadedModel>();
const files = new Map<string, Uint8Array>();
const oracles = new Map<string, Tokenizer>();

// A random-weight model carrying the folder's converted tokenizer.
async function load(name: string, dir: string): Promise<LoadedModel> {
  const tok = readHfTokenizer(dir, vocabCount(dir), MAX_LEN + 2);
  const m = randomModel({ words: tok.vocab.slice(5), maxPosition: MAX_LEN + 2 });
  m.vocab = tok.vocab;
  m.config.tokenizer = tok.tokenizer;
  m.addedTokens = tok.addedTokens;
  const bytes = writeModel(m);
  files.set(name, bytes);
  const model = await (await loadEngine()).loadModel(bytes); // one model per engine
  models.set(name, model);
  return model;
}

function vocabCount(dir: string): number {
  try {
    return JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")).model.vocab.length;
  } catch {
    return fromSentencePiece(readFileSync(join(dir, "sentencepiece.bpe.model"))).pieces.length;
  }
}

test.before(async () => {
  for (const name of ["spm", "trained", "trained-bytes"]) {
    await load(name, join(FIX, name));
    oracles.set(name, await Tokenizer.fromFile(join(FIX, name, "tokenizer.json")));
  }
  // The .model route: a folder with only sentencepiece.bpe.model (+ config).
  const dir = mkdtempSync(join(tmpdir(), "axf-spm-"));
  cpSync(join(FIX, "spm", "sentencepiece.bpe.model"), join(dir, "sentencepiece.bpe.model"));
  cpSync(join(FIX, "spm", "tokenizer_config.json"), join(dir, "tokenizer_config.json"));
  await load("spm-model", dir);
  rmSync(dir, { recursive: true });
  oracles.set("spm-model", oracles.get("spm")!);
  // Variants of trained/ for the other normalizer and Metaspace settings.
  const base = JSON.parse(readFileSync(join(FIX, "trained", "tokenizer.json"), "utf8"));
  const [precompiled] = base.normalizer.normalizers;
  const collapse = (content: string) => ({ type: "Replace", pattern: { Regex: " {2,}" }, content });
  const variants: Record<string, (t: any) => void> = {
    // xlm-roberta-base's own tokenizer.json: Precompiled, then Replace(" {2,}", " ")
    hub: (t) => (t.normalizer = { type: "Sequence", normalizers: [precompiled, collapse(" ")] }),
    first: (t) => {
      t.normalizer = { type: "Sequence", normalizers: [precompiled, collapse("\u2581"), { type: "Strip", strip_left: true, strip_right: true }] };
      t.pre_tokenizer.prepend_scheme = "first";
    },
    never: (t) => {
      t.normalizer = null;
      t.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "never", split: false };
    },
  };
  for (const [name, edit] of Object.entries(variants)) {
    const d = mkdtempSync(join(tmpdir(), `axf-ug-${name}-`));
    const t = structuredClone(base);
    edit(t);
    writeFileSync(join(d, "tokenizer.json"), JSON.stringify(t));
    cpSync(join(FIX, "trained", "tokenizer_config.json"), join(d, "tokenizer_config.json"));
    await load(name, d);
    oracles.set(name, await Tokenizer.fromFile(join(d, "tokenizer.json")));
    rmSync(d, { recursive: true });
  }
});

// Code point offsets (Python's, as the oracle gives them) from UTF-8 byte offsets.
function charOffsets(text: string, bytes: [number, number][]): [number, number][] {
  const at = new Map<number, number>();
  let b = 0, c = 0;
  for (const ch of text) {
    at.set(b, c);
    b += new TextEncoder().encode(ch).length;
    c++;
  }
  at.set(b, c);
  return bytes.map(([s, e]) => [at.get(s) ?? NaN, at.get(e) ?? NaN]);
}

// firstB: where text b's tokens start (its offsets index text b).
function ours(name: string, a: string, b: string | undefined, maxLen: number, firstB: number): Enc {
  const m = models.get(name)!;
  const { inputIds } = m.tokenize(a, b, maxLen);
  const x = (m as unknown as { x: { memory: WebAssembly.Memory; token_offsets_ptr(): number } }).x;
  const raw = new Uint32Array(x.memory.buffer, x.token_offsets_ptr() >>> 0, 2 * inputIds.length);
  const pairs: [number, number][] = [];
  for (let i = 0; i < inputIds.length; i++) pairs.push([raw[2 * i], raw[2 * i + 1]]);
  const offsets = [...charOffsets(a, pairs.slice(0, firstB)), ...(b === undefined ? [] : charOffsets(b, pairs.slice(firstB)))];
  return { ids: inputIds, offsets };
}

async function theirs(name: string, a: string, b?: string, maxLen = MAX_LEN): Promise<Enc & { firstB: number }> {
  const t = oracles.get(name)!;
  t.setTruncation(maxLen);
  const e = b === undefined ? await t.encode(a) : await t.encode(a, b);
  const seq = e.getSequenceIds();
  const firstB = seq.indexOf(1) < 0 ? seq.length : seq.indexOf(1);
  return { ids: e.getIds(), offsets: e.getOffsets() as [number, number][], firstB };
}

async function check(name: string, a: string, b?: string, maxLen = MAX_LEN): Promise<boolean> {
  const want = await theirs(name, a, b, maxLen);
  const got = ours(name, a, b, maxLen, want.firstB);
  const g = `ids ${got.ids.join(" ")}\noffsets ${JSON.stringify(got.offsets)}`;
  const w = `ids ${want.ids.join(" ")}\noffsets ${JSON.stringify(want.offsets)}`;
  if (g !== w) assert.fixture(g, w, `${name}: ${JSON.stringify(a.slice(0, 80))}${b === undefined ? "" : " + " + JSON.stringify(b.slice(0, 80))}`);
  return true;
}

const HOSTILE: string[] = [
  "Hello world!", "Hello  world", "  leading and trailing  ", "a\tb\nc\r\nd", "x \r\n y",
  "Héllo wörld, Ça va? naïve café résumé Ångström façade Ærø œuvre",
  "e\u0301 a\u0300\u0301 o\u0308\u0304 n\u0303 \u0301alone x\u20dd E\u0301\u0301",
  "ＡＢＣ１２３！ full ｶﾞｷﾞ ｶﾀｶﾅ ＡＢ\u0301",
  "ﬁ ﬂ ǅ ǈ ǋ ẞ ß Ω Å K \u1fef\u1ffd ™ ℡ ㎏ ① ⅻ ﷺ",
  "中文字符测试，你好世界！中國 日本語のテキスト",
  "한국어 텍스트 안녕하세요 \u1100\u1161\u11a8 \u1100\u1161",
  "emoji 😀👍🏽 👨‍👩‍👧 🇺🇸🇫🇷🇩 ❤️ 🥰 🫠 ✌︎ ©\u200d©\u0301",
  "مرحبا بالعالم العربية مُحَمَّد ١٢٣ \u0600\u0661",
  "ภาษาไทย สวัสดีครับ ผู้ใหญ่ หิน्दी नमस्ते தமிழ்",
  "zero\u200bwidth\u200c joiner\u200d \ufeffbom \u2060wj \u00adsoft",
  "ctrl\u0001\u0007\u001b chars\u007f\u0085 \u000b\u000c\u001c\u001f end",
  "\u0001start ctrl", "™\u001eg", "nbsp\u00a0here\u2003em\u3000ideo\u2028line\u2029para\u1680ogham\u202fnarrow",
  "nul\u0000inside\u0000", "replacement \ufffd char\ufffd",
  "private \ue000\uf8ff\u{F0000}\u{10FFFD} use unassigned \u0378\u{E0080}\u{50000} \ufdd0\uffff",
  "𠀀𠀁 𪜀 \u{2B820} x\u{20000}y \u{1D15E}\u{1D165} music",
  "3.14 $100 50% a+b=c x^2 ~tilde `tick` {brace} |pipe| <tag> @home #1 _x_",
  "<s> hello </s> world <mask> <pad> <unk> <s", "x<s>y</s></s>z <mask>ed", "<mask>", " <mask> ",
  "a".repeat(300), "supercalifragilisticexpialidocious".repeat(20), "word" + "\u0301".repeat(150),
  "▁ ▁▁x ▁", "", "   ", "\t\n\r \u00a0\u3000",
  "Don't \"quote\" 'single' «guillemets» „low“ — dash – en … ellipsis",
  "The quick brown fox jumps over the lazy dog; naïve café owners in São Paulo serve crème brûlée. ".repeat(12),
];

const NAMES = ["spm", "spm-model", "trained", "trained-bytes", "hub", "first", "never"];

test("hostile strings: ids and offsets as Hugging Face's tokenizers, single and paired", async () => {
  let n = 0;
  for (const name of NAMES) {
    for (const s of HOSTILE) n += +(await check(name, s));
    for (let i = 0; i + 1 < HOSTILE.length; i += 2) n += +(await check(name, HOSTILE[i], HOSTILE[i + 1]));
  }
  console.log(`  unigram hostile: ${n} encodings identical`);
});

test("truncation: single and pairs at small max lengths, as the fast tokenizer's longest-first", async () => {
  const a = "The quick brown fox jumps over the lazy dog again and again.", b = "A short one.";
  for (const name of NAMES) {
    for (const maxLen of [4, 5, 6, 7, 9, 12, 20]) {
      await check(name, a, undefined, maxLen);
      await check(name, a, b, maxLen);
      await check(name, b, a, maxLen);
    }
  }
});

test("the file round-trips through the host's reader (what optimize rewrites), Unigram sections and strip flags included", async () => {
  const engine = await loadEngine();
  for (const [name, bytes] of files) {
    const back = readModel(bytes, engine.exports);
    assert.ok(back.config.tokenizer.unigram, name);
    assert.equal(writeModel(back), bytes, `${name}: rewritten file differs`);
  }
});

test("byte fallback spells unknown characters as <0xNN> tokens", () => {
  const m = models.get("trained-bytes")!;
  const ids = m.tokenize("中").inputIds;
  const tj = JSON.parse(readFileSync(join(FIX, "trained-bytes", "tokenizer.json"), "utf8"));
  const pieces = ids.slice(1, -1).map((i) => tj.model.vocab[i][0]);
  assert.equal(pieces.slice(-3), ["<0xE4>", "<0xB8>", "<0xAD>"]);
});

test("transformers.js: the same ids wherever it agrees with the Rust tokenizers (it has no byte fallback)", async () => {
  const { AutoTokenizer, env } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.localModelPath = FIX;
  let same = 0;
  const apart: string[] = [];
  for (const name of ["spm", "trained"]) {
    const t = await AutoTokenizer.from_pretrained(name);
    for (const s of HOSTILE) {
      const js = Array.from(t.encode(s) as number[]);
      if (js.length > MAX_LEN) continue; // (no truncation here)
      const rust = (await theirs(name, s)).ids;
      if (js.join() !== rust.join()) {
        apart.push(`${name} ${JSON.stringify(s.slice(0, 24))}`);
        continue;
      }
      assert.equal(ours(name, s, undefined, MAX_LEN, 0).ids, js, `${name}: ${JSON.stringify(s.slice(0, 60))}`);
      same++;
    }
  }
  console.log(`  transformers.js: ${same} hostile strings identical; ${apart.length} where transformers.js differs from tokenizers (ours follows tokenizers): ${apart.join(", ")}`);
});

const withData = skipUnless(test, absent(SHARED_DATA));

withData("GLUE dev sentences: ids and offsets identical to Hugging Face's tokenizers", async () => {
  const counts: Record<string, number> = {};
  for (const task of ["sst2", "mrpc", "rte", "cola", "wnli", "stsb", "qnli"]) {
    const lines = readFileSync(join(SHARED_DATA, task, "dev.tsv"), "utf8").replace(/^\ufeff/, "").split(/\r?\n/).filter(Boolean);
    const cols: Record<string, [number, number?]> = { sst2: [0], mrpc: [3, 4], rte: [1, 2], cola: [3], wnli: [1, 2], stsb: [7, 8], qnli: [1, 2] };
    const [ca, cb] = cols[task];
    const rows = lines.slice(task === "cola" ? 0 : 1).map((l) => l.split("\t"));
    const limit = task === "qnli" ? 1000 : rows.length;
    for (const name of ["spm", "trained", "trained-bytes"]) {
      for (const f of rows.slice(0, limit)) {
        await check(name, f[ca], cb === undefined ? undefined : f[cb]);
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
  }
  console.log(`  unigram GLUE dev: ${JSON.stringify(counts)} encodings identical`);
});

test("CLI: a model folder with an XLM-R tokenizer converts, and tokenize --json prints Hugging Face's input_ids", async () => {
  // A BERT-shaped random checkpoint carrying the sentencepiece tokenizer (the XLM-R
  // model path is the families work; the tokenizer does not depend on it).
  const dir = mkdtempSync(join(tmpdir(), "axf-xlmr-tok-"));
  try {
    const vocab = JSON.parse(readFileSync(join(FIX, "spm", "tokenizer.json"), "utf8")).model.vocab.map((v: [string]) => v[0]);
    writeHfCheckpoint(dir, { vocab, maxPosition: 40, tokenizerConfig: null });
    rmSync(join(dir, "vocab.txt"));
    for (const f of ["sentencepiece.bpe.model", "tokenizer_config.json"]) cpSync(join(FIX, "spm", f), join(dir, f));
    const out = join(dir, "m.axf");
    await run(process.execPath, ["bin/axformer.js", "convert", dir, "-o", out]);
    const text = "Hello  world, ＡＢＣ café! ﬁ e\u0301 中文 😀 <mask> end " + "a ".repeat(40);
    const got = JSON.parse((await run(process.execPath, ["bin/axformer.js", "tokenize", out, "--json", text])).stdout);
    assert.equal(got.input_ids, (await theirs("spm", text, undefined, 40)).ids);
    const pair = JSON.parse((await run(process.execPath, ["bin/axformer.js", "tokenize", out, "--json", "second text", text])).stdout);
    assert.equal(pair.input_ids, (await theirs("spm", "second text", text, 40)).ids);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
