// Issue 15's bench, run by `npm run bench` after the classifier cases (or alone:
// `node --import tsx bench/tasks.ts [--quick] [--tiny]`):
//
// - embeddings throughput: texts per second for batches of 32 texts of 128 tokens, on the
//   MiniLM-L6-H384 shape with random weights, mean pooling and L2 normalisation, single
//   thread: ours (model.embed(texts), tokenization included) against onnxruntime-web (the
//   same weights as an ONNX graph with the pooling in it, fed token ids: its tokenization
//   is not timed) and against transformers.js' `feature-extraction` pipeline (the same
//   ONNX graph up to the last hidden state, its own tokenizer and pooling, on
//   onnxruntime-web's wasm backend).
// - QA latency: one 384-token window on the bert-base shape, start and end logits: ours
//   (model.spanLogits) against onnxruntime-web.
//
// Engines take turns sample by sample (as bench/run.ts does), so load from elsewhere hits
// them alike; the report gives medians and our speed-up as a ratio measured side by side.
// --tiny shrinks every shape and size to check that the code runs (no numbers to keep).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-web";
import type { Model } from "../host/model/model.ts";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import { tokenizerJson } from "../scripts/train/wordpiece.ts";
import { bertToOnnx } from "./onnx/bert.ts";
import { buildModel, type Shape } from "./models.ts";
import { prng } from "../test/helpers/random-model.ts";
import { withTask } from "../test/helpers/task-model.ts";

export interface TaskBenchOptions { quick: boolean; tiny: boolean }

const MINILM: Shape = { name: "MiniLM-L6-H384 (L6-H384-A12-F1536)", layers: 6, hidden: 384, heads: 12, intermediate: 1536 };
const BASE: Shape = { name: "bert-base (L12-H768-A12-F3072)", layers: 12, hidden: 768, heads: 12, intermediate: 3072 };
const TINY: Shape = { name: "tiny (L2-H32-A2-F64)", layers: 2, hidden: 32, heads: 2, intermediate: 64 };

// Texts of exactly n tokens with [CLS] and [SEP]: n - 2 made-up words of the bench vocab (w0, w1, ...), one token each.
function texts(count: number, n: number, vocab: number, seed = 3): string[] {
  const r = prng(seed);
  return Array.from({ length: count }, () => Array.from({ length: n - 2 }, () => `w${Math.floor(r() * (vocab - 5))}`).join(" "));
}

const median = (xs: number[]) => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// Times engines in rotation: sample i starts with engine i mod k.
async function rotate(engines: Array<{ name: string; run: () => Promise<unknown> | unknown }>, samples: number, warmup: number) {
  for (const e of engines) for (let i = 0; i < warmup; i++) await e.run();
  const times = engines.map(() => [] as number[]);
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < engines.length; j++) {
      const k = (s + j) % engines.length;
      const t = performance.now();
      await engines[k].run();
      times[k].push(performance.now() - t);
    }
  }
  return engines.map((e, k) => ({ name: e.name, ms: median(times[k]) }));
}

