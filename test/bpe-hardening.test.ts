// Byte-level BPE against hostile words, merges and files:
//   - the merge loop is O(n log n) in a word of n bytes, whatever the merges
//     (a heap of pairs; no word-length cap), and exact on 100,000-byte words: work is
//     counted by the runtime's step counter (test/wasm/bpe_steps.as), never timed,
//     and held to the bound docs/reliability.md states;
//   - the converter refuses what the runtime does not implement, naming file and field;
//   - the reader refuses a damaged MERGES section, naming it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Tokenizer } from "tokenizers";
import { compileTestEntry } from "./helpers/compile-as.ts";
import { bpeModel, folderWith, gpt2, tinyTokenizerJson, tokenizerJson, bpeFolder } from "./helpers/bpe-folder.ts";
import { readHfTokenizer } from "../host/convert/hf-tokenizer.ts";
import { ConvertError } from "../host/convert/errors.ts";
import { writeModel } from "../host/format/writer.ts";
import { instantiate, type Engine } from "../host/runtime/index.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { parseLayout, writeU32, fixCrcs } from "../scripts/fuzz/axf-layout.ts";
import * as F from "../assembly/format/constants.ts";

async function rejects(load: () => unknown, re: RegExp, what: string): Promise<void> {
  try {
    await load();
  } catch (e) {
    assert.match((e as Error).message, re, what);
    return;
  }
  assert.unreachable(`${what}: loaded`);
}

let module: WebAssembly.Module;
test.before(async () => {
  module = await WebAssembly.compile(await compileTestEntry("bpe_steps"));
});

interface Counted { engine: Engine; steps(): number; reset(): void }

async function counted(json: string): Promise<Counted & { model: Awaited<ReturnType<Engine["loadModel"]>> }> {
  const engine = await instantiate(module);
  const model = await engine.loadModel(writeModel(bpeModel(folderWith(json))));
  const x = engine.exports as unknown as { bpe_steps(): number; reset_bpe_steps(): void };
  return { engine, model, steps: () => x.bpe_steps(), reset: () => x.reset_bpe_steps() };
}

// The bound of docs/reliability.md for one word of n bytes (plus its pre-tokenizer
// work): n for the symbols, 3n heap pushes and 3n pops of at most log2(3n) + 1
// steps, 4n pair searches of at most log2(M) + 1 steps, and 2n + 2 character
// classes of at most log2(R) + 2 steps.
function bound(n: number, merges: number): number {
  const lg = (x: number) => Math.log2(Math.max(x, 2)) + 1;
  return n + 6 * n * lg(3 * n) + 4 * n * lg(merges) + (2 * n + 2) * (lg(1 << 11) + 1);
}

test("long words: exact against tokenizers and O(n log n) work, for GPT-2's merges and for chained merges", async () => {
  // Chained merges: a+a, aa+a, aaa+a, ... up to 64 a's, so a run of a's merges
  // one symbol at a time at the left, the deepest chain a heap can meet.
  const chain = Array.from({ length: 63 }, (_, k) => "a".repeat(k + 2));
  const chainMerges = chain.map((t) => [t.slice(0, -1), "a"] as [string, string]);
  const cases = [
    { name: "GPT-2", json: tokenizerJson(), merges: gpt2().merges.length },
    { name: "chain", json: tinyTokenizerJson(chain, chainMerges), merges: chainMerges.length },
  ];
  for (const c of cases) {
    const w = await counted(c.json);
    const ref = Tokenizer.fromString(c.json);
    ref.setTruncation(1 << 20);
    const perByte: string[] = [];
    for (const [unit, count] of [["a", 1000], ["a", 10000], ["a", 100000], ["ab", 50000], ["😀", 25000], ["1", 100000]] as const) {
      const text = unit.repeat(count);
      const n = new TextEncoder().encode(text).length;
      const want = (await ref.encode(text)).getIds();
      w.reset();
      const got = w.model.tokenize(text, undefined, undefined);
      const steps = w.steps();
      // max_len truncates the output; the merging covers the whole word.
      assert.equal(got.inputIds.slice(1, -1), want.slice(1, got.inputIds.length - 1), `${c.name}: ${count} x ${unit}`);
      assert.ok(steps <= bound(n, c.merges), `${c.name}: ${count} x ${unit}: ${steps} steps > bound ${Math.round(bound(n, c.merges))}`);
      perByte.push(`${count}x${unit}: ${(steps / n).toFixed(1)}`);
    }
    console.log(`bpe-hardening: ${c.name}: steps per byte ${perByte.join(", ")}`);
  }
});

test("pairs with a long word: the counts that share out the budget are exact", async () => {
  // (tokenizers keeps the cut-off tokens as overflowing encodings, so the reference
  // needs memory quadratic in the word here: 4,000 bytes.)
  const w = await counted(tokenizerJson());
  const ref = Tokenizer.fromString(tokenizerJson());
  const a = "ab".repeat(2000), b = "x" + "0123456789".repeat(100);
  for (const maxLen of [512, 100, 7]) {
    ref.setTruncation(maxLen);
    assert.equal(w.model.tokenize(a, b, maxLen).inputIds, (await ref.encode(a, b)).getIds(), `pair at ${maxLen}`);
  }
});

const convertBad = (json: string, tcfg?: Record<string, unknown>) => () => readHfTokenizer(folderWith(json, tcfg), 400, 64);

