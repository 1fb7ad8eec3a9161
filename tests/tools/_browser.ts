/**
 * What the browser tests share: Debian's Chromium, started offline, and a static server on
 * 127.0.0.1 for the pages under test.
 */
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { DEFAULT_CHROMIUM } from "../../lib/tools/screenshot.ts";

/** Flags that keep Chromium off the network (this machine's network is closed) and unsandboxed
 * (tests run as root). */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: DEFAULT_CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

/** Serves `root` on 127.0.0.1 at a free port. */
export function serveFolder(root: string): Deno.HttpServer<Deno.NetAddr> {
  const types: Record<string, string> = {
    html: "text/html",
    js: "text/javascript",
    json: "application/json",
    bin: "application/octet-stream",
  };
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      const body = await Deno.readFile(join(root, path));
      return new Response(body, {
        headers: { "content-type": types[path.split(".").at(-1)!] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}
