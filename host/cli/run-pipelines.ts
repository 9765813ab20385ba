// `axformer run` on a text for token-classification and question-answering models:
//   axformer run <ner-model> --json <text> [--aggregation simple]   {"entities": [...]}
//   axformer run <qa-model> --json <question> <context> [--top-k n]  {"answer","score","start","end"}
// (top_k > 1: {"answers": [...]}). start/end: code points into the text, as Hugging Face.
import type { Answer, Entity, LoadedModel } from "../runtime/index.ts";
import { checkAggregation } from "../runtime/token-classification.ts";
import { qaJson } from "../api/pipelines.ts";
import { printJson } from "./util.ts";

export interface NerRunOptions { json?: boolean; aggregation?: string }
export interface QaRunOptions { json?: boolean; topK?: number; maxAnswerLen?: number; docStride?: number; maxQuestionLen?: number; handleImpossibleAnswer?: boolean }

export function runTokenClassification(model: LoadedModel, text: string, opts: NerRunOptions): void {
  const entities = model.tokenClassify(text, { aggregation: checkAggregation(opts.aggregation ?? "none") });
  if (opts.json) {
    printJson({ entities });
    return;
  }
  if (entities.length === 0) process.stdout.write("(no entities)\n");
  for (const e of entities) process.stdout.write(`${entityLabel(e).padEnd(12)} ${e.score.toFixed(4)}  ${e.start}-${e.end}  ${JSON.stringify(e.word)}\n`);
}

function entityLabel(e: Entity): string {
  return (e.entity_group ?? e.entity) as string;
}

export function runQuestionAnswering(model: LoadedModel, question: string, context: string | undefined, opts: QaRunOptions): void {
  if (context === undefined) throw new Error("a question-answering model takes two texts: <question> <context>");
  const result = model.answer(question, context, opts);
  if (opts.json) {
    printJson(qaJson(result));
    return;
  }
  const list: Answer[] = result === null ? [] : Array.isArray(result) ? result : [result];
  if (list.length === 0) process.stdout.write("(no answer)\n");
  for (const a of list) process.stdout.write(`${JSON.stringify(a.answer)}  ${a.score.toFixed(4)}  ${a.start}-${a.end}\n`);
}
