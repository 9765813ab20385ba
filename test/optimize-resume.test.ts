// `axformer optimize --resume`: a search killed with SIGKILL part way continues from
// its checkpoint and writes the same model, byte for byte, and the same candidate
// list as a run that was never interrupted.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../host/format/writer.ts";
import { checkpointPath, runOptimizeCommand } from "../host/optimize/commands.ts";
import { prng, randomModel } from "./helpers/random-model.ts";

const BIN = new URL("../bin/axformer.js", import.meta.url).pathname;
const WORDS = ["the", "movie", "film", "is", "was", "good", "bad", "great", "terrible", "not", "very", "and", "but", "love", "hate", "it", "this"];

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "axf-resume-"));
  const model = randomModel({ hiddenSize: 64, numHeads: 2, intermediateSize: 128, numLayers: 4, maxPosition: 64, seed: 31 });
  writeFileSync(join(dir, "model.axf"), writeModel(model));
  const r = prng(77);
  const lines = ["text\tlabel"];
  for (let i = 0; i < 200; i++) lines.push(`${Array.from({ length: 3 + Math.floor(r() * 40) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ")}\t${r() < 0.5 ? 0 : 1}`);
  writeFileSync(join(dir, "val.tsv"), lines.join("\n") + "\n");
  return dir;
}

const args = (dir: string, out: string) => [
  BIN, "optimize", join(dir, "model.axf"), "--task", "generic", "--text-col", "text", "--label-col", "label",
  "--val", join(dir, "val.tsv"), "-o", join(dir, out), "--json", join(dir, out + ".json"), "--workers", "1", "--hard-k", "8", "--passes", "2",
];

function run(argv: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr })));
}

test("a search killed with SIGKILL resumes from its checkpoint and gives the uninterrupted result byte for byte", async () => {
  const dir = setup();
  try {
    // The uninterrupted run.
    const ref = await runOptimizeCommand({
      model: join(dir, "model.axf"), val: join(dir, "val.tsv"), out: join(dir, "ref.axf"), task: "generic", textCol: "text", labelCol: "label",
      workers: 1, hardK: 8, passes: 2, progress: false,
    });
    assert.ok(ref.summary.candidates.length >= 10);
    assert.not.ok(existsSync(checkpointPath(join(dir, "ref.axf"))), "a finished search leaves no checkpoint");

    // The same search, killed once its checkpoint holds 3 decided candidates.
    const ckpt = checkpointPath(join(dir, "out.axf"));
    const child = spawn(process.execPath, args(dir, "out.axf"), { stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    let decided = 0;
    while (decided < 3) {
      await new Promise((r) => setTimeout(r, 5));
      try { decided = JSON.parse(readFileSync(ckpt, "utf8")).candidates.length; } catch { /* not written yet */ }
    }
    child.kill("SIGKILL");
    const end = await exited;
    assert.is(end.signal, "SIGKILL", "the process was killed, it did not finish");
    assert.not.ok(existsSync(join(dir, "out.axf")), "no output after the kill");
    const kept = JSON.parse(readFileSync(ckpt, "utf8")).candidates.length;
    assert.ok(kept >= 3 && kept < ref.summary.candidates.length, `checkpoint after the kill: ${kept} candidates`);

    // Resumed: the same model bytes and the same candidates.
    const resumed = await run([...args(dir, "out.axf"), "--resume"]);
    assert.is(resumed.code, 0, resumed.stderr);
    assert.ok(Buffer.from(readFileSync(join(dir, "out.axf"))).equals(readFileSync(join(dir, "ref.axf"))), "the model is the uninterrupted run's, byte for byte");
    const s = JSON.parse(readFileSync(join(dir, "out.axf.json"), "utf8"));
    assert.equal(s.candidates, JSON.parse(JSON.stringify(ref.summary.candidates)));
    assert.equal(s.decisions, ref.summary.decisions);
    assert.is(s.resumed_candidates, kept);
    assert.not.ok(existsSync(dirname(ckpt)), "the checkpoint (and its folder) is removed once the outputs are written");

    // A checkpoint of another search is refused by name.
    mkdirSync(dirname(ckpt), { recursive: true });
    writeFileSync(ckpt, readFileSync(join(dir, "out.axf.json"), "utf8"));
    const foreign = await run([...args(dir, "out.axf"), "--resume"]);
    assert.is.not(foreign.code, 0);
    assert.match(foreign.stderr, /out\.axf\.json: not an axformer optimize checkpoint/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
