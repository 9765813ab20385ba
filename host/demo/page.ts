// The demo page's script (bundled by host/demo/build.ts into page.html): runs a
// model file IN THE BROWSER with the universal runtime. The wasm is inlined in the
// page; the model comes from the page's own origin (`axformer demo` serves it as
// data-model-url) or from the user (file input, drag and drop), so the page works
// from file:// and from any static host, and it makes no other request.
//
// The page is a model panel (sizes, the optimizer's decisions) plus one panel per
// task the model can do. A task is one TaskPanel entry in TASKS, chosen by the
// model's task: classify, embed (cosine similarities), token classification
// (entities marked in the text) and question answering (the answer marked in the context).

import { instantiate, type Engine, type LoadedModel } from "../runtime/index.ts";
import * as F from "../../assembly/format/constants.ts";
import { readModelFileInfo, type ModelFileInfo } from "./model-file.ts";

interface Loaded { name: string; model: LoadedModel; info: ModelFileInfo }

interface TaskPanel {
  id: string;
  title: string;
  applies(m: Loaded): boolean;
  mount(root: HTMLElement, m: Loaded): void;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

const kib = (b: number) => (b >= 1 << 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

function setStatus(state: "loading" | "waiting" | "ready" | "error", text: string) {
  document.body.dataset.state = state;
  const s = $("status");
  s.textContent = text;
  s.setAttribute("role", state === "error" ? "alert" : "status");
}

// ---- the model panel ----

const ARCHS: Record<number, string> = { [F.ARCH_BERT]: "BERT", [F.ARCH_DISTILBERT]: "DistilBERT" };

function modelPanel(m: Loaded): HTMLElement {
  const { model, info } = m;
  const c = info.config;
  const rows: Array<[string, string]> = [
    ["file", `${m.name}, ${info.fileBytes.toLocaleString("en")} bytes (${kib(info.fileBytes)}), format v${info.version}`],
    ["architecture", `${ARCHS[c[F.CFG_ARCH]] ?? "?"}, ${model.problemType.replace(/_/g, " ")}`],
    ["layers", String(model.numLayers)],
    ["hidden size", `${model.hiddenSize} (${c[F.CFG_NUM_HEADS]} heads of ${c[F.CFG_HEAD_DIM]}, FFN ${c[F.CFG_INTERMEDIATE_SIZE]})`],
    ["vocabulary", `${model.vocabSize.toLocaleString("en")} WordPiece tokens`],
    ["max tokens", String(model.maxLen)],
    ["labels", model.labels.join(", ")],
    ["wasm memory", kib(model.memoryBytes())],
    ["sections", info.sections.map((s) => `${s.name} ${kib(s.bytes)}`).join(", ")],
  ];
  const source = info.meta?.source;
  if (typeof source === "string" || (source && typeof source === "object")) rows.splice(1, 0, ["source", typeof source === "string" ? source : JSON.stringify(source)]);
  const dl = el("dl", { id: "model-facts" });
  for (const [k, v] of rows) dl.append(el("dt", { text: k }), el("dd", { text: v }));
  const section = el("section", { id: "model", "aria-labelledby": "model-h" }, el("h2", { id: "model-h", text: "Model" }), dl);
  section.append(decisionsView(info.meta));
  if (info.meta) {
    const { layers: _layers, ...rest } = info.meta;
    section.append(el("details", {}, el("summary", { text: "META (the file's JSON notes)" }), el("pre", { text: JSON.stringify(rest, null, 2) })));
  }
  return section;
}

interface Decisions {
  hard_attention: boolean[]; hard_attention_k: number[]; attention_block_removed: boolean[];
  ffn_block_removed: boolean[]; heads_removed: number[][]; ffn_groups_removed: number[][]; int8_layers?: boolean[];
}

// The optimizer's decisions (META.axformer_optimize, written by `axformer optimize`), one row per layer.
function decisionsView(meta: Record<string, unknown> | null): HTMLElement {
  const opt = meta?.axformer_optimize as { decisions?: Decisions; mode?: string; task?: string; max_drop?: number | null; original_val_loss?: number; final_val_loss?: number; val_rows?: number } | undefined;
  const d = opt?.decisions;
  if (!d || !Array.isArray(d.hard_attention)) return el("p", { id: "decisions", text: "No optimizer decisions in this file (not produced by axformer optimize)." });
  const table = el("table", { id: "decisions" });
  table.append(el("caption", { text: `Optimizer decisions: ${opt!.mode === "budget" ? `budget of ${opt!.max_drop} points` : "strict test"} on ${opt!.task ?? "?"} (${opt!.val_rows ?? "?"} val rows), val loss ${num(opt!.original_val_loss)} → ${num(opt!.final_val_loss)}` }));
  table.append(el("thead", {}, el("tr", {}, ...["layer", "attention", "hard attention", "FFN", "weights"].map((h) => el("th", { scope: "col", text: h })))));
  const body = el("tbody");
  d.hard_attention.forEach((_, i) => {
    const attention = d.attention_block_removed[i] ? "block removed" : d.heads_removed[i]?.length ? `${plural(d.heads_removed[i], "head")} removed` : "all heads kept";
    const hard = d.attention_block_removed[i] ? "n/a" : d.hard_attention[i] ? `top-${d.hard_attention_k[i]}` : "no";
    const ffn = d.ffn_block_removed[i] ? "block removed" : d.ffn_groups_removed[i]?.length ? `${plural(d.ffn_groups_removed[i], "group")} of 12 removed` : "all groups kept";
    body.append(el("tr", {}, el("th", { scope: "row", text: String(i) }), el("td", { text: attention }), el("td", { text: hard }), el("td", { text: ffn }), el("td", { text: d.int8_layers?.[i] ? "int8" : "as stored" })));
  });
  table.append(body);
  return table;
}

const plural = (xs: number[], noun: string) => `${noun}${xs.length > 1 ? "s" : ""} ${xs.join(", ")}`;
const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(4) : "n/a");

// ---- the tokens view, shared by every task ----

function tokensView(m: Loaded, ids: number[], types: number[]): HTMLElement {
  const list = el("ol", { class: "tokens", "aria-label": `${ids.length} tokens` });
  ids.forEach((id, i) => {
    const piece = m.info.vocab[id] ?? "?";
    list.append(el("li", { class: types[i] ? "tok seg-b" : "tok", "data-id": String(id) }, el("span", { class: "piece", text: piece }), el("span", { class: "id", text: String(id) })));
  });
  return list;
}

// ---- tasks ----

const classifierPanel: TaskPanel = {
  id: "classify",
  title: "Classify a text or a text pair",
  applies: (m) => m.model.task === "sequence-classification",
  mount(root, m) {
    const a = textarea("text-a", 3, "a gripping, beautifully acted film");
    const b = textarea("text-b", 2, "");
    livePanel(root, "classify", [[a, "Text"], [b, "Second text (optional: premise / hypothesis, question / sentence pairs)"]], "Classify", () => {
      const textB = b.value === "" ? undefined : b.value;
      const res = m.model.classify(a.value, textB);
      const enc = m.model.tokenize(a.value, textB);
      const best = res.scores.indexOf(Math.max(...res.scores));
      const bars = el("div", { class: "bars" });
      res.scores.forEach((s, i) => {
        const pct = Math.max(0, Math.min(1, s)) * 100;
        bars.append(el("div", { class: i === best ? "bar-row best" : "bar-row" },
          el("span", { class: "bar-label", text: m.model.labels[i] }),
          el("span", { class: "bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": String(s), "aria-label": m.model.labels[i] },
            el("span", { class: "fill", style: `width:${pct.toFixed(1)}%` })),
          el("span", { class: "bar-value", text: s.toFixed(4) })));
      });
      return (ms) => [
        el("p", { class: "label-line" }, "Label: ", el("strong", { id: "label", text: res.label })),
        bars,
        latency(ms, `tokenize + forward pass, ${enc.inputIds.length} tokens, `),
        el("h3", { text: "Tokens (piece and id)" }),
        tokensView(m, enc.inputIds, enc.tokenTypeIds),
      ];
    });
  },
};

// A form that runs `run` now, on submit (or Ctrl+Enter) and 150 ms after typing.
// `run` computes and returns how to render its result given the time it took; the
// result box (#<id>-result) counts the runs in data-runs (the browser test waits on
// it) and shows an error instead when `run` throws.
function livePanel(root: HTMLElement, id: string, fields: Array<[HTMLElement, string]>, button: string, run: () => (ms: number) => Node[]): void {
  const form = el("form", { id: `${id}-form` });
  for (const [input, label] of fields) form.append(el("label", { for: input.id, text: label }), input);
  form.append(el("div", { class: "row" }, el("button", { type: "submit", id: `${id}-button`, text: button }), el("span", { class: "hint", text: "or Ctrl+Enter; results update as you type" })));
  const result = el("div", { id: `${id}-result`, "aria-live": "polite" });
  root.append(form, result);
  let runs = 0;
  const go = () => {
    const t0 = performance.now();
    let render: (ms: number) => Node[];
    try {
      render = run();
    } catch (err) {
      result.replaceChildren(el("p", { class: "error", role: "alert", text: (err as Error).message }));
      return;
    }
    const ms = performance.now() - t0;
    runs++;
    result.dataset.runs = String(runs);
    result.replaceChildren(...render(ms));
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  form.addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(timer); go(); });
  for (const [input] of fields) {
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(go, 150); });
    input.addEventListener("keydown", (e) => { if ((e as KeyboardEvent).key === "Enter" && ((e as KeyboardEvent).ctrlKey || (e as KeyboardEvent).metaKey)) { e.preventDefault(); form.requestSubmit(); } });
  }
  go();
}

