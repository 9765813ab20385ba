// scripts/examples/semantic-search.ts, run small: a random embedding model deployed as a Worker
// (workerd through Miniflare) embeds a corpus over POST /embed and answers queries; the hits
// and scores are those the Node runtime's own embeddings give.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { loadModelFile } from "../host/runtime/node.ts";
import { startSearch } from "../scripts/examples/semantic-search.ts";
import { prng, randomModel } from "./helpers/random-model.ts";
import { withTask } from "./helpers/task-model.ts";

const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this"];

test("semantic search on the Worker: a corpus sentence finds itself first; scores are the Node runtime's cosines", async () => {
  const dir = mkdtempSync(join(tmpdir(), "axformer-search-test-"));
  try {
    const file = join(dir, "embed.axf");
    writeFileSync(file, writeModel(withTask(randomModel({ seed: 12, hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 2, maxPosition: 64 }), "embedding")));
    const r = prng(13);
    const corpus = [...new Set(Array.from({ length: 70 }, () => Array.from({ length: 2 + Math.floor(r() * 10) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ")))];
    assert.ok(corpus.length > 64, "more than one /embed request");
    const s = await startSearch(file, corpus);
    try {
      const query = corpus[37];
      const hits = await s.search(query, 3);
      assert.is(hits[0].text, query);
      assert.ok(Math.abs(hits[0].score - 1) < 1e-5, `${hits[0].score}`);
      const node = await loadModelFile(file);
      const [q] = node.embed([query]);
      const want = node.embed(corpus).map((v, i) => ({ text: corpus[i], score: v.reduce((acc, x, h) => acc + x * q[h], 0) }))
        .sort((a, b) => b.score - a.score).slice(0, 3);
      assert.equal(hits.map((h) => h.text), want.map((h) => h.text));
      hits.forEach((h, i) => assert.ok(Math.abs(h.score - want[i].score) < 1e-6));
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
