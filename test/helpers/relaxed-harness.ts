// Runs test/helpers/relaxed-worker.mts on workerd (Miniflare): the plain and relaxed
// runtimes from build/ and the relaxed int8 kernels (assembly/kernels/test_exports_relaxed.ts,
// compiled here) as pre-compiled wasm modules, the Worker bundled by esbuild.
// Used by test/relaxed-simd.test.ts and scripts/check/relaxed-accuracy.ts.
import asc from "assemblyscript/asc";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELAXED_WASM_URL, WASM_URL } from "../../host/runtime/node.ts";
import { COMPATIBILITY_DATE } from "../../host/deploy/workers.ts";

async function compileRelaxedKernels(): Promise<Uint8Array> {
  const out: { wasm?: Uint8Array } = {};
  const { error, stderr } = await asc.main(
    ["assembly/kernels/test_exports_relaxed.ts", "--enable", "simd,relaxed-simd", "-O3", "--bindings", "raw", "--runtime", "incremental",
      "--outFile", "kernels.wasm", "--config", "none"],
    { writeFile: (name, contents) => { if (name.endsWith(".wasm")) out.wasm = contents as Uint8Array; } });
  if (error || !out.wasm) throw new Error(`compiling the relaxed kernels failed: ${error?.message}\n${stderr.toString()}`);
  return out.wasm;
}

export interface RelaxedWorker {
  // POSTs body as JSON to path; the parsed reply, or an error naming the status and message.
  post(path: string, body?: unknown): Promise<any>;
  dispose(): Promise<void>;
}

export async function startRelaxedWorker(): Promise<RelaxedWorker> {
  const dir = mkdtempSync(join(tmpdir(), "axf-relaxed-worker-"));
  writeFileSync(join(dir, "kernels.wasm"), await compileRelaxedKernels());
  copyFileSync(WASM_URL, join(dir, "plain.wasm"));
  copyFileSync(RELAXED_WASM_URL, join(dir, "relaxed.wasm"));
  // esbuild keeps the external paths as written ("./plain.wasm"): the modules are beside worker.js.
  await build({
    entryPoints: [new URL("./relaxed-worker.mts", import.meta.url).pathname], bundle: true, format: "esm",
    platform: "neutral", outfile: join(dir, "worker.js"), external: ["*.wasm"], logLevel: "warning",
  });
  const mf = new Miniflare({
    modules: true, scriptPath: join(dir, "worker.js"), modulesRoot: dir,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }], compatibilityDate: COMPATIBILITY_DATE,
  });
  await mf.ready;
  return {
    async post(path, body = {}) {
      const res = await mf.dispatchFetch(`http://worker${path}`, { method: "POST", body: JSON.stringify(body) });
      const json = await res.json() as any;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${json.error}`);
      return json;
    },
    async dispose() {
      await mf.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
