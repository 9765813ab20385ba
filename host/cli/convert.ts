// `axformer convert`: Hugging Face folder -> .axf file, written atomically.
import { convertHfDir } from "../convert/index.ts";
import { writeModelFile } from "../format/write-file.ts";
import type { Storage } from "../model/model.ts";
import { printJson } from "./util.ts";

interface ConvertOptions { out: string; f16?: boolean; int8?: boolean; json?: boolean }

export async function convertCommand(dir: string, opts: ConvertOptions): Promise<void> {
  if (opts.f16 && opts.int8) throw new Error("choose one of --f16 and --int8");
  const storage: Storage = opts.int8 ? "int8" : opts.f16 ? "f16" : "f32";
  const model = await convertHfDir(dir, { storage });
  const bytes = await writeModelFile(opts.out, model);
  const c = model.config;
  for (const w of ((model.meta.source as { warnings?: string[] })?.warnings ?? [])) process.stderr.write(`axformer: warning: ${w}\n`);
  const summary = {
    out: opts.out,
    bytes,
    arch: c.arch,
    layers: c.numLayers,
    hidden_size: c.hiddenSize,
    heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    vocab_size: c.vocabSize,
    labels: model.labels,
    task: c.task ?? "sequence-classification",
    ...(c.task === "embedding" ? { pooling: c.pooling, normalize: c.normalize } : {}),
    storage,
  };
  if (opts.json) printJson(summary);
  else
    process.stdout.write(
      `wrote ${opts.out} (${(bytes / 1e6).toFixed(2)} MB): ${c.arch}, ${c.numLayers} layers, hidden ${c.hiddenSize}, ` +
        `${c.numHeads} heads, vocab ${c.vocabSize}, ` +
        (c.task === "embedding" ? `embedding (pooling ${c.pooling!.join("+")}${c.normalize ? ", normalized" : ""})` :
          `${c.task && c.task !== "sequence-classification" ? `${c.task}, ` : ""}labels [${model.labels.join(", ")}]`) +
        `, weights ${storage}\n`,
    );
}
