// The `axformer` command: argument parsing only; each subcommand's work lives in
// its own module so the CLI stays a thin shell over the library.
import { Command, InvalidArgumentError } from "commander";
import { convertCommand } from "./convert.ts";
import { runCommand, tokenizeCommand } from "./run.ts";
import { benchCommand } from "./bench.ts";
import { readFileSync } from "node:fs";
import { packagePath } from "../package-root.ts";
import { fail } from "./util.ts";

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be an integer >= 0, got "${value}"`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

const program = new Command("axformer")
  .description("Convert, AxFormer-optimize and run Hugging Face BERT/DistilBERT text classifiers in WebAssembly.")
  .version(JSON.parse(readFileSync(packagePath("package.json"), "utf8")).version)
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

program
  .command("convert")
  .description("convert a Hugging Face model folder (config.json, model.safetensors, vocab.txt or tokenizer.json) to an .axf file")
  .argument("<hf-model-dir>", "folder of a BERT, DistilBERT, RoBERTa, XLM-RoBERTa, CamemBERT or ELECTRA checkpoint: sequence or token classification, question answering, or a sentence-transformers / bare encoder (embeddings)")
  .requiredOption("-o, --out <file>", "the .axf file to write")
  .option("--f16", "store weight matrices as float16 (half the size, f32 compute)")
  .option("--int8", "store weight matrices as int8 with per-row scales")
  .option("--json", "print a JSON summary")
  .action((dir: string, opts) => convertCommand(dir, opts));

program
  .command("run")
  .description("run the model on a text or a text pair (or token ids with --ids), by the model's task: classify, embed, tag entities (token classification), or answer a question about a context")
  .argument("<model-file>")
  .argument("[text]")
  .argument("[text_b]")
  .option("--json", "print JSON: {label, scores, logits}; {embedding}; {entities}; {answer, score, start, end}; with --ids {logits, labels} or {start_logits, end_logits}")
  .option("--ids <ids>", "comma-separated token ids instead of text")
  .option("--type-ids <ids>", "comma-separated token type ids (with --ids)")
  .option("--aggregation <name>", "token classification: none (default), simple, first, average or max, as Hugging Face's pipeline")
  .option("--top-k <n>", "question answering: the n best answers (default 1)", positiveInt("--top-k"))
  .option("--max-answer-len <n>", "question answering: longest answer in tokens (default 15)", positiveInt("--max-answer-len"))
  .option("--doc-stride <n>", "question answering: tokens shared by consecutive windows of a long context (default min(max_len / 2, 128))", nonNegativeInt("--doc-stride"))
  .option("--handle-impossible-answer", "question answering: the empty answer competes too")
  .action((model: string, text: string | undefined, textB: string | undefined, opts) => runCommand(model, text, textB, opts));

program
  .command("tokenize")
  .description("print the token ids the model sees for a text or a text pair")
  .argument("<model-file>")
  .argument("<text>")
  .argument("[text_b]")
  .option("--json", "print {input_ids, token_type_ids} as JSON")
  .option("--max-len <n>", "truncate to n tokens (default: the model's maximum)", positiveInt("--max-len"))
  .action((model: string, text: string, textB: string | undefined, opts) => tokenizeCommand(model, text, textB, opts));

program
  .command("bench")
  .description("single-thread latency of one inference on random ids of length --seq")
  .argument("<model-file>")
  .option("--seq <n>", "sequence length", positiveInt("--seq"), 128)
  .option("--runs <n>", "timed runs (at least 20)", positiveInt("--runs"), 30)
  .option("--warmup-ms <ms>", "warm up at least this long, then until the timings settle (at most 20 s)", positiveInt("--warmup-ms"), 2500)
  .option("--json", "print JSON")
  .action((model: string, opts) => benchCommand(model, opts));

program
  .command("eval")
  .description("loss and the task's metric of a model on a labelled data file")
  .argument("<model-file>")
  .requiredOption("--task <name>", "sst2, cola, rte, mrpc, wnli, qnli, stsb, or generic with --text-col/--label-col")
  .requiredOption("--data <file>", "GLUE TSV, CSV or JSONL")
  .option("--text-col <name>").option("--pair-col <name>").option("--label-col <name>")
  .option("--max-len <n>", "truncation", positiveInt("--max-len"))
  .option("--json", "print JSON")
  .action(async (model: string, opts) => {
    const { evalCommand } = await import("./optimize.ts");
    await evalCommand(model, opts);
  });

program
  .command("optimize")
  .description("AxFormer: accuracy-driven pruning and selective hard attention on the task's validation data")
  .argument("<model-file>")
  .option("--task <name>", "sequence classifiers: sst2, cola, rte, mrpc, wnli, qnli, stsb, or generic with --text-col/--label-col; " +
    "embedding models: stsb or pairs (scored pairs, the default) or texts (no labels: --max-drop only); " +
    "token classification and QA models take their task from the model")
  .requiredOption("--val <file>", "validation data (GLUE TSV, CSV or JSONL; token classification: JSONL tokens/tags or CoNLL; QA: SQuAD v1.1 JSON; texts: one a line)")
  .requiredOption("-o, --out <file>", "the optimized .axf file to write")
  .option("--doc-stride <n>", "question answering: overlap of a context's windows, in tokens", positiveInt("--doc-stride"), 128)
  .option("--text-col <name>").option("--pair-col <name>").option("--label-col <name>")
  .option("--max-len <n>", "truncation used by the search (default: the model's maximum)", positiveInt("--max-len"))
  .option("--max-drop <points>", "accuracy-budget mode: accept changes while the val metric stays within this many points of the original")
  .option("--hard-k <k>", "K of hard attention", positiveInt("--hard-k"), 30)
  .option("--workers <n>", "worker threads for the val evaluation", positiveInt("--workers"))
  .option("--hard-k-choices <list>", "choose K per layer from this list (e.g. 8,16,30,64): the smallest K the test accepts")
  .option("--passes <n>", "pruning passes; passes after the first also try heads and groups of blocks that stayed", positiveInt("--passes"), 1)
  .option("--int8", "store the result's weight matrices as int8")
  .option("--int8-layers", "after pruning, try int8 weights layer by layer and keep those the test accepts")
  .option("--report <file.html>", "write the HTML report")
  .option("--json <file>", "write the JSON summary")
  .option("--loss-precision <p>", "per-row losses: f32 as PyTorch computes them (the reference's), or f64", "f32")
  .option("--no-early-reject", "evaluate every row of every candidate (same decisions, slower)")
  .option("--resume", "continue an interrupted search from its checkpoint (.axformer-resume/<out name>.json next to the output)")
  .action(async (model: string, opts) => {
    const { optimizeCommand } = await import("./optimize.ts");
    await optimizeCommand(model, opts);
  });

const deploy = program.command("deploy").description("generate a deployable project for an edge host");
deploy
  .command("workers")
  .description("write a ready Cloudflare Worker project serving the model (POST /classify, /embed, /ner or /qa by its task; GET /health)")
  .argument("<model-file>")
  .requiredOption("--out <dir>", "folder to write the Worker project to")
  .option("--name <name>", "Worker name (default: from the model file name)")
  .option("--storage <kind>", "auto | inline | r2 | kv: where the model bytes live", "auto")
  .option("--max-bundle-mb <mb>", "compressed bundle limit of your plan (3 free, 10 paid)", positiveNumber("--max-bundle-mb"), 3)
  .option("--bucket <name>", "R2 bucket name")
  .option("--kv-namespace-id <id>", "KV namespace id")
  .option("--memory-limit-mb <mb>", "isolate memory limit", positiveNumber("--memory-limit-mb"), 128)
  .option("--compatibility-date <date>")
  .option("--force", "replace a non-empty --out folder")
  .option("--no-measure", "skip the `wrangler deploy --dry-run` bundle measurement")
  .action(async (model: string, opts) => {
    const { deployWorkers } = await import("../deploy/workers.ts");
    const r = await deployWorkers(model, opts.out, {
      name: opts.name, storage: opts.storage, maxBundleMb: opts.maxBundleMb, bucket: opts.bucket,
      kvNamespaceId: opts.kvNamespaceId, memoryLimitMb: opts.memoryLimitMb, compatibilityDate: opts.compatibilityDate,
      // commander sets measure = true unless --no-measure; only an explicit opt-out may skip it,
      // otherwise the generator measures when wrangler is installed.
      force: opts.force, measure: opts.measure === false ? false : undefined,
    });
    process.stdout.write(
      `wrote Worker project ${r.outDir} (${r.name}): model ${r.storage}, bundle ${r.bundle.uploadKiB} KiB ` +
        `(${r.bundle.gzipKiB} KiB gzip, ${r.bundle.measuredBy}), estimated isolate memory ${(r.isolateBytes / 2 ** 20).toFixed(1)} MiB\n` +
        `next: cd ${r.outDir} && npx wrangler deploy   (see its README.md)\n`,
    );
  });

program
  .command("serve")
  .description("serve the model over HTTP with node:http (POST /classify, /embed, /ner or /qa by its task; GET /health)")
  .argument("<model-file>")
  .option("--port <n>", "port (0: any free port)", Number, 8080)
  .option("--host <addr>", "address to listen on", "127.0.0.1")
  .option("--workers <n>", "runtimes in worker threads", positiveInt("--workers"), 1)
  .option("--max-body <bytes>", "largest request body", positiveInt("--max-body"))
  .option("--max-texts <n>", "largest batch in one request", positiveInt("--max-texts"))
  .option("--max-text-chars <n>", "longest input (text + text_pair, characters)", positiveInt("--max-text-chars"))
  .option("--max-inflight <n>", "requests classified at once before 503", positiveInt("--max-inflight"))
  .option("--max-connections <n>", "open connections at once", positiveInt("--max-connections"))
  .option("--headers-timeout <ms>", "time to receive the request headers", positiveInt("--headers-timeout"))
  .option("--body-timeout <ms>", "time to receive the request body", positiveInt("--body-timeout"))
  .action(async (model: string, opts) => {
    const { serveCommand } = await import("../deploy/server.ts");
    await serveCommand(model, opts);
  });

program
  .command("demo")
  .description("serve a page on localhost that runs the model in the browser (or write it to a folder with --out)")
  .argument("<model-file>")
  .option("--port <n>", "port on 127.0.0.1 (0: any free port)", "8000")
  .option("--out <dir>", "write index.html and model.axf to this folder instead of serving")
  .action(async (model: string, opts) => {
    const { demoCommand } = await import("./demo.ts");
    await demoCommand(model, opts);
  });

program.parseAsync(process.argv).catch(fail);
