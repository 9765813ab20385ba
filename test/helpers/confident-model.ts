// A model whose val rows are very confident (its classifier weights scaled by 20),
// and rows labelled by its own prediction except about 15% flipped (confidently
// wrong): the situation where float32 and float64 per-row losses give the strict
// test different counts. Used by test/optimize-loss.test.ts and by
// scripts/optimize/dump-decision-logits.ts (which feeds PyTorch for the fixture).
import type { Row } from "../../host/optimize/datasets.ts";
import { writeModel } from "../../host/format/writer.ts";
import type { Model } from "../../host/model/model.ts";
import { loadEngine } from "../../host/runtime/node.ts";
import { prng, randomModel } from "./random-model.ts";

const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this"];

export async function confidentCase(): Promise<{ model: Model; rows: Row[] }> {
  const model = randomModel({ hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 2, seed: 1 });
  const w = model.tensors.get("classifier.weight")!;
  for (let i = 0; i < w.data.length; i++) w.data[i] *= 20;
  const r = prng(101);
  const texts = Array.from({ length: 60 }, () => Array.from({ length: 2 + Math.floor(r() * 10) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" "));
  const lm = (await loadEngine()).loadModel(writeModel(model));
  const rows = texts.map((text, i) => {
    const t = lm.tokenize(text);
    const z = lm.logits(t.inputIds, t.tokenTypeIds);
    const pred = z[1] > z[0] ? 1 : 0;
    return { text, pair: null, label: r() < 0.15 ? 1 - pred : pred, line: i + 1 };
  });
  return { model, rows };
}
