// The raw wasm ABI of build/axformer.wasm (assembly/index.ts and
// assembly/format/exports.ts document each function), the one host-side typing of
// it. Every export is a function of i32/u32 arguments returning one number; u32
// results arrive as signed i32 through raw bindings, hence the `>>> 0`s of callers.
// test/abi.test.ts checks this list against the built module's exports and the
// .d.ts asc writes beside it (build/axformer.d.ts), so a drift fails.

// Export name -> its parameters' names, as in assembly/.
export const WASM_EXPORTS = {
  error_ptr: [],
  error_len: [],
  alloc_model: ["size"],
  load_model: ["ptr", "size"],
  model_loaded: [],
  num_labels: [],
  hidden_size: [],
  num_layers: [],
  max_len: [],
  vocab_size: [],
  type_vocab_size: [],
  problem_type: [],
  temperature: [],
  task: [],
  pooled_size: [],
  label_ptr: ["i"],
  label_len: ["i"],
  text_buffer: ["size"],
  tokenize: ["lenA", "lenB", "maxLen"],
  tokenize_all: ["lenA"],
  token_offsets_ptr: [],
  all_ids_ptr: [],
  all_words_ptr: [],
  unigram_scores_ptr: [],
  charsmap_ptr: [],
  charsmap_size: [],
  ids_ptr: [],
  type_ids_ptr: [],
  logits_ptr: [],
  hidden_ptr: [],
  forward: ["n"],
  forward_batch: ["n", "b"],
  max_batch: [],
  compute_scores: ["b"],
  scores_ptr: [],
  embed: ["n"],
  run_layers: ["n", "from", "to"],
  run_head: ["n"],
  run_to_head: ["n", "from"],
  memory_bytes: [],
  set_memory_limit: ["mb"],
  // the loaded file, for host/format/read.ts
  config_word: ["i"],
  layer_field: ["i", "f"],
  vocab_count: [],
  vocab_ptr: ["i"],
  vocab_len: ["i"],
  added_token_count: [],
  added_token_entry: ["i"],
  merges_ptr: [],
  merges_size: [],
  tensor_count: [],
  tensor_name_ptr: ["i"],
  tensor_name_len: ["i"],
  tensor_dtype: ["i"],
  tensor_ndim: ["i"],
  tensor_dim: ["i", "d"],
  tensor_data_ptr: ["i"],
  tensor_scales_ptr: ["i"],
  tensor_layout: ["i"],
  meta_ptr: [],
  meta_len: [],
  name_compares: [],
  memory_needed_kb: [],
  // the relaxed build's known-answer self-test (host/runtime/simd.ts)
  simd_selftest_ptr: [],
  simd_selftest: [],
} as const;

// layer_field(i, f): which field of LAYERS record i.
export const LAYER_FIELD = { hasAttention: 0, hasFfn: 1, numHeads: 2, ffnWidth: 3, hardK: 4 } as const;

type Numbers<P extends readonly string[]> = { [K in keyof P]: number };

export type AxformerExports = { memory: WebAssembly.Memory } & {
  [K in keyof typeof WASM_EXPORTS]: (...args: Numbers<(typeof WASM_EXPORTS)[K]>) => number;
};

// The instance's exports, typed, after checking that it is this runtime's build.
export function axformerExports(instance: WebAssembly.Instance): AxformerExports {
  const x = instance.exports;
  if (!(x.memory instanceof WebAssembly.Memory)) throw new Error("not the axformer wasm: it exports no memory");
  for (const name of Object.keys(WASM_EXPORTS)) {
    if (typeof x[name] !== "function") throw new Error(`not the axformer wasm of this version: it has no export ${name}()`);
  }
  return x as unknown as AxformerExports;
}