// One task panel per page, so one #latency.
function latency(ms: number, detail = ""): HTMLElement {
  return el("p", { id: "latency", text: `${ms.toFixed(2)} ms for this call (${detail}in this browser)` });
}

function textarea(id: string, rows: number, value: string): HTMLTextAreaElement {
  const t = el("textarea", { id, rows: String(rows), spellcheck: "false" });
  t.value = value;
  return t;
}

// The text with [start, end) spans (code points, as the pipelines give them) marked.
function marked(text: string, spans: Array<{ start: number; end: number; title: string }>): HTMLElement {
  const cps = Array.from(text);
  const p = el("p", { class: "marked" });
  let at = 0;
  for (const s of [...spans].sort((x, y) => x.start - y.start)) {
    if (s.start < at) continue;
    p.append(cps.slice(at, s.start).join(""), el("mark", { title: s.title, text: cps.slice(s.start, s.end).join("") }));
    at = s.end;
  }
  p.append(cps.slice(at).join(""));
  return p;
}

const embeddingPanel: TaskPanel = {
  id: "embed",
  title: "Embed sentences and compare them",
  applies: (m) => m.model.task === "embedding",
  mount(root, m) {
    const texts = textarea("embed-texts", 5, "A man is playing a guitar.\nSomeone plays an instrument.\nThe stock market fell sharply today.");
    livePanel(root, "embed", [[texts, "Sentences, one per line"]], "Embed", () => {
      const lines = texts.value.split("\n").filter((l) => l.trim() !== "");
      if (lines.length === 0) return () => [el("p", { text: "Type a sentence." })];
      const vs = m.model.embed(lines);
      const cos = (a: Float32Array, b: Float32Array) => {
        let ab = 0, aa = 0, bb = 0;
        for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
        return ab / Math.sqrt(aa * bb);
      };
      const table = el("table", { id: "similarity" }, el("caption", { text: `Cosine similarity (${vs[0].length} dimensions)` }));
      table.append(el("tr", {}, el("th", { text: "" }), ...lines.map((_, j) => el("th", { scope: "col", text: `#${j + 1}` }))));
      lines.forEach((l, i) => table.append(el("tr", {}, el("th", { scope: "row", text: `#${i + 1} ${l.slice(0, 40)}` }),
        ...lines.map((_, j) => el("td", { class: "sim", text: cos(vs[i], vs[j]).toFixed(4) })))));
      return (ms) => [table, el("p", { id: "embed-head", text: `#1: [${Array.from(vs[0].slice(0, 6), (x) => x.toFixed(4)).join(", ")}, …]` }), latency(ms)];
    });
  },
};

