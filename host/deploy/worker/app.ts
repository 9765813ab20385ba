// The Cloudflare Worker behind `axformer deploy workers`. The generated entry
// module (src/worker.ts) imports the compiled runtime as a wasm module and the
// model as a data module (or names an R2/KV binding) and hands them to
// createWorker(). Workers forbid compiling wasm from bytes at run time, so the
// runtime is only ever instantiated from the pre-compiled WebAssembly.Module,
// once per isolate, at the first request.
//
// An isolate has 128 MB for everything (JS heap, the model bytes the data module
// keeps alive, the wasm memory), and exceeding it kills the isolate with no
// message. So the Worker checks what the model needs against the limit before it
// grows the wasm memory, and answers every request with a clear error if it does
// not fit. AXFORMER_MEMORY_LIMIT_MB overrides the limit (tests use a small one to
// imitate the real isolate with a small model).
import { instantiate, type Engine, type LoadedModel } from "../../runtime/index.ts";
import { handleRequest, ApiError, DEFAULT_LIMITS, type ApiLimits, type Backend, type ClassifyInput } from "../../api/handler.ts";
import { MIB, ISOLATE_LIMIT_MB, JS_OVERHEAD_BYTES, estimateIsolateBytes } from "./memory.ts";

export type ModelSource =
  | { kind: "inline"; data: ArrayBuffer }                 // [[rules]] type = "Data"
  | { kind: "r2"; binding: string; key: string }          // [[r2_buckets]]
  | { kind: "kv"; binding: string; key: string };         // [[kv_namespaces]]

export interface WorkerConfig {
  name: string;                 // the model, as GET /health and errors name it
  wasm: WebAssembly.Module;     // the runtime, compiled by the platform at deploy time
  model: ModelSource;
  modelFileBytes: number;       // size of the .axf at generation time
  wasmMemoryBytes: number;      // wasm memory the runtime used for this model, measured at generation; 0 = unknown
  limits?: Partial<ApiLimits>;
}

// Structural types of the bindings we use, so the entry needs no @cloudflare/workers-types.
interface R2Bucket { get(key: string): Promise<{ size: number; arrayBuffer(): Promise<ArrayBuffer> } | null> }
interface KVNamespace { get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null> }
type Env = Record<string, unknown> & { AXFORMER_MEMORY_LIMIT_MB?: string };

