// The Unigram tokenizer against crafted vocabularies, texts and charsmaps:
//   - Viterbi gives what Hugging Face's encode_optimized gives (a direct
//     transcription of it below: unk penalty min - 10, strict > on ties, fused
//     unknowns), on random texts over random vocabularies;
//   - its work is linear in the text: steps per byte bounded by the longest
//     token times the binary-search depth, whatever the vocabulary (long runs of
//     nested pieces "a", "aa", ..., no spaces);
//   - a charsmap whose trie points anywhere, or that does not fit its section, never
//     reads outside it: refused at load, or walked with bounds checks.
// Work is counted by the vocabulary's step counter (test/wasm/unigram_hardening.as), never timed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileTestEntry } from "./helpers/compile-as.ts";
import { prng } from "./helpers/random-model.ts";
import * as F from "../assembly/format/constants.ts";

interface Exports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  make(vocab: number, scores: number, charsmap: number, charsmapSize: number, added: number, addedCount: number, flags: number, maxLen: number): number;
  encode(a: number, aLen: number, b: number, bLen: number, maxLen: number, ids: number, types: number, offsets: number): number;
  steps(): number;
  reset_steps(): void;
  error_ptr(): number;
  error_len(): number;
}

let x: Exports;
const enc = new TextEncoder();
const SPECIAL = ["<s>", "</s>", "<unk>"];

test.before(async () => {
  const module = await WebAssembly.compile(await compileTestEntry("unigram_hardening"));
  x = new WebAssembly.Instance(module, { env: { abort() { throw new Error("wasm abort"); } } }).exports as unknown as Exports;
});

function put(bytes: Uint8Array): number {
  const p = x.alloc(Math.max(bytes.length, 1)) >>> 0;
  new Uint8Array(x.memory.buffer).set(bytes, p);
  return p;
}

const MAX = 1 << 15;
const kept: number[] = []; // the previous tokenizer's inputs, freed once it is replaced

function make(tokens: string[], scores: number[], opts: { flags?: number; charsmap?: Uint8Array } = {}): string | null {
  const blobs = tokens.map((t) => enc.encode(t));
  const head = new Uint32Array(2 + tokens.length);
  head[0] = tokens.length;
  let at = 0;
  blobs.forEach((b, i) => { head[1 + i] = at; at += b.length; });
  head[1 + tokens.length] = at;
  const list = new Uint8Array(head.byteLength + at);
  list.set(new Uint8Array(head.buffer));
  let o = head.byteLength;
  for (const b of blobs) { list.set(b, o); o += b.length; }
  const old = kept.splice(0);
  const v = put(list), s = put(new Uint8Array(Float64Array.from(scores).buffer));
  const c = opts.charsmap ? put(opts.charsmap) : 0;
  const added = put(new Uint8Array(Uint32Array.from([0, 1]).buffer));
  const rc0 = x.make(v, s, c, opts.charsmap?.length ?? 0, added, 2, opts.flags ?? 0, MAX);
  old.forEach((p) => x.free(p));
  const rc = rc0;
  [v, s, added].forEach((p) => kept.push(p));
  if (c) kept.push(c);
  return rc < 0 ? new TextDecoder().decode(new Uint8Array(x.memory.buffer, x.error_ptr(), x.error_len())) : null;
}

function encode(text: string, maxLen = MAX): number[] {
  const t = put(enc.encode(text));
  const ids = x.alloc(4 * maxLen) >>> 0, types = x.alloc(4 * maxLen) >>> 0, offs = x.alloc(8 * maxLen) >>> 0;
  const n = x.encode(t, enc.encode(text).length, 0, -1, maxLen, ids, types, offs);
  assert.ok(n >= 0, "encode failed");
  const out = Array.from(new Int32Array(x.memory.buffer, ids, n));
  [t, ids, types, offs].forEach((p) => x.free(p));
  return out;
}

// Hugging Face's Unigram::encode_optimized + tokenize (models/unigram/model.rs),
// transcribed over code points: the token ids of one piece.
function reference(tokens: string[], scores: number[], text: string): number[] {
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const unk = 2, unkScore = Math.min(...scores) - 10;
  const chars = [...text];
  const best: { score: number; from: number; id: number }[] = chars.map(() => ({ score: 0, from: -1, id: -1 }));
  best.push({ score: 0, from: -1, id: -1 });
  for (let k = 0; k < chars.length; k++) {
    const here = best[k].score;
    let single = false;
    for (let j = k + 1; j <= chars.length; j++) {
      const id = ids.get(chars.slice(k, j).join(""));
      if (id === undefined) continue;
      const cand = here + scores[id];
      if (best[j].from < 0 || cand > best[j].score) best[j] = { score: cand, from: k, id };
      if (j === k + 1) single = true;
    }
    if (!single && (best[k + 1].from < 0 || here + unkScore > best[k + 1].score)) best[k + 1] = { score: here + unkScore, from: k, id: unk };
  }
  const out: number[] = [];
  for (let e = chars.length; e > 0; e = best[e].from) {
    if (best[e].id === unk && out[out.length - 1] === unk) continue; // fused
    out.push(best[e].id);
  }
  return out.reverse();
}

