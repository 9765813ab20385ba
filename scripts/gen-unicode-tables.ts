// Generates assembly/unicode_tables.ts, the Unicode data of the WordPiece tokenizer,
// from this Node's ICU (regex \p{...}, String.prototype.toLowerCase, normalize("NFD")).
//
//   node --import tsx scripts/gen-unicode-tables.ts            write the file
//   node --import tsx scripts/gen-unicode-tables.ts --check    exit 1 if it is stale
//
// Three tables, each sorted by code point and binary-searched by assembly/tokenizer/unicode.ts:
//   CLASS   ranges of code points sharing the same class bits (control, whitespace,
//           punctuation, nonspacing mark); ASCII also gets a direct 128-byte table.
//   LOWER   runs of code points whose lowercase is one code point at a fixed offset
//           (stride 1: A-Z; stride 2: the alternating upper/lower pairs of Latin
//           Extended, Greek, Cyrillic...), plus the few multi-code-point lowercases.
//   STRIP   NFD followed by dropping category Mn, for code points that NFD changes,
//           as runs mapping to one constant code point (À..Å -> A), runs at a fixed
//           offset, or single entries into a pool of multi-code-point results.
//           Mn code points themselves are not listed (the CLASS table drops them) and
//           Hangul syllables are decomposed algorithmically (11,172 entries saved).

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const OUT = fileURLToPath(new URL("../assembly/tokenizer/unicode_tables.ts", import.meta.url));

export const CLASS_CONTROL = 1;    // category C* except \t \n \r: dropped by clean_text
export const CLASS_WHITESPACE = 2; // White_Space: split point; clean_text maps it to ' '
export const CLASS_PUNCT = 4;      // category P* or ASCII 33-47, 58-64, 91-96, 123-126
export const CLASS_MN = 8;         // category Mn: dropped when stripping accents

const MAX_CP = 0x10ffff;
const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;

const reC = /^\p{C}$/u;
const reWs = /^\p{White_Space}$/u;
const reP = /^\p{P}$/u;
const reMn = /^\p{Mn}$/u;

function str(cp: number): string {
  return String.fromCodePoint(cp);
}

function cps(s: string): number[] {
  return [...s].map((c) => c.codePointAt(0)!);
}

