// A Hugging Face folder whose tokenizer is byte-level BPE (GPT-2's vocabulary and
// merges as RoBERTa ships them: vocab.json + merges.txt) converts with `axformer
// convert`, and `axformer tokenize --json` prints input_ids exactly as Hugging
// Face's fast tokenizer (the npm `tokenizers` package) returns them, for one text
// and a pair, and `axformer run --json` classifies text with it. The encoder is a
// tiny random BERT: the RoBERTa model side is issue 16's `families` work.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "tokenizers";
import { writeHfCheckpoint } from "./helpers/hf-checkpoint.ts";
import { gpt2, SPECIALS, tokenizerJson } from "./helpers/bpe-folder.ts";

const dir = mkdtempSync(join(tmpdir(), "axf-bpe-cli-"));
const cli = (...args: string[]) => spawnSync(process.execPath, ["bin/axformer.js", ...args], { encoding: "utf8" });

test("convert, tokenize --json and run --json on a folder with vocab.json + merges.txt", async () => {
  const { vocab, mergesTxt } = gpt2();
  const tokens = [...Object.entries(vocab).sort((x, y) => x[1] - y[1]).map(([t]) => t), ...SPECIALS];
  const hf = join(dir, "hf");
  writeHfCheckpoint(hf, { vocab: tokens, maxPosition: 64, tokenizerConfig: null });
  rmSync(join(hf, "vocab.txt"));
  writeFileSync(join(hf, "vocab.json"), JSON.stringify(Object.fromEntries(tokens.map((t, i) => [t, i]))));
  writeFileSync(join(hf, "merges.txt"), mergesTxt);
  writeFileSync(join(hf, "tokenizer_config.json"), JSON.stringify({ tokenizer_class: "RobertaTokenizer", model_max_length: 64 }));
  const out = join(dir, "m.axf");
  const c = cli("convert", hf, "-o", out, "--json");
  assert.is(c.status, 0, c.stderr);
  assert.is(JSON.parse(c.stdout).vocab_size, tokens.length);

  const ref = Tokenizer.fromString(tokenizerJson());
  ref.setTruncation(64);
  const a = "It's a 2024 café — naïve, 😀 and don't   stop!", b = "A second text, longer than the first one by some words " + "x".repeat(80);
  for (const args of [[a], [a, b]]) {
    const t = cli("tokenize", "--json", out, ...args);
    assert.is(t.status, 0, t.stderr);
    assert.equal(JSON.parse(t.stdout).input_ids, (await ref.encode(args[0], args[1] ?? null)).getIds(), args.join(" / "));
  }
  const r = cli("run", "--json", out, a);
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).scores.length, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
