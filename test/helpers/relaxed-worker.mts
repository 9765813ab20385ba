// A Worker for test/relaxed-simd.test.ts (bundled by test/helpers/relaxed-harness.ts with
// esbuild, run on workerd by Miniflare): the plain and relaxed runtimes and the relaxed
// kernels arrive as pre-compiled wasm modules, as in a deployed Worker. (.mts: the
// test runner loads every .ts under test/, and this file only loads on workerd.)
//   POST /choice                        {build, reason} of instantiateBest(plain, relaxed)
//   POST /logits?build=simd|relaxed     body {model: base64, inputs: number[][], types?: number[][]} -> {build, reason, logits: number[][]}
//   POST /kernel                        body {n, inDim, outDim, layout, x, w, ws, b} -> {xq, xs, zp, y}
// @ts-expect-error: a wasm module import, resolved by workerd (CompiledWasm rule)
import plain from "./plain.wasm";
// @ts-expect-error: likewise
import relaxed from "./relaxed.wasm";
// @ts-expect-error: likewise
import kernels from "./kernels.wasm";
import { instantiateBest } from "../../host/runtime/simd.ts";

interface Kernels {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  quantize7(xq: number, xs: number, x: number, n: number, i: number): void;
  row_stride7(i: number): number;
  mm_i8_relaxed(y: number, xq: number, xs: number, w: number, ws: number, b: number, n: number, i: number, o: number, layout: number): void;
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/choice") {
        const c = await instantiateBest(plain as WebAssembly.Module, relaxed as WebAssembly.Module);
        return Response.json({ build: c.build, reason: c.reason });
      }
      if (url.pathname === "/logits") {
        const body = await request.json() as { model: string; inputs: number[][]; types?: number[][] };
        const prefer = url.searchParams.get("build") === "relaxed" ? "relaxed" : "simd";
        const c = await instantiateBest(plain as WebAssembly.Module, relaxed as WebAssembly.Module, prefer);
        const model = c.engine.loadModel(fromBase64(body.model), { maxMemoryMb: Infinity });
        return Response.json({ build: c.build, reason: c.reason, logits: body.inputs.map((ids, i) => Array.from(model.logits(ids, body.types?.[i]))) });
      }
      if (url.pathname === "/kernel") {
        const b = await request.json() as { n: number; inDim: number; outDim: number; layout: number; x: number[]; w: number[]; ws: number[]; bias: number[] };
        const instance = await WebAssembly.instantiate(kernels as WebAssembly.Module, { env: { abort: () => { throw new Error("abort"); } } });
        const k = instance.exports as unknown as Kernels;
        const put = (bytes: Uint8Array) => { const p = k.alloc(bytes.length); new Uint8Array(k.memory.buffer, p, bytes.length).set(bytes); return p; };
        const f32 = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);
        const stride = k.row_stride7(b.inDim);
        const x = put(f32(b.x)), w = put(new Uint8Array(Int8Array.from(b.w).buffer)), ws = put(f32(b.ws)), bias = put(f32(b.bias));
        const xq = k.alloc(b.n * stride), xs = k.alloc(4 * b.n), y = k.alloc(4 * b.n * b.outDim);
        k.quantize7(xq, xs, x, b.n, b.inDim);
        k.mm_i8_relaxed(y, xq, xs, w, ws, bias, b.n, b.inDim, b.outDim, b.layout);
        const m = new DataView(k.memory.buffer);
        const rows = Array.from({ length: b.n }, (_, t) => Array.from(new Uint8Array(k.memory.buffer, xq + t * stride, b.inDim)));
        return Response.json({
          xq: rows,
          zp: rows.map((_, t) => m.getInt32(xq + t * stride + b.inDim, true)),
          xs: Array.from(new Float32Array(k.memory.buffer, xs, b.n)),
          y: Array.from(new Float32Array(k.memory.buffer, y, b.n * b.outDim)),
        });
      }
      return new Response("not found", { status: 404 });
    } catch (err) {
      return Response.json({ error: (err as Error).message }, { status: 500 });
    }
  },
};