const nerPanel: TaskPanel = {
  id: "ner",
  title: "Find entities (token classification)",
  applies: (m) => m.model.task === "token-classification",
  mount(root, m) {
    const text = textarea("ner-text", 3, "Ada Lovelace worked with Charles Babbage in London.");
    const agg = el("select", { id: "ner-aggregation" });
    for (const a of ["none", "simple", "first", "average", "max"]) agg.append(el("option", { value: a, text: a }));
    agg.value = "simple";
    livePanel(root, "ner", [[text, "Text"], [agg, "Aggregation (Hugging Face's token-classification pipeline)"]], "Find entities", () => {
      const ents = m.model.tokenClassify(text.value, { aggregation: agg.value as "none" });
      const name = (e: { entity?: string; entity_group?: string }) => (e.entity_group ?? e.entity) as string;
      const list = el("ol", { id: "entities" });
      for (const e of ents) list.append(el("li", { class: "entity", text: `${name(e)} ${e.score.toFixed(4)} ${e.start}-${e.end} ${JSON.stringify(e.word)}` }));
      return (ms) => [marked(text.value, ents.map((e) => ({ start: e.start, end: e.end, title: `${name(e)} ${e.score.toFixed(4)}` }))),
        ents.length ? list : el("p", { id: "entities", text: "(no entities)" }), latency(ms)];
    });
  },
};