test("the converter refuses what the runtime does not implement, naming the file and field", () => {
  const t = (edit: (t: Record<string, any>) => void) => tinyTokenizerJson(["ab"], [["a", "b"]], edit);
  const cases: [string, () => unknown, RegExp][] = [
    ["dropout", convertBad(t((j) => (j.model.dropout = 0.1))), /tokenizer\.json: field model\.dropout is 0\.1; BPE dropout is not supported/],
    ["continuing_subword_prefix", convertBad(t((j) => (j.model.continuing_subword_prefix = "##"))), /field model\.continuing_subword_prefix is "##"/],
    ["end_of_word_suffix", convertBad(t((j) => (j.model.end_of_word_suffix = "</w>"))), /field model\.end_of_word_suffix/],
    ["byte_fallback", convertBad(t((j) => (j.model.byte_fallback = true))), /field model\.byte_fallback is true/],
    ["ignore_merges", convertBad(t((j) => (j.model.ignore_merges = true))), /field model\.ignore_merges is true/],
    ["normalizer", convertBad(t((j) => (j.normalizer = { type: "NFC" }))), /field normalizer is "NFC"/],
    ["pre_tokenizer", convertBad(t((j) => (j.pre_tokenizer = { type: "Whitespace" }))), /field pre_tokenizer is "Whitespace"; byte-level BPE supports ByteLevel/],
    ["use_regex", convertBad(t((j) => (j.pre_tokenizer.use_regex = false))), /field pre_tokenizer\.use_regex is false/],
    ["post_processor", convertBad(t((j) => (j.post_processor = { type: "BertProcessing", cls: ["<s>", 1], sep: ["</s>", 2] }))), /field post_processor is "BertProcessing"/],
    ["template", convertBad(t((j) => (j.post_processor = { type: "TemplateProcessing", single: [{ Sequence: { id: "A", type_id: 0 } }], pair: [], special_tokens: {} }))), /field post_processor\.single/],
    ["single_word", convertBad(t((j) => (j.added_tokens[0].single_word = true))), /added_tokens entry "<s>" \(id 257\): single_word is true; not supported/],
    ["merge token", convertBad(t((j) => j.model.merges.push(["q", "zz"]))), /tokenizer\.json: model\.merges\[1\]: token "zz" is not in the vocabulary/],
    ["merged token", convertBad(t((j) => j.model.merges.push(["b", "c"]))), /the merged token "bc" is not in the vocabulary/],
    ["byte", convertBad(t((j) => delete j.model.vocab["Ġ"])), /no token for byte 32 \(byte-level character "Ġ"\)/],
    ["class", convertBad(t(() => {}), { tokenizer_class: "GPT2Tokenizer" }), /tokenizer_config\.json: field tokenizer_class is "GPT2Tokenizer"/],
  ];
  for (const [name, fn, re] of cases) {
    try {
      fn();
      assert.unreachable(`${name}: converted`);
    } catch (e) {
      assert.instance(e, ConvertError, `${name}: ${(e as Error).message}`);
      assert.match((e as Error).message, re, name);
    }
  }
});

test("the reader refuses a damaged MERGES section, and MERGES without BPE, naming them", async () => {
  const good = writeModel(bpeModel(folderWith(tinyTokenizerJson(["ab", "abc"], [["a", "b"], ["ab", "c"]]))));
  const engine = await loadEngine();
  await engine.loadModel(good); // loads
  const l = parseLayout(good);
  const merges = l.sections.find((s) => s.kind === F.SECTION_MERGES)!;
  const config = l.sections.find((s) => s.kind === F.SECTION_CONFIG)!;
  const ranges = new DataView(good.buffer, good.byteOffset + merges.offset).getUint32(4, true);
  const entry = merges.offset + 8 + 4 * ranges;
  const damaged = (edit: (b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    edit(b);
    fixCrcs(b);
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["id", damaged((b) => writeU32(b, entry, 1 << 20)), /MERGES\[0\]: an id is not below vocab_size/],
    ["order", damaged((b) => { writeU32(b, entry, 262); writeU32(b, entry + 4, 262); }), /MERGES\[1\]: .*not above the previous entry/],
    ["rank", damaged((b) => writeU32(b, entry + 8, 2)), /MERGES\[0\]: .*the rank not below the count/],
    ["range", damaged((b) => writeU32(b, merges.offset + 8, 5)), /MERGES\.ranges\[0\]: bad start/],
    ["count", damaged((b) => writeU32(b, merges.offset, 3)), /MERGES: \d+ bytes for 3 merges/],
    ["tokenizer", damaged((b) => { writeU32(b, config.offset + 4 * F.CFG_TOKENIZER, 0); writeU32(b, config.offset + 4 * F.CFG_TOKENIZER_FLAGS, 0); }), /MERGES: present but CONFIG\.tokenizer is not byte-level BPE/],
    ["flags", damaged((b) => writeU32(b, config.offset + 4 * F.CFG_TOKENIZER_FLAGS, 8)), /CONFIG\.tokenizer_flags = 8 is out of range 0\.\.7/],
    ["byte", damaged((b) => writeU32(b, entry + 12, 0)), /./], // a wrong result id is allowed (never relied on); loads
  ];
  for (const [name, bytes, re] of cases) {
    if (name === "byte") {
      await engine.loadModel(bytes);
      continue;
    }
    await rejects(() => engine.loadModel(bytes), re, name);
  }
  // The engine still works.
  const m = await engine.loadModel(good);
  assert.equal(m.tokenize("abc").inputIds.length, 3);
});

test("a BPE vocabulary without every byte is refused at load", async () => {
  const model = bpeModel(bpeFolder({}));
  model.vocab[model.vocab.indexOf("Ġ")] = "[no space]";
  const engine = await loadEngine();
  await rejects(() => engine.loadModel(writeModel(model)), /VOCAB: no token for byte 32 \(its GPT-2 byte-level character\)/, "byte");
});

test.run();
