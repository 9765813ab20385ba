// What a model costs inside a Worker isolate, which has 128 MB for everything.
// Shared by the generator (to refuse a model that cannot fit, before deploying)
// and the Worker (to refuse it with a message instead of being killed).

export const MIB = 1024 * 1024;
export const ISOLATE_LIMIT_MB = 128;

// The JS side of the isolate: the bundled code, the API's objects, request
// buffers. Measured in workerd at well under this; kept generous on purpose.
export const JS_OVERHEAD_BYTES = 8 * MIB;

// The model file is held twice at the peak: once as the bytes the platform gives
// us (the data module stays alive; an R2/KV body lives until loading ends) and once
// inside wasm memory, where the runtime uses the weights in place.
// `wasmMemoryBytes` is the runtime's memory with the model loaded (0: unknown,
// then at least the file itself).
export function estimateIsolateBytes(fileBytes: number, wasmMemoryBytes: number): number {
  return fileBytes + Math.max(wasmMemoryBytes, fileBytes) + JS_OVERHEAD_BYTES;
}
