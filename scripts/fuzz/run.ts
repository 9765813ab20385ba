// `npm run fuzz -- [--cases N] [--seed S] [--start I] [--timeout MS] [--check-every N] [--json FILE]`
//
// Mutates valid model files and loads each into one long-lived runtime instance
// (see harness.ts). Prints the seed, the outcomes by mutation and by error
// message class, the DATA bit-flip detection, the wasm memory before and after;
// exits 1 on any failure (a trap, an untyped error, a reference mismatch, a hang).
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { superviseFuzz } from "./supervise.ts";
import { seedCorpus } from "./corpus.ts";
import type { FuzzStats } from "./harness.ts";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "100000" },
    seed: { type: "string" },
    start: { type: "string", default: "0" },
    timeout: { type: "string", default: "5000" },
    "check-every": { type: "string", default: "16" },
    json: { type: "string" },
  },
});

function count(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`fuzz: --${flag} must be an integer >= ${min}, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const cases = count("cases", values.cases, 1);
const seed = values.seed === undefined ? (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0 : count("seed", values.seed, 0) >>> 0;
const start = count("start", values.start, 0);
const timeoutMs = count("timeout", values.timeout, 10);
const checkEvery = count("check-every", values["check-every"], 1);
const seeds = seedCorpus();

process.stdout.write(
  `axformer fuzz: seed ${seed}, ${cases} cases from case ${start}, ${seeds.length} seed models ` +
  `(${seeds.map((s) => `${s.name} ${s.bytes.length} B`).join(", ")}), time bound ${timeoutMs} ms per case\n`,
);
const t0 = Date.now();
let stats: FuzzStats;
try {
  stats = await superviseFuzz({
    seed, cases, start, timeoutMs, checkEvery,
    onProgress: (done) => {
      if (done % 10_000 === 0 || done === cases) process.stderr.write(`  ${done} / ${cases} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    },
  });
} catch (err) {
  process.stdout.write(`FAILED: ${(err as Error).message}\n`);
  process.exit(1);
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(2)}%` : "n/a");
const s = stats;
const d = s.dataBitflips;
const out: string[] = [];
out.push(`cases            ${s.cases} in ${s.seconds.toFixed(1)} s`);
out.push(`rejected         ${s.rejected} (each an AxformerError with a message)`);
out.push(`loaded           ${s.loaded} (each then ran 5 texts, random ids and a batch without a trap)`);
out.push(`failures         ${s.failures} (traps, untyped errors, empty messages, reference mismatches)`);
out.push(`reference checks ${s.referenceChecks} (the same instance reloads the reference model: logits bit-identical)`);
out.push(`wasm memory      ${s.memoryBefore} bytes before, ${s.memoryAfter} bytes after`);
out.push(`slowest case     ${s.maxCaseMs.toFixed(1)} ms (bound ${timeoutMs} ms)`);
out.push(`DATA bit flips   1 bit: ${d.singleCaught} / ${d.single} caught by the DATA CRC (${pct(d.singleCaught, d.single)}); ` +
  `2-8 bits: ${d.multiCaught} / ${d.multi} (${pct(d.multiCaught, d.multi)}); ` +
  `1 bit with the CRCs recomputed: ${d.fixedCrcLoaded} / ${d.fixedCrc} load and run, the rest rejected as NaN/Inf`);
out.push("");
out.push("by mutation                              cases   loaded rejected");
for (const [kind, k] of Object.entries(s.byKind).sort((a, b) => a[0].localeCompare(b[0]))) {
  out.push(`  ${kind.padEnd(36)} ${String(k.cases).padStart(7)} ${String(k.loaded).padStart(8)} ${String(k.rejected).padStart(8)}`);
}
out.push("");
out.push(`rejections by message class (${Object.keys(s.byMessage).length} classes; names and numbers elided)`);
for (const [cls, n] of Object.entries(s.byMessage).sort((a, b) => b[1] - a[1])) out.push(`  ${String(n).padStart(7)}  ${cls}`);
if (Object.keys(s.forwardErrors).length) {
  out.push("");
  out.push("typed errors while running loaded models");
  for (const [cls, n] of Object.entries(s.forwardErrors).sort((a, b) => b[1] - a[1])) out.push(`  ${String(n).padStart(7)}  ${cls}`);
}
if (s.failureSamples.length) {
  out.push("");
  out.push("FAILURES (replay one with --seed <seed> --start <case> --cases 1)");
  for (const f of s.failureSamples) out.push(`  case ${f.case} (${f.seedModel}, ${f.kind}, ${f.what}): ${f.error}`);
}
process.stdout.write(out.join("\n") + "\n");
if (values.json) writeFileSync(values.json, JSON.stringify({ ...s, timeoutMs }, null, 2) + "\n");
process.stdout.write(s.failures === 0 ? `OK: ${s.cases} cases, 0 failures (seed ${seed})\n` : `FAILED: ${s.failures} failures (seed ${seed})\n`);
process.exit(s.failures === 0 ? 0 : 1);
