// Hostile text through the runtime and the CLI: empty and blank texts, 1 MB of
// text, lone surrogates, NUL and control characters, every code point of every
// Unicode plane, texts past max_len (the truncation docs/reliability.md
// documents), pairs with an empty side. Each gets a defined answer or a typed
// error, and the engine keeps answering the reference input the same way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError, type Engine, type LoadedModel } from "../host/runtime/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { randomModel, SPECIAL_TOKENS, DEFAULT_WORDS } from "./helpers/random-model.ts";

const VOCAB = [...SPECIAL_TOKENS, ...DEFAULT_WORDS];
const id = (tok: string) => { const i = VOCAB.indexOf(tok); if (i < 0) throw new Error(`no token ${tok}`); return i; };
const CLS = id("[CLS]"), SEP = id("[SEP]"), UNK = id("[UNK]");
const MAX_LEN = 32; // randomModel's maxPosition, also its max_len
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
// n single-letter words: n tokens, token i is letter i % 26.
const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => LETTERS[(from + i) % 26]).join(" ");
const letterIds = (n: number, from = 0) => Array.from({ length: n }, (_, i) => id(LETTERS[(from + i) % 26]));

const bertBytes = writeModel(randomModel({ seed: 21 }));
let engine: Engine;
let bert: LoadedModel;
let reference: number[];
const REF = "this movie was great";

test.before(async () => {
  engine = await loadEngine();
  bert = engine.loadModel(bertBytes);
  reference = bert.classify(REF).logits;
});

// The engine still gives the reference logits (after every group of hostile inputs).
function stillSane(): void {
  assert.equal(bert.classify(REF).logits, reference);
}

test("empty and whitespace-only texts are [CLS] [SEP] and classify like it", () => {
  const empty = bert.tokenize("");
  assert.equal(empty.inputIds, [CLS, SEP]);
  for (const blank of [" ", "\t\n\r", "\u00a0\u2003\u3000\u2028", " ".repeat(10_000)]) {
    assert.equal(bert.tokenize(blank), empty);
    assert.equal(bert.classify(blank).logits, Array.from(bert.logits([CLS, SEP])));
  }
  stillSane();
});

test("NUL, control and format characters are dropped (clean_text), tabs and newlines split", () => {
  assert.equal(bert.tokenize("go\u0000od").inputIds, bert.tokenize("good").inputIds);
  assert.equal(bert.tokenize("\u0001g\u0007o\u001bo\u007fd\u0085\u200b\u200e\ufeff").inputIds, bert.tokenize("good").inputIds);
  assert.equal(bert.tokenize("good\tbad\nfilm\r\n").inputIds, bert.tokenize("good bad film").inputIds);
  assert.equal(bert.tokenize("\u0000".repeat(1000)).inputIds, [CLS, SEP]);
  stillSane();
});

test("lone surrogates become U+FFFD on the way in and are dropped like it", () => {
  const good = bert.tokenize("good").inputIds;
  for (const t of ["\ud800good", "good\udfff", "go\udc00od", "good\ud83d", "\udbff\udfff\ud800good"]) {
    // (U+10FFFF, a noncharacter, is unassigned: dropped as well)
    assert.equal(bert.tokenize(t).inputIds, good, JSON.stringify(t));
  }
  assert.equal(bert.tokenize("\ud800".repeat(50_000)).inputIds, [CLS, SEP]);
  stillSane();
});

test("every code point of every Unicode plane (0-16) tokenizes to valid ids, alone and as a pair", () => {
  for (let plane = 0; plane <= 16; plane++) {
    const cps: number[] = [];
    for (let c = plane * 0x10000; c < (plane + 1) * 0x10000; c++) cps.push(c);
    // As one string (the second text of a pair is tokenized to its end), and spaced.
    const all = String.fromCodePoint(...cps.filter((c) => c < 0xd800 || c > 0xdfff));
    for (const r of [bert.tokenize("x", all), bert.tokenize(all), bert.tokenize(cps.slice(0, 4000).map((c) => String.fromCodePoint(c)).join(" "))]) {
      assert.ok(r.inputIds.length >= 2 && r.inputIds.length <= MAX_LEN);
      assert.is(r.inputIds[0], CLS);
      assert.is(r.inputIds[r.inputIds.length - 1], SEP);
      assert.ok(r.inputIds.every((i) => Number.isInteger(i) && i >= 0 && i < VOCAB.length), `plane ${plane}: an id out of range`);
    }
    // One sample per plane through the whole model.
    const scores = bert.classify(String.fromCodePoint(plane * 0x10000 + 0x4e00)).scores;
    assert.ok(scores.every(Number.isFinite));
  }
  // Single code points with known fates: unassigned, private use, noncharacters and
  // tag characters are dropped; a CJK ideograph is a word of its own ([UNK] here).
  for (const cp of [0x40000, 0xf0000, 0x10fffd, 0xfffe, 0xffff, 0xe0001, 0xe000]) {
    assert.equal(bert.tokenize(String.fromCodePoint(cp)).inputIds, [CLS, SEP], cp.toString(16));
  }
  assert.equal(bert.tokenize("a\u4e00b\u{20000}c").inputIds, [CLS, id("a"), UNK, id("b"), UNK, id("c"), SEP]);
  stillSane();
});