function isAsciiPunct(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

export function classOf(cp: number): number {
  // Lone surrogates cannot come out of the UTF-8 decoder, but they are category Cs,
  // and the regexes below would read them as half of nothing.
  if (cp >= 0xd800 && cp <= 0xdfff) return CLASS_CONTROL;
  const s = str(cp);
  let c = 0;
  if (reC.test(s) && cp !== 9 && cp !== 10 && cp !== 13) c |= CLASS_CONTROL;
  if (reWs.test(s)) c |= CLASS_WHITESPACE;
  if (reP.test(s) || isAsciiPunct(cp)) c |= CLASS_PUNCT;
  if (reMn.test(s)) c |= CLASS_MN;
  return c;
}

// One code point at a time, as Python's per-character lowercasing and Rust's
// char::to_lowercase do: a whole-string toLowerCase would apply Final_Sigma.
export function lowerOf(cp: number): number[] {
  if (cp >= 0xd800 && cp <= 0xdfff) return [cp];
  return cps(str(cp).toLowerCase());
}

export function stripOf(cp: number): number[] {
  if (cp >= 0xd800 && cp <= 0xdfff) return [cp];
  return cps(str(cp).normalize("NFD")).filter((c) => !reMn.test(str(c)));
}

interface Tables {
  classRanges: number[]; // u32: start | class << 24
  asciiClass: number[];  // u8[128]
  lower: number[];       // u32 pairs: start | (count - 1) << 21 | (stride - 1) << 31, delta
  lowerMulti: number[];  // u32 triples: code point, first, second
  strip: number[];       // u32 pairs: start | (count - 1) << 21 | kind << 29, value
  stripPool: number[];   // u32 code points of the multi-code-point results
  notes: string[];
}

export const STRIP_CONST = 0; // value: the code point every member maps to
export const STRIP_DELTA = 1; // value: i32 offset added to the code point
export const STRIP_POOL = 2;  // count 1; value: pool offset | length << 24

function build(): Tables {
  // CLASS: maximal ranges of equal class.
  const classRanges: number[] = [];
  let prev = -1;
  for (let cp = 0; cp <= MAX_CP; cp++) {
    const c = classOf(cp);
    if (c !== prev) {
      classRanges.push(cp | (c << 24));
      prev = c;
    }
  }
  const asciiClass: number[] = [];
  for (let cp = 0; cp < 128; cp++) asciiClass.push(classOf(cp));

  // LOWER: runs with a common stride and delta.
  const lowerSingle = new Map<number, number>();
  const lowerMulti: number[] = [];
  for (let cp = 0; cp <= MAX_CP; cp++) {
    const l = lowerOf(cp);
    if (l.length === 1 && l[0] === cp) continue;
    if (l.length === 1) lowerSingle.set(cp, l[0]);
    else if (l.length === 2) lowerMulti.push(cp, l[0], l[1]);
    else throw new Error(`lowercase of U+${cp.toString(16)} has ${l.length} code points; the runtime handles at most 2`);
  }
  const lowerMultiSet = new Set(lowerMulti.filter((_, i) => i % 3 === 0));
  const lower: number[] = [];
  const lowerKeys = [...lowerSingle.keys()].sort((a, b) => a - b);
  const done = new Set<number>();
  for (const start of lowerKeys) {
    if (done.has(start)) continue;
    const delta = lowerSingle.get(start)! - start;
    let best = { stride: 1, count: 1 };
    for (const stride of [1, 2]) {
      let count = 1;
      while (count < 1024) {
        const next = start + count * stride;
        // A stride-2 run may only skip code points that lowercase to themselves,
        // so runs never interleave and a lookup needs only the run at or before cp.
        if (lowerSingle.get(next) !== next + delta || done.has(next)) break;
        if (stride === 2 && (lowerSingle.has(next - 1) || lowerMultiSet.has(next - 1))) break;
        count++;
      }
      if (count > best.count) best = { stride, count };
    }
    for (let i = 0; i < best.count; i++) done.add(start + i * best.stride);
    lower.push(start | ((best.count - 1) << 21) | ((best.stride - 1) << 31), delta);
  }
  sortPairs(lower);

  // STRIP: runs of a constant or a fixed offset, else pool entries.
  const stripMap = new Map<number, number[]>();
  for (let cp = 0; cp <= MAX_CP; cp++) {
    if (cp >= HANGUL_FIRST && cp <= HANGUL_LAST) continue;
    if (classOf(cp) & CLASS_MN) continue;
    const s = stripOf(cp);
    if (s.length === 1 && s[0] === cp) continue;
    stripMap.set(cp, s);
  }
  const strip: number[] = [];
  const stripPool: number[] = [];
  const stripKeys = [...stripMap.keys()].sort((a, b) => a - b);
  for (let i = 0; i < stripKeys.length; ) {
    const start = stripKeys[i];
    const out = stripMap.get(start)!;
    if (out.length !== 1) {
      strip.push(start | (STRIP_POOL << 29), stripPool.length | (out.length << 24));
      stripPool.push(...out);
      i++;
      continue;
    }
    const single = (cp: number) => {
      const o = stripMap.get(cp);
      return o !== undefined && o.length === 1 ? o[0] : -1;
    };
    let nConst = 1;
    while (nConst < 256 && single(start + nConst) === out[0]) nConst++;
    let nDelta = 1;
    while (nDelta < 256 && single(start + nDelta) === start + nDelta + (out[0] - start)) nDelta++;
    if (nConst >= nDelta) strip.push(start | ((nConst - 1) << 21) | (STRIP_CONST << 29), out[0]);
    else strip.push(start | ((nDelta - 1) << 21) | (STRIP_DELTA << 29), out[0] - start);
    const n = Math.max(nConst, nDelta);
    // Runs are consecutive code points, so the next key is the next run's start.
    i = stripKeys.indexOf(start + n - 1) + 1;
  }

  const notes = checks(lower, lowerSingle);
  return { classRanges, asciiClass, lower, lowerMulti, strip, stripPool, notes };
}

function sortPairs(a: number[]): void {
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
  pairs.sort((x, y) => (x[0] & 0x1fffff) - (y[0] & 0x1fffff));
  pairs.forEach((p, i) => {
    a[2 * i] = p[0];
    a[2 * i + 1] = p[1];
  });
}

// The facts the runtime relies on, checked against this ICU; each failure stops the
// generator, each finding worth knowing becomes a comment in the output.
function checks(lower: number[], lowerSingle: Map<number, number>): string[] {
  // The lowercase lookup examines only the run starting at or before cp: verify that
  // this finds every mapping.
  const n = lower.length / 2;
  const starts = Array.from({ length: n }, (_, i) => lower[2 * i] & 0x1fffff);
  const covers = (i: number, cp: number) => {
    const w = lower[2 * i];
    const start = w & 0x1fffff, count = ((w >>> 21) & 0x3ff) + 1, stride = (w >>> 31) + 1;
    const d = cp - start;
    return d >= 0 && d % stride === 0 && d / stride < count;
  };
  for (const [cp] of lowerSingle) {
    let lo = 0, hi = n - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= cp) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (!covers(at, cp)) {
      throw new Error(`lowercase runs interleave at U+${cp.toString(16)}`);
    }
  }

  // The runtime strips accents per code point, then lowercases per code point
  // (tokenizers' BertNormalizer order; Python lowercases first): the two orders
  // must agree on every code point.
  for (let cp = 0; cp <= MAX_CP; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const a = stripOf(cp).flatMap(lowerOf);
    const b = lowerOf(cp).flatMap(stripOf);
    if (a.join() !== b.join()) throw new Error(`strip-then-lower differs from lower-then-strip at U+${cp.toString(16)}`);
  }

  // Whitespace that clean_text keeps must be a space separator, line or paragraph
  // separator (Python: Zs, or split by str.split), so White_Space is the right set.
  // assembly/tokenizer/unicode.ts skips the lookups below U+00C0 and sizes its scratch for 8.
  for (let cp = 0; cp < 0xc0; cp++) {
    if (stripOf(cp).join() !== String(cp)) throw new Error(`U+${cp.toString(16)} changes under NFD minus Mn`);
  }
  for (let cp = 0; cp <= MAX_CP; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (stripOf(cp).length > 8 || lowerOf(cp).length > 8) throw new Error(`U+${cp.toString(16)} maps to more than 8 code points`);
  }

  const notes: string[] = [];
  for (let cp = 0; cp <= MAX_CP; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = classOf(cp);
    if (c & CLASS_WHITESPACE && !(c & CLASS_CONTROL) && !/^[\p{Zs}\p{Zl}\p{Zp}\t\n\r]$/u.test(str(cp))) {
      throw new Error(`U+${cp.toString(16)} is White_Space but not Zs/Zl/Zp`);
    }
    if (c & CLASS_PUNCT && c & (CLASS_CONTROL | CLASS_WHITESPACE | CLASS_MN)) throw new Error(`U+${cp.toString(16)} has overlapping classes`);
  }

  // Canonical reordering: NFD sorts runs of nonzero-combining-class marks. Mn marks
  // are dropped, so only non-Mn marks with a nonzero class could be reordered; list
  // them (a mark with class 0 < ccc < 230 moves before U+0301, ccc > 1 after U+0334).
  const reordered: string[] = [];
  for (let cp = 0; cp <= MAX_CP; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = str(cp);
    if (reMn.test(s) || s.normalize("NFD") !== s) continue;
    const before = ("\u0301" + s).normalize("NFD") !== "\u0301" + s;
    const after = (s + "\u0334").normalize("NFD") !== s + "\u0334";
    if (before || after) reordered.push(cp.toString(16).toUpperCase().padStart(4, "0"));
  }
  notes.push(
    `Non-Mn code points with a nonzero canonical combining class (${reordered.length}): ${reordered.join(" ")}.`,
  );
  return notes;
}