test("Viterbi: ids as Hugging Face's encode_optimized on random vocabularies and texts", () => {
  const rand = prng(7);
  const alphabet = ["a", "b", "c", "é", "中", "😀"];
  let checked = 0;
  for (let v = 0; v < 20; v++) {
    const pieces = new Set<string>();
    while (pieces.size < 25) {
      const len = 1 + Math.floor(rand() * 4);
      pieces.add(Array.from({ length: len }, () => alphabet[Math.floor(rand() * (alphabet.length - 1))]).join(""));
    }
    const tokens = [...SPECIAL, ...pieces];
    // Scores on a coarse grid, so ties happen and the strict > decides.
    const scores = tokens.map((_, i) => (i < 3 ? 0 : -Math.floor(rand() * 8) / 2));
    assert.is(make(tokens, scores), null);
    for (let t = 0; t < 30; t++) {
      const text = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      assert.equal(encode(text).slice(1, -1), reference(tokens, scores, text), JSON.stringify(text));
      checked++;
    }
  }
  console.log(`  unigram Viterbi: ${checked} texts as the transcription`);
});

test("work is linear in the text for nested pieces and no spaces", () => {
  const tokens = [...SPECIAL, ...Array.from({ length: 64 }, (_, i) => "a".repeat(i + 1)), "b"];
  const scores = tokens.map((_, i) => (i < 3 ? 0 : -1 - (i % 5)));
  assert.is(make(tokens, scores, { flags: F.TOKFLAG_SPLIT | F.TOKFLAG_PREPEND_ALWAYS }), null);
  const stepsFor = (n: number): number => {
    x.reset_steps();
    encode("a".repeat(n) + "b".repeat(n));
    return x.steps();
  };
  const s1 = stepsFor(2000), s2 = stepsFor(4000), s4 = stepsFor(8000);
  const L = 64, depth = Math.ceil(Math.log2(tokens.length)) + 1;
  const perByte = (L + 1) * 3 * depth + 4;
  assert.ok(s4 <= 8000 * 2 * perByte, `${s4} steps for 16000 bytes, over the bound ${16000 * perByte}`);
  assert.ok(s4 / s1 < 4.4 && s2 / s1 < 2.2, `steps ${s1} ${s2} ${s4}: not linear`);
});

test("a crafted charsmap never reads outside its section", () => {
  const tokens = [...SPECIAL, "▁", "a", "b"];
  const scores = [0, 0, 0, -1, -1, -1];
  const ranges = new Uint32Array([1, 0]); // count 1, one range at 0 of class Other
  const section = (map: Uint8Array): Uint8Array => {
    const at = (4 + map.length + 3) & ~3;
    const out = new Uint8Array(at + 4 + 4 * (ranges[0]));
    new DataView(out.buffer).setUint32(0, map.length, true);
    out.set(map, 4);
    new DataView(out.buffer).setUint32(at, ranges[0], true);
    return out;
  };
  const rand = prng(3);
  for (let i = 0; i < 200; i++) {
    // A trie size that fits, then random units pointing anywhere, then strings.
    const units = 1 + Math.floor(rand() * 16);
    const map = new Uint8Array(4 + 4 * units + Math.floor(rand() * 20));
    for (let k = 4; k < map.length; k++) map[k] = Math.floor(rand() * 256);
    new DataView(map.buffer).setUint32(0, 4 * units, true);
    assert.is(make(tokens, scores, { charsmap: section(map), flags: F.TOKFLAG_SPLIT | F.TOKFLAG_PREPEND_ALWAYS }), null);
    encode("ab a\u0301 \u00e9\u{1F600} ba");
  }
  // Sizes that do not add up are refused, naming the section.
  const bad = new Uint8Array(12);
  new DataView(bad.buffer).setUint32(0, 100, true);
  assert.match(make(tokens, scores, { charsmap: bad }) ?? "", /CHARSMAP/);
});

test.run();
