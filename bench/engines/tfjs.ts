// TF.js with the wasm backend (XNNPACK), one thread, SIMD: the second peer.
// The graph is built from tf ops on the same weights as ours, transposed once
// to [in, out]: TF.js wasm 4.22 computes a fused matMul with transposeB and a
// bias wrongly, so no fused op here uses transposeB.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { Model } from "../../host/model/model.ts";
import type { Engine } from "./engine.ts";

const require = createRequire(import.meta.url);
// The package's main entry lives in dist/, next to its .wasm files.
const DIST = dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/";
export const TFJS_VERSION: string = JSON.parse(readFileSync(join(DIST, "..", "package.json"), "utf8")).version;

let ready: Promise<void> | null = null;

function init(): Promise<void> {
  ready ??= (async () => {
    // The SIMD build without threads; XNNPACK gets one thread.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
    setWasmPaths(DIST);
    setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("TF.js: the wasm backend did not initialise");
    await tf.ready();
  })();
  return ready;
}

interface Linear { w: tf.Tensor2D; b: tf.Tensor1D } // w: [in, out], b: [out]
interface Norm { g: tf.Tensor1D; b: tf.Tensor1D }   // [H]
interface Layer { q: Linear; k: Linear; v: Linear; o: Linear; ln1: Norm; inter: Linear; out: Linear; ln2: Norm }

export async function tfjsEngine(model: Model): Promise<Engine> {
  await init();
  const c = model.config;
  const H = c.hiddenSize, A = c.numHeads, D = c.headDim, eps = c.layerNormEps;
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(x: T): T => (owned.push(x), x);
  const get = (name: string) => {
    const t = model.tensors.get(name);
    if (!t) throw new Error(`tfjsEngine: tensor ${name} missing`);
    return t;
  };
  const vec = (name: string) => keep(tf.tensor1d(get(name).data));
  const table = (name: string) => keep(tf.tensor2d(get(name).data, get(name).shape as [number, number]));
  const linear = (prefix: string): Linear => {
    const { shape: [rows, cols], data } = get(prefix + ".weight");
    const tr = new Float32Array(rows * cols); // [in, out]
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) tr[k * rows + r] = data[r * cols + k];
    return { w: keep(tf.tensor2d(tr, [cols, rows])), b: vec(prefix + ".bias") };
  };
  const norm = (prefix: string): Norm => ({ g: vec(prefix + ".weight"), b: vec(prefix + ".bias") });

  const wordEmb = table("embeddings.word_embeddings.weight");         // [V, H]
  const posEmb = table("embeddings.position_embeddings.weight");      // [P, H]
  const typeEmb = table("embeddings.token_type_embeddings.weight");   // [T, H]
  const embLn = norm("embeddings.LayerNorm");
  const layers: Layer[] = Array.from({ length: c.numLayers }, (_, i) => {
    const p = `encoder.layer.${i}.`;
    return {
      q: linear(p + "attention.self.query"), k: linear(p + "attention.self.key"), v: linear(p + "attention.self.value"),
      o: linear(p + "attention.output.dense"), ln1: norm(p + "attention.output.LayerNorm"),
      inter: linear(p + "intermediate.dense"), out: linear(p + "output.dense"), ln2: norm(p + "output.LayerNorm"),
    };
  });
  const pooler = linear("pooler.dense"), classifier = linear("classifier");

  const dense = (x: tf.Tensor2D, l: Linear) => tf.fused.matMul({ a: x, b: l.w, bias: l.b }) as tf.Tensor2D;
  const layerNorm = (x: tf.Tensor2D, n: Norm) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), n.g), n.b) as tf.Tensor2D;
  };

  const forward = (ids: Int32Array, typeIds: Int32Array): tf.Tensor => {
    const n = ids.length;
    let x = tf.add(tf.add(tf.gather(wordEmb, tf.tensor1d(ids, "int32")), tf.gather(typeEmb, tf.tensor1d(typeIds, "int32"))),
      tf.slice(posEmb, [c.positionOffset ?? 0, 0], [n, H])) as tf.Tensor2D; // [n, H] (RoBERTa: from padding_idx + 1; the bench's ids hold no pad)
    x = layerNorm(x, embLn);
    for (const l of layers) {
      const heads = (y: tf.Tensor2D, perm: number[]) => tf.transpose(tf.reshape(y, [n, A, D]), perm) as tf.Tensor3D;
      const q = heads(dense(x, l.q), [1, 0, 2]);                     // [A, n, D]
      const k = heads(dense(x, l.k), [1, 2, 0]);                     // [A, D, n]
      const v = heads(dense(x, l.v), [1, 0, 2]);                     // [A, n, D]
      const probs = tf.softmax(tf.mul(tf.matMul(q, k), 1 / Math.sqrt(D))); // [A, n, n]
      const ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [1, 0, 2]), [n, H]) as tf.Tensor2D;
      x = layerNorm(tf.add(dense(ctx, l.o), x) as tf.Tensor2D, l.ln1);
      const h = dense(x, l.inter);                                   // [n, F]
      const gelu = tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.mul(h, Math.SQRT1_2)), 1)) as tf.Tensor2D;
      x = layerNorm(tf.add(dense(gelu, l.out), x) as tf.Tensor2D, l.ln2);
    }
    const pooled = tf.tanh(dense(tf.slice(x, [0, 0], [1, H]), pooler)) as tf.Tensor2D; // [1, H]
    return dense(pooled, classifier);                                                   // [1, C]
  };

  return {
    name: "TF.js wasm",
    logits(ids: Int32Array, typeIds: Int32Array): Float32Array {
      const out = tf.tidy(() => forward(ids, typeIds));
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data.slice();
    },
    dispose() {
      for (const t of owned) t.dispose();
    },
  };
}
