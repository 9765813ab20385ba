// `npm run load -- [--requests N] [--concurrency C] [--target both|server|worker] [--model FILE] [--json FILE]`
//
// Sustained traffic against the two hosts, on loopback only: `axformer serve`
// and the generated Worker on workerd (Miniflare), plus a control (a null Worker
// on workerd, to tell workerd's own memory use from the runtime's). Per host:
// start it and note the wasm memory its /health reports and the process's
// resident memory; send --unloaded requests one at a time (latency without
// queueing); warm up; note the memory again; send --requests requests (single
// texts, pairs, batches of 4; 1 word to past max_len) --concurrency at a time,
// every answer checked against the runtime in this process, resident memory
// sampled throughout; note the memory once more. Prints the figures and writes
// them as JSON (default out/load.json). Exits 1 on any error or wasm growth.
import { parseArgs } from "node:util";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { convertHfDir } from "../../host/convert/index.ts";
import { writeModelFile } from "../../host/format/write-file.ts";
import { loadEngine, loadModelFile } from "../../host/runtime/node.ts";
import { readModel, type FormatExports } from "../../host/format/read.ts";
import { packagePath } from "../../host/package-root.ts";
import { makeBodies, type Body } from "./texts.ts";
import { runLoad, type LoadResult } from "./client.ts";
import { startServer, startWorkerd, startNullWorker, rssBytes, type Target } from "./targets.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "50" },
    warmup: { type: "string", default: "500" },
    target: { type: "string", default: "both" },
    model: { type: "string" },
    bodies: { type: "string", default: "1000" },
    seed: { type: "string", default: "1" },
    json: { type: "string", default: "out/load.json" },
    unloaded: { type: "string", default: "300" },
    "skip-control": { type: "boolean", default: false },
  },
});
const int = (flag: string, v: string | undefined, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) { process.stderr.write(`load: --${flag} must be an integer >= ${min}\n`); process.exit(2); }
  return n;
};
const requests = int("requests", values.requests, 1);
const concurrency = int("concurrency", values.concurrency, 1);
const warmup = int("warmup", values.warmup, 0);
const seed = int("seed", values.seed, 0);
const unloaded = int("unloaded", values.unloaded, 0);
if (!["both", "server", "worker"].includes(values.target!)) { process.stderr.write("load: --target is both, server or worker\n"); process.exit(2); }