export function createWorker(config: WorkerConfig) {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...config.limits };
  // The per-isolate state. The engine is instantiated once. A model that cannot
  // fit stays failed for the isolate's life (retrying would only grow memory
  // again); other load failures (say, the R2 object is not uploaded yet) are
  // retried at the next request.
  let engine: Promise<Engine> | null = null;
  let loading: Promise<LoadedModel> | null = null;
  let fatal: Error | null = null;
  // Server-Timing of the request that loaded the model (the cold start). Workers
  // advance timers only across I/O, so in production these are coarse; in local
  // workerd they are real.
  let loadTimings = "";

  function memoryLimitBytes(env: Env): number {
    const raw = env.AXFORMER_MEMORY_LIMIT_MB;
    if (raw === undefined || raw === "") return ISOLATE_LIMIT_MB * MIB;
    const mb = Number(raw);
    if (!Number.isFinite(mb) || mb <= 0) throw new ApiError(500, `AXFORMER_MEMORY_LIMIT_MB must be a positive number of MiB, got "${raw}"`);
    return mb * MIB;
  }

  async function load(env: Env): Promise<LoadedModel> {
    const limit = memoryLimitBytes(env);
    const keepsFileAlive = config.model.kind === "inline";
    // Before touching the wasm memory: the size measured at generation time.
    const expected = estimateIsolateBytes(config.modelFileBytes, config.wasmMemoryBytes);
    if (expected > limit) throw doesNotFit(expected, limit, config.modelFileBytes, Math.max(config.wasmMemoryBytes, config.modelFileBytes));

    const t0 = performance.now();
    const bytes = await modelBytes(env, limit);
    const t1 = performance.now();
    engine ??= instantiate(config.wasm);
    const runtime = await engine;
    const t2 = performance.now();
    // The wasm refuses, before allocating for it, a model whose stated need
    // (docs/format.md "Resource bounds") is over the whole isolate; the finer check
    // of the real memory follows.
    const model = runtime.loadModel(bytes, { maxMemoryMb: limit / MIB });
    const t3 = performance.now();
    loadTimings = `fetch-model;dur=${(t1 - t0).toFixed(2)}, instantiate;dur=${(t2 - t1).toFixed(2)}, load;dur=${(t3 - t2).toFixed(2)}`;
    // After loading: the real wasm memory, plus the file bytes if the data module keeps them.
    const actual = model.memoryBytes() + (keepsFileAlive ? bytes.byteLength : 0) + JS_OVERHEAD_BYTES;
    if (actual > limit) throw doesNotFit(actual, limit, keepsFileAlive ? bytes.byteLength : 0, model.memoryBytes());
    return model;
  }

  function doesNotFit(need: number, limit: number, fileBytes: number, wasmBytes: number): ApiError {
    const mib = (n: number) => (n < MIB ? `${(n / 1024).toFixed(1)} KiB` : `${(n / MIB).toFixed(1)} MiB`);
    const err = new ApiError(500,
      `model ${config.name} does not fit in this Worker: it needs about ${mib(need)} ` +
      `(model file ${mib(fileBytes)} + wasm memory ${mib(wasmBytes)} + JS ${mib(JS_OVERHEAD_BYTES)}) ` +
      `but the isolate memory limit is ${mib(limit)}; use a smaller or int8 model (axformer optimize, axformer convert --int8)`);
    fatal = err;
    return err;
  }

  async function modelBytes(env: Env, limit: number): Promise<Uint8Array> {
    const src = config.model;
    if (src.kind === "inline") return new Uint8Array(src.data);
    if (src.kind === "r2") {
      const bucket = env[src.binding] as R2Bucket | undefined;
      if (!bucket) throw new ApiError(500, `R2 binding ${src.binding} is missing: add [[r2_buckets]] binding = "${src.binding}" to wrangler.toml`);
      const obj = await bucket.get(src.key);
      if (obj === null) throw new ApiError(503, `model object "${src.key}" not found in the R2 bucket bound as ${src.binding}: upload it (see README.md)`);
      const need = estimateIsolateBytes(obj.size, config.wasmMemoryBytes);
      if (need > limit) throw doesNotFit(need, limit, obj.size, Math.max(config.wasmMemoryBytes, obj.size));
      return new Uint8Array(await obj.arrayBuffer());
    }
    const kv = env[src.binding] as KVNamespace | undefined;
    if (!kv) throw new ApiError(500, `KV binding ${src.binding} is missing: add [[kv_namespaces]] binding = "${src.binding}" to wrangler.toml`);
    const data = await kv.get(src.key, "arrayBuffer");
    if (data === null) throw new ApiError(503, `model key "${src.key}" not found in the KV namespace bound as ${src.binding}: upload it (see README.md)`);
    return new Uint8Array(data);
  }

  function loaded(env: Env): Promise<LoadedModel> {
    if (fatal) return Promise.reject(fatal);
    if (!loading) {
      loading = load(env).catch((err) => {
        loading = null; // a later request retries, unless doesNotFit() set `fatal`
        throw err instanceof ApiError ? err : new ApiError(500, `cannot load model ${config.name}: ${(err as Error).message}`);
      });
    }
    return loading;
  }

  function backend(env: Env): Backend {
    return {
      async health() {
        const model = await loaded(env);
        return {
          status: "ok",
          model: config.name,
          labels: model.labels,
          num_labels: model.numLabels,
          max_len: model.maxLen,
          storage: config.model.kind,
          sizes: {
            model_file_bytes: config.modelFileBytes,
            wasm_memory_bytes: model.memoryBytes(),
            memory_limit_bytes: memoryLimitBytes(env),
          },
        };
      },
      async labels() {
        return [...(await loaded(env)).labels];
      },
      async classify(inputs: ClassifyInput[]) {
        const model = await loaded(env);
        return inputs.map(({ text, textPair }) => {
          const r = model.classify(text, textPair);
          return { label: r.label, scores: Array.from(r.scores) };
        });
      },
    };
  }

  return {
    async fetch(request: Request, env: Env): Promise<Response> {
      const cold = loading === null && fatal === null;
      const t0 = performance.now();
      const response = await handleRequest(request, backend(env), limits);
      if (cold && loadTimings) {
        response.headers.set("server-timing", `${loadTimings}, total;dur=${(performance.now() - t0).toFixed(2)}`);
        loadTimings = "";
      }
      return response;
    },
  };
}
