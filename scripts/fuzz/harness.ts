// The fuzz loop: mutated model files loaded, one after the other, into ONE
// long-lived runtime instance. Every case must end in a typed error (an
// AxformerError with a message) or a successful load; a loaded model must then
// run (text, pairs, over-long text, random ids, a batch) without trapping; and
// after every failed load, and every `checkEvery` cases, the same instance must
// load the reference model again and give the reference logits bit for bit.
//
// Case i is generated from its own seed (caseSeed(seed, i)), so any case is
// reproduced alone with `npm run fuzz -- --seed S --start i --cases 1`.
// The time bound per case is enforced by the supervisor (supervise.ts), which
// runs this loop in a worker thread and kills it if a case hangs.

import { AxformerError, DEFAULT_MAX_MEMORY_MB, type Engine, type LoadedModel } from "../../host/runtime/index.ts";
import { readModel } from "../../host/format/read.ts";
import { prng } from "../../test/helpers/random-model.ts";
import { mutate, parseLayout } from "./mutate.ts";
import { seedCorpus, REFERENCE_TEXT, TEXTS } from "./corpus.ts";

export interface FuzzOptions {
  seed: number;
  cases: number;
  start?: number;       // first case index (to replay one case)
  checkEvery?: number;  // reference check period for cases that did not fail (default 16)
  onCase?: (i: number) => void;  // called before each case (the supervisor's heartbeat)
  onProgress?: (done: number) => void;
  trace?: string[];     // when given, gets "<mutation>: <outcome>" for each case
  hangAt?: number;      // test hook: case i spins forever (shows that the supervisor's bound works)
}

export interface Failure {
  case: number;
  caseSeed: number;
  seedModel: string;
  kind: string;
  what: string;   // "load", "forward", "reference"
  error: string;
}

export interface KindStats { cases: number; loaded: number; rejected: number }

export interface FuzzStats {
  seed: number;
  start: number;
  cases: number;
  loaded: number;           // mutated files that loaded (and then ran)
  rejected: number;         // ended in a typed error
  failures: number;         // traps, untyped errors, empty messages, reference mismatches
  failureSamples: Failure[];
  byKind: Record<string, KindStats>;
  byMessage: Record<string, number>;     // rejection message classes (digits and names elided)
  forwardErrors: Record<string, number>; // typed errors of loaded models at run time (e.g. max_len 2 and a pair)
  dataBitflips: { single: number; singleCaught: number; multi: number; multiCaught: number; fixedCrc: number; fixedCrcLoaded: number };
  referenceChecks: number;
  memoryBefore: number;     // wasm memory bytes once every seed model was loaded
  memoryAfter: number;
  maxCaseMs: number;
  seconds: number;
}

export function caseSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;
}

// A message class: quoted names, numbers and hex elided, so "tensor 'x': dims[0] = 7"
// and "tensor 'y': dims[0] = 9" count together.
export function messageClass(msg: string): string {
  return msg.replace(/'[^']*'/g, "'*'").replace(/0x[0-9a-f]+/gi, "N").replace(/(?<![A-Za-z0-9-])\d+/g, "N").slice(0, 140);
}

