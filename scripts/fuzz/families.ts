// Generative mutation families (issue 10): whole sections rebuilt or whole models
// written with extreme settings, every checksum valid, aimed at the resource and
// validation bounds rather than at one field:
//   gen.config-products   configurations at the products the runtime sizes
//                         memory by (max_len x hidden, max_len x FFN width, vocab x
//                         hidden), some over the host's memory limit
//   gen.strings           VOCAB / LABELS rebuilt: duplicate tokens, one very long
//                         token, empty and odd strings (counts kept)
//   gen.tensor-entries    up to 50,000 extra tensor entries (unknown names,
//                         duplicates, layer indices past num_layers, leading zeros)
//   gen.huge-values       finite values at and past the weight bound (65504, 3.4e38)
//   gen.vocab-collisions  2^k vocabulary tokens with one FNV-1a hash (8 <= k <= 13)
//   gen.meta              META replaced: null, arrays, wrong layers, bad and huge
//                         ranges (the harness reads these with readModel)
import * as F from "../../assembly/format/constants.ts";
import { writeModel } from "../../host/format/writer.ts";
import { randomModel } from "../../test/helpers/random-model.ts";
import { collidingTokens } from "../../test/helpers/colliding-vocab.ts";
import {
  fixCrcs, readU32, writeU32, replaceSection, stringListBytes, tensorsWithExtraEntries, type Layout,
} from "./axf-layout.ts";
import type { Mutation, Rand } from "./mutate.ts";

const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[int(rand, xs.length)];
const enc = new TextEncoder();

function configProducts(_b: Uint8Array, _l: Layout, rand: Rand): Uint8Array {
  // hidden x FFN x max_position: small files, activations from a few KB to 256 MiB.
  const [hiddenSize, intermediateSize, maxPosition] = pick(rand, [
    [1, 1024, 65_536], [1, 64, 16_384], [2, 16, 4096], [4, 4096, 512], [1, 1 << 16, 64], [16, 8, 2048], [8, 16_384, 128],
  ] as const);
  const m = randomModel({ seed: int(rand, 1000), hiddenSize, numHeads: 1, intermediateSize, maxPosition, numLayers: 1, storage: pick(rand, ["f32", "f16", "int8"] as const) });
  const b = writeModel(m);
  if (rand() < 0.3) {
    // max_len moved to the edge of its range (at, below or past max_position).
    const cfg = readU32(b, F.HEADER_SIZE + F.SEC_OFFSET); // CONFIG is the writer's first section
    writeU32(b, cfg + 4 * F.CFG_MAX_LEN, pick(rand, [2, maxPosition - 1, maxPosition + 1, 1 << 16, (1 << 16) + 1]));
    fixCrcs(b);
  }
  return b;
}

function strings(b: Uint8Array, l: Layout, rand: Rand): Uint8Array {
  const kind = rand() < 0.7 ? F.SECTION_VOCAB : F.SECTION_LABELS;
  const s = l.byKind.get(kind)!;
  const count = readU32(b, s.offset);
  const list = Array.from({ length: count }, (_, i) => {
    const a = readU32(b, s.offset + 4 + 4 * i), z = readU32(b, s.offset + 8 + 4 * i);
    return b.slice(s.offset + 4 * (count + 2) + a, s.offset + 4 * (count + 2) + z);
  });
  const i = int(rand, count), j = int(rand, count);
  const r = int(rand, 4);
  if (r === 0) list[i] = list[j].slice();                                        // a duplicate (or itself)
  else if (r === 1) list[i] = enc.encode("x".repeat(pick(rand, [100, 101, 4096, 100_000])));  // a long token
  else if (r === 2) list[i] = new Uint8Array(0);                                 // an empty string
  else list[i] = enc.encode(pick(rand, ["##", "[UNK]", "[CLS]", "#", "\u00e9", "\u{1F600}", " ", "##\u00e9"]));
  return replaceSection(b, kind, stringListBytes(list));
}

