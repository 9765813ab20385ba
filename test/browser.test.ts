// The universal runtime in a real browser (Debian's Chromium through
// playwright-core): the bundled `axformer` module gives the Node runtime's outputs
// bit for bit; the `axformer demo` page runs a model in the page, served and from
// file://, and sends nothing anywhere; the optimizer's HTML report renders.
// Screenshots go to out/browser/ for a person to look at. Without Chromium every
// test here is reported as skipped.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { BrowserContext, Page } from "playwright-core";
import { writeModel } from "../host/format/writer.ts";
import { loadEngine } from "../host/runtime/node.ts";
import type { LoadedModel } from "../host/runtime/index.ts";
import { buildDemoPage } from "../host/demo/build.ts";
import { startDemoServer } from "../host/demo/server.ts";
import { readModelFileInfo } from "../host/demo/model-file.ts";
import { demoCommand } from "../host/cli/demo.ts";
import { CHROMIUM, hasChromium, launchChromium, serveFiles, watchPage } from "./helpers/browser.ts";
import { probe, type Input, type Task } from "./helpers/probe.ts";
import { DEFAULT_WORDS, prng, randomModel } from "./helpers/random-model.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "out", "browser");
const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, [join(ROOT, "bin/axformer.js"), ...args], { cwd: ROOT, maxBuffer: 1 << 24 });

const INPUTS: Input[] = [
  "a gripping, beautifully acted film",
  "The plot is dull and the ending is TERRIBLE.",
  "Café crème brûlée: naïve, déjà vu, Ångström, Straße",
  "I loved it 😍🔥👍🏽 best movie ever!!",
  "我喜欢这部电影, とても良い",
  "",
  "  \t\n tabs\u0000 and\u200b zero width\u00ad soft hyphen  ",
  ["The cat sat on the mat.", "A cat is sitting on a mat."],
  ["", "only the second text"],
  ["Is it good?", ""],
  "word ".repeat(400) + "end", // past max_len: truncated
  ["a long premise " + "that goes on ".repeat(100), "and a short hypothesis"],
];

// The models checked in the browser; a task to come is one more row here and one
// more entry in test/helpers/probe.ts.
interface ModelCase { name: string; task: Task; bytes: () => Promise<Uint8Array> }

let tmp = "";
const sst2 = async () => {
  const path = join(tmp, "sst2.axf");
  await cli("convert", join(ROOT, "models/sst2"), "-o", path);
  return new Uint8Array(readFileSync(path));
};
let sst2Bytes: Promise<Uint8Array> | null = null;
const MODELS: ModelCase[] = [
  { name: "sst2.axf", task: "classifier", bytes: () => (sst2Bytes ??= sst2()) },
  {
    name: "random-distilbert-int8.axf", task: "classifier",
    bytes: async () => writeModel(randomModel({ arch: "distilbert", seed: 3, hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLabels: 3, storage: "int8" })),
  },
  {
    name: "random-bert-f16-pruned.axf", task: "classifier",
    bytes: async () => writeModel(randomModel({
      seed: 5, hiddenSize: 32, numHeads: 4, intermediateSize: 40, maxPosition: 64, problemType: "multi_label_classification", numLabels: 4, storage: "f16",
      layers: [{ heads: [0, 2], hardK: 3 }, { hasAttention: false }, { hasFfn: false, hardK: 2 }, { ffnNeurons: [1, 5, 7, 30] }],
    })),
  },
];

