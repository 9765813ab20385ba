// The standalone WASI command: run a model file on texts, no JavaScript.
//
//   axformer-wasi.wasm <model.axf> [--pair] [options] [text ...]
//
// Texts come from the arguments, or, when there are none, one per line of stdin
// (empty lines skipped). With --pair (and always for a question-answering model:
// question, context), arguments are taken two at a time and a stdin line is split
// at its first TAB into text and text_pair. Each input prints one JSON line, as
// `axformer run --json` prints it: {"label": ..., "scores": [...]} (scores in label
// order) for a sequence classifier, {"embedding": [...]} for an embedding model,
// {"entities": [...]} for a token classifier, {"answer", "score", "start", "end"}
// (null: no answer; {"answers": [...]} with --top-k > 1) for question answering
// (./pipelines.ts); or {"error": ...} if that input failed, and the exit code is then 1.
//
// It drives the same exported functions as the JS host (../index.ts), so the
// model file reader, tokenizer and forward pass are the shipped ones.
import {
  alloc_model, load_model, error_ptr, error_len, num_labels,
  label_ptr, label_len, text_buffer, tokenize, forward, compute_scores, scores_ptr,
  task, pooled_size, logits_ptr
} from "../index";
import { TASK_EMBEDDING, TASK_TOKEN_CLASSIFICATION, TASK_QUESTION_ANSWERING } from "../format/constants";
import { openForReading, fileSize, readExactly, readSome, closeFd, ioError, write, args } from "./io";
import { proc_exit } from "bindings/wasi_snapshot_preview1";
import { jsonString } from "./json";
import { PipelineOptions, AGGREGATIONS, nerLine, qaLine } from "./pipelines";

const USAGE = "usage: axformer-wasi <model.axf> [--pair] [options] [text ...]   (no texts: one per stdin line)\n" +
  "  token classification: --aggregation none|simple|first|average|max, --ignore-labels O,MISC\n" +
  "  question answering (question, context): --top-k N, --max-answer-len N, --doc-stride N,\n" +
  "    --max-seq-len N, --max-question-len N, --handle-impossible-answer\n";
const STDIN_CHUNK: usize = 64 * 1024;

let failures = 0;
let labelsJson: string[] = []; // each label, already JSON-quoted
const options = new PipelineOptions();

function die(message: string, code: i32): void {
  write(2, "axformer-wasi: " + message + "\n");
  proc_exit(code);
}

function lastError(): string {
  return String.UTF8.decodeUnsafe(error_ptr(), <usize>error_len());
}

function loadModelFile(path: string): void {
  const fd = openForReading(path);
  if (fd < 0) die(ioError, 1);
  const size = fileSize(fd, path);
  if (size < 0) die(ioError, 1);
  if (size == 0 || size > 0xf0000000) die(path + ": file size " + size.toString() + " is not a model file size", 1);
  const ptr = alloc_model(<u32>size);
  if (ptr == 0) die(path + ": cannot allocate " + size.toString() + " bytes for the model", 1);
  if (!readExactly(fd, ptr, <usize>size, path)) die(ioError, 1);
  closeFd(fd);
  if (load_model(ptr, <u32>size) < 0) die(path + ": " + lastError(), 1);
  const c = num_labels();
  labelsJson = new Array<string>(c);
  for (let i = 0; i < c; i++) {
    labelsJson[i] = jsonString(String.UTF8.decodeUnsafe(label_ptr(<u32>i), <usize>label_len(<u32>i)));
  }
}

// Text a = bytes [a, a + lenA), text b = [b, b + lenB) or lenB = -1 for none.
function classify(a: usize, lenA: u32, b: usize, lenB: i32): void {
  if (task() == TASK_TOKEN_CLASSIFICATION || task() == TASK_QUESTION_ANSWERING) {
    const line = task() == TASK_TOKEN_CLASSIFICATION ? nerLine(a, lenA, options) : qaLine(a, lenA, b, <u32>lenB, options);
    if (line.length == 0 || line.charCodeAt(0) == 0x21) { // "!": the input's fault
      failures++;
      write(1, "{\"error\":" + jsonString(line.length == 0 ? lastError() : line.substring(1)) + "}\n");
    } else write(1, line + "\n");
    return;
  }
  const total = lenA + <u32>(lenB < 0 ? 0 : lenB);
  const buf = text_buffer(total);
  if (buf == 0) { // a line over the runtime's text limit
    failures++;
    write(1, "{\"error\":" + jsonString(lastError()) + "}\n");
    return;
  }
  memory.copy(buf, a, lenA);
  if (lenB > 0) memory.copy(buf + lenA, b, <usize>lenB);
  const n = tokenize(lenA, lenB, 0);
  if (n < 0 || forward(<u32>n) < 0) {
    failures++;
    write(1, "{\"error\":" + jsonString(lastError()) + "}\n");
    return;
  }
  if (task() == TASK_EMBEDDING) {
    // The f32 values, printed as their f64 widening (as JSON.stringify prints them).
    let out = "{\"embedding\":[";
    for (let i = 0; i < pooled_size(); i++) {
      if (i > 0) out += ",";
      out += (<f64>load<f32>(logits_ptr() + (<usize>i << 2))).toString();
    }
    write(1, out + "]}\n");
    return;
  }
  // The scores the JS host prints, from the same function (compute_scores), so
  // the same bits; the label is the first highest score, as there.
  compute_scores(1);
  const c = labelsJson.length;
  const scores = scores_ptr(); // f64[c]
  let best = 0;
  for (let i = 1; i < c; i++) if (load<f64>(scores + (<usize>i << 3)) > load<f64>(scores + (<usize>best << 3))) best = i;
  let out = "{\"label\":" + labelsJson[best] + ",\"scores\":[";
  for (let i = 0; i < c; i++) {
    if (i > 0) out += ",";
    out += load<f64>(scores + (<usize>i << 3)).toString();
  }
  write(1, out + "]}\n");
}

