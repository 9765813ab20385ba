// End-to-end parity with Hugging Face transformers: each folder in test/fixtures/parity
// is converted, written as .axf, loaded into the wasm runtime and run on the golden
// inputs; the logits must match the float64 references that transformers'
// Bert/DistilBert/Roberta/XLMRoberta/Camembert/ElectraForSequenceClassification
// computed from the stored weights (scripts/parity/make_fixtures.py, which says how
// to rerun it). RoBERTa-family cases include padding tokens among the ids and
// goldens taken from padded batches with an attention mask ("hf_padded").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertHfDir } from "../host/convert/index.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/parity/", import.meta.url));

// f32 storage: the runtime computes in f32 with f32 weights that are bit-identical to
// the stored ones (f16 and bf16 values are exact in f32), so only f32 arithmetic
// rounding separates it from the float64 goldens: ~1e-6 on these logits.
const F32_BOUND = 1e-4;

// f16 storage: the converter rounds every weight matrix (and the word embedding) to
// f16, 11 significant bits, a relative error up to 2^-11 = 4.9e-4 per weight. Carried
// through these 1-2 layer models that moves the logits by at most 4.3e-3 (printed
// per fixture by make_fixtures.py, which recomputes the goldens with the same
// rounding); 2e-2 leaves ~5x headroom, while a real f16 bug (wrong exponent bias,
// subnormals, byte order) moves logits by 0.1 or more.
const F16_BOUND = 2e-2;

interface GoldenCase {
  input_ids: number[];
  token_type_ids: number[];
  logits: number[];
  text?: string;       // the ids are the fixture's own Hugging Face tokenizer's for this text (and pair)
  text_pair?: string;
}

const dirs = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test("the fixture set is present", () => {
  for (const name of ["bert-f32", "bert-f16", "bert-bf16", "bert-sharded", "distilbert-f32", "distilbert-f16",
    "roberta-f32", "roberta-types-f16", "xlm-roberta-f32", "camembert-f32", "electra-f32", "electra-same-f16"]) {
    assert.ok(dirs.includes(name), `missing fixture ${name}: see scripts/parity/make_fixtures.py`);
  }
});

// Runs every golden case and returns the largest |logit - golden|; throws on the
// first case beyond `bound`, naming it.
function maxDiff(
  model: { logits(ids: number[], typeIds?: number[]): ArrayLike<number> },
  cases: GoldenCase[],
  bound: number,
  what: string,
): number {
  let worst = 0;
  cases.forEach((c, i) => {
    const got = Array.from(model.logits(c.input_ids, c.token_type_ids));
    assert.is(got.length, c.logits.length, `${what} case ${i} (n=${c.input_ids.length}): number of logits`);
    for (let j = 0; j < got.length; j++) {
      const d = Math.abs(got[j] - c.logits[j]);
      if (!(d <= bound)) {
        assert.unreachable(
          `${what} case ${i} (n=${c.input_ids.length}) logit ${j}: got ${got[j]}, want ${c.logits[j]} (|diff| ${d} > ${bound})`,
        );
      }
      worst = Math.max(worst, d);
    }
  });
  return worst;
}

for (const name of dirs) {
  const dir = join(FIXTURES, name);
  test(`${name}: logits match transformers (f32 <= ${F32_BOUND}, f16 storage <= ${F16_BOUND})`, async () => {
    const cases: GoldenCase[] = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8"));
    assert.ok(cases.length > 0, `${name}: golden.json has no cases`);
    const engine = await loadEngine();

    const bytes32 = await writeModel(await convertHfDir(dir));
    const model32 = engine.loadModel(bytes32);
    const worst32 = maxDiff(model32, cases, F32_BOUND, `${name} (f32)`);
    // Text cases, end to end: the runtime's tokenizer gives Hugging Face's ids, and classify() its logits.
    for (const c of cases.filter((c) => c.text !== undefined)) {
      const what = `${name} text ${JSON.stringify(c.text)}${c.text_pair === undefined ? "" : ` / ${JSON.stringify(c.text_pair)}`}`;
      assert.equal(model32.tokenize(c.text!, c.text_pair).inputIds, c.input_ids, `${what}: input_ids`);
      maxDiff({ logits: () => model32.classify(c.text!, c.text_pair).logits }, [c], F32_BOUND, what);
    }

    const bytes16 = await writeModel(await convertHfDir(dir, { storage: "f16" }));
    const worst16 = maxDiff(engine.loadModel(bytes16), cases, F16_BOUND, `${name} (f16 storage)`);

    // The default storage is f32 whatever the checkpoint's dtype, so the f16 file must
    // be smaller, or the option was ignored and the second check proved nothing.
    assert.ok(bytes16.length < bytes32.length, `${name}: f16 file (${bytes16.length} B) is not smaller than f32 (${bytes32.length} B)`);
    if (process.env.PARITY_VERBOSE) console.log(`  ${name}: max |diff| f32 ${worst32.toExponential(2)}, f16 ${worst16.toExponential(2)}`);
  });
}

test.run();