let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
let context: BrowserContext;
const t = hasChromium() ? test : test.skip;
if (!hasChromium()) console.log(`  browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

test.before(async () => {
  if (!hasChromium()) return;
  tmp = mkdtempSync(join(tmpdir(), "axformer-browser-"));
  mkdirSync(OUT, { recursive: true });
  console.log(`  browser screenshots: ${OUT}`);
  // The CLI runs (convert, optimize) go on while Chromium starts; their errors surface in the tests that await them.
  for (const p of [MODELS[0].bytes(), optimizeRun()]) p.catch(() => {});
  browser = await launchChromium();
  context = browser.context;
});

let started = 0;
test.before.each(() => { started = Date.now(); });
test.after.each((ctx) => { if (process.env.AXFORMER_TIMES) console.log(`  ${((Date.now() - started) / 1000).toFixed(1)} s: ${ctx.__test__}`); });

test.after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function newPage(allowed: (u: URL) => boolean): Promise<{ page: Page; errors: string[]; outside: string[] }> {
  const page = await context.newPage();
  return { page, ...(await watchPage(page, allowed)) };
}

const local = (origin: string) => (u: URL) => u.origin === origin;
const fileOnly = (u: URL) => u.protocol === "file:";

async function nodeModel(bytes: Uint8Array): Promise<LoadedModel> {
  return (await loadEngine()).loadModel(bytes);
}

// The wasm's outputs (ids, f32 logits, and the f64 scores, which the runtime
// computes: assembly/encoder/scores.ts) must match bit for bit. (When the host
// computed scores with Math.exp, whose last bit ECMAScript leaves to the engine,
// Node 20's V8 and Chromium 156's differed on about one input in ten.)
const SCORE_ULPS = 0n;
let scoreDiffs = 0, scoreCount = 0;

function sameAsNode(browser: unknown, node: unknown, what: string): void {
  const scores = (x: unknown, out: string[][]): unknown => {
    if (Array.isArray(x)) return x.map((v) => scores(v, out));
    if (x && typeof x === "object") {
      return Object.fromEntries(Object.entries(x).map(([k, v]) => {
        if (k !== "scores") return [k, scores(v, out)];
        out.push(v as string[]);
        return [k, "(compared below)"];
      }));
    }
    return x;
  };
  const b: string[][] = [], n: string[][] = [];
  assert.equal(scores(browser, b), scores(node, n), what);
  b.forEach((row, i) => row.forEach((bits, j) => {
    const x = BigInt("0x" + bits), y = BigInt("0x" + n[i][j]);
    const ulps = x > y ? x - y : y - x;
    scoreCount++;
    if (ulps > 0n) scoreDiffs++;
    assert.ok(ulps <= SCORE_ULPS && (x >> 63n) === (y >> 63n), `${what}: score ${i}.${j} is ${bits} in the browser, ${n[i][j]} in Node`);
  }));
}

t("the bundled runtime in Chromium gives Node's tokens, logits and scores bit for bit", async () => {
  const { build } = await import("esbuild");
  // The package's `axformer` export is host/runtime/index.ts; the probe rides along.
  const bundle = await build({
    stdin: {
      contents: `export * from "./host/runtime/index.ts"; export { probe } from "./test/helpers/probe.ts";`,
      resolveDir: ROOT, sourcefile: "entry.ts", loader: "ts",
    },
    bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", logLevel: "silent",
  });
  const js = bundle.outputFiles[0].text;
  assert.not.match(js, /node:|require\(/, "the browser bundle pulls in no Node module");
  const models = await Promise.all(MODELS.map(async (m) => ({ ...m, data: await m.bytes() })));
  const files: Record<string, { type: string; body: Uint8Array | string }> = {
    "/": { type: "text/html; charset=utf-8", body: "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'><title>axformer</title>" },
    "/axformer.js": { type: "text/javascript", body: js },
    "/axformer.wasm": { type: "application/wasm", body: readFileSync(join(ROOT, "build/axformer.wasm")) },
  };
  for (const m of models) files[`/models/${m.name}`] = { type: "application/octet-stream", body: m.data };
  const server = await serveFiles(files);
  const { page, errors, outside } = await newPage(local(server.url));
  try {
    await page.goto(server.url + "/");
    const inBrowser = await page.evaluate(async ({ cases, inputs }) => {
      const ax = await import("/axformer.js" as string);
      // Both ways in: a compiled WebAssembly.Module (as Workers get it) and plain bytes.
      const fromModule = await ax.instantiate(await WebAssembly.compileStreaming(fetch("/axformer.wasm")));
      const fromBytes = await ax.instantiate(await (await fetch("/axformer.wasm")).arrayBuffer());
      const out: Record<string, unknown[]> = {};
      for (const c of cases) {
        const bytes = new Uint8Array(await (await fetch(`/models/${c.name}`)).arrayBuffer());
        out[c.name] = [ax.probe(fromModule.loadModel(bytes), c.task, inputs), ax.probe(fromBytes.loadModel(bytes), c.task, inputs)];
      }
      return out;
    }, { cases: MODELS.map(({ name, task }) => ({ name, task })), inputs: INPUTS });
    for (const m of models) {
      const node = probe(await nodeModel(m.data), m.task, INPUTS) as { items: Array<{ ids: number[] }>; shape: { maxLen: number } };
      // The Node side is sane on its own: [CLS] first, truncation to max_len happened.
      assert.ok(node.items.every((it) => it.ids.length >= 2 && it.ids.length <= node.shape.maxLen), m.name);
      assert.is(node.items[10].ids.length, node.shape.maxLen, `${m.name}: the long text is cut to max_len`);
      sameAsNode(inBrowser[m.name][0], node, `${m.name}: browser (WebAssembly.Module) vs Node`);
      sameAsNode(inBrowser[m.name][1], node, `${m.name}: browser (bytes) vs Node`);
    }
    console.log(`  scores: ${scoreDiffs} of ${scoreCount} differ from Node's in the last bits (Math.exp), the rest bit for bit`);
    assert.equal(errors, [], "no console errors");
    assert.equal(outside, [], "no request left localhost");
  } finally {
    await page.close();
    await server.close();
  }
});

