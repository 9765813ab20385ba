// The two hosts under load, both on loopback only:
//   server: `axformer serve <model> --host 127.0.0.1 --port 0` as a child process;
//   worker: the project `axformer deploy workers` generates, bundled by the pinned
//           wrangler (`deploy --dry-run`, offline) and run on workerd by Miniflare
//           on a loopback HTTP port.
// Each reports its process id, so the load test can read its resident memory.
import { spawn, execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { Miniflare } from "miniflare";
import { deployWorkers, miniflareOptions, COMPATIBILITY_DATE } from "../../host/deploy/workers.ts";
import { packagePath } from "../../host/package-root.ts";

export interface Target {
  name: string;
  url: string;
  pid: number | null;
  stop(): Promise<void>;
}

export async function startServer(modelPath: string): Promise<Target> {
  const child = spawn(process.execPath, [packagePath("bin/axformer.js"), "serve", modelPath, "--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`axformer serve did not start in 60 s: ${err}`)), 60_000);
    child.stderr!.on("data", (d) => {
      err += d;
      const m = /serving .* on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`axformer serve exited (${code}): ${err}`)); });
  });
  return {
    name: "axformer serve (Node, 1 runtime)",
    url,
    pid: child.pid ?? null,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    }),
  };
}

export async function startWorkerd(modelPath: string, workDir: string): Promise<Target> {
  const project = join(workDir, "worker");
  await deployWorkers(modelPath, project, { storage: "inline", measure: false });
  const dist = join(project, "dist");
  const wrangler = join(createRequire(import.meta.url).resolve("wrangler/package.json"), "../bin/wrangler.js");
  await promisify(execFile)(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", dist], {
    cwd: project, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
  });
  const before = new Set(childPids("workerd"));
  const mf = new Miniflare({
    ...miniflareOptions(dist),
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pid = childPids("workerd").find((p) => !before.has(p)) ?? null;
  return { name: "Worker on workerd (Miniflare)", url, pid, stop: () => mf.dispose() };
}

// The control for workerd's own memory use: a Worker that parses the same JSON
// bodies and answers a constant, under the same traffic. (Local workerd's
// resident memory grows under sustained traffic whatever the Worker does.)
export async function startNullWorker(): Promise<Target> {
  const script = `export default { async fetch(request) {
    const body = await request.text();
    if (new URL(request.url).pathname === "/health") return Response.json({ sizes: { wasm_memory_bytes: 0 } });
    const n = JSON.stringify(JSON.parse(body)).length;
    return new Response(JSON.stringify({ label: "constant", scores: [1], n }) + "\\n", { headers: { "content-type": "application/json" } });
  } }`;
  const before = new Set(childPids("workerd"));
  const mf = new Miniflare({ modules: true, script, compatibilityDate: COMPATIBILITY_DATE, host: "127.0.0.1", port: 0 });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pid = childPids("workerd").find((p) => !before.has(p)) ?? null;
  return { name: "control: a null Worker on workerd (parses the body, answers a constant)", url, pid, stop: () => mf.dispose() };
}

// Processes whose parent is this one and whose name contains `name` (Linux /proc).
function childPids(name: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try { entries = readdirSync("/proc"); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === process.pid && comm.includes(name)) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

// Resident memory of a process in bytes (Linux), or null.
export function rssBytes(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