function hexList(values: number[], perLine: number, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    lines.push(
      "  " + values.slice(i, i + perLine).map((v) => "0x" + (v >>> 0).toString(16).padStart(width, "0")).join(", ") + ",",
    );
  }
  return lines.join("\n");
}

// The tables are stored packed (about 11 KB instead of 25 KB of wasm data, in every
// build) and unpacked into the heap once, when the module starts. A table is `words`
// u32 values in `columns` interleaved columns (a row is one entry); each column is
// written in the mode that makes it smallest (2 bits of `modes` per column, column 0
// lowest), every number a LEB128 varint:
//   0 RAW    the value
//   1 DELTA  zigzag(value - the column's previous value), as i32
//   2 SPLIT  zigzag(low 21 bits - the previous value's low 21 bits), then the high 11
//            bits as they are (a code point that grows slowly, and small flags above it)
const RAW = 0, DELTA = 1, SPLIT = 2;

function varint(out: number[], v: number): void {
  while (v >= 128) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
}

const zigzag = (v: number) => ((v << 1) ^ (v >> 31)) >>> 0;

function packColumn(values: number[], column: number, columns: number, mode: number): number[] {
  const out: number[] = [];
  let prev = 0;
  for (let i = column; i < values.length; i += columns) {
    const v = values[i] >>> 0;
    if (mode === RAW) varint(out, v);
    else if (mode === DELTA) varint(out, zigzag((v - prev) | 0));
    else {
      varint(out, zigzag((v & 0x1fffff) - (prev & 0x1fffff)));
      varint(out, v >>> 21);
    }
    prev = v;
  }
  return out;
}