// Null when the error is a proper typed error; else why it is not.
export function untyped(err: unknown): string | null {
  if (!(err instanceof AxformerError)) return `not an AxformerError: ${(err as Error)?.name}: ${(err as Error)?.message}`;
  if (!err.message) return "AxformerError with an empty message";
  // The host API rewords traps and aborts as AxformerErrors; they are still crashes.
  if (/^runtime abort|^loading the model failed|does not fit in wasm memory \(/.test(err.message)) return `trap: ${err.message}`;
  // A message is printed to terminals and logs: no bytes from the file that could
  // be control sequences, and a readable length.
  if (/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(err.message)) return `message with control or invalid characters: ${JSON.stringify(err.message)}`;
  if (err.message.length > 400) return `message of ${err.message.length} characters: ${JSON.stringify(err.message.slice(0, 200))}...`;
  return null;
}

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

// `big`: the instance for the gen.* families (families.ts), whose files and
// models may grow the wasm memory up to the limit (kept apart so that the main
// instance's memory shows any growth per case); the main instance when absent.
export function runFuzz(engine: Engine, opts: FuzzOptions, big: Engine = engine): FuzzStats {
  const t0 = performance.now();
  const corpus = seedCorpus();
  const layouts = corpus.map((s) => parseLayout(s.bytes));
  const ref = corpus[0];
  const refText = REFERENCE_TEXT;
  // Memory is measured after every seed model has been loaded once: the
  // allocator grows the wasm memory for the largest one (by doubling), once.
  for (const s of corpus) engine.loadModel(s.bytes);
  const refLogits = Float32Array.from(engine.loadModel(ref.bytes).classify(refText).logits);
  const memory = () => engine.exports.memory.buffer.byteLength;
  const start = opts.start ?? 0;
  const checkEvery = opts.checkEvery ?? 16;
  const stats: FuzzStats = {
    seed: opts.seed, start, cases: 0, loaded: 0, rejected: 0, failures: 0, failureSamples: [],
    byKind: {}, byMessage: {}, forwardErrors: {},
    dataBitflips: { single: 0, singleCaught: 0, multi: 0, multiCaught: 0, fixedCrc: 0, fixedCrcLoaded: 0 },
    referenceChecks: 0, memoryBefore: memory(), memoryAfter: 0, maxCaseMs: 0, seconds: 0,
  };

  for (let i = start; i < start + opts.cases; i++) {
    opts.onCase?.(i);
    if (i === opts.hangAt) for (;;);
    const c0 = performance.now();
    const cs = caseSeed(opts.seed, i);
    const rand = prng(cs);
    const which = Math.floor(rand() * corpus.length);
    const m = mutate(corpus[which].bytes, layouts[which], rand);
    const k = (stats.byKind[m.kind] ??= { cases: 0, loaded: 0, rejected: 0 });
    k.cases++;
    stats.cases++;
    const failure = (what: string, error: string) => {
      stats.failures++;
      if (stats.failureSamples.length < 20) stats.failureSamples.push({ case: i, caseSeed: cs, seedModel: corpus[which].name, kind: m.kind, what, error });
    };

    let model: LoadedModel | null = null;
    let failed = false;
    let message = "";
    try {
      // META is read only by readModel (axformer/node): hostile META goes there
      // first, and must end in a typed error or a model.
      const target = m.kind.startsWith("gen.") ? big : engine;
      if (m.kind === "gen.meta") {
        target.exports.set_memory_limit(DEFAULT_MAX_MEMORY_MB);
        readModel(m.bytes, target.exports);
      }
      // The Worker's default limit: files that need more are refused by name.
      model = target.loadModel(m.bytes, { maxMemoryMb: DEFAULT_MAX_MEMORY_MB });
    } catch (err) {
      const bad = untyped(err);
      if (bad) failure("load", bad);
      else {
        stats.rejected++;
        k.rejected++;
        const cls = messageClass((err as Error).message);
        stats.byMessage[cls] = (stats.byMessage[cls] ?? 0) + 1;
      }
      failed = true;
      message = (err as Error)?.message ?? "";
    }
    const crcCaught = /^DATA: CRC mismatch/.test(message);
    if (m.kind === "raw.data-bitflip") {
      stats.dataBitflips.single++;
      if (crcCaught) stats.dataBitflips.singleCaught++;
    } else if (m.kind === "raw.data-multiflip") {
      stats.dataBitflips.multi++;
      if (crcCaught) stats.dataBitflips.multiCaught++;
    } else if (m.kind === "struct.data-bitflip") {
      stats.dataBitflips.fixedCrc++;
      if (model) stats.dataBitflips.fixedCrcLoaded++;
    }

    opts.trace?.push(`${m.kind}: ${model ? "loaded" : message}`);
    if (model) {
      stats.loaded++;
      k.loaded++;
      const err = exercise(model, rand);
      if (err) {
        const bad = untyped(err);
        if (bad) failure("forward", bad);
        else {
          const cls = messageClass((err as Error).message);
          stats.forwardErrors[cls] = (stats.forwardErrors[cls] ?? 0) + 1;
        }
      }
    }

    if (failed || (i - start) % checkEvery === checkEvery - 1) {
      stats.referenceChecks++;
      try {
        const logits = Float32Array.from(engine.loadModel(ref.bytes).classify(refText).logits);
        if (!sameBits(logits, refLogits)) failure("reference", `reference logits changed: [${Array.from(logits)}] vs [${Array.from(refLogits)}]`);
      } catch (err) {
        failure("reference", `the reference model no longer loads or runs: ${(err as Error).message}`);
      }
    }
    stats.maxCaseMs = Math.max(stats.maxCaseMs, performance.now() - c0);
    if (opts.onProgress && (i - start + 1) % 1000 === 0) opts.onProgress(i - start + 1);
  }
  stats.memoryAfter = memory();
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

// Runs a loaded (mutated) model on every kind of input. A typed error is
// allowed (it is returned); a trap is thrown by the caller's check.
function exercise(model: LoadedModel, rand: () => number): unknown {
  try {
    for (const t of TEXTS) {
      if (Array.isArray(t)) model.classify(t[0], t[1]);
      else model.classify(t);
    }
    // At most 512 tokens: a forward pass costs O(n^2) in attention, and the models
    // of gen.config-products take up to 65,536 (a caller bounds its tokens per call).
    const n = 1 + Math.floor(rand() * Math.min(model.maxLen, 512));
    const ids = Array.from({ length: n }, () => Math.floor(rand() * model.vocabSize));
    const types = model.typeVocabSize > 0 ? ids.map(() => Math.floor(rand() * model.typeVocabSize)) : undefined;
    model.logits(ids, types);
    model.classifyBatch(["good", ["bad", "film"], TEXTS[2] as string, "a", "b"]);
    return null;
  } catch (err) {
    return err;
  }
}