function tensorEntries(b: Uint8Array, l: Layout, rand: Rand): Uint8Array {
  const extra = pick(rand, [1, 2, 16, 1000, 50_000]);
  const copyOf = int(rand, l.tensors.length);
  const base = l.tensors[copyOf].name;
  const r = int(rand, 4);
  const name = (k: number) =>
    r === 0 ? `${base}${k}`                                   // unknown names
      : r === 1 ? base                                        // duplicates
        : r === 2 ? base.replace(/layer\.\d+/, `layer.${1000 + k}`) // layers past num_layers
          : base.replace(/layer\.(\d+)/, "layer.0$1");        // leading zeros
  return replaceSection(b, F.SECTION_TENSORS, tensorsWithExtraEntries(b, l, extra, copyOf, name));
}

function hugeValues(b: Uint8Array, l: Layout, rand: Rand): Uint8Array {
  const f32 = l.tensors.filter((t) => t.dtype === F.DTYPE_F32 || t.dtype === F.DTYPE_INT8);
  const t = pick(rand, f32);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const value = pick(rand, [65504, -65504, 65505, 3.4e38, -3.4e38, 1e30, 1e6, 600]);
  const n = 1 + int(rand, 8);
  for (let k = 0; k < n; k++) {
    if (t.dtype === F.DTYPE_INT8) v.setFloat32(t.scaleOffset + 4 * int(rand, t.scaleSize / 4), value, true);
    else v.setFloat32(t.dataOffset + 4 * int(rand, t.dataSize / 4), value, true);
  }
  fixCrcs(b);
  return b;
}

function meta(b: Uint8Array, l: Layout, rand: Rand): Uint8Array {
  const L = l.byKind.get(F.SECTION_LAYERS)!.size / F.LAYER_RECORD_SIZE;
  const layers = (entry: () => unknown) => JSON.stringify({ layers: Array.from({ length: L }, entry) });
  const huge = (k: number) => Array.from({ length: k }, () => "0-16777215").join(",");
  const json = pick(rand, [
    () => "null", () => "[]", () => "7", () => '"meta"', () => "{", () => '{"layers": null}', () => '{"layers": {}}',
    () => JSON.stringify({ layers: [] }), () => layers(() => null), () => layers(() => ({ heads: 1 })),
    () => layers(() => ({ heads: [0, 0] })), () => layers(() => ({ heads: [-1] })), () => layers(() => ({ ffnNeurons: 5 })),
    () => layers(() => ({ ffnNeurons: "5-1" })), () => layers(() => ({ ffnNeurons: "a" })), () => layers(() => ({ ffnNeurons: "0-1,1-2" })),
    () => layers(() => ({ ffnNeurons: huge(64) })), () => layers(() => ({ ffnNeurons: "0-4294967295" })),
    () => layers(() => ({ ffnNeurons: "1e9" })), () => layers(() => ({})), () => JSON.stringify({ x: "y".repeat(10_000) }),
  ])();
  return replaceSection(b, F.SECTION_META, enc.encode(json));
}

// Vocabularies crafted against a 32-bit FNV-1a table (the runtime's old lookup,
// quadratic to build on them): 2^k tokens with one hash, some with a "##" prefix,
// in a model that is otherwise valid (gen.strings covers repeated tokens).
// Computed once per k.
const collisionSets = new Map<number, string[]>();
function vocabCollisions(_b: Uint8Array, _l: Layout, rand: Rand): Uint8Array {
  const k = pick(rand, [8, 10, 12, 13]);
  if (!collisionSets.has(k)) collisionSets.set(k, collidingTokens(k));
  const words = collisionSets.get(k)!.map((t) => (rand() < 0.1 ? "##" + t : t));
  return writeModel(randomModel({ seed: int(rand, 1000), words, storage: pick(rand, ["f32", "f16", "int8"] as const) }));
}

const FAMILIES = [
  ["gen.config-products", configProducts], ["gen.strings", strings], ["gen.tensor-entries", tensorEntries],
  ["gen.huge-values", hugeValues], ["gen.meta", meta], ["gen.vocab-collisions", vocabCollisions],
] as const;

// One generative mutation of a copy of `seed` (or a fresh model for gen.config-products).
export function generate(seed: Uint8Array, layout: Layout, rand: Rand): Mutation {
  const [kind, f] = pick(rand, FAMILIES);
  return { bytes: f(seed.slice(), layout, rand), kind };
}
