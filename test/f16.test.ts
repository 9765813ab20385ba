// The host's f16 codec (host/format/f16.ts) against hand-derived IEEE 754 binary16
// bit patterns: sign, exponent bias 15, 10 fraction bits, subnormals in units of 2^-24.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { f16ArrayToF32, f16FromF32Bits, f16ToF32 } from "../host/format/f16.ts";

const bitsOf = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];
const enc = (x: number) => f16FromF32Bits(bitsOf(x));

test("f16 -> f32: hand-derived values", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],              // exponent 15 = 2^0
    [0xc000, -2],             // sign, exponent 16
    [0x3555, 1365 / 4096],    // (1024 + 341) / 1024 * 2^-2 = 0.333251953125
    [0x7bff, 65504],          // (2 - 2^-10) * 2^15, the largest finite
    [0x0400, 2 ** -14],       // the smallest normal
    [0x0001, 2 ** -24],       // the smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // the largest subnormal
    [0x8001, -(2 ** -24)],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [h, v] of cases) assert.is(f16ToF32(h), v, `0x${h.toString(16)}`);
  assert.ok(Object.is(f16ToF32(0x8000), -0), "0x8000 is -0");
  assert.ok(Number.isNaN(f16ToF32(0x7e00)) && Number.isNaN(f16ToF32(0x7c01)), "exponent 31 with a fraction is NaN");
  assert.equal([...f16ArrayToF32(new Uint16Array([0x3c00, 0xc000, 0x0001]))], [1, -2, 2 ** -24]);
});

test("f32 -> f16: rounding to nearest even, subnormals, overflow", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],                 // 0.1 = 1.6 * 2^-4; 0.6 * 1024 = 614.4 -> 614 = 0x266
    [1 + 2 ** -11, 0x3c00],        // halfway between 1 and 1 + 2^-10: ties to the even 0x3c00
    [1 + 3 * 2 ** -11, 0x3c02],    // halfway between 0x3c01 and 0x3c02: ties to the even 0x3c02
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway rounds up
    [65504, 0x7bff],
    [65519, 0x7bff],               // below the halfway point 65520
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],            // halfway between 0 and 2^-24: ties to even 0
    [3 * 2 ** -25, 0x0002],        // 1.5 units: ties to the even 2
    [2 ** -25 + 2 ** -40, 0x0001], // above halfway
    [2 ** -14 - 2 ** -25, 0x0400], // 1023.5 units: ties up to 1024 = the smallest normal
    [1e-45, 0x0000],               // an f32 subnormal
    [-1e-45, 0x8000],
    [-0, 0x8000],
  ];
  for (const [x, h] of cases) assert.is(enc(x), h, `${x}`);
  for (const x of [65520, -65520, 1e10, Infinity, -Infinity]) assert.is(enc(x), -1, `${x} overflows`);
});

test("f16 round trip: every finite f16 value encodes back to its own bits", () => {
  for (let h = 0; h < 0x10000; h++) {
    if (((h >> 10) & 0x1f) === 31) continue;
    const back = enc(f16ToF32(h));
    if (back !== h) assert.unreachable(`0x${h.toString(16)} -> ${f16ToF32(h)} -> 0x${back.toString(16)}`);
  }
});

test.run();