function classifyStrings(a: string, b: string | null): void {
  const bufA = String.UTF8.encode(a);
  if (b === null) {
    classify(changetype<usize>(bufA), <u32>bufA.byteLength, 0, -1);
  } else {
    const bufB = String.UTF8.encode(b as string);
    classify(changetype<usize>(bufA), <u32>bufA.byteLength, changetype<usize>(bufB), bufB.byteLength);
  }
}

function classifyLine(start: usize, end: usize, pair: bool): void {
  if (end > start && load<u8>(end - 1) == 0x0d) end--; // CRLF input
  if (end == start) return;
  if (!pair) {
    classify(start, <u32>(end - start), 0, -1);
    return;
  }
  let tab = start;
  while (tab < end && load<u8>(tab) != 0x09) tab++;
  if (tab == end) {
    failures++;
    write(1, "{\"error\":\"--pair: line has no TAB between text and text_pair\"}\n");
    return;
  }
  classify(start, <u32>(tab - start), tab + 1, <i32>(end - tab - 1));
}

// Reads stdin to the end, classifying each complete line as soon as it arrives.
function classifyStdin(pair: bool): void {
  let cap: usize = STDIN_CHUNK * 2;
  let buf = heap.alloc(cap);
  let len: usize = 0; // bytes in buf not yet consumed
  for (;;) {
    if (cap - len < STDIN_CHUNK) {
      cap *= 2;
      buf = heap.realloc(buf, cap);
    }
    const n = readSome(0, buf + len, STDIN_CHUNK);
    if (n < 0) die("stdin: " + ioError, 1);
    if (n == 0) break;
    const end = len + <usize>n;
    let lineStart: usize = 0;
    for (let i = len; i < end; i++) {
      if (load<u8>(buf + i) == 0x0a) {
        classifyLine(buf + lineStart, buf + i, pair);
        lineStart = i + 1;
      }
    }
    len = end - lineStart;
    memory.copy(buf, buf + lineStart, len);
  }
  if (len > 0) classifyLine(buf, buf + len, pair);
  heap.free(buf);
}

// The options that take a value; false for an unknown name.
function option(name: string, value: string): bool {
  if (name == "--aggregation") {
    options.aggregation = AGGREGATIONS.indexOf(value);
    if (options.aggregation < 0) die("--aggregation must be one of " + AGGREGATIONS.join(", ") + ", got " + value, 2);
  } else if (name == "--ignore-labels") {
    options.ignoreLabels = [];
    for (let from = 0, i = 0; value.length > 0 && i <= value.length; i++) {
      if (i == value.length || value.charCodeAt(i) == 0x2c) { options.ignoreLabels.push(value.substring(from, i)); from = i + 1; }
    }
  }
  else if (name == "--top-k") options.topK = count(name, value, 1);
  else if (name == "--max-answer-len") options.maxAnswerLen = count(name, value, 1);
  else if (name == "--doc-stride") options.docStride = count(name, value, 0);
  else if (name == "--max-seq-len") options.maxSeqLen = count(name, value, 1);
  else if (name == "--max-question-len") options.maxQuestionLen = count(name, value, 1);
  else return false;
  return true;
}

// A decimal integer from least to 1000000.
function count(name: string, value: string, least: i32): i32 {
  let v = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || v > 1000000) { v = -1; break; }
    v = v * 10 + d;
  }
  if (value.length == 0 || v < least || v > 1000000) die(name + " must be an integer from " + least.toString() + " to 1000000, got " + value, 2);
  return v;
}

function main(): void {
  const argv = args();
  let modelPath: string | null = null;
  let pair = false;
  const texts: string[] = [];
  let flags = true;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (flags && arg == "--") flags = false;
    else if (flags && arg == "--pair") pair = true;
    else if (flags && (arg == "--help" || arg == "-h")) { write(1, USAGE); return; }
    else if (flags && arg == "--handle-impossible-answer") options.handleImpossible = true;
    else if (flags && arg.startsWith("--") && i + 1 < argv.length && option(arg, argv[i + 1])) i++;
    else if (flags && arg.startsWith("--")) die("unknown option " + arg + "\n" + USAGE, 2);
    else if (modelPath === null) modelPath = arg;
    else texts.push(arg);
  }
  if (modelPath === null) die("no model file given\n" + USAGE, 2);
  if (pair && texts.length % 2 != 0) die("--pair takes texts two at a time, got " + texts.length.toString() + " texts", 2);
  loadModelFile(modelPath as string);
  if (pair && (task() == TASK_EMBEDDING || task() == TASK_TOKEN_CLASSIFICATION)) die("--pair: this model takes one text per input", 2);
  if (task() == TASK_QUESTION_ANSWERING) {
    pair = true;
    if (texts.length % 2 != 0) die("a question-answering model takes texts two at a time (question, context), got " + texts.length.toString() + " texts", 2);
  }
  if (texts.length == 0) classifyStdin(pair);
  else if (pair) for (let i = 0; i < texts.length; i += 2) classifyStrings(texts[i], texts[i + 1]);
  else for (let i = 0; i < texts.length; i++) classifyStrings(texts[i], null);
  if (failures > 0) proc_exit(1);
}

main();
