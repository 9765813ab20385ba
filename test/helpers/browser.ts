// Debian's Chromium driven by playwright-core (never a downloaded browser), and a
// tiny localhost server for the browser tests.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";

export const CHROMIUM = process.env.AXFORMER_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = () => existsSync(CHROMIUM);

// Headless, as root (no sandbox), no GPU, and none of Chromium's background
// connections: on a closed network they fail, many at a time. A fresh profile each run.
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "axformer-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 960, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Console errors, uncaught page errors, and every request that left the allowed
// origin (aborted before it goes anywhere).
export async function watchPage(page: Page, allowed: (url: URL) => boolean) {
  const errors: string[] = [];
  const outside: string[] = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(`console.${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (allowed(url) || url.protocol === "data:") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  return { errors, outside };
}

export type Files = Record<string, { type: string; body: Uint8Array | string }>;

// Serves `files` by path on 127.0.0.1 only; anything else is a 404.
export async function serveFiles(files: Files): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const f = files[(req.url ?? "/").split("?")[0]];
    if (!f) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": f.type, "cache-control": "no-store" }).end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
