// Bit-for-bit check that a runtime change leaves the logits unchanged.
//
//   node --import tsx scripts/check/logits-identical.ts record /tmp/s1a/before.json   (on the old build)
//   node --import tsx scripts/check/logits-identical.ts compare /tmp/s1a/before.json  (on the new build)
//
// Each committed model (models/*) is converted as f32, --f16 and --int8 into a
// temp folder, and a fixed set of texts, text pairs, long texts and token-id
// sequences is run through build/axformer.wasm one by one (classify, logits) and
// in batches (classifyBatch). Logits are kept as the hex of their f32 bits.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelFile } from "../../host/runtime/node.ts";

const [mode, file] = process.argv.slice(2);
if ((mode !== "record" && mode !== "compare") || !file) {
  console.error("usage: logits-identical.ts record|compare <file.json>");
  process.exit(2);
}

const WORDS = ("the movie was great but the ending felt rushed and the actors seemed tired " +
  "free money click now winner unsubscribe meeting tomorrow at noon please review the attached " +
  "report café naïve résumé 東京 😀 don't can't it's well-made so-so 12,345 $99.99").split(" ");

// A deterministic generator (xorshift32) so every run sees the same inputs.
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

function texts(): Array<string | [string, string]> {
  const out: Array<string | [string, string]> = [
    "", "a", "Hello, world!", "This film is wonderful.", "This film is terrible.",
    "WIN A FREE IPHONE NOW!!! Click here: http://spam.example", "Can we move the meeting to 3pm?",
    "I loved it. I hated it. I don't know.", "   spaces   everywhere   ", "UPPER lower MiXeD",
    "unbelievably uncharacteristically antidisestablishmentarianism", "東京は晴れ 😀👍", "Ünïcödé àccents ñ",
    "tab\tand\nnewline", "!!!???...,,,", "12345 67890", "the the the the the the",
    ["The cat sat on the mat.", "A cat is sitting."], ["Is it good?", "Yes, very good."],
    ["", "only the second"], ["only the first", ""],
  ];
  const r = rng(14);
  for (let i = 0; i < 24; i++) {
    const len = i < 8 ? 1 + Math.floor(r() * 12) : i < 16 ? 20 + Math.floor(r() * 60) : 200 + Math.floor(r() * 600);
    const words = Array.from({ length: len }, () => WORDS[Math.floor(r() * WORDS.length)]);
    if (i % 3 === 2) {
      const cut = Math.floor(len / 3);
      out.push([words.slice(0, cut).join(" "), words.slice(cut).join(" ")]);
    } else {
      out.push(words.join(" "));
    }
  }
  return out;
}

function hex(a: Float32Array): string[] {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  return Array.from(u, (x) => x.toString(16).padStart(8, "0"));
}

const dir = join(tmpdir(), `axformer-logits-${process.pid}`);
mkdirSync(dir, { recursive: true });
process.once("exit", () => rmSync(dir, { recursive: true, force: true })); // a failed convert leaves nothing behind either
const result: Record<string, string[][]> = {};
const inputs = texts();
for (const name of readdirSync("models").sort()) {
  for (const variant of ["f32", "f16", "int8"]) {
    const out = join(dir, `${name}-${variant}.axf`);
    const flags = variant === "f32" ? [] : [`--${variant}`];
    execFileSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "convert", join("models", name), "-o", out, ...flags],
      { stdio: "ignore" });
    const model = await loadModelFile(out);
    const rows: string[][] = [];
    const r = rng(7);
    const idRows = [1, 2, 7, 33, model.maxLen].map((n) => Array.from({ length: n }, () => Math.floor(r() * model.vocabSize)));
    if (model.task === "embedding") {
      // An embedding model has no logits: its output is the pooled (normalised) vector.
      const flat = inputs.flatMap((t) => (typeof t === "string" ? [t] : t));
      for (const t of flat) rows.push(hex(model.embed([t])[0]));
      for (const e of model.embed(flat)) rows.push(hex(e));
      for (const e of model.embedIds(idRows)) rows.push(hex(e));
    } else {
      for (const t of inputs) {
        const c = typeof t === "string" ? model.classify(t) : model.classify(t[0], t[1]);
        rows.push(hex(new Float32Array(c.logits)));
      }
      for (const c of model.classifyBatch(inputs)) rows.push(hex(new Float32Array(c.logits)));
      for (const ids of idRows) {
        const types = ids.map((_, i) => (model.typeVocabSize > 1 && i >= ids.length / 2 ? 1 : 0));
        rows.push(hex(model.logits(ids, types)));
      }
    }
    result[`${name}-${variant}`] = rows;
  }
}

rmSync(dir, { recursive: true, force: true });

if (mode === "record") {
  writeFileSync(file, JSON.stringify(result, null, 1));
  const n = Object.values(result).reduce((s, r) => s + r.length, 0);
  console.log(`recorded ${n} logit vectors of ${Object.keys(result).length} model files to ${file}`);
} else {
  const before = JSON.parse(readFileSync(file, "utf8")) as Record<string, string[][]>;
  let same = 0, differ = 0;
  for (const key of new Set([...Object.keys(before), ...Object.keys(result)])) {
    const a = before[key] ?? [], b = result[key] ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (JSON.stringify(a[i]) === JSON.stringify(b[i])) same++;
      else { differ++; if (differ <= 10) console.log(`${key} #${i}: ${JSON.stringify(a[i])} != ${JSON.stringify(b[i])}`); }
    }
  }
  console.log(`${same} identical, ${differ} different`);
  process.exit(differ === 0 ? 0 : 1);
}