// The bytes (columns interleaved row by row, as unpack() reads them) and the modes.
export function pack(values: number[], columns: number): { bytes: number[]; modes: number } {
  let modes = 0;
  for (let c = 0; c < columns; c++) {
    const sizes = [RAW, DELTA, SPLIT].map((m) => packColumn(values, c, columns, m).length);
    modes |= sizes.indexOf(Math.min(...sizes)) << (2 * c);
  }
  const bytes: number[] = [];
  const prev = new Array<number>(columns).fill(0);
  for (let i = 0; i < values.length; i++) {
    const c = i % columns, v = values[i] >>> 0, mode = (modes >> (2 * c)) & 3;
    if (mode === RAW) varint(bytes, v);
    else if (mode === DELTA) varint(bytes, zigzag((v - prev[c]) | 0));
    else {
      varint(bytes, zigzag((v & 0x1fffff) - (prev[c] & 0x1fffff)));
      varint(bytes, v >>> 21);
    }
    prev[c] = v;
  }
  return { bytes, modes };
}

// The inverse of pack(), in the test's terms (the AssemblyScript copy is in render()).
export function unpack(bytes: number[], words: number, columns: number, modes: number): number[] {
  let p = 0;
  const next = () => {
    let v = 0, shift = 0, b: number;
    do {
      b = bytes[p++];
      v += (b & 127) * 2 ** shift;
      shift += 7;
    } while (b & 128);
    return v;
  };
  const unzig = (v: number) => (v >>> 1) ^ -(v & 1);
  const out: number[] = [];
  const prev = new Array<number>(columns).fill(0);
  for (let i = 0; i < words; i++) {
    const c = i % columns, mode = (modes >> (2 * c)) & 3;
    let v: number;
    if (mode === RAW) v = next();
    else if (mode === DELTA) v = (prev[c] + unzig(next())) >>> 0;
    else {
      const lo = ((prev[c] & 0x1fffff) + unzig(next())) >>> 0;
      v = (lo | (next() << 21)) >>> 0;
    }
    out.push(v);
    prev[c] = v;
  }
  return out;
}

function packed(name: string, values: number[], columns: number): string {
  const { bytes, modes } = pack(values, columns);
  return `export const ${name}: usize = unpack(memory.data<u8>([
${hexList(bytes, 16, 2)}
]), ${values.length}, ${columns}, ${modes});`;
}

