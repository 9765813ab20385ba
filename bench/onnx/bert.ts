// A BERT sequence classifier as an ONNX model (opset 17), with the weights of an
// in-memory Model as initializers: the graph a Hugging Face export produces for
// batch 1 and no attention mask, so onnxruntime's optimizer finds its usual
// patterns (LayerNormalization, Erf-GELU, MatMul + Add).
//
//   inputs:  input_ids, token_type_ids   int64[1, seq]
//   output:  logits                      f32[1, num_labels]
//
// Linear weights are stored transposed, [in, out], as MatMul wants them.
// Dense BERT only (every layer with all its heads and FFN neurons), or the same graph
// with RoBERTa's positions (below).

import type { Model, Tensor } from "../../host/model/model.ts";
import { Msg } from "./proto.ts";

const FLOAT = 1, INT64 = 7;                 // TensorProto.DataType
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS = 7; // AttributeProto.AttributeType

type Attr = { name: string; f?: number; i?: number; ints?: number[] };

class Graph {
  readonly nodes: Msg[] = [];
  readonly initializers: Msg[] = [];
  private count = 0;

  // Adds a node and returns the name of its (single) output.
  op(opType: string, inputs: string[], attrs: Attr[] = [], out?: string): string {
    const output = out ?? `${opType.toLowerCase()}_${this.count++}`;
    const node = new Msg();
    for (const i of inputs) node.string(1, i);
    node.string(2, output).string(3, output).string(4, opType);
    for (const a of attrs) {
      const attr = new Msg().string(1, a.name);
      if (a.f !== undefined) attr.float(2, a.f).int(20, ATTR_FLOAT);
      else if (a.i !== undefined) attr.int(3, a.i).int(20, ATTR_INT);
      else attr.packedInts(8, a.ints!).int(20, ATTR_INTS);
      node.msg(5, attr);
    }
    this.nodes.push(node);
    return output;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push(new Msg().packedInts(1, dims).int(2, FLOAT).string(8, name).bytes(9, raw));
    return name;
  }

  int64s(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map(BigInt));
    const raw = new Uint8Array(data.buffer);
    this.initializers.push(new Msg().packedInts(1, [values.length]).int(2, INT64).string(8, name).bytes(9, raw));
    return name;
  }

  int64Scalar(name: string, value: number): string {
    const raw = new Uint8Array(BigInt64Array.of(BigInt(value)).buffer);
    this.initializers.push(new Msg().int(2, INT64).string(8, name).bytes(9, raw));
    return name;
  }

  scalar(name: string, value: number): string {
    const raw = new Uint8Array(Float32Array.of(value).buffer);
    this.initializers.push(new Msg().int(2, FLOAT).string(8, name).bytes(9, raw));
    return name;
  }
}

// What the graph outputs: the classifier's logits (as above); `embedding`: mean pooling over
// the tokens then L2 normalisation, f32[batch, H] "sentence_embedding" (a sentence-transformers
// model without padding); `hidden`: the last hidden state f32[batch, seq, H] "last_hidden_state"
// (what transformers.js' feature-extraction pipeline pools itself); `span`: qa_outputs on every
// token, "start_logits" and "end_logits" f32[batch, seq]. The batch dimension is free.
export type OnnxHead = "classifier" | "embedding" | "hidden" | "span";

