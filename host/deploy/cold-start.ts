// Cold start of the Worker in workerd, through Miniflare:
//
//   node --import tsx host/deploy/cold-start.ts <model.axf> [--runs 5] [--json]
//
// Generates the Worker project for the model, bundles it with wrangler (offline),
// then, for each run, starts a fresh workerd and sends two classify requests:
//   startup     new Miniflare() until ready (workerd process + script compile)
//   first       the first request: instantiate + model load + first inference
//   warm        the second request, for comparison
// plus the Worker's own Server-Timing of the first request (instantiate, load).
// Medians over the runs are printed.
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { Miniflare } from "miniflare";
import { deployWorkers, miniflareOptions, type DeployWorkersOptions } from "./workers.ts";

export interface ColdStart {
  model: string;
  modelFileBytes: number;
  storage: string;
  bundleKiB: number;
  runs: number;
  startupMs: number;
  firstRequestMs: number;
  warmRequestMs: number;
  workerTiming: Record<string, number>; // Server-Timing of the first request, ms
}

// Miniflare types its bindings with @cloudflare/workers-types, which we do not install.
type Store = { put(key: string, value: Uint8Array | ArrayBuffer): Promise<unknown> };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The Worker project of a model, generated and bundled by wrangler (offline) into
// <dir>/worker/dist: what Miniflare runs (cold starts here, the bench's workerd timing).
export async function bundleWorker(modelPath: string, dir: string, opts: DeployWorkersOptions = {}) {
  const project = join(dir, "worker");
  const gen = await deployWorkers(modelPath, project, { measure: false, storage: "auto", maxBundleMb: 10, ...opts });
  const wrangler = join(createRequire(import.meta.url).resolve("wrangler/package.json"), "../bin/wrangler.js");
  const dist = join(project, "dist");
  const { stdout } = await promisify(execFile)(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", dist], {
    cwd: project, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
  });
  const size = /Total Upload:\s*([\d.]+)\s*KiB/.exec(stdout);
  return { gen, project, dist, bundleKiB: size ? Number(size[1]) : NaN };
}

export async function measureColdStart(modelPath: string, runs = 5): Promise<ColdStart> {
  const dir = await mkdtemp(join(tmpdir(), "axformer-coldstart-"));
  try {
    const { gen, project, dist, bundleKiB } = await bundleWorker(modelPath, dir);
    const modelBytes = gen.storage === "inline" ? null : new Uint8Array(await readFile(join(project, "model", gen.files.find((f) => f.startsWith("model/"))!.slice(6))));
    const key = modelPath.split(/[\\/]/).pop()!;

    const startup: number[] = [], first: number[] = [], warm: number[] = [];
    const timings: Record<string, number[]> = {};
    const body = JSON.stringify({ text: "the film was a great deal better than I expected" });
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const mf = new Miniflare({
        ...miniflareOptions(dist),
        r2Buckets: gen.storage === "r2" ? ["MODEL_BUCKET"] : [],
        kvNamespaces: gen.storage === "kv" ? ["MODEL_KV"] : [],
      });
      try {
        await mf.ready;
        const t1 = performance.now();
        if (modelBytes && gen.storage === "r2") await ((await mf.getR2Bucket("MODEL_BUCKET")) as unknown as Store).put(key, modelBytes);
        if (modelBytes && gen.storage === "kv") await ((await mf.getKVNamespace("MODEL_KV")) as unknown as Store).put(key, modelBytes.slice().buffer);
        const t2 = performance.now();
        const r1 = await mf.dispatchFetch("http://worker/classify", { method: "POST", body });
        await r1.text();
        const t3 = performance.now();
        if (r1.status !== 200) throw new Error(`first request: HTTP ${r1.status}`);
        const r2 = await mf.dispatchFetch("http://worker/classify", { method: "POST", body });
        await r2.text();
        const t4 = performance.now();
        startup.push(t1 - t0);
        first.push(t3 - t2);
        warm.push(t4 - t3);
        for (const part of (r1.headers.get("server-timing") ?? "").split(",")) {
          const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
          if (m) (timings[m[1]] ??= []).push(Number(m[2]));
        }
      } finally {
        await mf.dispose();
      }
    }
    return {
      model: key,
      modelFileBytes: gen.modelFileBytes,
      storage: gen.storage,
      bundleKiB,
      runs,
      startupMs: median(startup),
      firstRequestMs: median(first),
      warmRequestMs: median(warm),
      workerTiming: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, median(v)])),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const model = args.find((a) => !a.startsWith("--"));
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  if (!model || !Number.isInteger(runs) || runs < 1) {
    process.stderr.write("usage: node --import tsx host/deploy/cold-start.ts <model.axf> [--runs N] [--json]\n");
    process.exit(2);
  }
  const r = await measureColdStart(model, runs);
  if (args.includes("--json")) {
    process.stdout.write(JSON.stringify(r) + "\n");
  } else {
    const f = (x: number) => `${x.toFixed(1)} ms`;
    process.stdout.write(
      `${r.model} (${(r.modelFileBytes / 1024).toFixed(0)} KiB, ${r.storage}, bundle ${r.bundleKiB} KiB), median of ${r.runs} fresh workerd:\n` +
      `  workerd start + script load  ${f(r.startupMs)}\n` +
      `  first request (cold)         ${f(r.firstRequestMs)}   in the Worker: ${Object.entries(r.workerTiming).map(([k, v]) => `${k} ${f(v)}`).join(", ")}\n` +
      `  second request (warm)        ${f(r.warmRequestMs)}\n`);
  }
}