// transformers.js' browser build (the one edge hosts get; its Node build runs onnxruntime-node,
// native code no edge host has), on onnxruntime-web's wasm backend, single thread. Its
// model files are served from memory through its custom-cache hook: nothing is fetched.
async function transformersJsPipeline(model: Model, onnx: Uint8Array) {
  // Under Node even the browser build reaches for onnxruntime-node (it tests process.release.name
  // once, at import): for that one moment it is told it is not Node, so it takes its browser
  // path, onnxruntime-web with the wasm device, as in a browser or a Worker.
  const dist = dirname(createRequire(import.meta.url).resolve("@huggingface/transformers")); // .../dist
  const release = Object.getOwnPropertyDescriptor(process, "release")!;
  Object.defineProperty(process, "release", { value: { name: "not-node" }, configurable: true });
  let tjs: typeof import("@huggingface/transformers");
  try {
    tjs = await import(pathToFileURL(join(dist, "transformers.web.js")).href);
  } finally {
    Object.defineProperty(process, "release", release);
  }
  const { pipeline, env } = tjs;
  const c = model.config;
  const files: Record<string, Uint8Array | string> = {
    "config.json": JSON.stringify({
      model_type: "bert", architectures: ["BertModel"], hidden_size: c.hiddenSize, num_hidden_layers: c.numLayers,
      num_attention_heads: c.numHeads, intermediate_size: c.intermediateSize, vocab_size: c.vocabSize,
      max_position_embeddings: c.maxPosition, type_vocab_size: c.typeVocabSize,
    }),
    "tokenizer.json": JSON.stringify(tokenizerJson(model.vocab)),
    "tokenizer_config.json": JSON.stringify({
      tokenizer_class: "BertTokenizer", do_lower_case: true, model_max_length: c.maxPosition,
      cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", unk_token: "[UNK]", mask_token: "[MASK]",
    }),
    "onnx/model.onnx": onnx,
  };
  env.allowRemoteModels = true; // "remote" URLs below are answered by the cache, never fetched
  env.allowLocalModels = false;
  env.remoteHost = "https://bench.invalid/";
  env.useBrowserCache = false;
  env.useCustomCache = true;
  env.customCache = {
    async match(key: string) {
      const name = Object.keys(files).find((f) => key.endsWith("/" + f));
      if (!name) return undefined;
      return new Response(files[name] as BodyInit, { headers: { "content-length": String(typeof files[name] === "string" ? Buffer.byteLength(files[name] as string) : (files[name] as Uint8Array).length) } });
    },
    async put() {},
  };
  // its own onnxruntime-web, from its own node_modules (it would fetch the .wasm from a CDN)
  const ortDist = dirname(createRequire(join(dist, "transformers.web.js")).resolve("onnxruntime-web")) + "/";
  const wasm = env.backends.onnx.wasm!;
  wasm.numThreads = 1;
  wasm.proxy = false;
  wasm.wasmPaths = pathToFileURL(ortDist).href;
  const extractor = await pipeline("feature-extraction", "bench/embed", { device: "wasm", dtype: "fp32" });
  return {
    version: env.version,
    run: (batch: string[]) => extractor(batch, { pooling: "mean", normalize: true }),
    async dispose() { await extractor.dispose(); },
  };
}

