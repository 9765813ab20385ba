// `axformer deploy workers <model-file> --out <dir>`: writes a ready Cloudflare
// Worker project around a model.
//
//   <out>/wrangler.toml       compatibility date, the Data rule for *.axf, vars, bindings
//   <out>/package.json        wrangler pinned (4.86.0, the last release that runs on Node 20)
//   <out>/README.md           commands, bundle size, memory, and the R2/KV upload steps
//   <out>/src/worker.ts       the entry: imports the runtime wasm as a module and the model
//   <out>/src/axformer.wasm   the compiled runtime (a CompiledWasm module: Workers forbid
//                             compiling wasm from bytes at run time)
//   <out>/src/model.axf       the model, as a Data module, when it fits the bundle
//   <out>/model/<file>.axf    otherwise: the file to upload to R2 or KV
//   <out>/src/axformer/...    the Worker's TypeScript (host/deploy/worker/app.ts and what it
//                             imports), copied so the project builds on its own
//   <out>/.axformer-files.json  the list of the files above: `--force` replaces only these
//
// The model is loaded once here, in Node, with the same runtime: a broken file is
// refused now, and the wasm memory it needs is measured, so a model that cannot fit
// in a 128 MB isolate is refused before it is deployed.
import { readFile, writeFile, mkdir, rm, rename, mkdtemp, readdir, stat, rmdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { basename, dirname, join, relative, resolve, normalize, isAbsolute, sep } from "node:path";
import { createRequire } from "node:module";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { instantiate } from "../runtime/index.ts";
import { MIB, ISOLATE_LIMIT_MB, estimateIsolateBytes } from "./worker/memory.ts";
import { DEFAULT_LIMITS, reserveTextMemory } from "../api/handler.ts";
import { PACKAGE_ROOT } from "../package-root.ts";

export type Storage = "auto" | "inline" | "r2" | "kv";

export interface DeployWorkersOptions {
  name?: string;              // Worker name (default: from the model file name)
  storage?: Storage;          // default auto: inline when it fits maxBundleMb, else r2
  maxBundleMb?: number;       // compressed bundle limit: 3 (free plan, default) or 10 (paid)
  bucket?: string;            // R2 bucket name (default <name>-models)
  kvNamespaceId?: string;     // KV namespace id, written into wrangler.toml (default: a placeholder)
  memoryLimitMb?: number;     // isolate memory (default 128)
  compatibilityDate?: string; // default COMPATIBILITY_DATE
  force?: boolean;            // replace the files of a project generated before in --out (other files stay)
  measure?: boolean;          // run `wrangler deploy --dry-run` to put the bundle size in the README (default: when wrangler is installed)
  wasmPath?: string;          // the runtime (default build/axformer.wasm of this package)
}

export interface DeployWorkersResult {
  outDir: string;
  name: string;
  storage: "inline" | "r2" | "kv";
  modelFileBytes: number;
  wasmMemoryBytes: number;
  isolateBytes: number;       // estimated peak use of the isolate
  bundle: { uploadKiB: number; gzipKiB: number; measuredBy: "wrangler" | "estimate" };
  files: string[];            // relative to outDir
}

// Inside the date range of the workerd that wrangler 4.86.0 ships (1.20260426).
export const COMPATIBILITY_DATE = "2026-04-01";
export const WRANGLER_VERSION = "4.86.0";

// How Miniflare runs a generated project bundled by `wrangler deploy --dry-run
// --outdir <dist>`: the tests, the cold-start script and the load test all use it.
export function miniflareOptions(dist: string) {
  return {
    modules: true,
    scriptPath: join(dist, "worker.js"),
    modulesRoot: dist,
    modulesRules: [{ type: "CompiledWasm" as const, include: ["**/*.wasm"] }, { type: "Data" as const, include: ["**/*.axf"] }],
    compatibilityDate: COMPATIBILITY_DATE,
  };
}
const KV_VALUE_LIMIT = 25 * MIB;
const PAID_BUNDLE_LIMIT_MB = 10;

const APP_ENTRY = join(PACKAGE_ROOT, "host/deploy/worker/app.ts");

export async function deployWorkers(modelPath: string, outDir: string, opts: DeployWorkersOptions = {}): Promise<DeployWorkersResult> {
  const storageOpt = opts.storage ?? "auto";
  if (!["auto", "inline", "r2", "kv"].includes(storageOpt)) throw new Error(`--storage must be auto, inline, r2 or kv, got "${storageOpt}"`);
  const maxBundleMb = positive(opts.maxBundleMb ?? 3, "--max-bundle-mb");
  const memoryLimitMb = positive(opts.memoryLimitMb ?? ISOLATE_LIMIT_MB, "--memory-limit-mb");
  if (opts.bucket !== undefined && !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(opts.bucket)) {
    throw new Error(`--bucket "${opts.bucket}" is not a valid R2 bucket name (3 to 63 lowercase letters, digits and dashes)`);
  }
  if (opts.kvNamespaceId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(opts.kvNamespaceId)) {
    throw new Error(`--kv-namespace-id "${opts.kvNamespaceId}" is not a namespace id (letters, digits, - and _)`);
  }
  const out = resolve(outDir);
  const previous = await checkOutDir(out, outDir, opts.force === true);
  const modelFile = await readOrFail(modelPath, "model file");
  const wasmPath = opts.wasmPath ?? join(PACKAGE_ROOT, "build/axformer.wasm");
  const wasm = await readOrFail(wasmPath, "runtime wasm (build it with `npm run asbuild`)");
  const name = opts.name ?? workerName(basename(modelPath));
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw new Error(`--name "${name}" is not a valid Worker name (lowercase letters, digits and dashes, at most 63)`);

  // Load and run the model once: validates the file and measures its wasm memory.
  const { wasmMemoryBytes, labels, maxLen, task } = await measureModel(wasm, modelFile, modelPath);
  const isolateBytes = estimateIsolateBytes(modelFile.byteLength, wasmMemoryBytes);
  if (isolateBytes > memoryLimitMb * MIB) {
    throw new Error(`${modelPath} does not fit in a Worker: it needs about ${mb(isolateBytes)} (model file ${mb(modelFile.byteLength)} ` +
      `held by the isolate + wasm memory ${mb(wasmMemoryBytes)} + JS) but an isolate has ${memoryLimitMb} MiB. ` +
      `Make it smaller: axformer optimize, or axformer convert --int8`);
  }

  // Inline when the runtime + model fit the compressed bundle limit (weights barely compress).
  const codeAllowance = 64 * 1024;
  const inlineBytes = wasm.byteLength + modelFile.byteLength + codeAllowance;
  let storage: "inline" | "r2" | "kv";
  if (storageOpt === "auto") storage = inlineBytes <= maxBundleMb * MIB ? "inline" : "r2";
  else storage = storageOpt;
  if (storage === "inline" && inlineBytes > PAID_BUNDLE_LIMIT_MB * MIB) {
    throw new Error(`${modelPath} (${mb(modelFile.byteLength)}) is too large for a Worker bundle (${PAID_BUNDLE_LIMIT_MB} MiB on the paid plan): use --storage r2 or kv`);
  }
  if (storage === "kv" && modelFile.byteLength > KV_VALUE_LIMIT) {
    throw new Error(`${modelPath} (${mb(modelFile.byteLength)}) is larger than a KV value may be (25 MiB): use --storage r2`);
  }

  // Build the project next to its destination, then rename it into place, so a
  // failure never leaves half a project.
  try {
    await mkdir(dirname(out), { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the folder of --out ${outDir}: ${(err as NodeJS.ErrnoException).code === "ENOTDIR" ? "a parent is a file, not a folder" : (err as Error).message}`);
  }
  const tmp = await mkdtemp(join(dirname(out), `.axformer-tmp-${basename(out)}-`));
  try {
    const files: string[] = [];
    const put = async (rel: string, data: string | Uint8Array) => {
      await mkdir(dirname(join(tmp, rel)), { recursive: true });
      await writeFile(join(tmp, rel), data);
      files.push(rel);
    };
    const modelKey = basename(modelPath);
    const bucket = opts.bucket ?? `${name}-models`;
    const appImport = "./axformer/" + relative(PACKAGE_ROOT, APP_ENTRY).split("\\").join("/");
    for (const [rel, text] of await workerSources()) await put(join("src/axformer", rel), text);
    await put("src/axformer.wasm", wasm);
    if (storage === "inline") await put("src/model.axf", modelFile);
    else await put(join("model", modelKey), modelFile);
    await put("src/worker.ts", entrySource({ name: modelKey, storage, appImport, modelKey, modelFileBytes: modelFile.byteLength, wasmMemoryBytes }));
    await put("src/modules.d.ts", MODULES_D_TS);
    await put("wrangler.toml", wranglerToml({ name, storage, bucket, kvNamespaceId: opts.kvNamespaceId, memoryLimitMb, date: opts.compatibilityDate ?? COMPATIBILITY_DATE }));
    await put("package.json", JSON.stringify({
      name, private: true, type: "module",
      scripts: { dev: "wrangler dev", deploy: "wrangler deploy", check: "wrangler deploy --dry-run --outdir dist" },
      devDependencies: { wrangler: WRANGLER_VERSION },
    }, null, 2) + "\n");
    await put(".gitignore", "node_modules/\ndist/\n.wrangler/\n");

    const wrangler = opts.measure === false ? null : findWrangler();
    if (opts.measure === true && !wrangler) throw new Error(`measuring the bundle needs wrangler ${WRANGLER_VERSION}: npm install -D wrangler@${WRANGLER_VERSION}`);
    const bundle = wrangler ? await dryRun(wrangler, tmp) : estimateBundle(wasm, storage === "inline" ? modelFile : null);
    await put("README.md", readme({ name, modelKey, storage, bucket, bundle, modelFileBytes: modelFile.byteLength, wasmMemoryBytes, isolateBytes, memoryLimitMb, labels, maxLen, task }));
    await writeFile(join(tmp, MANIFEST), JSON.stringify({ generator: "axformer deploy workers", files: [...files].sort() }, null, 2) + "\n");

    await moveIntoPlace(tmp, out, files, previous);
    return { outDir: out, name, storage, modelFileBytes: modelFile.byteLength, wasmMemoryBytes, isolateBytes, bundle, files: files.sort() };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

const MANIFEST = ".axformer-files.json";

function positive(v: number, flag: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number of MiB, got ${JSON.stringify(v)}`);
  return v;
}

// --out must be a new or empty folder, or (with --force) a project this command
// generated before: then the files its manifest lists are the ones replaced, and
// anything else in the folder (node_modules, the user's own files) stays.
// Returns the previous project's files, or null.
async function checkOutDir(out: string, given: string, force: boolean): Promise<string[] | null> {
  let st;
  try {
    st = await stat(out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ENOTDIR") throw new Error(`--out ${given}: a parent of it is a file, not a folder`);
    throw new Error(`--out ${given}: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) throw new Error(`--out ${given} is a file, not a folder: give a new or empty folder`);
  const entries = await readdir(out);
  if (entries.length === 0) return null;
  if (!force) throw new Error(`--out ${given} exists and is not empty (use --force to replace a project generated there before)`);
  let listed: unknown;
  try {
    listed = JSON.parse(await readFile(join(out, MANIFEST), "utf8")).files;
  } catch {
    throw new Error(`--out ${given} is not empty and was not generated by axformer deploy workers (no readable ${MANIFEST}); --force replaces only such a project: give a new or empty folder`);
  }
  if (!Array.isArray(listed) || !listed.every(isProjectPath)) {
    throw new Error(`--out ${given}: ${MANIFEST} does not list project files; --force refuses to delete anything it names`);
  }
  return listed as string[];
}

// A manifest entry may only name a file inside the project.
function isProjectPath(p: unknown): boolean {
  return typeof p === "string" && p !== "" && !isAbsolute(p) && !p.includes("\0") &&
    !normalize(p).split(/[\\/]/).includes("..") && normalize(p) === p.split("/").join(sep) && p !== MANIFEST;
}

// A fresh folder is renamed into place whole. Over a previous project, the old
// project's files go and the new ones are renamed in one by one (each atomic);
// the manifest goes last, so an interrupted run is retried with --force.
async function moveIntoPlace(tmp: string, out: string, files: string[], previous: string[] | null): Promise<void> {
  if (previous === null) {
    if (existsSync(out)) await rmdir(out); // empty, checked by checkOutDir
    await rename(tmp, out);
    return;
  }
  await rm(join(out, MANIFEST), { force: true });
  for (const f of previous) if (!files.includes(f)) await rm(join(out, f), { force: true });
  for (const f of files) {
    await mkdir(dirname(join(out, f)), { recursive: true });
    await rm(join(out, f), { recursive: true, force: true });
    await rename(join(tmp, f), join(out, f));
  }
  await rename(join(tmp, MANIFEST), join(out, MANIFEST));
  await rm(tmp, { recursive: true, force: true });
}

async function readOrFail(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}`);
  }
}

function mb(bytes: number): string {
  return bytes < MIB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MIB).toFixed(1)} MiB`;
}

export function workerName(fileName: string): string {
  const stem = fileName.replace(/\.axf$/i, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return `axformer-${stem || "model"}`.slice(0, 63).replace(/-+$/, "");
}

// The wasm memory the runtime uses with this model, its text buffer reserved for
// the longest input the API accepts, after a max-length input: the same number the
// Worker checks against its limit, and final (no request grows it).
async function measureModel(wasm: Uint8Array, file: Uint8Array, path: string) {
  const engine = await instantiate(wasm);
  let model;
  try {
    model = engine.loadModel(file, { maxMemoryMb: Infinity }); // the isolate check of the caller is finer
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  reserveTextMemory(model, DEFAULT_LIMITS); // as the Worker does at load
  const longest = Array(model.maxLen).fill("a").join(" ");
  if (model.task === "embedding") model.embed([longest]);
  else if (model.task === "sequence-classification") model.classify(longest);
  else {
    const { inputIds } = model.tokenize(longest);
    if (model.task === "token-classification") model.tokenLogits(inputIds);
    else model.spanLogits(inputIds);
  }
  return { wasmMemoryBytes: model.memoryBytes(), labels: [...model.labels], maxLen: model.maxLen, task: model.task };
}

// The TypeScript the Worker runs: app.ts and every local module it imports,
// keyed by path relative to the package root. The Worker bundle must not pull in
// Node built-ins or packages, so any import that is not a relative path is an error.
export async function workerSources(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const queue = [APP_ENTRY];
  while (queue.length > 0) {
    const file = queue.pop()!;
    const rel = relative(PACKAGE_ROOT, file).split("\\").join("/");
    if (out.has(rel)) continue;
    const text = await readFile(file, "utf8");
    out.set(rel, text);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith("./") && !spec.startsWith("../")) {
        throw new Error(`the Worker code must import only local modules, but ${rel} imports "${spec}"`);
      }
      queue.push(resolve(dirname(file), spec));
    }
  }
  return out;
}

function entrySource(o: { name: string; storage: string; appImport: string; modelKey: string; modelFileBytes: number; wasmMemoryBytes: number }): string {
  const model = o.storage === "inline"
    ? `{ kind: "inline", data: modelData }`
    : `{ kind: "${o.storage}", binding: "${o.storage === "r2" ? "MODEL_BUCKET" : "MODEL_KV"}", key: ${JSON.stringify(o.modelKey)} }`;
  return `// Generated by \`axformer deploy workers\`. The runtime is a pre-compiled wasm module
// (Workers do not compile wasm from bytes at run time); it is instantiated once per
// isolate, at the first request.
import wasm from "./axformer.wasm";
${o.storage === "inline" ? `import modelData from "./model.axf";\n` : ""}import { createWorker } from "${o.appImport}";

export default createWorker({
  name: ${JSON.stringify(o.name)},
  wasm,
  model: ${model},
  modelFileBytes: ${o.modelFileBytes},
  wasmMemoryBytes: ${o.wasmMemoryBytes},
  limits: ${JSON.stringify(DEFAULT_LIMITS).replace(/"(\w+)":/g, "$1: ").replace(/,/g, ", ")},
});
`;
}

const MODULES_D_TS = `// Module types of the rules in wrangler.toml.
declare module "*.wasm" { const module: WebAssembly.Module; export default module; }
declare module "*.axf" { const data: ArrayBuffer; export default data; }
`;

function wranglerToml(o: { name: string; storage: string; bucket: string; kvNamespaceId?: string; memoryLimitMb: number; date: string }): string {
  let toml = `name = "${o.name}"
main = "src/worker.ts"
compatibility_date = "${o.date}"

# *.wasm imports are pre-compiled WebAssembly.Module objects (wrangler's default
# CompiledWasm rule); the model file is imported as an ArrayBuffer.
[[rules]]
type = "Data"
globs = ["**/*.axf"]
fallthrough = true

[vars]
# The isolate's memory; the Worker refuses a model that would not fit in it.
AXFORMER_MEMORY_LIMIT_MB = "${o.memoryLimitMb}"
`;
  if (o.storage === "r2") {
    toml += `
[[r2_buckets]]
binding = "MODEL_BUCKET"
bucket_name = "${o.bucket}"
`;
  }
  if (o.storage === "kv") {
    toml += `
[[kv_namespaces]]
binding = "MODEL_KV"
id = "${o.kvNamespaceId ?? "<paste the id printed by: npx wrangler kv namespace create MODEL_KV>"}"
`;
  }
  return toml;
}

// wrangler's CLI script: the project's own, else one installed next to this package.
function findWrangler(): string | null {
  try {
    const req = createRequire(join(PACKAGE_ROOT, "package.json"));
    return join(dirname(req.resolve("wrangler/package.json")), "bin/wrangler.js");
  } catch {
    return null;
  }
}

async function dryRun(wranglerJs: string, projectDir: string): Promise<DeployWorkersResult["bundle"]> {
  const outdir = join(projectDir, ".dry-run");
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [wranglerJs, "deploy", "--dry-run", "--outdir", outdir], {
      cwd: projectDir,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CI: "1" },
      maxBuffer: 16 * MIB,
    });
    const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(stdout + stderr);
    if (!m) throw new Error(`could not find "Total Upload" in wrangler's output:\n${stdout}${stderr}`);
    return { uploadKiB: Number(m[1]), gzipKiB: Number(m[2]), measuredBy: "wrangler" };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`wrangler deploy --dry-run failed in the generated project: ${e.stderr || e.stdout || e.message}`);
  } finally {
    await rm(outdir, { recursive: true, force: true });
    await rm(join(projectDir, ".wrangler"), { recursive: true, force: true });
  }
}