test("1 MB of text: truncated to max_len, as a single text, as either side of a pair, and in a batch", () => {
  const big = "good movie ".repeat(Math.ceil((1 << 20) / 11)); // > 1 MiB
  assert.ok(new TextEncoder().encode(big).length >= 1 << 20);
  const head = big.slice(0, 1000);
  assert.equal(bert.tokenize(big), bert.tokenize(head));
  assert.is(bert.tokenize(big).inputIds.length, MAX_LEN);
  assert.equal(bert.tokenize("x", big), bert.tokenize("x", head));
  assert.equal(bert.tokenize(big, "x"), bert.tokenize(head, "x"));
  assert.equal(bert.classify(big).logits, bert.classify(head).logits);
  const batch = bert.classifyBatch([big, [big, big], "good"]);
  assert.equal(batch.map((r) => r.logits), [bert.classify(head).logits, bert.classify(head, head).logits, bert.classify("good").logits]);
  // One 1 MB word: longer than max_input_chars_per_word, so [UNK].
  assert.equal(bert.tokenize("a".repeat(1 << 20)).inputIds, [CLS, UNK, SEP]);
  assert.equal(bert.tokenize("x", "é".repeat(1 << 19)).inputIds, [CLS, id("x"), SEP, UNK, SEP]);
  // 1 MB of one-character words (punctuation, ideographs): every one a token, truncated.
  assert.is(bert.tokenize("x", "!".repeat(1 << 20)).inputIds.length, MAX_LEN);
  assert.is(bert.tokenize("\u4e00".repeat(350_000)).inputIds.length, MAX_LEN);
  stillSane();
});