const qaPanel: TaskPanel = {
  id: "qa",
  title: "Answer a question from a context",
  applies: (m) => m.model.task === "question-answering",
  mount(root, m) {
    const question = textarea("qa-question", 1, "Where did Ada Lovelace live?");
    const context = textarea("qa-context", 5, "Ada Lovelace lived in London, where she worked with Charles Babbage on the Analytical Engine.");
    livePanel(root, "qa", [[question, "Question"], [context, "Context"]], "Answer", () => {
      const found = m.model.answer(question.value, context.value, { topK: 3 }) as Array<{ answer: string; score: number; start: number; end: number }>;
      if (found.length === 0) return (ms) => [el("p", { id: "answers", text: "(no answer)" }), latency(ms)];
      const list = el("ol", { id: "answers" });
      for (const a of found) list.append(el("li", { class: "answer", text: `${JSON.stringify(a.answer)} ${a.score.toFixed(4)} ${a.start}-${a.end}` }));
      return (ms) => [marked(context.value, [{ start: found[0].start, end: found[0].end, title: `best answer, ${found[0].score.toFixed(4)}` }]), list, latency(ms)];
    });
  },
};

const TASKS: TaskPanel[] = [classifierPanel, embeddingPanel, nerPanel, qaPanel];

// ---- loading ----

let engine: Engine | null = null;

function wasmBytes(): Uint8Array {
  const b64 = ($("axformer-wasm").textContent ?? "").trim();
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function load(name: string, bytes: Uint8Array) {
  setStatus("loading", `Loading ${name}…`);
  try {
    engine ??= await instantiate(wasmBytes());
    const model = engine.loadModel(bytes);
    const m: Loaded = { name, model, info: readModelFileInfo(bytes) };
    const app = $("app");
    app.replaceChildren(modelPanel(m));
    for (const t of TASKS.filter((t) => t.applies(m))) {
      const section = el("section", { class: "task", id: `task-${t.id}`, "aria-labelledby": `task-${t.id}-h` }, el("h2", { id: `task-${t.id}-h`, text: t.title }));
      app.prepend(section);
      t.mount(section, m);
    }
    app.hidden = false;
    setStatus("ready", `${name} runs in this browser (WebAssembly SIMD, nothing leaves the page).`);
  } catch (err) {
    setStatus("error", `${name}: ${(err as Error).message}`);
  }
}

async function loadFile(file: File) {
  await load(file.name, new Uint8Array(await file.arrayBuffer()));
}

function boot() {
  const input = $<HTMLInputElement>("model-input");
  input.addEventListener("change", () => { if (input.files?.[0]) void loadFile(input.files[0]); });
  const drop = $("drop");
  document.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer?.files?.[0];
    if (f) void loadFile(f);
  });
  const url = document.body.dataset.modelUrl;
  if (url && location.protocol !== "file:") {
    setStatus("loading", `Fetching ${url}…`);
    fetch(url)
      .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((buf) => load(document.body.dataset.modelName || url, new Uint8Array(buf)))
      .catch((err) => setStatus("error", `could not fetch ${url}: ${(err as Error).message}; choose the file instead`));
  } else {
    setStatus("waiting", "Choose a model file (.axf) or drop one on the page.");
  }
}

boot();
