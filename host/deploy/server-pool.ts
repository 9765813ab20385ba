// Where the Node server's classifications run: in this thread (one runtime), or
// in N worker threads with one runtime each, so N requests classify in parallel.
// A batch request goes to one thread whole; the thread with the fewest pending
// jobs takes the next one.
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { loadEngine, compileRuntime } from "../runtime/node.ts";
import { reserveTextMemory, type ApiLimits, type ClassifyInput, type ClassifyOutput } from "../api/handler.ts";
import type { LoadedModel, Task } from "../runtime/index.ts";

export interface ModelInfo {
  task: Task;
  labels: string[];
  numLabels: number;
  maxLen: number;
  wasmMemoryBytes: number; // one runtime's wasm memory with the model loaded
}

export interface Pool {
  info: ModelInfo;
  threads: number; // 0: classifies on the calling thread
  classify(inputs: ClassifyInput[]): Promise<ClassifyOutput[]>;
  embed(texts: string[]): Promise<number[][]>;
  close(): Promise<void>;
}

// A job of the pool: what a thread (or this one) runs on its model.
export type Job = { kind: "classify"; inputs: ClassifyInput[] } | { kind: "embed"; texts: string[] };
type Outputs = ClassifyOutput[] | number[][];

export function runJob(model: LoadedModel, job: Job): Outputs {
  if (job.kind === "embed") return model.embed(job.texts).map((e) => Array.from(e));
  return job.inputs.map(({ text, textPair }) => {
    const r = model.classify(text, textPair);
    return { label: r.label, scores: Array.from(r.scores) };
  });
}

export function modelInfo(model: LoadedModel): ModelInfo {
  return { task: model.task, labels: [...model.labels], numLabels: model.numLabels, maxLen: model.maxLen, wasmMemoryBytes: model.memoryBytes() };
}

// Messages between the pool and server-thread.ts.
export type ToThread = { id: number; job: Job };
export type FromThread =
  | { ready: ModelInfo }
  | { loadError: string }
  | { id: number; outputs: Outputs }
  | { id: number; error: string };

// Each runtime reserves its text buffer for the longest input `limits` let
// through, so its memory is final once loaded.
export async function createPool(modelBytes: Uint8Array, threads: number, limits: ApiLimits): Promise<Pool> {
  return threads <= 1 ? inProcessPool(modelBytes, limits) : threadPool(modelBytes, threads, limits);
}

async function inProcessPool(modelBytes: Uint8Array, limits: ApiLimits): Promise<Pool> {
  const engine = await loadEngine();
  const model = engine.loadModel(modelBytes);
  reserveTextMemory(model, limits);
  return {
    // wasmMemoryBytes read live, so /health would show any growth (there should be none).
    info: { ...modelInfo(model), get wasmMemoryBytes() { return model.memoryBytes(); } },
    threads: 0,
    async classify(inputs) { return runJob(model, { kind: "classify", inputs }) as ClassifyOutput[]; },
    async embed(texts) { return runJob(model, { kind: "embed", texts }) as number[][]; },
    async close() {},
  };
}

interface Slot { worker: Worker; pending: Map<number, { resolve: (o: Outputs) => void; reject: (e: Error) => void }> }

async function threadPool(modelBytes: Uint8Array, threads: number, limits: ApiLimits): Promise<Pool> {
  // Compiled (dist/*.js), the thread is plain JS; from the sources it needs tsx's loader.
  const compiled = import.meta.url.endsWith(".js");
  const boot = fileURLToPath(new URL(compiled ? "./server-thread.js" : "./server-thread-boot.mjs", import.meta.url));
  const script = new URL("./server-thread.ts", import.meta.url).href;
  const tsxApi = compiled ? null : import.meta.resolve("tsx/esm/api");
  // Compiled once here; each thread instantiates the same module.
  const wasm = await compileRuntime();
  let nextId = 1;
  let closing = false;

  function spawn(): { slot: Slot; ready: Promise<ModelInfo> } {
    const worker = new Worker(boot, { workerData: { modelBytes, wasm, script, tsxApi, limits } });
    const slot: Slot = { worker, pending: new Map() };
    const ready = new Promise<ModelInfo>((resolve, reject) => {
      worker.on("message", (msg: FromThread) => {
        if ("ready" in msg) resolve(msg.ready);
        else if ("loadError" in msg) reject(new Error(msg.loadError));
        else {
          const job = slot.pending.get(msg.id);
          if (!job) return;
          slot.pending.delete(msg.id);
          if ("error" in msg) job.reject(new Error(msg.error));
          else job.resolve(msg.outputs);
        }
      });
      let dead = false;
      const died = (why: string) => {
        if (dead) return;
        dead = true;
        reject(new Error(`worker thread failed to start: ${why}`));
        for (const job of slot.pending.values()) job.reject(new Error(`worker thread died: ${why}`));
        slot.pending.clear();
        // Replace a thread that died while serving, so capacity stays the same.
        const i = slots.indexOf(slot);
        if (i >= 0 && !closing) {
          const fresh = spawn();
          slots[i] = fresh.slot;
          fresh.ready.catch(() => {});
        }
      };
      worker.on("error", (err) => died(err.message));
      worker.on("exit", (code) => { if (!closing) died(`exited with code ${code}`); });
    });
    return { slot, ready };
  }

  const slots: Slot[] = [];
  const started = Array.from({ length: threads }, () => spawn());
  for (const s of started) slots.push(s.slot);
  let info: ModelInfo;
  try {
    [info] = await Promise.all(started.map((s) => s.ready));
  } catch (err) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw err;
  }

  function send(job: Job): Promise<Outputs> {
    let slot = slots[0];
    for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job } satisfies ToThread);
    });
  }

  return {
    info,
    threads,
    classify: (inputs) => send({ kind: "classify", inputs }) as Promise<ClassifyOutput[]>,
    embed: (texts) => send({ kind: "embed", texts }) as Promise<number[][]>,
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
