// Semantic search on the Worker: an embedding model deployed with `axformer deploy workers`,
// run on the real workerd through Miniflare, embeds a corpus (POST /embed, 64 texts a
// request, the API's limit) and answers queries by cosine similarity (the embeddings are
// unit length, so a dot product). A vector index would hold the corpus vectors in production;
// here they stay in memory.
//
//   node --import tsx scripts/examples/semantic-search.ts [--model models/stsb-embed] [--corpus 300] "a man is playing a guitar"
//
// Default corpus: the first N distinct sentences of GLUE STS-B dev (../shared/data/stsb/dev.tsv).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { Miniflare } from "miniflare";
import { deployWorkers, miniflareOptions } from "../../host/deploy/workers.ts";
import { convertHfDir } from "../../host/convert/index.ts";
import { writeModel } from "../../host/format/writer.ts";
import { readStsb } from "../train/prepare-pairs.ts";

export interface Hit { text: string; score: number }

export interface SearchSession {
  embed(texts: string[]): Promise<Float32Array[]>;
  search(query: string, k?: number): Promise<Hit[]>;
  close(): Promise<void>;
}

// Deploys `modelFile` (.axf) as a Worker project in a temporary folder, bundles it with wrangler
// (offline, --dry-run) and serves it with Miniflare; embeds `corpus` through POST /embed.
export async function startSearch(modelFile: string, corpus: string[]): Promise<SearchSession> {
  const dir = mkdtempSync(join(tmpdir(), "axformer-search-"));
  const project = join(dir, "worker");
  // the model goes into the bundle (10 MB: the paid plan's limit; Miniflare has none)
  await deployWorkers(modelFile, project, { measure: false, storage: "inline", maxBundleMb: 10 });
  const wrangler = join(createRequire(import.meta.url).resolve("wrangler/package.json"), "../bin/wrangler.js");
  const dist = join(project, "dist");
  await promisify(execFile)(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", dist], {
    cwd: project, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
  });
  const mf = new Miniflare(miniflareOptions(dist));
  await mf.ready;
  const embed = async (texts: string[]) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += 64) {
      const res = await mf.dispatchFetch("http://worker/embed", { method: "POST", body: JSON.stringify({ texts: texts.slice(i, i + 64) }) });
      const body = (await res.json()) as { embeddings?: number[][]; error?: string };
      if (res.status !== 200 || !body.embeddings) throw new Error(`POST /embed: ${res.status} ${body.error ?? ""}`);
      for (const e of body.embeddings) out.push(Float32Array.from(e));
    }
    return out;
  };
  const vectors = await embed(corpus);
  return {
    embed,
    async search(query, k = 5) {
      const [q] = await embed([query]);
      const hits = vectors.map((v, i) => {
        let dot = 0;
        for (let h = 0; h < v.length; h++) dot += v[h] * q[h];
        return { text: corpus[i], score: dot };
      });
      return hits.sort((a, b) => b.score - a.score).slice(0, k);
    },
    async close() {
      await mf.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The first `n` distinct sentences of STS-B dev, both sides of each pair.
export function stsbSentences(n: number): string[] {
  const seen = new Set<string>();
  for (const p of readStsb("../shared/data/stsb/dev.tsv", true)) for (const s of [p.a, p.b]) if (seen.size < n) seen.add(s.trim());
  return [...seen];
}

if (process.argv[1]?.endsWith("semantic-search.ts")) {
  const { values, positionals } = parseArgs({
    options: { model: { type: "string", default: "models/stsb-embed" }, corpus: { type: "string", default: "300" }, k: { type: "string", default: "5" } },
    allowPositionals: true,
  });
  const queries = positionals.length ? positionals : ["A man is playing a guitar.", "Stocks fell sharply on Monday."];
  let file = values.model!;
  let tmp: string | null = null;
  if (!file.endsWith(".axf")) {
    if (!existsSync(join(file, "config.json"))) throw new Error(`${file}: neither a .axf file nor a model folder`);
    tmp = mkdtempSync(join(tmpdir(), "axformer-search-model-"));
    const out = join(tmp, "model.axf");
    writeFileSync(out, writeModel(await convertHfDir(file)));
    file = out;
  }
  const corpus = stsbSentences(Number(values.corpus));
  const t0 = performance.now();
  const s = await startSearch(file, corpus);
  console.log(`embedded ${corpus.length} sentences on the Worker (workerd via Miniflare) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const q of queries) {
    console.log(`\n${q}`);
    for (const h of await s.search(q, Number(values.k))) console.log(`  ${h.score.toFixed(3)}  ${h.text}`);
  }
  await s.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
