// The tokenizer against hostile vocabularies and words (issue 10, items 2, 3, 4, 8):
//   - WordPiece does work bounded by the word's length times the longest token,
//     never quadratic in the word (item 3), and gives what Hugging Face's
//     WordPiece algorithm gives (a direct transcription of it below);
//   - max_input_chars_per_word is capped by the reader (item 3);
//   - building the vocabulary lookup is O((B + N) log N) for N tokens of B bytes,
//     even for tokens crafted to collide in a 32-bit FNV-1a table (item 4);
//   - duplicate tokens are refused, naming both ids, and the engine stays usable (item 2);
//   - CONFIG.flags bit 0 gives every token type 0 (item 8).
// Work is counted by the vocabulary's step counter (test/wasm/tokenizer_hardening.as),
// never timed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileTestEntry } from "./helpers/compile-as.ts";
import { collidingTokens, randomTokens } from "./helpers/colliding-vocab.ts";
import { prng, randomModel } from "./helpers/random-model.ts";
import { parseLayout, writeU32, fixCrcs } from "../scripts/fuzz/axf-layout.ts";
import * as F from "../assembly/format/constants.ts";
import { writeModel, writeModelUnchecked } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { AxformerError } from "../host/runtime/index.ts";

const SPECIALS = ["[CLS]", "[SEP]", "[PAD]", "[UNK]"]; // ids 0..3 in the test entry
const UNK = 3;
const enc = new TextEncoder();

interface Exports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  make(vocab: number, maxLen: number, maxChars: number, typeVocabSize: number, flags: number): number;
  encode(a: number, aLen: number, b: number, bLen: number, maxLen: number, ids: number, types: number): number;
  steps(): number;
  reset_steps(): void;
  error_ptr(): number;
  error_len(): number;
}

let x: Exports;

test.before(async () => {
  const module = await WebAssembly.compile(await compileTestEntry("tokenizer_hardening"));
  const instance = new WebAssembly.Instance(module, { env: { abort() { throw new Error("wasm abort"); } } });
  x = instance.exports as unknown as Exports;
});

function lastError(): string {
  return new TextDecoder().decode(new Uint8Array(x.memory.buffer, x.error_ptr(), x.error_len()));
}

let vocabPtr = 0;
let maxLen = 0;

// Loads a vocabulary (the model file's string-list layout); null or the error.
function make(tokens: string[], opts: { maxLen?: number; maxChars?: number; typeVocabSize?: number; flags?: number } = {}): string | null {
  const blobs = tokens.map((t) => enc.encode(t));
  const blobSize = blobs.reduce((n, b) => n + b.length, 0);
  const size = 4 + 4 * (tokens.length + 1) + blobSize;
  if (vocabPtr) x.free(vocabPtr); // the previous tokenizer is disposed by make() before it reads
  const ptr = x.alloc(size);
  const view = new DataView(x.memory.buffer);
  view.setUint32(ptr, tokens.length, true);
  let at = 0;
  const bytes = new Uint8Array(x.memory.buffer);
  blobs.forEach((b, i) => {
    view.setUint32(ptr + 4 + 4 * i, at, true);
    bytes.set(b, ptr + 4 + 4 * (tokens.length + 1) + at);
    at += b.length;
  });
  view.setUint32(ptr + 4 + 4 * tokens.length, at, true);
  vocabPtr = ptr;
  maxLen = opts.maxLen ?? 512;
  const rc = x.make(ptr, maxLen, opts.maxChars ?? 100, opts.typeVocabSize ?? 2, opts.flags ?? 0);
  return rc < 0 ? lastError() : null;
}

function encode(a: string, b?: string): { ids: number[]; types: number[] } {
  const ab = enc.encode(a), bb = enc.encode(b ?? "");
  const text = x.alloc(ab.length + bb.length + 1);
  const ids = x.alloc(4 * maxLen), types = x.alloc(4 * maxLen);
  new Uint8Array(x.memory.buffer).set(ab, text);
  new Uint8Array(x.memory.buffer).set(bb, text + ab.length);
  const n = x.encode(text, ab.length, text + ab.length, b === undefined ? -1 : bb.length, 0, ids, types);
  if (n < 0) throw new Error(lastError());
  const out = {
    ids: [...new Int32Array(x.memory.buffer, ids, n)],
    types: [...new Int32Array(x.memory.buffer, types, n)],
  };
  x.free(text); x.free(ids); x.free(types);
  return out;
}