test("a text past the runtime's 1 GiB text limit: a typed error, and the engine keeps working", () => {
  const huge = "a".repeat(360_000_000); // not flattened: the limit is checked on the length
  for (const f of [() => bert.classify(huge), () => bert.tokenize("x", huge), () => bert.classifyBatch([huge])]) {
    try {
      f();
      assert.unreachable("accepted a text over the limit");
    } catch (err) {
      assert.instance(err, AxformerError);
      assert.match((err as Error).message, /text of \d+ bytes is larger than the runtime's limit of \d+ bytes/);
    }
  }
  stillSane();
  assert.equal(bert.tokenize("good ".repeat(100)).inputIds.length, MAX_LEN);
});

test("past max_len: [CLS] + the first max_len - 2 tokens + [SEP]; a shorter maxLen on request", () => {
  assert.equal(bert.tokenize(words(100)).inputIds, [CLS, ...letterIds(MAX_LEN - 2), SEP]);
  assert.equal(bert.tokenize(words(100), undefined, 5).inputIds, [CLS, ...letterIds(3), SEP]);
  assert.equal(bert.tokenize(words(100), undefined, 1000).inputIds.length, MAX_LEN); // never above the model's
  // Exactly at the limit: nothing cut.
  assert.equal(bert.tokenize(words(MAX_LEN - 2)).inputIds, [CLS, ...letterIds(MAX_LEN - 2), SEP]);
});

test("pairs past max_len: longest first (Hugging Face tokenizers' rule), types 0 then 1", () => {
  const budget = MAX_LEN - 3;
  const pair = (na: number, nb: number) => bert.tokenize(words(na), words(nb, 13));
  const expectPair = (na: number, nb: number, keepA: number, keepB: number) => {
    const r = pair(na, nb);
    assert.equal(r.inputIds, [CLS, ...letterIds(keepA), SEP, ...letterIds(keepB, 13), SEP], `${na} + ${nb}`);
    assert.equal(r.tokenTypeIds, [...Array(keepA + 2).fill(0), ...Array(keepB + 1).fill(1)]);
  };
  expectPair(40, 5, budget - 5, 5);      // only the longer one is cut
  expectPair(5, 40, 5, budget - 5);
  expectPair(40, 40, 14, 15);            // both cut: floor(29 / 2) and the rest, b the longer on a tie
  expectPair(40, 20, 15, 14);
  expectPair(10, 19, 10, 19);            // fits exactly
});

test("pairs with an empty side", () => {
  const good = id("good");
  const ids = (a: string, b: string) => { const e = bert.tokenize(a, b); return { inputIds: e.inputIds, tokenTypeIds: e.tokenTypeIds }; };
  assert.equal(ids("", "good"), { inputIds: [CLS, SEP, good, SEP], tokenTypeIds: [0, 0, 1, 1] });
  assert.equal(ids("good", ""), { inputIds: [CLS, good, SEP, SEP], tokenTypeIds: [0, 0, 0, 1] });
  assert.equal(ids("", ""), { inputIds: [CLS, SEP, SEP], tokenTypeIds: [0, 0, 1] });
  assert.equal(bert.tokenize("", "good").offsets, [[0, 0], [0, 0], [0, 4], [0, 0]]);
  assert.equal(bert.tokenize("", words(100)).inputIds, [CLS, SEP, ...letterIds(MAX_LEN - 3), SEP]);
  assert.equal(bert.tokenize(" \u0000 ", words(100)).inputIds, [CLS, SEP, ...letterIds(MAX_LEN - 3), SEP]);
  for (const [a, b] of [["", "good"], ["good", ""], ["", ""]]) assert.ok(bert.classify(a, b).scores.every(Number.isFinite));
  stillSane();
});

test("DistilBERT: one token type throughout, the same truncation", async () => {
  const e = await loadEngine();
  const d = e.loadModel(writeModel(randomModel({ arch: "distilbert", seed: 22 })));
  const r = d.tokenize("", words(100));
  assert.equal(r.inputIds, [CLS, SEP, ...letterIds(MAX_LEN - 3), SEP]);
  assert.ok(r.tokenTypeIds.every((t) => t === 0));
  assert.ok(d.classify("good", "").scores.every(Number.isFinite));
});

test("inputs that are not text give typed errors and leave the engine usable", () => {
  const bad: Array<() => unknown> = [
    () => bert.classify(undefined as unknown as string),
    () => bert.classify(42 as unknown as string),
    () => bert.classify("a", null as unknown as string),
    () => bert.tokenize("a b", "c", 2),         // no room for a pair's 3 special tokens
    () => bert.tokenize("a", undefined, 1),
    () => bert.classifyBatch("text" as unknown as string[]),
    () => bert.classifyBatch(["ok", ["a", "b", "c"] as unknown as [string, string]]),
    () => bert.logits([]),
    () => bert.logits(Array(MAX_LEN + 1).fill(CLS)),
    () => bert.logits([CLS, VOCAB.length, SEP]),
    () => bert.logits([CLS, -1, SEP]),
    () => bert.logits([CLS, 1.5, SEP]),
    () => bert.logits([CLS, SEP], [0, 2]),      // type id past type_vocab_size
  ];
  for (const f of bad) {
    try {
      f();
      assert.unreachable(`accepted: ${f}`);
    } catch (err) {
      assert.instance(err, AxformerError, String(f));
      assert.ok((err as Error).message.length > 0);
    }
  }
  stillSane();
});

// ---- the CLI (subprocesses: kept few)

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ["bin/axformer.js", ...args], { maxBuffer: 1 << 24 });

test("CLI: empty text, hostile characters and a 100 kB argument give answers, not crashes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-hostile-"));
  try {
    const path = join(dir, "m.axf");
    writeFileSync(path, bertBytes);
    const empty = JSON.parse((await cli("run", path, "--json", "")).stdout);
    assert.equal(empty.logits, bert.classify("").logits);
    const nasty = "go\u0001od \ud800 \u{1F600} \u{E0001} \u4e00 \u0000x";
    // (argv cannot carry NUL: the OS cuts the argument there, as it would for any program)
    const tok = JSON.parse((await cli("tokenize", path, "--json", nasty.replace("\u0000", ""), "")).stdout);
    assert.equal(tok.input_ids, bert.tokenize(nasty.replace("\u0000", ""), "").inputIds);
    const long = words(50_000); // 100 kB, under the OS limit for one argument
    const out = JSON.parse((await cli("tokenize", path, "--json", long)).stdout);
    assert.equal(out.input_ids, [CLS, ...letterIds(MAX_LEN - 2), SEP]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
