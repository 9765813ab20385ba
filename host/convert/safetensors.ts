// Reader of one .safetensors file: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?}, then
// the tensor bytes (offsets are relative to the end of the header).
//
// Only the header is read when the file is opened; each tensor is read on demand
// straight into its own Float32Array, so a 440 MB checkpoint costs one copy of
// the weights and no more.
import { open, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { basename } from "node:path";
import { f16ArrayToF32 } from "../format/f16.ts";
import { ConvertError } from "./errors.ts";

// Every dtype of the safetensors spec, with its size in bits (Dtype::bitsize), so
// that the sizes of tensors we do not use (I64 position_ids buffers...) are still
// checked; any other dtype is refused, as the reference library's parser does.
const ITEM_BITS: Record<string, number> = {
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  I64: 64, U64: 64, F64: 64, C64: 64,
};
const READABLE = ["F32", "F16", "BF16"];

// The spec caps the header at 100 MB; anything larger is a corrupt length.
const MAX_HEADER = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;   // byte offset from the start of the file
  end: number;
}

export interface SafetensorsFile {
  path: string;
  size: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string> | null;
}

function fail(path: string, what: string): never {
  throw new ConvertError(`${basename(path)}: ${what}`);
}

export async function readSafetensorsHeader(path: string): Promise<SafetensorsFile> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    if (size < 8) fail(path, `file is ${size} bytes, shorter than the 8-byte header length`);
    const lenBytes = await readExactly(fh, 0, 8, path);
    const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
    if (headerLen > size - 8)
      fail(path, `header length ${headerLen} runs beyond the end of the file (${size} bytes): not a safetensors file or truncated`);
    if (headerLen > MAX_HEADER) fail(path, `header length ${headerLen} exceeds the 100 MB limit of the format`);
    const headerBytes = await readExactly(fh, 8, headerLen, path);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
    } catch (e) {
      fail(path, `header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    return parseHeader(path, size, 8 + headerLen, header);
  } finally {
    await fh.close();
  }
}

// What the reference library (safetensors' Metadata::validate and read_metadata)
// accepts: __metadata__ a map of strings; every dtype known; each tensor exactly
// its shape times its dtype size; sorted by data_offsets, the tensors tile the data
// section from byte 0 to its last byte, with no gap, overlap or trailing bytes.
function parseHeader(path: string, size: number, dataStart: number, header: unknown): SafetensorsFile {
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail(path, "header is not a JSON object");
  const dataSize = size - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> | null = null;
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw !== null && (typeof raw !== "object" || Array.isArray(raw))) fail(path, "__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw ?? {}))
        if (typeof v !== "string") fail(path, `__metadata__ field ${k} is ${JSON.stringify(v)}, not a string`);
      metadata = raw as Record<string, string> | null;
      continue;
    }
    const where = `tensor ${name}`;
    if (raw === null || typeof raw !== "object") fail(path, `${where}: entry is not an object`);
    const { dtype, shape, data_offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== "string") fail(path, `${where}: dtype is missing or not a string`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(path, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (
      !Array.isArray(data_offsets) || data_offsets.length !== 2 ||
      !data_offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    )
      fail(path, `${where}: data_offsets ${JSON.stringify(data_offsets)} is not [begin, end]`);
    const [b, e] = data_offsets as number[];
    if (b > e) fail(path, `${where}: data_offsets [${b}, ${e}] end before they begin`);
    if (e > dataSize) fail(path, `${where}: data_offsets [${b}, ${e}] run beyond the ${dataSize} data bytes of the file`);
    const bits = ITEM_BITS[dtype];
    if (bits === undefined) fail(path, `${where}: dtype ${JSON.stringify(dtype)} is not a safetensors dtype (${Object.keys(ITEM_BITS).join(", ")})`);
    const totalBits = (shape as number[]).reduce((a, d) => a * d, 1) * bits;
    if (totalBits % 8 !== 0) fail(path, `${where}: ${dtype} ${JSON.stringify(shape)} is not a whole number of bytes`);
    if (e - b !== totalBits / 8)
      fail(path, `${where}: holds ${e - b} bytes but ${dtype} ${JSON.stringify(shape)} needs ${totalBits / 8}`);
    tensors.set(name, { name, dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  const sorted = [...tensors.values()].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let at = dataStart;
  for (const [i, t] of sorted.entries()) {
    if (t.begin < at)
      fail(path, `tensors ${sorted[i - 1].name} and ${t.name} overlap in the data section`);
    if (t.begin > at)
      fail(path, `tensor ${t.name}: data_offsets begin at ${t.begin - dataStart}, leaving a gap after byte ${at - dataStart} ` +
        `(the tensors must fill the data section contiguously, in order)`);
    at = t.end;
  }
  if (at !== size)
    fail(path, `${size - at} trailing bytes after the last tensor (data_offsets end at ${at - dataStart} of ${dataSize} data bytes)`);
  return { path, size, tensors, metadata };
}

// The tensor's values as f32: F32 read in place, F16 and BF16 widened exactly.
export async function readTensorF32(file: SafetensorsFile, name: string): Promise<Float32Array> {
  const t = file.tensors.get(name);
  if (!t) fail(file.path, `has no tensor ${name}`);
  if (!READABLE.includes(t.dtype))
    fail(file.path, `tensor ${name} has dtype ${t.dtype}; only F32, F16 and BF16 weights are supported`);
  if (endianness() !== "LE") throw new ConvertError("safetensors reading needs a little-endian host");
  const count = t.shape.reduce((a, d) => a * d, 1);
  const fh = await open(file.path, "r");
  try {
    if (t.dtype === "F32") {
      const out = new Float32Array(count);
      await readInto(fh, t.begin, new Uint8Array(out.buffer), file.path);
      return out;
    }
    const half = new Uint16Array(count);
    await readInto(fh, t.begin, new Uint8Array(half.buffer), file.path);
    return t.dtype === "F16" ? f16ArrayToF32(half) : bf16ToF32(half);
  } finally {
    await fh.close();
  }
}

// bf16 is the top half of an f32, so widening is a shift.
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

async function readExactly(fh: FileHandle, pos: number, len: number, path: string): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  await readInto(fh, pos, buf, path);
  return buf;
}

// Chunked, because one fs read is limited to 2 GiB and short reads are allowed.
async function readInto(fh: FileHandle, pos: number, dst: Uint8Array, path: string): Promise<void> {
  const CHUNK = 1 << 26;
  let done = 0;
  while (done < dst.length) {
    const want = Math.min(CHUNK, dst.length - done);
    const { bytesRead } = await fh.read(dst, done, want, pos + done);
    if (bytesRead === 0) fail(path, `unexpected end of file at byte ${pos + done}`);
    done += bytesRead;
  }
}