// The vocabulary straight from the checkpoint folder, as an independent id -> piece map.
const sst2Vocab = () => readFileSync(join(ROOT, "models/sst2/vocab.txt"), "utf8").split("\n");

t("axformer demo: the page runs the model in the browser, shows label, scores, pieces and sizes, and stays on localhost", async () => {
  const bytes = await MODELS[0].bytes();
  const node = await nodeModel(bytes);
  const server = await startDemoServer(join(tmp, "sst2.axf"), bytes, { port: 0 });
  const origin = server.url.replace(/\/$/, "");
  const { page, errors, outside } = await newPage(local(origin));
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  try {
    await page.goto(server.url);
    await page.waitForSelector("body[data-state=ready]");
    const facts = await page.$$eval("#model-facts dt, #model-facts dd", (els) => els.map((e) => e.textContent));
    const fact = (k: string) => facts[facts.indexOf(k) + 1]!;
    assert.is(fact("layers"), String(node.numLayers));
    assert.match(fact("hidden size"), new RegExp(`^${node.hiddenSize} `));
    assert.is(fact("labels"), node.labels.join(", "));
    assert.match(fact("file"), new RegExp(`^sst2\\.axf, ${bytes.length.toLocaleString("en")} bytes`));
    assert.match(await page.textContent("#decisions") ?? "", /No optimizer decisions/);

    const vocab = sst2Vocab();
    const check = async (a: string, b?: string) => {
      const runs = Number(await page.getAttribute("#classify-result", "data-runs"));
      await page.fill("#text-a", a);
      await page.fill("#text-b", b ?? "");
      await page.click("#classify-button");
      await page.waitForFunction((n) => Number(document.querySelector("#classify-result")?.getAttribute("data-runs")) > n, runs);
      const expected = node.classify(a, b);
      const enc = node.tokenize(a, b);
      assert.is(await page.textContent("#label"), expected.label, `label of ${JSON.stringify([a, b])}`);
      const shown = await page.$$eval(".bar-value", (els) => els.map((e) => e.textContent));
      assert.equal(shown, expected.scores.map((s) => s.toFixed(4)));
      const toks = await page.$$eval(".tok", (els) => els.map((e) => [Number(e.getAttribute("data-id")), e.querySelector(".piece")!.textContent]));
      assert.equal(toks, enc.inputIds.map((id) => [id, vocab[id]]), "pieces and ids as the vocabulary has them");
      assert.match(await page.textContent("#latency") ?? "", /^\d+\.\d\d ms for this call/);
    };
    await check("an utterly dull, lifeless and boring film");
    await check("Café crème brûlée 😍 a joy from start to finish");
    await check("The cat sat on the mat.", "A cat is sitting on a mat.");
    // Keyboard only: Ctrl+Enter in the text box runs it.
    const runs = Number(await page.getAttribute("#classify-result", "data-runs"));
    await page.focus("#text-a");
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction((n) => Number(document.querySelector("#classify-result")?.getAttribute("data-runs")) > n, runs);

    await page.fill("#text-a", "a gripping, beautifully acted film");
    await page.fill("#text-b", "");
    await page.click("#classify-button");
    await page.screenshot({ path: join(OUT, "demo.png"), fullPage: true });
    // Every text box has a label.
    const unlabelled = await page.$$eval("textarea, input", (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length).map((e) => e.id));
    assert.equal(unlabelled, []);
    assert.equal(errors, [], "no console errors");
    assert.equal(outside, [], "no request left localhost");
    assert.ok(requests.every((u) => u.startsWith(origin + "/")), requests.join("\n"));
    assert.equal(requests.map((u) => u.slice(origin.length)).sort(), ["/", "/model.axf"], "the page fetches itself and the model, nothing else");
  } finally {
    await page.close();
    await server.close();
  }
});

