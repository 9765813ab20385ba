// The optimizer's evaluator writes every candidate with a cache of encoded tensors
// (host/format/writer.ts WriteOptions.cache): the files must be byte for byte what
// a fresh writeModel gives, whatever the candidates share, in every storage and
// layout, and a tensor the cache has not seen must still be checked.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel, type WriteCache } from "../host/format/writer.ts";
import type { Model } from "../host/model/model.ts";
import { removeAttentionBlock, removeFfnBlock, removeFfnGroup, removeHead, setHardK, setLayerStorage } from "../host/optimize/transforms.ts";
import { randomModel } from "./helpers/random-model.ts";

const SHAPE = { hiddenSize: 24, numHeads: 3, intermediateSize: 36, numLayers: 3, maxPosition: 20 };

test("cached writes equal fresh writes along a chain of candidates (f32, f16, int8; panels and rows)", () => {
  const base = randomModel({ ...SHAPE, seed: 5, storage: (name) => name.startsWith("embeddings.word") ? "f16" : "f32" });
  for (const layout of ["panels", "rows"] as const) {
    const cache: WriteCache = new WeakMap();
    let m: Model = base;
    const steps: Array<(m: Model) => Model> = [
      (x) => x, (x) => setHardK(x, 0, 4), (x) => removeHead(x, 2, 1), (x) => removeFfnGroup(x, 2, 5),
      (x) => setLayerStorage(x, 1, "int8"), (x) => removeHead(x, 1, 0), (x) => removeFfnBlock(x, 1),
      (x) => removeAttentionBlock(x, 0), (x) => setLayerStorage(x, 2, "int8"), (x) => removeFfnGroup(x, 2, 0),
    ];
    for (const [k, step] of steps.entries()) {
      const next = step(m);
      // Every other candidate is "accepted": the chain builds on it, as the search does.
      const cached = writeModel(next, { layout, cache, shared: k % 2 === 0 });
      assert.equal(cached, writeModel(next, { layout }), `${layout} step ${k}`);
      assert.is(cached.buffer instanceof SharedArrayBuffer, k % 2 === 0);
      if (k % 2 === 1) m = next;
    }
  }
});

test("a file written into a lent buffer (dirty, larger) equals a fresh write", () => {
  const m = randomModel({ seed: 8, numLayers: 2 });
  const fresh = writeModel(m);
  const lent = new SharedArrayBuffer(fresh.length + 1000);
  new Uint8Array(lent).fill(0xa5); // the old file's bytes
  const out = writeModel(m, { alloc: (size) => new Uint8Array(lent, 0, size).fill(0) });
  assert.is(out.buffer, lent);
  assert.equal(out, fresh);
  // A buffer of the wrong size is refused, not written past.
  assert.throws(() => writeModel(m, { alloc: (size) => new Uint8Array(size - 1) }), /internal: a buffer of/);
});

test("a tensor the cache has not seen is checked: a NaN weight in a new candidate is refused", () => {
  const cache: WriteCache = new WeakMap();
  const m = randomModel({ ...SHAPE, seed: 6 });
  writeModel(m, { cache });
  const bad = removeHead(m, 0, 2);
  const name = "encoder.layer.0.attention.self.query.weight";
  bad.tensors.get(name)!.data[3] = NaN; // a new tensor of the transform: the cache has not seen it
  assert.throws(() => writeModel(bad, { cache }), (e: Error) => e.message.includes(name) && e.message.includes("NaN"));
});

test.run();