export function render(): string {
  const t = build();
  const bytes =
    4 * t.classRanges.length + t.asciiClass.length + 4 * t.lower.length + 4 * t.lowerMulti.length +
    4 * t.strip.length + 4 * t.stripPool.length;
  const packedBytes =
    t.asciiClass.length +
    [[t.classRanges, 1], [t.lower, 2], [t.lowerMulti, 3], [t.strip, 2], [t.stripPool, 1]]
      .reduce((n, [v, c]) => n + pack(v as number[], c as number).bytes.length, 0);
  return `// GENERATED by scripts/gen-unicode-tables.ts from Node ${process.version}, ICU ${process.versions.icu},
// Unicode ${process.versions.unicode}. Do not edit; rerun the generator. ${bytes} bytes of tables,
// stored packed in ${packedBytes} bytes and unpacked into the heap when the module starts.
//
// Formats (all sorted by code point, binary-searched by assembly/tokenizer/unicode.ts):
//   CLASS_RANGES  u32 start | class << 24; the class holds from start to the next start.
//                 Class bits: 1 control (C* except \\t \\n \\r), 2 White_Space,
//                 4 punctuation (P* or ASCII punctuation), 8 Mn.
//   ASCII_CLASS   u8[128], the same classes for ASCII.
//   LOWER         pairs (start | (count - 1) << 21 | (stride - 1) << 31, delta):
//                 start + k * stride (k < count) lowercases to itself + delta.
//   LOWER_MULTI   triples (code point, first, second): lowercases of two code points.
//   STRIP         pairs (start | (count - 1) << 21 | kind << 29, value), NFD minus Mn:
//                 kind 0: every member maps to the code point value; kind 1: to itself
//                 + value (i32); kind 2: one code point mapping to STRIP_POOL[value &
//                 0xffffff ..] of length value >> 24 (possibly 0).
//
// ${t.notes.join("\n// ")}

// The packing: scripts/gen-unicode-tables.ts pack(). \`words\` u32 values in \`columns\`
// interleaved columns, each column in mode (modes >> 2 * column) & 3: 0 raw varint,
// 1 zigzag delta from the column's previous value, 2 zigzag delta of the low 21 bits
// then the high 11 bits raw.
function unpack(src: usize, words: i32, columns: i32, modes: u32): usize {
  const out = heap.alloc(<usize>words << 2);
  for (let i = 0; i < words; i++) {
    const c = i % columns;
    const mode = (modes >> (2 * <u32>c)) & 3;
    const prev: u32 = i >= columns ? load<u32>(out + (<usize>(i - columns) << 2)) : 0;
    let n = 0;
    let v: u32 = 0;
    for (;;) { // varint, then the high bits of a SPLIT value
      let x: u32 = 0;
      let shift: u32 = 0;
      let b: u32;
      do {
        b = load<u8>(src++);
        x |= (b & 127) << shift;
        shift += 7;
      } while (b & 128);
      if (n == 1) { v |= x << 21; break; }
      const d = (x >>> 1) ^ -(x & 1);
      if (mode == 0) { v = x; break; }
      if (mode == 1) { v = prev + d; break; }
      v = ((prev & 0x1fffff) + d) & 0x1fffff;
      n = 1;
    }
    store<u32>(out + (<usize>i << 2), v);
  }
  return out;
}

export const CLASS_RANGES_COUNT: i32 = ${t.classRanges.length};
${packed("CLASS_RANGES", t.classRanges, 1)}

export const ASCII_CLASS: usize = memory.data<u8>([
${hexList(t.asciiClass, 16, 1)}
]);

export const LOWER_COUNT: i32 = ${t.lower.length / 2};
${packed("LOWER", t.lower, 2)}

export const LOWER_MULTI_COUNT: i32 = ${t.lowerMulti.length / 3};
${packed("LOWER_MULTI", t.lowerMulti, 3)}

export const STRIP_COUNT: i32 = ${t.strip.length / 2};
${packed("STRIP", t.strip, 2)}

${packed("STRIP_POOL", t.stripPool, 1)}
`;
}

function main(): void {
  const text = render();
  if (process.argv.includes("--check")) {
    const current = readFileSync(OUT, "utf8");
    if (current !== text) {
      console.error(`${OUT} is stale for this Node (ICU ${process.versions.icu}): rerun scripts/gen-unicode-tables.ts`);
      process.exit(1);
    }
    console.log(`${OUT} is up to date`);
    return;
  }
  const tmp = `${OUT}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, OUT);
  console.log(`wrote ${OUT}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
