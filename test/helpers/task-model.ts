// randomModel's weights with another head (tests and bench): a sentence-transformers embedding
// model (mean pooling, normalised), a token classifier (the classifier on every token, no
// pooler) or an extractive QA model (qa_outputs [2, H]). Same options -> the same model.
import type { Model } from "../../host/model/model.ts";
import { expectedTensors } from "../../host/model/tensors.ts";
import { prng } from "./random-model.ts";

export function withTask(m: Model, task: "embedding" | "token-classification" | "question-answering", seed = 7): Model {
  const H = m.config.hiddenSize;
  const config = task === "embedding"
    ? { ...m.config, task, numLabels: 0, hasPooler: false, pooling: ["mean" as const], normalize: true }
    : { ...m.config, task, numLabels: task === "question-answering" ? 2 : m.config.numLabels, hasPooler: false };
  const tensors = new Map(m.tensors);
  for (const name of [...tensors.keys()]) {
    if (name.startsWith("pooler.") || (task !== "token-classification" && name.startsWith("classifier."))) tensors.delete(name);
  }
  if (task === "question-answering") {
    const r = prng(seed), a = Math.sqrt(3 / H);
    tensors.set("qa_outputs.weight", { shape: [2, H], data: Float32Array.from({ length: 2 * H }, () => (2 * r() - 1) * a), storage: "f32" });
    tensors.set("qa_outputs.bias", { shape: [2], data: Float32Array.from({ length: 2 }, () => (2 * r() - 1) * 0.1), storage: "f32" });
  }
  const labels = task === "embedding" ? [] : task === "question-answering" ? m.labels.slice(0, 2) : m.labels;
  const out = { ...m, config, tensors, labels } as Model;
  const want = expectedTensors(out.config, out.layers).map((s) => s.name).sort();
  const have = [...out.tensors.keys()].sort();
  if (JSON.stringify(want) !== JSON.stringify(have)) throw new Error(`withTask ${task}: tensors ${have.join(",")} but the table wants ${want.join(",")}`);
  return out;
}
