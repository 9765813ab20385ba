// Does a model run inside a memory cap (the 128 MB of a Cloudflare Workers
// isolate)? The runtime's wasm defines its own memory without a maximum, so the
// cap is put into the binary: the memory section gets `max = cap / 64 KiB`
// pages, and every memory.grow past it fails inside the runtime, which then
// reports an error (as it would when the isolate refuses memory).
// This caps the wasm memory only; the isolate's JS heap comes on top.
import { readFileSync } from "node:fs";
import { instantiate } from "../host/runtime/index.ts";
import { WASM_URL } from "../host/runtime/node.ts";

export interface CapResult {
  ok: boolean;
  memoryBytes: number; // wasm memory after the forward pass (or when it failed)
  logits?: Float32Array;
  error?: string;
}

// capBytes null: the runtime as built (no maximum), for a reference run.
export async function runCapped(capBytes: number | null, file: Uint8Array, ids: Int32Array, typeIds: Int32Array): Promise<CapResult> {
  const built = readFileSync(WASM_URL);
  const wasm = capBytes === null ? built : withMemoryMax(built, Math.floor(capBytes / 65536));
  const engine = await instantiate(wasm);
  try {
    // No limit from the runtime's own check (instantiate() defaults to 96 MiB): the
    // cap measured here is the binary's memory maximum.
    const model = engine.loadModel(file, { maxMemoryMb: Infinity });
    const logits = model.logits(ids, typeIds);
    return { ok: true, memoryBytes: model.memoryBytes(), logits };
  } catch (err) {
    return { ok: false, memoryBytes: engine.exports.memory.buffer.byteLength, error: (err as Error).message };
  }
}

// A copy of a wasm binary whose (single, defined) memory has a maximum of maxPages.
export function withMemoryMax(wasm: Uint8Array, maxPages: number): Uint8Array {
  const at = { pos: 8 };
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error("withMemoryMax: not a wasm binary");
  }
  const out: number[] = Array.from(wasm.subarray(0, 8));
  let patched = false;
  while (at.pos < wasm.length) {
    const id = wasm[at.pos++];
    const size = leb(wasm, at);
    const start = at.pos, end = start + size;
    if (id === 5) {
      const body = { pos: start };
      const count = leb(wasm, body);
      if (count !== 1) throw new Error(`withMemoryMax: ${count} memories, expected 1`);
      const flags = wasm[body.pos++];
      if (flags > 1) throw new Error(`withMemoryMax: memory limits flags ${flags} (shared or 64-bit memory)`);
      const min = leb(wasm, body);
      if (min > maxPages) throw new Error(`withMemoryMax: initial memory ${min} pages is over the cap of ${maxPages}`);
      const content = [...uleb(1), 1, ...uleb(min), ...uleb(maxPages)];
      out.push(5, ...uleb(content.length), ...content);
      patched = true;
    } else {
      out.push(id, ...uleb(size));
      for (let i = start; i < end; i++) out.push(wasm[i]);
    }
    at.pos = end;
  }
  if (!patched) throw new Error("withMemoryMax: the binary defines no memory (imported memory?)");
  return Uint8Array.from(out);
}

function leb(b: Uint8Array, at: { pos: number }): number {
  let result = 0, shift = 0, byte: number;
  do {
    byte = b[at.pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return result;
}

function uleb(v: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) byte |= 0x80;
    bytes.push(byte);
  } while (v);
  return bytes;
}