function estimateBundle(wasm: Uint8Array, model: Uint8Array | null): DeployWorkersResult["bundle"] {
  const parts = model ? [wasm, model] : [wasm];
  const raw = parts.reduce((n, p) => n + p.byteLength, 0) + 16 * 1024;
  const gz = parts.reduce((n, p) => n + gzipSync(p).byteLength, 0) + 5 * 1024;
  return { uploadKiB: +(raw / 1024).toFixed(2), gzipKiB: +(gz / 1024).toFixed(2), measuredBy: "estimate" };
}

// One shell word, whatever the name holds (spaces, quotes, $, ;): single-quoted.
export function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function readme(o: {
  name: string; modelKey: string; storage: string; bucket: string; bundle: DeployWorkersResult["bundle"];
  modelFileBytes: number; wasmMemoryBytes: number; isolateBytes: number; memoryLimitMb: number; labels: string[]; maxLen: number; task?: string;
}): string {
  const size = `${o.bundle.uploadKiB} KiB, gzip ${o.bundle.gzipKiB} KiB` +
    (o.bundle.measuredBy === "wrangler" ? ` (wrangler ${WRANGLER_VERSION} \`deploy --dry-run\`)` : " (estimated; run `npm run check` for wrangler's number)");
  const where = o.storage === "inline"
    ? "The model is inside the bundle (`src/model.axf`, a Data module)."
    : o.storage === "r2"
      ? `The model is too large for the bundle, so the Worker reads it from the R2 bucket \`${o.bucket}\` (binding \`MODEL_BUCKET\`, key \`${o.modelKey}\`) at the first request of each isolate.`
      : `The Worker reads the model from the KV namespace bound as \`MODEL_KV\` (key \`${o.modelKey}\`) at the first request of each isolate.`;
  let setup = "";
  if (o.storage === "r2") {
    setup = `
## Upload the model to R2 (once, and after every model change)

\`\`\`sh
npx wrangler r2 bucket create ${sh(o.bucket)}
npx wrangler r2 object put ${sh(`${o.bucket}/${o.modelKey}`)} --file ${sh(`model/${o.modelKey}`)} --remote
# for \`npm run dev\`, the local simulator's bucket:
npx wrangler r2 object put ${sh(`${o.bucket}/${o.modelKey}`)} --file ${sh(`model/${o.modelKey}`)} --local
\`\`\`
`;
  } else if (o.storage === "kv") {
    setup = `
## Upload the model to KV (once, and after every model change)

\`\`\`sh
npx wrangler kv namespace create MODEL_KV     # paste the printed id into wrangler.toml
npx wrangler kv key put ${sh(o.modelKey)} --binding MODEL_KV --path ${sh(`model/${o.modelKey}`)} --remote
# for \`npm run dev\`:
npx wrangler kv key put ${sh(o.modelKey)} --binding MODEL_KV --path ${sh(`model/${o.modelKey}`)} --local
\`\`\`
`;
  }
  const embedding = o.task === "embedding";
  // An embedding model answers POST /embed; /classify (below) refuses it.
  const embedApi = `
\`\`\`sh
curl -s localhost:8787/embed -H 'content-type: application/json' -d '{"texts": ["a fine film", "a dull film"]}'
\`\`\`

\`POST /embed\` answers \`{"embeddings": [[...], ...]}\`, one vector per text (at most ${DEFAULT_LIMITS.maxTexts}).
The routes below serve sequence classifiers and answer this model with a 400.
`;
  return `# ${o.name}

A Cloudflare Worker that ${embedding ? "embeds" : "classifies"} text with \`${o.modelKey}\` in the axformer
WebAssembly runtime. Generated by \`axformer deploy workers\`.

- ${embedding ? "Sentence embeddings" : `Labels: ${o.labels.map((l) => `\`${l}\``).join(", ")}`}; inputs are truncated to ${o.maxLen} tokens.
- Bundle: ${size}.
- ${where}
- Memory: model file ${mb(o.modelFileBytes)}, wasm memory ${mb(o.wasmMemoryBytes)}; about ${mb(o.isolateBytes)} of the
  isolate's ${o.memoryLimitMb} MiB at the peak. A model that does not fit is refused with a JSON error naming the sizes.

## Run

\`\`\`sh
npm install          # wrangler ${WRANGLER_VERSION}, the last release that runs on Node 20
npm run check        # wrangler deploy --dry-run --outdir dist: bundles offline, prints the size
npm run dev          # local workerd on http://localhost:8787
npm run deploy       # needs \`npx wrangler login\` first
\`\`\`
${setup}
## API
${embedding ? embedApi : ""}
\`\`\`sh
curl -s localhost:8787/health
curl -s localhost:8787/classify -H 'content-type: application/json' -d '{"text": "a fine film"}'
curl -s localhost:8787/classify -d '{"text": "A man sleeps.", "text_pair": "Nobody sleeps."}'
curl -s localhost:8787/classify -d '{"texts": ["good", "bad", {"text": "a", "text_pair": "b"}]}'
\`\`\`

\`POST /classify\` answers \`{"label", "scores", "labels"}\` (scores in label order), or
\`{"results": [{"label", "scores"}, ...], "labels"}\` for \`texts\` (at most ${DEFAULT_LIMITS.maxTexts}). Bad JSON,
missing or mistyped fields, bodies over ${DEFAULT_LIMITS.maxBodyBytes / MIB} MiB and inputs (\`text\` + \`text_pair\`) over
${DEFAULT_LIMITS.maxTextChars} characters get a 4xx with \`{"error": "..."}\`; the limits are in \`src/worker.ts\`.
Cloudflare's CPU-time limit (10 ms per request on the free plan, \`[limits] cpu_ms\` on the paid
plan) bounds the batch size you can use: each input is one forward pass of up to ${o.maxLen} tokens.
`;
}
