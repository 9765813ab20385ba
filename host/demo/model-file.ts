// What the demo page shows about a model file that the runtime's API does not
// give: the WordPiece vocabulary (to turn ids back into pieces), the META JSON
// (source, the optimizer's decisions) and the section sizes. Read straight from
// the file bytes following docs/format.md (section table, string lists), with no
// wasm call, so the runtime's ABI stays as it is. Universal: no Node built-ins.
//
// The runtime validates the whole file at load (CRCs, bounds, UTF-8); the page
// calls this after a successful loadModel(), but every read here is still
// bounds-checked, so a bad file gives an error naming the section, never a wrong
// answer or more than linear work.

import * as F from "../../assembly/format/constants.ts";

export interface ModelFileInfo {
  fileBytes: number;
  version: number;
  sections: Array<{ kind: number; name: string; bytes: number }>;
  config: number[];                      // the CONFIG words (docs/format.md "CONFIG"), u32
  vocab: string[];                       // token i has id i
  meta: Record<string, unknown> | null;  // META (kind 7), when the file carries one
}

const SECTION_NAMES: Record<number, string> = {
  [F.SECTION_CONFIG]: "CONFIG", [F.SECTION_LAYERS]: "LAYERS", [F.SECTION_VOCAB]: "VOCAB",
  [F.SECTION_LABELS]: "LABELS", [F.SECTION_TENSORS]: "TENSORS", [F.SECTION_DATA]: "DATA", [F.SECTION_META]: "META",
};

export function readModelFileInfo(bytes: Uint8Array): ModelFileInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number, what: string) => {
    if (at + 4 > bytes.length) throw new Error(`model file: ${what} at byte ${at} lies past the end of the file (${bytes.length} bytes)`);
    return view.getUint32(at, true);
  };
  if (bytes.length < F.HEADER_SIZE || u32(F.HDR_MAGIC, "magic") !== F.MAGIC) throw new Error("not an .axf model file (no AXFM header)");
  const version = u32(F.HDR_VERSION, "version");
  const count = u32(F.HDR_SECTION_COUNT, "section_count");
  if (count < 1 || count > F.MAX_SECTIONS) throw new Error(`model file: section_count ${count} is outside 1..${F.MAX_SECTIONS}`);
  const sections: ModelFileInfo["sections"] = [];
  const where = new Map<number, [number, number]>();
  for (let i = 0; i < count; i++) {
    const e = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    const kind = u32(e + F.SEC_KIND, `section ${i} kind`), offset = u32(e + F.SEC_OFFSET, `section ${i} offset`), size = u32(e + F.SEC_SIZE, `section ${i} size`);
    const name = SECTION_NAMES[kind] ?? `kind ${kind}`;
    if (offset + size > bytes.length) throw new Error(`model file: section ${name} (${offset}+${size}) lies past the end of the file`);
    sections.push({ kind, name, bytes: size });
    where.set(kind, [offset, size]);
  }
  const configAt = where.get(F.SECTION_CONFIG);
  const words = version >= 3 ? F.CONFIG_WORDS : F.CONFIG_WORDS_V2; // older files: the rest read as 0
  if (!configAt || configAt[1] < 4 * words) throw new Error(`model file: no CONFIG section of ${4 * words} bytes`);
  const config = Array.from({ length: F.CONFIG_WORDS }, (_, i) => i < words ? view.getUint32(configAt[0] + 4 * i, true) : 0);
  const vocabAt = where.get(F.SECTION_VOCAB);
  if (!vocabAt) throw new Error("model file: no VOCAB section");
  const vocab = readStringList(bytes, view, vocabAt[0], vocabAt[1], "VOCAB");
  let meta: Record<string, unknown> | null = null;
  const metaAt = where.get(F.SECTION_META);
  if (metaAt && metaAt[1] > 0) {
    try {
      const parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(metaAt[0], metaAt[0] + metaAt[1])));
      meta = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
    } catch (err) {
      throw new Error(`model file: META is not valid UTF-8 JSON (${(err as Error).message})`);
    }
  }
  return { fileBytes: bytes.length, version, sections, config, vocab, meta };
}

// u32 count, u32 offsets[count + 1], u8 blob[offsets[count]] (docs/format.md "VOCAB and LABELS").
function readStringList(bytes: Uint8Array, view: DataView, at: number, size: number, name: string): string[] {
  if (size < 8) throw new Error(`model file: ${name} section of ${size} bytes is too short for a string list`);
  const count = view.getUint32(at, true);
  const blob = at + 4 * (count + 2);
  if (count > size / 4 || blob > at + size) throw new Error(`model file: ${name} count ${count} does not fit its ${size}-byte section`);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out = new Array<string>(count);
  let prev = view.getUint32(at + 4, true);
  for (let i = 0; i < count; i++) {
    const end = view.getUint32(at + 8 + 4 * i, true);
    if (end < prev || blob + end > at + size) throw new Error(`model file: ${name} string ${i} has bad offsets ${prev}..${end}`);
    out[i] = decoder.decode(bytes.subarray(blob + prev, blob + end));
    prev = end;
  }
  return out;
}