export async function runTaskBench(o: TaskBenchOptions): Promise<string> {
  const lines: string[] = [];
  const log = (s: string) => process.stderr.write(`[bench tasks] ${s}\n`);
  const samples = o.tiny ? 3 : o.quick ? 5 : 20, warmup = o.tiny ? 1 : 2;
  const engine = await loadEngine();

  // Embeddings throughput
  {
    const shape = o.tiny ? TINY : MINILM;
    const B = o.tiny ? 4 : 32, N = o.tiny ? 16 : 128;
    const base = buildModel(shape, 11);
    const model = withTask(base, "embedding");
    const ours = engine.loadModel(writeModel(model));
    const batch = texts(B, N, model.config.vocabSize);
    const ids = batch.map((t) => ours.tokenize(t).inputIds);
    if (ids.some((x) => x.length !== N)) throw new Error(`bench: a text gave ${ids.find((x) => x.length !== N)!.length} tokens, expected ${N}`);
    // onnxruntime-web on the same weights, pooling in the graph; token ids as input
    ort.env.wasm.numThreads = 1;
    const flatIds = new Int32Array(B * N);
    ids.forEach((x, i) => flatIds.set(x, i * N));
    const ortRun = await ortBatch(bertToOnnx(base, "embedding"), B, N, flatIds);
    const tjs = await transformersJsPipeline(base, bertToOnnx(base, "hidden"));
    // the three agree on the embeddings (same weights, same pooling)
    const a = ours.embed(batch), b = await ortRun.run(), c = await tjs.run(batch) as { data: Float32Array };
    let diff = 0;
    for (let i = 0; i < B; i++) for (let h = 0; h < a[i].length; h++) {
      diff = Math.max(diff, Math.abs(a[i][h] - b[i * a[i].length + h]), Math.abs(a[i][h] - c.data[i * a[i].length + h]));
    }
    if (!(diff < 1e-3)) throw new Error(`bench: embeddings differ between engines by ${diff}`);
    log(`embeddings: ${shape.name}, batch ${B} x ${N} tokens; engines agree within ${diff.toExponential(1)}`);
    const r = await rotate([
      { name: "axformer (embed, tokenizer included)", run: () => ours.embed(batch) },
      { name: "onnxruntime-web (token ids in)", run: () => ortRun.run() },
      { name: "transformers.js feature-extraction (tokenizer included)", run: () => tjs.run(batch) },
    ], samples, warmup);
    lines.push(`### Embeddings throughput: ${shape.name}, batches of ${B} texts of ${N} tokens, mean pooling + normalize, 1 thread`, "",
      "| engine | ms per batch (median) | texts per second | ours x faster |", "|---|---:|---:|---:|");
    for (const e of r) lines.push(`| ${e.name} | ${e.ms.toFixed(1)} | ${(B / (e.ms / 1000)).toFixed(1)} | ${(e.ms / r[0].ms).toFixed(2)} |`);
    lines.push("");
    await ortRun.dispose();
    await tjs.dispose();
  }

  // QA latency
  {
    const shape = o.tiny ? TINY : BASE;
    const N = o.tiny ? 24 : 384;
    const base = withTask(buildModel(shape, 13), "question-answering");
    const ours = engine.loadModel(writeModel(base));
    const ids = Int32Array.from({ length: N }, (_, i) => (i === 0 ? 2 : i === 20 || i === N - 1 ? 3 : 5 + ((i * 7919) % (base.config.vocabSize - 5))));
    const typeIds = Int32Array.from({ length: N }, (_, i) => (i <= 20 ? 0 : 1));
    const onnx = bertToOnnx(base, "span");
    const session = await ort.InferenceSession.create(onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all", intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, N]),
      token_type_ids: new ort.Tensor("int64", BigInt64Array.from(typeIds, BigInt), [1, N]),
    };
    const mine = ours.spanLogits(ids, typeIds);
    const theirs = await session.run(feeds);
    let diff = 0;
    const ts = theirs.start_logits.data as Float32Array, te = theirs.end_logits.data as Float32Array;
    for (let i = 0; i < N; i++) diff = Math.max(diff, Math.abs(mine.start[i] - ts[i]), Math.abs(mine.end[i] - te[i]));
    if (!(diff < 1e-3)) throw new Error(`bench: QA logits differ between engines by ${diff}`);
    log(`QA: ${shape.name}, ${N} tokens; engines agree within ${diff.toExponential(1)}`);
    const r = await rotate([
      { name: "axformer (spanLogits)", run: () => ours.spanLogits(ids, typeIds) },
      { name: "onnxruntime-web", run: () => session.run(feeds) },
    ], samples, warmup);
    lines.push(`### QA latency: ${shape.name}, one window of ${N} tokens, start and end logits, 1 thread`, "",
      "| engine | ms (median) | ours x faster |", "|---|---:|---:|");
    for (const e of r) lines.push(`| ${e.name} | ${e.ms.toFixed(1)} | ${(e.ms / r[0].ms).toFixed(2)} |`);
    lines.push("");
    await session.release();
  }
  return lines.join("\n");
}

// onnxruntime-web on a batch of B sequences of N tokens (ids flat).
async function ortBatch(onnx: Uint8Array, B: number, N: number, ids: Int32Array) {
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all", intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [B, N]),
    token_type_ids: new ort.Tensor("int64", new BigInt64Array(B * N), [B, N]),
  };
  return {
    async run() { const out = await session.run(feeds); const d = (out.sentence_embedding.data as Float32Array).slice(); out.sentence_embedding.dispose(); return d; },
    async dispose() { await session.release(); },
  };
}

if (process.argv[1]?.endsWith("tasks.ts")) {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, tiny: { type: "boolean", default: false } } });
  runTaskBench({ quick: values.quick!, tiny: values.tiny! }).then((md) => process.stdout.write(md + "\n"), (e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
