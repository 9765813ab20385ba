// The scores every host prints, computed here once: softmax (single-label) or
// sigmoid (multi-label) of logits / temperature, or the raw value (regression).
// Each host used to do this in its own language (JavaScript in Node, browsers and
// Workers; AssemblyScript under WASI), and engines' Math.exp differ in the last
// bit, so the same logits gave scores that differed between hosts. In the wasm the
// arithmetic is IEEE and the exp is this module's, so every host gets the same bits.
// Mirrors transformers' TextClassificationPipeline.postprocess (softmax / sigmoid
// in float64), with the calibration temperature of docs/format.md (CONFIG word 27).
import { PROBLEM_REGRESSION, PROBLEM_MULTI_LABEL } from "../format/constants";

// out[c] (f64) from logits[c] (f32) of one sequence.
export function labelScores(logits: usize, out: usize, c: u32, problemType: u32, temperature: f32): void {
  const t = <f64>temperature;
  if (problemType == PROBLEM_REGRESSION) {
    for (let i: u32 = 0; i < c; i++) store<f64>(out + (<usize>i << 3), <f64>load<f32>(logits + (<usize>i << 2)));
  } else if (problemType == PROBLEM_MULTI_LABEL) {
    for (let i: u32 = 0; i < c; i++) {
      const z = <f64>load<f32>(logits + (<usize>i << 2)) / t;
      store<f64>(out + (<usize>i << 3), 1.0 / (1.0 + Math.exp(-z)));
    }
  } else {
    let m = -Infinity;
    for (let i: u32 = 0; i < c; i++) m = max(m, <f64>load<f32>(logits + (<usize>i << 2)) / t);
    let sum: f64 = 0;
    for (let i: u32 = 0; i < c; i++) {
      const e = Math.exp(<f64>load<f32>(logits + (<usize>i << 2)) / t - m);
      store<f64>(out + (<usize>i << 3), e);
      sum += e;
    }
    for (let i: u32 = 0; i < c; i++) store<f64>(out + (<usize>i << 3), load<f64>(out + (<usize>i << 3)) / sum);
  }
}
