// Builds the demo page: one self-contained HTML file (page.html with the bundled
// page.ts script and the runtime's wasm inlined as base64), so it opens from
// file:// and from any static host and needs no other file.
//
// The script is bundled with esbuild, a development dependency, when it is there
// (a checkout of the repository: always from the current sources); an installed
// package uses build/demo-page.js, which `npm run build` bundles the same way
// (package.json "build:demo").
import { readFile } from "node:fs/promises";
import { packagePath } from "../package-root.ts";

// The sources, also from dist/ (the package ships host/demo/).
const PAGE_TS = packagePath("host/demo/page.ts");
const PAGE_HTML = packagePath("host/demo/page.html");

export interface DemoPageOptions {
  modelUrl?: string;  // fetched by the page from its own origin at start; absent: the user picks a file
  modelName?: string; // shown instead of the URL
}

const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let script: Promise<string> | null = null;

// The page's script, bundled once per process: an IIFE for browsers, the runtime included.
export function bundlePageScript(): Promise<string> {
  script ??= (async () => {
    let esbuild: typeof import("esbuild");
    try {
      esbuild = await import("esbuild");
    } catch {
      return readFile(packagePath("build/demo-page.js"), "utf8").catch(() => {
        throw new Error("the demo page needs build/demo-page.js (npm run build) or esbuild (npm install esbuild)");
      });
    }
    const r = await esbuild.build({
      entryPoints: [PAGE_TS], bundle: true, write: false, format: "iife", platform: "browser",
      target: "es2022", minify: true, legalComments: "none", logLevel: "silent",
    });
    return r.outputFiles[0].text;
  })();
  script.catch(() => { script = null; });
  return script;
}

export async function buildDemoPage(opts: DemoPageOptions = {}): Promise<string> {
  const [html, js, wasm] = await Promise.all([
    readFile(PAGE_HTML, "utf8"),
    bundlePageScript(),
    readFile(packagePath("build/axformer.wasm")).catch((err) => {
      throw (err as NodeJS.ErrnoException).code === "ENOENT" ? new Error("build/axformer.wasm is missing; build it with `npm run asbuild`") : err;
    }),
  ]);
  const model = opts.modelUrl
    ? ` data-model-url="${attr(opts.modelUrl)}" data-model-name="${attr(opts.modelName ?? opts.modelUrl)}"`
    : "";
  // Function replacements: the bundle may hold `$&`-like sequences; `</script` would end the element.
  return html
    .replace("<!--MODEL-->", () => model)
    .replace("<!--WASM-->", () => wasm.toString("base64"))
    .replace("<!--SCRIPT-->", () => js.replace(/<\/script/gi, "<\\/script"));
}