export function bertToOnnx(model: Model, head: OnnxHead = "classifier"): Uint8Array {
  const c = model.config;
  const roberta = c.arch === "roberta" && (c.positionOffset ?? 0) > 0;
  if ((c.arch !== "bert" && !roberta) || (head === "classifier" && !c.hasPooler)) {
    throw new Error("bertToOnnx: only BERT or RoBERTa (with a pooler / dense + tanh head for the classifier)");
  }
  if (c.hiddenAct !== "gelu") throw new Error(`bertToOnnx: hidden_act ${c.hiddenAct}; only exact (erf) gelu`);
  const H = c.hiddenSize, A = c.numHeads, D = c.headDim, eps = c.layerNormEps;
  const g = new Graph();
  const t = (name: string): Tensor => {
    const x = model.tensors.get(name);
    if (!x) throw new Error(`bertToOnnx: tensor ${name} missing`);
    return x;
  };
  const vec = (name: string) => g.floats(name, t(name).shape, t(name).data);
  const table = (name: string) => g.floats(name, t(name).shape, t(name).data);
  // [out, in] -> [in, out]
  const linearT = (name: string) => {
    const { shape: [rows, cols], data } = t(name);
    const tr = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) tr[k * rows + r] = data[r * cols + k];
    return g.floats(name, [cols, rows], tr);
  };
  const linear = (x: string, prefix: string) => g.op("Add", [g.op("MatMul", [x, linearT(prefix + ".weight")]), vec(prefix + ".bias")]);
  const layerNorm = (x: string, prefix: string) =>
    g.op("LayerNormalization", [x, vec(prefix + ".weight"), vec(prefix + ".bias")], [{ name: "axis", i: -1 }, { name: "epsilon", f: eps }]);

  const headsShape = g.int64s("heads_shape", [0, 0, A, D]); // [1, seq, H] -> [1, seq, A, D]
  const mergedShape = g.int64s("merged_shape", [0, 0, H]);
  const sqrtD = g.scalar("sqrt_head_dim", Math.sqrt(D));
  const sqrt2 = g.scalar("sqrt_2", Math.SQRT2), one = g.scalar("one", 1), half = g.scalar("half", 0.5);

  // Embeddings: word + token type + position, then LayerNorm.   x: [1, seq, H]
  // RoBERTa: create_position_ids_from_input_ids inside the graph, as Hugging Face's ONNX
  // export traces it: mask = ids != padding_idx, positions = cumsum(mask) * mask + padding_idx.
  // https://github.com/huggingface/transformers/blob/main/src/transformers/models/roberta/modeling_roberta.py
  const positions = roberta
    ? (() => {
      const pad = g.int64s("padding_idx", [c.positionOffset! - 1]);
      const mask = g.op("Cast", [g.op("Not", [g.op("Equal", ["input_ids", pad])])], [{ name: "to", i: INT64 }]); // [1, seq]
      const ids = g.op("Add", [g.op("Mul", [g.op("CumSum", [mask, g.int64Scalar("seq_axis", 1)]), mask]), pad]);
      return g.op("Gather", [table("embeddings.position_embeddings.weight"), ids]); // [1, seq, H]
    })()
    : (() => {
      const zero = g.int64s("zero", [0]);
      const seqLen = g.op("Shape", ["input_ids"], [{ name: "start", i: 1 }, { name: "end", i: 2 }]); // [1]
      return g.op("Slice", [table("embeddings.position_embeddings.weight"), zero, seqLen, zero]); // [seq, H]
    })();
  let x = g.op("Add", [
    g.op("Add", [
      g.op("Gather", [table("embeddings.word_embeddings.weight"), "input_ids"]),
      g.op("Gather", [table("embeddings.token_type_embeddings.weight"), "token_type_ids"]),
    ]),
    positions,
  ]);
  x = layerNorm(x, "embeddings.LayerNorm");

  for (let i = 0; i < c.numLayers; i++) {
    const p = `encoder.layer.${i}.`;
    const st = model.layers[i];
    if (!st.hasAttention || !st.hasFfn || st.heads.length !== A || st.ffnNeurons.length !== c.intermediateSize || st.hardK) {
      throw new Error(`bertToOnnx: layer ${i} is not dense`);
    }
    const heads = (y: string, perm: number[]) => g.op("Transpose", [g.op("Reshape", [y, headsShape])], [{ name: "perm", ints: perm }]);
    const q = heads(linear(x, p + "attention.self.query"), [0, 2, 1, 3]); // [1, A, seq, D]
    const k = heads(linear(x, p + "attention.self.key"), [0, 2, 3, 1]);   // [1, A, D, seq]
    const v = heads(linear(x, p + "attention.self.value"), [0, 2, 1, 3]); // [1, A, seq, D]
    const scores = g.op("Div", [g.op("MatMul", [q, k]), sqrtD]);          // [1, A, seq, seq]
    const probs = g.op("Softmax", [scores], [{ name: "axis", i: -1 }]);
    const ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], [{ name: "perm", ints: [0, 2, 1, 3] }]); // [1, seq, A, D]
    const attn = linear(g.op("Reshape", [ctx, mergedShape]), p + "attention.output.dense");             // [1, seq, H]
    x = layerNorm(g.op("Add", [attn, x]), p + "attention.output.LayerNorm");

    const inter = linear(x, p + "intermediate.dense"); // [1, seq, F]
    // x * 0.5 * (1 + erf(x / sqrt 2)), in the order of the PyTorch export
    const gelu = g.op("Mul", [g.op("Mul", [inter, g.op("Add", [g.op("Erf", [g.op("Div", [inter, sqrt2])]), one])]), half]);
    x = layerNorm(g.op("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm");
  }

  const outputs: Msg[] = [];
  if (head === "classifier") {
    const cls = g.op("Gather", [x, g.int64s("cls_index", [0])], [{ name: "axis", i: 1 }]); // [1, 1, H]
    const pooled = g.op("Tanh", [linear(cls, "pooler.dense")]);
    const logits = g.op("Reshape", [linear(pooled, "classifier"), g.int64s("logits_shape", [1, c.numLabels])], [], "logits");
    outputs.push(valueInfo(logits, FLOAT, [1, c.numLabels]));
  } else if (head === "embedding") {
    const mean = g.op("ReduceMean", [x], [{ name: "axes", ints: [1] }, { name: "keepdims", i: 0 }]); // [batch, H]
    const out = g.op("LpNormalization", [mean], [{ name: "axis", i: -1 }, { name: "p", i: 2 }], "sentence_embedding");
    outputs.push(valueInfo(out, FLOAT, ["batch", H]));
  } else if (head === "hidden") {
    outputs.push(valueInfo(g.op("Identity", [x], [], "last_hidden_state"), FLOAT, ["batch", "seq", H]));
  } else {
    const span = linear(x, "qa_outputs"); // [batch, seq, 2]
    const seqShape = g.int64s("span_shape", [0, 0]);
    for (const [k, name] of [[0, "start_logits"], [1, "end_logits"]] as const) {
      const part = g.op("Gather", [span, g.int64s(`${name}_index`, [k])], [{ name: "axis", i: 2 }]); // [batch, seq, 1]
      outputs.push(valueInfo(g.op("Reshape", [part, seqShape], [], name), FLOAT, ["batch", "seq"]));
    }
  }

  const graph = new Msg();
  for (const n of g.nodes) graph.msg(1, n);
  graph.string(2, "bert");
  for (const init of g.initializers) graph.msg(5, init);
  graph.msg(11, valueInfo("input_ids", INT64, [head === "classifier" ? 1 : "batch", "seq"]));
  graph.msg(11, valueInfo("token_type_ids", INT64, [head === "classifier" ? 1 : "batch", "seq"]));
  for (const o of outputs) graph.msg(12, o);

  const onnx = new Msg()
    .int(1, 8) // IR version 8 goes with opset 17
    .string(2, "axformer-bench")
    .msg(7, graph)
    .msg(8, new Msg().string(1, "").int(2, 17));
  if (onnx.length >= 2 ** 31) throw new Error(`bertToOnnx: ${onnx.length} bytes is over protobuf's 2 GB limit`);
  return onnx.finish();
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === "number" ? new Msg().int(1, d) : new Msg().string(2, d));
  const tensorType = new Msg().int(1, elemType).msg(2, shape);
  return new Msg().string(1, name).msg(2, new Msg().msg(1, tensorType));
}