// The other tasks' panels: each model gets its task's panel only, and the page shows
// what the Node runtime computes (the panels' texts, from the same numbers).
t("axformer demo: embedding, token-classification and QA models get their own panels with the Node runtime's results", async () => {
  const { convertHfDir } = await import("../host/convert/index.ts");
  const fixture = (p: string) => join(ROOT, "test/fixtures", p);
  const cases: Array<{ dir: string; panel: string; check: (page: Page, node: LoadedModel) => Promise<void> }> = [
    {
      dir: "tasks/distilbert-base", panel: "embed",
      check: async (page, node) => {
        const lines = ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply today."];
        const v = node.embed(lines);
        const cos = (a: Float32Array, b: Float32Array) => {
          let ab = 0, aa = 0, bb = 0;
          for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
          return ab / Math.sqrt(aa * bb);
        };
        const cells = await page.$$eval("#similarity td.sim", (els) => els.map((e) => e.textContent));
        assert.equal(cells, lines.flatMap((_, i) => lines.map((_, j) => cos(v[i], v[j]).toFixed(4))));
      },
    },
    {
      dir: "pipelines/ner-bert-uncased", panel: "ner",
      check: async (page, node) => {
        for (const [text, aggregation] of [["Ada Lovelace worked with Charles Babbage in London.", "simple"], ["john smith visited paris and berlin", "none"]] as const) {
          const runs = Number(await page.getAttribute("#ner-result", "data-runs"));
          await page.fill("#ner-text", text);
          await page.selectOption("#ner-aggregation", aggregation);
          await page.click("#ner-button");
          await page.waitForFunction((n) => Number(document.querySelector("#ner-result")?.getAttribute("data-runs")) > n, runs);
          const ents = node.tokenClassify(text, { aggregation });
          const shown = await page.$$eval("#entities li", (els) => els.map((e) => e.textContent));
          assert.equal(shown, ents.map((e) => `${e.entity_group ?? e.entity} ${e.score.toFixed(4)} ${e.start}-${e.end} ${JSON.stringify(e.word)}`), text);
          assert.is(await page.$$eval(".marked mark", (els) => els.length), ents.length);
        }
      },
    },
    {
      dir: "pipelines/qa-bert-uncased", panel: "qa",
      check: async (page, node) => {
        const q = "Where did Ada Lovelace live?", c = "Ada Lovelace lived in London, where she worked with Charles Babbage on the Analytical Engine.";
        const found = node.answer(q, c, { topK: 3 }) as Array<{ answer: string; score: number; start: number; end: number }>;
        const shown = await page.$$eval("#answers li", (els) => els.map((e) => e.textContent));
        assert.equal(shown, found.map((a) => `${JSON.stringify(a.answer)} ${a.score.toFixed(4)} ${a.start}-${a.end}`));
        assert.is(await page.textContent(".marked mark"), Array.from(c).slice(found[0].start, found[0].end).join(""));
      },
    },
  ];
  for (const k of cases) {
    const bytes = writeModel(await convertHfDir(fixture(k.dir)));
    const node = await nodeModel(bytes);
    const server = await startDemoServer(join(tmp, `${k.panel}.axf`), bytes, { port: 0 });
    const { page, errors, outside } = await newPage(local(server.url.replace(/\/$/, "")));
    try {
      await page.goto(server.url);
      await page.waitForSelector("body[data-state=ready]");
      assert.equal(await page.$$eval("section.task", (els) => els.map((e) => e.id)), [`task-${k.panel}`], k.dir);
      await page.waitForSelector(`#${k.panel}-result[data-runs]`);
      await k.check(page, node);
      const unlabelled = await page.$$eval("textarea, input, select", (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length).map((e) => e.id));
      assert.equal(unlabelled, []);
      await page.screenshot({ path: join(OUT, `demo-${k.panel}.png`), fullPage: true });
      assert.equal(errors, [], "no console errors");
      assert.equal(outside, [], "no request left localhost");
    } finally {
      await page.close();
      await server.close();
    }
  }
});

