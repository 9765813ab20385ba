// Everything a model says for a list of inputs, as exact bits: f32 logits as their
// u32 bit patterns, f64 scores as their u64 bit patterns, token ids as they are.
// The same function runs in Node and, bundled with the runtime, in the browser, so
// "the browser equals Node bit for bit" is a deep equality of two probes.
//
// One entry per task: the classifier today; embedding, NER and QA models add one
// entry each (and one row in test/browser.test.ts's MODELS).
import type { LoadedModel } from "../../host/runtime/index.ts";

export type Input = string | [string, string];
export type Task = "classifier";

const hex = (n: number | bigint, w: number) => n.toString(16).padStart(w, "0");
export const f32Bits = (xs: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(xs).buffer), (b) => hex(b, 8));
export const f64Bits = (xs: ArrayLike<number>) => Array.from(new BigUint64Array(Float64Array.from(xs).buffer), (b) => hex(b, 16));

const split = (input: Input): [string, string | undefined] => (Array.isArray(input) ? [input[0], input[1]] : [input, undefined]);

export const PROBES: Record<Task, (model: LoadedModel, inputs: Input[]) => unknown> = {
  classifier(model, inputs) {
    const items = inputs.map((input) => {
      const [a, b] = split(input);
      const enc = model.tokenize(a, b);
      const c = model.classify(a, b);
      return {
        ids: enc.inputIds, types: enc.tokenTypeIds, short: model.tokenize(a, b, 8).inputIds,
        label: c.label, scores: f64Bits(c.scores), logits: f32Bits(c.logits),
        fromIds: f32Bits(model.logits(enc.inputIds, enc.tokenTypeIds)),
      };
    });
    const batch = model.classifyBatch(inputs).map((c) => ({ label: c.label, scores: f64Bits(c.scores), logits: f32Bits(c.logits) }));
    return {
      shape: { labels: model.labels, layers: model.numLayers, hidden: model.hiddenSize, maxLen: model.maxLen, vocab: model.vocabSize, problem: model.problemType },
      items, batch,
    };
  },
};

export function probe(model: LoadedModel, task: Task, inputs: Input[]): unknown {
  return PROBES[task](model, inputs);
}