// Hugging Face's WordPiece (tokenizers/src/models/wordpiece/mod.rs, tokenize),
// transcribed: greedy longest match over characters, "##" after the first piece,
// [UNK] for a word over maxChars characters or one that cannot be covered.
function wordPiece(word: string, vocab: Map<string, number>, maxChars: number): number[] {
  const chars = [...word];
  if (chars.length > maxChars) return [UNK];
  const out: number[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length, id = -1;
    while (start < end) {
      const piece = (start > 0 ? "##" : "") + chars.slice(start, end).join("");
      if (vocab.has(piece)) { id = vocab.get(piece)!; break; }
      end--;
    }
    if (id < 0) return [UNK];
    out.push(id);
    start = end;
  }
  return out;
}

const log2 = (n: number) => Math.ceil(Math.log2(n));

// ---------------------------------------------------------------- item 3

test("WordPiece matches Hugging Face's algorithm on random vocabularies and words (multi-byte characters)", () => {
  const rand = prng(10);
  const alphabet = ["a", "b", "é", "è", "☃", "𝒜"]; // 1, 2, 2, 3 and 4 UTF-8 bytes
  const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
  let words = 0;
  for (let round = 0; round < 40; round++) {
    const set = new Set<string>();
    const size = 1 + Math.floor(rand() * 40);
    while (set.size < size) set.add((rand() < 0.5 ? "##" : "") + pick(1 + Math.floor(rand() * 4)));
    const tokens = [...SPECIALS, ...set];
    const vocab = new Map(tokens.map((t, i) => [t, i]));
    const maxChars = 1 + Math.floor(rand() * 10);
    assert.is(make(tokens, { maxChars }), null);
    for (let w = 0; w < 50; w++, words++) {
      const word = pick(1 + Math.floor(rand() * 12));
      assert.equal(encode(word).ids, [0, ...wordPiece(word, vocab, maxChars), 1], `round ${round}: ${word} over ${[...set].join(" ")}`);
    }
  }
  assert.is(words, 2000);
});

test("WordPiece work is bounded by word length x longest token, never quadratic in the word", () => {
  const n = 1000; // the reader's cap on max_input_chars_per_word
  const word = "a".repeat(n);
  for (const extra of [[], ["##" + "a".repeat(17) + "b"]]) {
    const tokens = [...SPECIALS, "a", "##a", ...extra];
    assert.is(make(tokens, { maxChars: n, maxLen: n + 2 }), null);
    const longest = Math.max(...tokens.map((t) => enc.encode(t).length));
    x.reset_steps();
    const got = encode(word).ids;
    const steps = x.steps();
    assert.equal(got, [0, 4, ...new Array(n - 1).fill(5), 1]);
    // Per character at most longest + 1 bytes walked, each narrowing the sorted
    // vocabulary by a binary search and a gallop, 3 * (log2(N) + 1) steps at most.
    const bound = n * (longest + 1) * 3 * (log2(tokens.length) + 1);
    console.log(`  word of ${n} characters, longest token ${longest} bytes: ${steps} steps (bound ${bound}, quadratic ${n * n / 2})`);
    assert.ok(steps <= bound, `${steps} steps > ${bound}`);
    // Linear: half the word, half the work (a quadratic loop would do a quarter).
    x.reset_steps();
    assert.equal(encode(word.slice(0, n / 2)).ids.length, n / 2 + 2);
    assert.ok(x.steps() * 2 >= steps * 0.95, `${x.steps()} steps for ${n / 2} characters, ${steps} for ${n}`);
  }
});

test("the reader caps max_input_chars_per_word at 1000", async () => {
  const engine = await loadEngine();
  const withChars = (chars: number) => {
    const bytes = writeModel(randomModel({ seed: 3 }));
    const config = parseLayout(bytes).byKind.get(F.SECTION_CONFIG)!;
    writeU32(bytes, config.offset + 4 * F.CFG_MAX_INPUT_CHARS_PER_WORD, chars);
    fixCrcs(bytes);
    return bytes;
  };
  const m = engine.loadModel(withChars(1000));
  // randomModel: [CLS] 2, [SEP] 3, "a" 11, "##a" 37, max_len 32
  assert.equal(m.tokenize("a".repeat(1000)).inputIds, [2, 11, ...new Array(29).fill(37), 3]);
  for (const chars of [1001, 0xffffffff]) {
    try {
      engine.loadModel(withChars(chars));
      assert.unreachable(`max_input_chars_per_word ${chars} loaded`);
    } catch (err) {
      assert.instance(err, AxformerError);
      assert.match((err as Error).message, `CONFIG.max_input_chars_per_word = ${chars} is out of range 1..1000`);
    }
  }
});