// A tiny optimize run through the CLI: its report and its model (which carries
// the decisions in META) for the next tests.
let optimized: Promise<{ model: string; report: string; summary: { decisions: { hard_attention: boolean[] } } }> | null = null;
function optimizeRun() {
  optimized ??= (async () => {
    const dir = join(tmp, "optimize");
    mkdirSync(dir);
    const model = join(dir, "random.axf");
    writeFileSync(model, writeModel(randomModel({ seed: 11, hiddenSize: 32, numHeads: 4, intermediateSize: 48, numLayers: 3, maxPosition: 40 })));
    const rand = prng(4);
    const words = DEFAULT_WORDS.filter((w) => /^[a-z]{2,}$/.test(w));
    const rows = Array.from({ length: 40 }, () => {
      const text = Array.from({ length: 3 + Math.floor(rand() * 8) }, () => words[Math.floor(rand() * words.length)]).join(" ");
      return JSON.stringify({ text, label: rand() < 0.5 ? 0 : 1 });
    });
    writeFileSync(join(dir, "val.jsonl"), rows.join("\n") + "\n");
    const out = join(dir, "optimized.axf"), report = join(dir, "report.html"), json = join(dir, "summary.json");
    await cli("optimize", model, "--task", "generic", "--text-col", "text", "--label-col", "label", "--val", join(dir, "val.jsonl"),
      "-o", out, "--report", report, "--json", json, "--hard-k", "4", "--workers", "1"); // the strict test: a mix of heads, groups and blocks removed
    return { model: out, report, summary: JSON.parse(readFileSync(json, "utf8")) };
  })();
  return optimized;
}

t("the demo page from file://: a model chosen with the file input or dropped on the page, the optimizer's decisions shown", async () => {
  const [run, pageHtml] = await Promise.all([optimizeRun(), buildDemoPage()]);
  const pagePath = join(tmp, "demo.html");
  writeFileSync(pagePath, pageHtml);
  const { page, errors, outside } = await newPage(fileOnly);
  try {
    await page.goto(pathToFileURL(pagePath).href);
    await page.waitForSelector("body[data-state=waiting]");
    await page.setInputFiles("#model-input", run.model);
    await page.waitForSelector("body[data-state=ready]");
    const node = await nodeModel(new Uint8Array(readFileSync(run.model)));
    const layers = run.summary.decisions.hard_attention.length;
    assert.is(await page.locator("#decisions tbody tr").count(), layers, "one row per layer");
    const rows = await page.$$eval("#decisions tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((e) => e.textContent!)));
    const d = run.summary.decisions as unknown as {
      hard_attention: boolean[]; hard_attention_k: number[]; attention_block_removed: boolean[]; heads_removed: number[][];
      ffn_block_removed: boolean[]; ffn_groups_removed: number[][];
    };
    const numbers = (s: string) => (s.match(/\d+/g) ?? []).map(Number);
    rows.forEach(([attention, hard, ffn], i) => {
      if (d.attention_block_removed[i]) assert.equal([attention, hard], ["block removed", "n/a"], `layer ${i}`);
      else {
        assert.equal(numbers(attention), d.heads_removed[i], `layer ${i} heads removed`);
        assert.is(hard, d.hard_attention[i] ? `top-${d.hard_attention_k[i]}` : "no", `layer ${i}`);
      }
      if (d.ffn_block_removed[i]) assert.is(ffn, "block removed", `layer ${i}`);
      else assert.equal(numbers(ffn.replace(/ of 12 removed$/, "")), d.ffn_groups_removed[i], `layer ${i} FFN groups removed`);
    });
    assert.ok(rows.some(([a]) => /^heads? /.test(a)) && rows.some(([a]) => a === "block removed"), "the run removed heads in one layer and a block in another");
    await page.fill("#text-a", "this movie is not very good");
    await page.click("#classify-button");
    await page.waitForFunction((l) => document.querySelector("#label")?.textContent === l, node.classify("this movie is not very good").label);
    await page.screenshot({ path: join(OUT, "demo-optimized.png"), fullPage: true });

    // Drag and drop another model onto the page.
    const other = await MODELS[1].bytes();
    const dataTransfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "dropped.axf"));
      return dt;
    }, Buffer.from(other).toString("base64"));
    await page.dispatchEvent("body", "drop", { dataTransfer });
    await page.waitForFunction(() => document.querySelector("#model-facts dd")?.textContent?.startsWith("dropped.axf"));
    await page.waitForSelector("body[data-state=ready]");
    const dropped = await nodeModel(other);
    assert.is(await page.textContent("#label"), dropped.classify("a gripping, beautifully acted film").label);

    // A file that is not a model: a clear error, no crash.
    await page.setInputFiles("#model-input", { name: "notes.axf", mimeType: "application/octet-stream", buffer: Buffer.from("not a model") });
    await page.waitForSelector("body[data-state=error]");
    assert.match(await page.textContent("#status") ?? "", /^notes\.axf: .+/);
    assert.equal(errors, [], "no console errors");
    assert.equal(outside, [], "no request left the page's files");
  } finally {
    await page.close();
  }
});