const work = mkdtempSync(join(tmpdir(), "axformer-load-"));
try {
  // The model: the bundled spam filter (4-layer BERT, H 128, max_len 128), int8 as
  // one would ship it to Workers, unless --model names another .axf.
  let modelPath = values.model;
  let modelName = values.model ?? "models/spam converted with int8 weight matrices";
  if (!modelPath) {
    const m = await convertHfDir(packagePath("models/spam"), { storage: "int8" });
    modelPath = join(work, "spam-int8.axf");
    await writeModelFile(modelPath, m);
  }
  const ref = await loadModelFile(modelPath);
  const vocab = await vocabOf(modelPath);
  const bodies = makeBodies(vocab, int("bodies", values.bodies, 1), seed);
  const expected = bodies.map((b) => answer(b));
  function answer(b: Body): unknown {
    const one = (text: string, pair?: string) => { const r = ref.classify(text, pair); return { label: r.label, scores: r.scores }; };
    if ("texts" in b) return { results: b.texts.map((t) => one(t)), labels: ref.labels };
    const r = one(b.text, "text_pair" in b ? b.text_pair : undefined);
    return { ...r, labels: ref.labels };
  }

  process.stdout.write(
    `axformer load: ${requests} requests at concurrency ${concurrency} per host (after ${warmup} warm-up requests), ` +
    `${bodies.length} distinct bodies (85% single texts, 10% batches of 4, 5% pairs; 1-160 words), model ${modelName} ` +
    `(${readFileSync(modelPath).byteLength} bytes, max_len ${ref.maxLen}), seed ${seed}\n`,
  );

  const results: Record<string, unknown>[] = [];
  const starts: Array<[string, () => Promise<Target>]> = [];
  if (values.target !== "worker") starts.push(["server", () => startServer(modelPath!)]);
  if (values.target !== "server") starts.push(["worker", () => startWorkerd(modelPath!, work)]);
  if (values.target !== "server" && !values["skip-control"]) starts.push(["control", () => startNullWorker()]);
  let failed = false;
  for (const [key, start] of starts) {
    const target = await start();
    const want = key === "control" ? null : expected;
    try {
      const atLoad = await health(target);
      const rssAtLoad = rssBytes(target.pid);
      // One request at a time first: the latency of a lone request, no queueing.
      const lone = unloaded > 0 ? await runLoad(target.url, bodies, want, { requests: unloaded, concurrency: 1 }) : null;
      if (warmup > 0) await runLoad(target.url, bodies, want, { requests: warmup, concurrency });
      const atStart = await health(target);
      const rssAtStart = rssBytes(target.pid);
      // Resident memory sampled through the run, to tell growth from garbage not yet collected.
      const rssDuring: number[] = [];
      const sampler = setInterval(() => { const b = rssBytes(target.pid); if (b !== null) rssDuring.push(b); }, 500);
      const r = await runLoad(target.url, bodies, want, { requests, concurrency });
      clearInterval(sampler);
      const atEnd = await health(target);
      const rssAtEnd = rssBytes(target.pid);
      const quarter = (k: number) => rssDuring.length ? rssDuring[Math.min(rssDuring.length - 1, Math.floor((k * rssDuring.length) / 4))] : null;
      const row = {
        target: key, host: target.name, url: target.url, ...r,
        unloaded: lone && { requests: lone.requests, errors: lone.errors, latencyMs: lone.latencyMs },
        requestsPerSecond: r.requests / r.seconds,
        wasmMemoryBytes: { atLoad, afterWarmup: atStart, atEnd },
        rssBytes: { atLoad: rssAtLoad, afterWarmup: rssAtStart, at25: quarter(1), at50: quarter(2), at75: quarter(3), atEnd: rssAtEnd, maxDuring: rssDuring.length ? Math.max(...rssDuring) : null },
      };
      results.push(row);
      print(target.name, r, lone, row.wasmMemoryBytes, row.rssBytes);
      if (r.errors > 0 || (lone?.errors ?? 0) > 0 || atEnd !== atStart) failed = true;
    } finally {
      await target.stop();
    }
  }
  const out = values.json!;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), model: modelName, requests, concurrency, warmup, seed, node: process.version, results }, null, 2) + "\n");
  process.stdout.write(`wrote ${out}\n${failed ? "FAILED: errors or memory growth" : "OK: zero errors, wasm memory flat"}\n`);
  process.exitCode = failed ? 1 : 0;
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function health(t: Target): Promise<number> {
  const res = await fetch(`${t.url}/health`, { signal: AbortSignal.timeout(60_000) });
  const h = (await res.json()) as { sizes?: { wasm_memory_bytes?: number }; error?: string };
  if (res.status !== 200 || typeof h.sizes?.wasm_memory_bytes !== "number") throw new Error(`${t.name}: /health answered ${res.status}: ${JSON.stringify(h)}`);
  return h.sizes.wasm_memory_bytes;
}

function print(name: string, r: LoadResult, lone: LoadResult | null, wasm: Record<string, number>, rss: Record<string, number | null>): void {
  const mib = (n: number | null) => (n === null ? "n/a" : `${(n / 2 ** 20).toFixed(1)} MiB`);
  const ms = (x: number) => x.toFixed(2);
  process.stdout.write(
    `\n${name}\n` +
    `  requests   ${r.requests}, ok ${r.ok}, errors ${r.errors}, ${r.seconds.toFixed(1)} s, ${(r.requests / r.seconds).toFixed(0)} req/s\n` +
    `  latency    p50 ${ms(r.latencyMs.p50)} ms, p90 ${ms(r.latencyMs.p90)} ms, p99 ${ms(r.latencyMs.p99)} ms, max ${ms(r.latencyMs.max)} ms\n` +
    (lone ? `  alone      ${lone.requests} requests one at a time: p50 ${ms(lone.latencyMs.p50)} ms, p99 ${ms(lone.latencyMs.p99)} ms, errors ${lone.errors}\n` : "") +
    (wasm.atLoad ? `  wasm mem   ${wasm.atLoad} bytes at load, ${wasm.afterWarmup} after warm-up, ${wasm.atEnd} at the end\n` : "") +
    `  RSS        ${mib(rss.atLoad)} at load, ${mib(rss.afterWarmup)} after warm-up; during the run ${mib(rss.at25)} (25%), ` +
    `${mib(rss.at50)} (50%), ${mib(rss.at75)} (75%), ${mib(rss.atEnd)} at the end (max ${mib(rss.maxDuring)})\n` +
    (r.errorSamples.length ? `  errors     ${r.errorSamples.join("\n             ")}\n` : ""),
  );
}

// The model's WordPiece tokens, read back through the runtime's own reader.
async function vocabOf(path: string): Promise<string[]> {
  const engine = await loadEngine();
  return readModel(new Uint8Array(readFileSync(path)), engine.exports as unknown as FormatExports).vocab;
}