// ---------------------------------------------------------------- item 4

test("building the vocabulary lookup is O((B + N) log N) even for tokens that collide in FNV-1a", () => {
  const k = 13;
  const colliding = collidingTokens(k);
  const random = randomTokens(colliding.length, colliding[0].length, 5);
  for (const [name, words] of [["colliding", colliding], ["random", random]] as const) {
    const tokens = [...SPECIALS, ...words];
    const bytes = tokens.reduce((n, t) => n + enc.encode(t).length, 0);
    x.reset_steps();
    assert.is(make(tokens), null);
    const steps = x.steps();
    const bound = (bytes + tokens.length) * (log2(tokens.length) + 1); // the sort, then the scan for repeats
    console.log(`  ${tokens.length} ${name} tokens, ${bytes} bytes: ${steps} steps to build (bound ${bound})`);
    assert.ok(steps <= bound, `${name}: ${steps} steps > ${bound}`);
    // and every token is found
    for (let i = 0; i < 200; i++) {
      const id = SPECIALS.length + ((i * 2654435761) >>> 0) % words.length;
      assert.equal(encode(tokens[id]).ids, [0, id, 1]);
    }
  }
});

// ---------------------------------------------------------------- item 2

test("duplicate vocabulary tokens are refused, naming both ids", () => {
  const err = make([...SPECIALS, "a", "b", "hello", "c", "hello", "d"]);
  assert.type(err, "string");
  assert.match(err!, /ids 6 and 8/);
  assert.match(err!, /"hello"/);
  assert.is(make([...SPECIALS, "a", "b"]), null);
  assert.equal(encode("a b").ids, [0, 4, 5, 1]);
});

test("a model file with duplicate tokens does not load, and the engine stays usable", async () => {
  const engine = await loadEngine();
  const good = writeModel(randomModel({ seed: 4 }));
  const reference = engine.loadModel(good).classify("this movie was great").logits;
  const dup = randomModel({ seed: 4 });
  dup.vocab[40] = dup.vocab[12]; // "##d" becomes a second "b"
  try {
    engine.loadModel(writeModelUnchecked(dup));
    assert.unreachable("a vocabulary with a repeated token loaded");
  } catch (err) {
    assert.instance(err, AxformerError);
    assert.match((err as Error).message, /VOCAB/);
    assert.match((err as Error).message, /ids 12 and 40/);
  }
  assert.equal(engine.loadModel(good).classify("this movie was great").logits, reference);
});

// ---------------------------------------------------------------- item 8

test("CONFIG.flags bit 0 gives every token type 0; a single type row does too", async () => {
  const tokens = [...SPECIALS, "a", "b"];
  assert.is(make(tokens, { typeVocabSize: 2, flags: 0 }), null);
  assert.equal(encode("a", "b").types, [0, 0, 0, 1, 1]);
  assert.is(make(tokens, { typeVocabSize: 2, flags: 1 }), null);
  assert.equal(encode("a", "b").types, [0, 0, 0, 0, 0]);
  assert.is(make(tokens, { typeVocabSize: 1, flags: 0 }), null);
  assert.equal(encode("a", "b").types, [0, 0, 0, 0, 0]);

  // Through a model file: a BERT with two type rows and the flag set.
  const engine = await loadEngine();
  const bytes = writeModel(randomModel({ seed: 5 }));
  const plain = engine.loadModel(bytes.slice());
  assert.equal(plain.tokenize("a b", "c").tokenTypeIds, [0, 0, 0, 0, 1, 1]);
  const config = parseLayout(bytes).byKind.get(F.SECTION_CONFIG)!;
  writeU32(bytes, config.offset + 4 * F.CFG_FLAGS, 1);
  fixCrcs(bytes);
  const flagged = engine.loadModel(bytes);
  const e = flagged.tokenize("a b", "c");
  assert.equal(e.tokenTypeIds, [0, 0, 0, 0, 0, 0]);
  assert.equal(flagged.classify("a b", "c").logits, flagged.classifyIds(e.inputIds, e.tokenTypeIds).logits);
});

test.run();
