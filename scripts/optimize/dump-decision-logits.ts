// Logits of test/helpers/confident-model.ts's model and of its first candidate (hard
// attention, K = 4, in layer 0) on its 60 rows, from the wasm runtime, for
// scripts/optimize/make_decision_fixture.py:
//   node --import tsx scripts/optimize/dump-decision-logits.ts /tmp/decision-logits.json
import { writeFileSync } from "node:fs";
import { writeModel } from "../../host/format/writer.ts";
import { setHardK } from "../../host/optimize/transforms.ts";
import { loadEngine } from "../../host/runtime/node.ts";
import { confidentCase } from "../../test/helpers/confident-model.ts";

const { model, rows } = await confidentCase();
const engine = await loadEngine();
const logitsOf = (m: typeof model) => {
  const lm = engine.loadModel(writeModel(m));
  return rows.flatMap((r) => { const t = lm.tokenize(r.text); return Array.from(lm.logits(t.inputIds, t.tokenTypeIds)); });
};
writeFileSync(process.argv[2], JSON.stringify({ labels: rows.map((r) => r.label), original: logitsOf(model), candidate: logitsOf(setHardK(model, 0, 4)) }));
