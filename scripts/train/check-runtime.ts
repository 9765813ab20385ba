// Checks a trained checkpoint end to end against the recipe's torch model: converts models/NAME
// with the project's converter (f32 and f16 storage), loads it in the wasm runtime, and compares,
// on the first eval rows, (1) the runtime tokenizer's ids with Hugging Face's (transformers.js) and
// (2) the runtime's logits with torch's (scripts/train/logits.py) on the same ids; then prints the
// runtime's accuracy on the whole eval split (its own tokenizer, f16 storage), to set beside the card.
//
//   node --import tsx scripts/train/check-runtime.ts [--rows 16] NAME ...

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { convertHfDir } from "../../host/convert/index.ts";
import { writeModel } from "../../host/format/writer.ts";
import { loadEngine } from "../../host/runtime/node.ts";
import { MODELS } from "./recipe.ts";
import { getTask } from "./tasks.ts";
import { parseVocabTxt, WordPiece, type Encoding } from "./wordpiece.ts";

function torchLogits(dir: string, inputs: Encoding[]): number[][] {
  const r = spawnSync("/usr/bin/python3", ["scripts/train/logits.py", dir], {
    input: JSON.stringify(inputs),
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`logits.py ${dir}: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[][];
}

async function check(name: string, rows: number): Promise<boolean> {
  const recipe = MODELS[name];
  if (!recipe) throw new Error(`unknown model ${name}`);
  const dir = join("models", name);
  const vocab = parseVocabTxt(readFileSync(join(dir, "vocab.txt"), "utf8"), join(dir, "vocab.txt"));
  const maxLen = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")).model_max_length as number;
  const evalRows = (await getTask(recipe.task).load()).eval;
  const examples = evalRows.slice(0, rows);
  const hf = new WordPiece(vocab);
  const inputs = examples.map((e) => hf.encode(e.a, e.b, maxLen));
  const want = torchLogits(dir, inputs);
  let ok = true;
  for (const storage of ["f32", "f16"] as const) {
    const model = await convertHfDir(dir, { storage });
    const m = (await loadEngine()).loadModel(writeModel(model));
    let idMismatch = 0;
    let maxDiff = 0;
    examples.forEach((e, i) => {
      const got = m.tokenize(e.a, e.b);
      if (JSON.stringify(got.inputIds) !== JSON.stringify(inputs[i].input_ids) ||
          JSON.stringify(got.tokenTypeIds) !== JSON.stringify(inputs[i].token_type_ids)) idMismatch++;
      const logits = m.logits(inputs[i].input_ids, inputs[i].token_type_ids);
      want[i].forEach((w, j) => (maxDiff = Math.max(maxDiff, Math.abs(w - logits[j]))));
    });
    const pass = idMismatch === 0 && maxDiff < 1e-3;
    if (storage === "f16") {
      const correct = evalRows.filter((e) => m.classify(e.a, e.b).label === m.labels[e.label]).length;
      console.log(`${name}: runtime accuracy on the whole ${getTask(recipe.task).evalSplit} split: ` +
        `${((100 * correct) / evalRows.length).toFixed(2)}% (${correct} / ${evalRows.length})`);
    }
    ok &&= pass;
    console.log(`${name} (${storage} storage): ${examples.length} ${recipe.task} eval rows, tokenizer ids differ on ${idMismatch}, ` +
      `max |logit - torch| ${maxDiff.toExponential(2)} ${pass ? "ok" : "MISMATCH"}`);
  }
  return ok;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { rows: { type: "string", default: "16" } }, allowPositionals: true });
  let ok = true;
  for (const name of positionals.length ? positionals : Object.keys(MODELS).filter((n) => MODELS[n].commit && !MODELS[n].embedding)) ok = (await check(name, Number(values.rows))) && ok;
  if (!ok) process.exit(1);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
