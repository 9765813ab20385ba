// Texts the tokenizer tests share (tokenizer, offsets, bpe tests): every GLUE dev sentence and pair in
// ../shared/data, and hostile strings (accents, CJK, emoji, astral, lone surrogates,
// control characters, long words, whitespace runs, special-token look-alikes).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SHARED_DATA } from "./needs.ts";

export interface Example {
  task: string;
  a: string;
  b?: string;
}

// Every sentence and sentence pair of ../shared/data/*/dev.tsv. Columns are split on
// tabs only: the files are unquoted TSV (MRPC's strings contain quote characters).
export function glueDev(): Example[] {
  const columns: Record<string, [number, number?, boolean?]> = {
    cola: [3, undefined, false], // no header row
    sst2: [0],
    mrpc: [3, 4],
    qnli: [1, 2],
    rte: [1, 2],
    stsb: [7, 8],
    wnli: [1, 2],
  };
  const out: Example[] = [];
  for (const [task, [ca, cb, header = true]] of Object.entries(columns)) {
    const lines = readFileSync(join(SHARED_DATA, task, "dev.tsv"), "utf8").replace(/^\ufeff/, "").split(/\r?\n/);
    for (const line of lines.slice(header ? 1 : 0)) {
      if (line === "") continue;
      const f = line.split("\t");
      if (f.length <= Math.max(ca, cb ?? 0)) throw new Error(`${task}/dev.tsv: too few columns in line: ${line.slice(0, 80)}`);
      out.push({ task, a: f[ca], b: cb === undefined ? undefined : f[cb] });
    }
  }
  return out;
}

export const LONG =
  "The quick brown fox jumps over the lazy dog, while the tokenizer counts every word-piece " +
  "it meets; naïve café owners in São Paulo serve crème brûlée to 42 jurors at 3:15pm. ";

export const HOSTILE: string[] = [
  "Héllo wörld, Ça va? naïve café résumé Ångström façade Ærø œuvre",
  "ΟΔΟΣ ΣΊΣΥΦΟΣ σοφός ΌΣΟΣ Σ ΑΣ.",
  "İstanbul ıi İ I İİ",
  "中文字符测试，你好世界！中國",
  "日本語のテキスト カタカナ ひらがな ｶﾀｶﾅ",
  "𠀀𠀁 𪜀 \u{2B820}\u{2B81F}\u{2B920} x\u{20000}y \u{30000}",
  "한국어 텍스트 안녕하세요 \u1100\u1161\u11a8",
  "emoji 😀👍🏽 👨‍👩‍👧 🇺🇸 ❤️ 🥰 🫠 ✌︎",
  "مرحبا بالعالم العربية مُحَمَّد ١٢٣",
  "ภาษาไทย สวัสดีครับ ผู้ใหญ่",
  "e\u0301 a\u0300\u0301 o\u0308\u0304 n\u0303 \u0301alone x\u20dd",
  "zero\u200bwidth\u200c joiner\u200d \ufeffbom \u2060wj \u00adsoft",
  "ctrl\u0001\u0007\u001b chars\u007f\u0085 \u000b\u000c\u001c\u001f end",
  "nbsp\u00a0here\u2003em\u3000ideo\u2028line\u2029para\u1680ogham\u202fnarrow",
  "lone \ud800 surrogate \udfff end \udbff\udfff",
  "nul\u0000inside\u0000",
  "replacement \ufffd char\ufffd",
  "a".repeat(100),
  "a".repeat(101),
  "ab".repeat(60) + " short",
  "x" + "é".repeat(99) + " " + "é".repeat(101),
  "",
  "   ",
  "\t\n\r \u00a0\u3000",
  "[CLS] hello [SEP] world [MASK] [PAD] [UNK]",
  "[cls] [Cls] [ CLS ] [CLS",
  "x[SEP]y [[CLS]] [CLS[SEP]] [MASK]ed [SEP][SEP]",
  "private \ue000\uf8ff\u{F0000}\u{10FFFD} use",
  "unassigned \u0378\u{E0080}\u{50000} nonchar \ufdd0\uffff",
  "ＡＢＣ１２３！ full",
  "3.14 $100 50% a+b=c x^2 ~tilde `tick` {brace} |pipe| <tag> @home #1 _x_",
  "∑∫√∞ ≠ ≤ → ©®™ °C ½ ²",
  "ﬁ ﬂ ǅ ǈ ǋ ẞ ß Ω Å K \u1fef\u1ffd",
  "हिन्दी नमस्ते தமிழ் বাংলা",
  "\u{1D15E}\u{1D165}\u{1D16D} music",
  "Don't \"quote\" 'single' «guillemets» „low“ — dash – en … ellipsis",
  "word" + "\u0301".repeat(150),
  "CamelCaseWord UPPER lower MiXeD",
  LONG.repeat(3),
];

// Byte-level BPE's own: contractions, numbers, whitespace runs, RoBERTa's special
// tokens in odd places, long words, byte-level characters written in the text.
export const BPE_HOSTILE: string[] = [
  "it's don't I'm we've they'll she'd you're 'S 'T 'RE 's's ''s '''ll x'sy 'd' ' s '",
  "Hello  world   three    four\t\ttabs\n\nnewlines \r\n crlf  ",
  " leading space",
  "  two leading",
  "\tleading tab",
  "trailing space ",
  "trailing spaces   ",
  " ",
  "  ",
  "\n",
  "a\u00a0b\u3000c\u2003d\u0085e\ufeffF\u200bG",
  "123 4567 3.14159 1,000,000 ١٢٣ ½ ² Ⅻ 五 12abc abc12 a1b2c3",
  "!!! ??? ... --- *** ((( ))) <<< >>> !?!? a!b?c",
  "x<s>y</s>z<mask>w<pad><unk> <s> </s> <mask> <maskx <mask <s>>",
  "<s><s></s></s><mask><mask>",
  "hello <mask> world   <mask>   end <mask>",
  "café naïve 😀😀😀 👨‍👩‍👧 🇺🇸🇫🇷 日本語日本語 한국어",
  "a".repeat(1000),
  "ab".repeat(700),
  "😀".repeat(300),
  "é".repeat(500) + " " + "1".repeat(400),
  " ".repeat(300) + "x" + " ".repeat(300),
  "ĠĠ Ġthe Ċ ĉ ŀ Ń", // byte-level characters written in the text
  "\u0000\u0001\u001f\u007f\u0080\u009f",
];
