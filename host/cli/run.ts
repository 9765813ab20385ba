// `axformer run` and `axformer tokenize`.
import { openModel, parseIdList, printJson } from "./util.ts";

interface RunOptions { json?: boolean; ids?: string; typeIds?: string }

export async function runCommand(modelPath: string, text: string | undefined, textB: string | undefined, opts: RunOptions): Promise<void> {
  const model = await openModel(modelPath);
  let result;
  if (opts.ids !== undefined) {
    if (text !== undefined) throw new Error("give either --ids or a text, not both");
    const ids = parseIdList(opts.ids, "--ids");
    const typeIds = opts.typeIds !== undefined ? parseIdList(opts.typeIds, "--type-ids") : undefined;
    if (typeIds && typeIds.length !== ids.length) throw new Error(`--type-ids has ${typeIds.length} items but --ids has ${ids.length}`);
    result = model.classifyIds(ids, typeIds);
  } else {
    if (opts.typeIds !== undefined) throw new Error("--type-ids goes with --ids");
    if (text === undefined) throw new Error("nothing to classify: give a text (and optionally a second text) or --ids");
    result = model.classify(text, textB);
  }
  if (opts.json) {
    printJson({ label: result.label, scores: result.scores, logits: result.logits });
    return;
  }
  process.stdout.write(`${result.label}\n`);
  const width = Math.max(...model.labels.map((l) => l.length));
  model.labels.forEach((label, i) => {
    process.stdout.write(`  ${label.padEnd(width)}  ${result.scores[i].toFixed(4)}\n`);
  });
}

interface TokenizeOptions { json?: boolean; maxLen?: number }

export async function tokenizeCommand(modelPath: string, text: string, textB: string | undefined, opts: TokenizeOptions): Promise<void> {
  const model = await openModel(modelPath);
  const { inputIds, tokenTypeIds, offsets } = model.tokenize(text, textB, opts.maxLen);
  if (opts.json) {
    // offsets: Hugging Face's offset_mapping (code points into each text; [0, 0] for [CLS]/[SEP]).
    printJson({ input_ids: inputIds, token_type_ids: tokenTypeIds, offsets });
    return;
  }
  process.stdout.write(`input_ids:      ${inputIds.join(" ")}\ntoken_type_ids: ${tokenTypeIds.join(" ")}\n`);
}
