// onnxruntime-web, wasm backend, one thread, SIMD build, loaded from its own
// dist/ (no network): the peer the issue measures against.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-web";
import type { Engine } from "./engine.ts";

const require = createRequire(import.meta.url);
// The package's require entry lives in dist/, next to its .wasm files.
const DIST = dirname(require.resolve("onnxruntime-web")) + "/";

let configured = false;

function configure(): void {
  if (configured) return;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = pathToFileURL(DIST).href;
  ort.env.logLevel = "error";
  configured = true;
}

export const ORT_VERSION: string = JSON.parse(readFileSync(join(DIST, "..", "package.json"), "utf8")).version;

export async function ortEngine(onnx: Uint8Array): Promise<Engine> {
  configure();
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  return {
    name: "onnxruntime-web",
    async logits(ids: Int32Array, typeIds: Int32Array): Promise<Float32Array> {
      const n = ids.length;
      const feeds = {
        input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, n]),
        token_type_ids: new ort.Tensor("int64", BigInt64Array.from(typeIds, BigInt), [1, n]),
      };
      const out = await session.run(feeds);
      const logits = out.logits;
      const data = (logits.data as Float32Array).slice();
      logits.dispose();
      return data;
    },
    async dispose() {
      await session.release();
    },
  };
}