t("the optimizer's HTML report renders in Chromium without errors (screenshot in out/browser/report.png)", async () => {
  const run = await optimizeRun();
  const { page, errors, outside } = await newPage(fileOnly);
  try {
    await page.goto(pathToFileURL(run.report).href);
    assert.ok(await page.locator("svg").first().isVisible(), "the layer picture is drawn");
    const box = await page.locator("svg").first().boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `svg size ${JSON.stringify(box)}`);
    assert.ok((await page.textContent("body"))!.includes("layer 2"), "every layer is named");
    await page.screenshot({ path: join(OUT, "report.png"), fullPage: true });
    assert.equal(errors, [], "no console errors");
    assert.equal(outside, [], "the report loads nothing");
  } finally {
    await page.close();
  }
});

// ---- without a browser ----

test("the page reader gives the file's vocabulary, META and sections, and names a bad file", () => {
  const m = randomModel({ seed: 9 });
  const bytes = writeModel(m);
  const info = readModelFileInfo(bytes);
  assert.equal(info.vocab, m.vocab);
  assert.is(info.meta?.source, "randomModel");
  assert.is(info.fileBytes, bytes.length);
  assert.is(info.config[2], m.config.hiddenSize, "CONFIG word 2 is hidden_size");
  assert.equal(info.sections.map((x) => x.name).sort(), ["CONFIG", "DATA", "LABELS", "LAYERS", "META", "TENSORS", "VOCAB"]);
  assert.throws(() => readModelFileInfo(new TextEncoder().encode("hello, not a model at all, but long enough to hold a header.......")), /not an \.axf model file/);
  assert.throws(() => readModelFileInfo(bytes.subarray(0, 200)), /past the end of the file/);
});

test("axformer demo names a bad port and a bad model file; --out writes a self-contained page and the model", async () => {
  const err = (model: string, opts: { port?: string }) => demoCommand(model, opts).then(() => "", (e: Error) => e.message);
  const dir = mkdtempSync(join(tmpdir(), "axformer-demo-"));
  try {
    const model = join(dir, "m.axf");
    writeFileSync(model, writeModel(randomModel({ seed: 2 })));
    assert.match(await err(join(ROOT, "README.md"), { port: "0" }), /README\.md: .*magic/);
    assert.match(await err(join(ROOT, "no-such.axf"), {}), /model file not found/);
    assert.match(await err(model, { port: "80x" }), /--port must be an integer in 0\.\.65535/);
    assert.match(await err(model, { port: "65536" }), /--port must be an integer in 0\.\.65535/);
    await cli("demo", model, "--out", join(dir, "site")); // through the command line once
    assert.equal(readFileSync(join(dir, "site", "model.axf")), readFileSync(model));
    const html = readFileSync(join(dir, "site", "index.html"), "utf8");
    assert.match(html, /data-model-url="model\.axf"/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.not.match(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, "nothing loaded from elsewhere");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the demo server answers GET for the page and the model only, on 127.0.0.1, with a CSP", async () => {
  const bytes = writeModel(randomModel({ seed: 2 }));
  const server = await startDemoServer("m.axf", bytes, { port: 0 });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.is(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.match(await page.text(), /data-model-name="m\.axf"/);
    assert.equal(new Uint8Array(await (await fetch(server.url + "model.axf")).arrayBuffer()), bytes);
    assert.is((await fetch(server.url + "../etc/passwd")).status, 404);
    assert.is((await fetch(server.url + "build/axformer.wasm")).status, 404);
    assert.is((await fetch(server.url, { method: "POST", body: "x" })).status, 405);
  } finally {
    await server.close();
  }
});

test.run();
