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
import { handleRequest, reserveTextMemory, ApiError, DEFAULT_LIMITS, type ApiLimits, type Backend, type ClassifyInput } from "../../api/handler.ts";
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
  const isolate = new IsolateModel(config, limits);
  return {
    async fetch(request: Request, env: Env): Promise<Response> {
      const cold = isolate.isCold();
      const t0 = performance.now();
      const response = await handleRequest(request, isolate.backend(env), limits);
      const timings = cold ? isolate.takeLoadTimings() : "";
      if (timings) response.headers.set("server-timing", `${timings}, total;dur=${(performance.now() - t0).toFixed(2)}`);
      return response;
    },
  };
}

function memoryLimitBytes(env: Env): number {
  const raw = env.AXFORMER_MEMORY_LIMIT_MB;
  if (raw === undefined || raw === "") return ISOLATE_LIMIT_MB * MIB;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb <= 0) throw new ApiError(500, `AXFORMER_MEMORY_LIMIT_MB must be a positive number of MiB, got "${raw}"`);
  return mb * MIB;
}

const mib = (n: number) => (n < MIB ? `${(n / 1024).toFixed(1)} KiB` : `${(n / MIB).toFixed(1)} MiB`);

// The per-isolate state. The engine is instantiated once. A model that cannot fit
// stays failed for the isolate's life (retrying would only grow memory again);
// other load failures (say, the R2 object is not uploaded yet) are retried at the
// next request.
class IsolateModel {
  private engine: Promise<Engine> | null = null;
  private loading: Promise<LoadedModel> | null = null;
  private fatal: Error | null = null;
  // Server-Timing of the request that loaded the model (the cold start). Workers
  // advance timers only across I/O, so in production these are coarse; in local
  // workerd they are real.
  private loadTimings = "";

  constructor(private readonly config: WorkerConfig, private readonly limits: ApiLimits) {}

  isCold(): boolean { return this.loading === null && this.fatal === null; }

  takeLoadTimings(): string {
    const t = this.loadTimings;
    this.loadTimings = "";
    return t;
  }

  loaded(env: Env): Promise<LoadedModel> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (!this.loading) {
      this.loading = this.load(env).catch((err) => {
        this.loading = null; // a later request retries, unless doesNotFit() set `fatal`
        throw err instanceof ApiError ? err : new ApiError(500, `cannot load model ${this.config.name}: ${(err as Error).message}`);
      });
    }
    return this.loading;
  }

  // Check the measured need, fetch the bytes, instantiate, load, reserve the text
  // buffer for the largest input the limits allow, then check the real memory.
  private async load(env: Env): Promise<LoadedModel> {
    const limit = memoryLimitBytes(env);
    const { modelFileBytes, wasmMemoryBytes } = this.config;
    // Before touching the wasm memory: the size measured at generation time.
    const expected = estimateIsolateBytes(modelFileBytes, wasmMemoryBytes);
    if (expected > limit) throw this.doesNotFit(expected, limit, modelFileBytes, Math.max(wasmMemoryBytes, modelFileBytes));

    const t0 = performance.now();
    const bytes = await this.modelBytes(env, limit);
    const t1 = performance.now();
    this.engine ??= instantiate(this.config.wasm);
    const runtime = await this.engine;
    const t2 = performance.now();
    // The wasm refuses, before allocating for it, a model whose stated need
    // (docs/format.md "Resource bounds") is over the whole isolate; the finer check
    // of the real memory follows.
    const model = runtime.loadModel(bytes, { maxMemoryMb: limit / MIB });
    reserveTextMemory(model, this.limits);
    const t3 = performance.now();
    this.loadTimings = `fetch-model;dur=${(t1 - t0).toFixed(2)}, instantiate;dur=${(t2 - t1).toFixed(2)}, load;dur=${(t3 - t2).toFixed(2)}`;
    this.checkLoaded(model, bytes, limit);
    return model;
  }

  // After loading: the real wasm memory (final: no request grows it), plus the file
  // bytes if the data module keeps them.
  private checkLoaded(model: LoadedModel, bytes: Uint8Array, limit: number): void {
    const fileBytes = this.config.model.kind === "inline" ? bytes.byteLength : 0;
    const actual = model.memoryBytes() + fileBytes + JS_OVERHEAD_BYTES;
    if (actual > limit) throw this.doesNotFit(actual, limit, fileBytes, model.memoryBytes());
  }

  private doesNotFit(need: number, limit: number, fileBytes: number, wasmBytes: number): ApiError {
    const err = new ApiError(500,
      `model ${this.config.name} does not fit in this Worker: it needs about ${mib(need)} ` +
      `(model file ${mib(fileBytes)} + wasm memory ${mib(wasmBytes)} + JS ${mib(JS_OVERHEAD_BYTES)}) ` +
      `but the isolate memory limit is ${mib(limit)}; use a smaller or int8 model (axformer optimize, axformer convert --int8)`);
    this.fatal = err;
    return err;
  }

  private async modelBytes(env: Env, limit: number): Promise<Uint8Array> {
    const src = this.config.model;
    if (src.kind === "inline") return new Uint8Array(src.data);
    if (src.kind === "r2") {
      const bucket = env[src.binding] as R2Bucket | undefined;
      if (!bucket) throw new ApiError(500, `R2 binding ${src.binding} is missing: add [[r2_buckets]] binding = "${src.binding}" to wrangler.toml`);
      const obj = await bucket.get(src.key);
      if (obj === null) throw new ApiError(503, `model object "${src.key}" not found in the R2 bucket bound as ${src.binding}: upload it (see README.md)`);
      const need = estimateIsolateBytes(obj.size, this.config.wasmMemoryBytes);
      if (need > limit) throw this.doesNotFit(need, limit, obj.size, Math.max(this.config.wasmMemoryBytes, obj.size));
      return new Uint8Array(await obj.arrayBuffer());
    }
    const kv = env[src.binding] as KVNamespace | undefined;
    if (!kv) throw new ApiError(500, `KV binding ${src.binding} is missing: add [[kv_namespaces]] binding = "${src.binding}" to wrangler.toml`);
    const data = await kv.get(src.key, "arrayBuffer");
    if (data === null) throw new ApiError(503, `model key "${src.key}" not found in the KV namespace bound as ${src.binding}: upload it (see README.md)`);
    return new Uint8Array(data);
  }

  backend(env: Env): Backend {
    const { config, limits } = this;
    return {
      health: async () => {
        const model = await this.loaded(env);
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
          limits: { max_body_bytes: limits.maxBodyBytes, max_texts: limits.maxTexts, max_text_chars: limits.maxTextChars },
        };
      },
      labels: async () => [...(await this.loaded(env)).labels],
      task: async () => (await this.loaded(env)).task,
      embed: async (texts: string[]) => (await this.loaded(env)).embed(texts).map((e) => Array.from(e)),
      classify: async (inputs: ClassifyInput[]) => {
        const model = await this.loaded(env);
        return inputs.map(({ text, textPair }) => {
          const r = model.classify(text, textPair);
          return { label: r.label, scores: Array.from(r.scores) };
        });
      },
    };
  }
}
