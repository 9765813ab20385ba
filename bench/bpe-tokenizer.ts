// `node --import tsx bench/bpe-tokenizer.ts [--rounds N]`: byte-level BPE tokens per
// second, the wasm tokenizer (tokenize() of a loaded model: UTF-8 into wasm memory,
// ids and offsets out) against the npm `tokenizers` package (Hugging Face's Rust
// tokenizers, native, one call per sentence), on the SST-2 dev sentences with GPT-2's
// vocabulary and merges. Rounds alternate which side goes first; the ratio is the
// result (the machine is shared: absolute numbers are noise).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Tokenizer } from "tokenizers";
import { bpeFolder, bpeModel, tokenizerJson } from "../test/helpers/bpe-folder.ts";
import { SHARED_DATA } from "../test/helpers/needs.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = Number(values.rounds);
const sentences = readFileSync(join(SHARED_DATA, "sst2", "dev.tsv"), "utf8").split(/\r?\n/).slice(1).filter(Boolean).map((l) => l.split("\t")[0]);
const engine = await loadEngine();
const model = await engine.loadModel(writeModel(bpeModel(bpeFolder({}))));
const ref = Tokenizer.fromString(tokenizerJson());
ref.setTruncation(512);

async function timeIt(f: () => Promise<number>): Promise<[number, number]> {
  const t = performance.now();
  const tokens = await f();
  return [tokens, (performance.now() - t) / 1000];
}
const ours = async () => { let n = 0; for (const s of sentences) n += model.tokenize(s).inputIds.length; return n; };
const theirs = async () => { let n = 0; for (const s of sentences) n += (await ref.encode(s)).getIds().length; return n; };
// encodeBatch: one call for all sentences (tokenizers may use its threads).
const batch = async () => (await ref.encodeBatch(sentences)).reduce((n, e) => n + e.getIds().length, 0);
await ours(); await theirs(); await batch(); // warm-up
const rate = { ours: 0, theirs: 0, batch: 0 };
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of (r % 2 ? [["theirs", theirs], ["batch", batch], ["ours", ours]] : [["ours", ours], ["theirs", theirs], ["batch", batch]]) as [keyof typeof rate, () => Promise<number>][]) {
    const [n, s] = await timeIt(f);
    rate[name] += n / s / rounds;
  }
}
console.log(`SST-2 dev, ${sentences.length} sentences, ${rounds} rounds: wasm BPE ${Math.round(rate.ours)} tokens/s, npm tokenizers ${Math.round(rate.theirs)} tokens/s one call per sentence (ratio ${(rate.ours / rate.theirs).toFixed(2)}), ${Math.round(rate.batch)} tokens/s with encodeBatch (ratio ${(rate.ours / rate.batch).toFixed(2)})`);
