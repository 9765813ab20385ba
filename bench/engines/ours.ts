// The axformer runtime (build/axformer.wasm), one engine instance per model.
import { loadEngine } from "../../host/runtime/node.ts";
import type { LoadedModel } from "../../host/runtime/index.ts";
import type { Engine } from "./engine.ts";

export interface OursEngine extends Engine {
  model: LoadedModel;
}

export async function oursEngine(name: string, file: Uint8Array): Promise<OursEngine> {
  const model = (await loadEngine()).loadModel(file);
  return {
    name,
    model,
    logits: (ids, typeIds) => model.logits(ids, typeIds),
    dispose() {},
  };
}
