// `axformer/node`: the universal runtime plus what needs Node (files, threads,
// HTTP): load the shipped wasm from disk, convert Hugging Face folders, read and
// write .axf files, optimize and evaluate, serve, generate Worker projects.
//
//   import { loadModelFile } from "axformer/node";
//   const model = await loadModelFile("model.axf");
//   model.classify("a great movie")  // { label, scores, logits }
export * from "./runtime/index.ts";
export { WASM_URL, compileRuntime, loadEngine, loadModelFile } from "./runtime/node.ts";
export { convertHfDir, ConvertError, type ConvertOptions } from "./convert/index.ts";
export type { Model, ModelConfig, LayerState, Tensor, Arch, HiddenAct, TokenizerConfig } from "./model/model.ts";
export { readModel } from "./format/read.ts";
export { writeModel, validateModel } from "./format/writer.ts";
export { writeModelFile } from "./format/write-file.ts";
export { readModelFile } from "./format/read.ts";
export { optimize, evaluate, type OptimizeOptions, type EvaluateOptions, type EvaluateResult, type Summary } from "./optimize/index.ts";
export { loadDataset, parseDataset, TASKS, type Row, type Dataset, type DatasetOptions, type TaskPreset, type MetricName } from "./optimize/datasets.ts";
export { serve, type ServeOptions, type RunningServer } from "./deploy/server.ts";
export { deployWorkers, type DeployWorkersOptions, type DeployWorkersResult } from "./deploy/workers.ts";
export { handleRequest, DEFAULT_LIMITS, type ApiLimits, type Backend, type ClassifyInput, type ClassifyOutput } from "./api/handler.ts";
