/**
 * Looks at an HTML report the way a reader would, in headless Chromium: a PNG screenshot, or the
 * DOM after the page has loaded and its scripts have run.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Debian's Chromium (`apt-get install -y chromium`). */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** Options shared by {@linkcode screenshot} and {@linkcode dumpDom}. */
export interface BrowserOptions {
  /** The Chromium executable; defaults to `/usr/bin/chromium`. */
  chromium?: string;
  /** Milliseconds of page time to let scripts (MathJax) settle before capturing; default 5000. */
  virtualTimeBudgetMs?: number;
}

/** Options of {@linkcode screenshot}. */
export interface ScreenshotOptions extends BrowserOptions {
  /** Window width in CSS pixels; default 1000. */
  width?: number;
  /** Window height in CSS pixels, which is also the image height; default 2000. */
  height?: number;
}

/**
 * Renders an HTML file in headless Chromium and saves the window as a PNG.
 *
 * @param htmlPath The page to render.
 * @param pngPath Where to write the image.
 * @param options Window size, Chromium path; see {@linkcode ScreenshotOptions}.
 * @returns When the PNG is written.
 * @throws {Error} If Chromium is missing (saying how to install it) or writes no image.
 *
 * @example
 * ```ts ignore
 * await screenshot("reports/01_data.html", "/tmp/01_data.png", { width: 1000, height: 3000 });
 * ```
 */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  options: ScreenshotOptions = {},
): Promise<void> {
  const { width = 1000, height = 2000 } = options;
  const target = resolve(pngPath);
  await Deno.remove(target).catch(() => {});
  const { stderr } = await runChromium(htmlPath, [
    `--screenshot=${target}`,
    `--window-size=${width},${height}`,
    "--hide-scrollbars",
  ], options);
  try {
    await Deno.stat(target);
  } catch {
    throw new Error(
      `Cannot screenshot "${htmlPath}": "${pngPath}" is missing, expected Chromium's PNG. Chromium said:\n${stderr}`,
    );
  }
}

/**
 * Loads an HTML file in headless Chromium and returns its DOM serialized as HTML, after parsing,
 * layout and the page's scripts: what a browser made of the file, not the file itself.
 *
 * @param htmlPath The page to load.
 * @param options Chromium path and time budget; see {@linkcode BrowserOptions}.
 * @returns The serialized DOM.
 * @throws {Error} If Chromium is missing (saying how to install it) or prints nothing.
 *
 * @example
 * ```ts ignore
 * const dom = await dumpDom("reports/01_data.html");
 * console.log(dom.includes("<svg"));
 * ```
 */
export async function dumpDom(htmlPath: string, options: BrowserOptions = {}): Promise<string> {
  const { stdout, stderr } = await runChromium(htmlPath, ["--dump-dom"], options);
  if (!stdout.trim()) {
    throw new Error(
      `Cannot dump the DOM of "${htmlPath}": Chromium's output is empty, expected the page's DOM. Chromium said:\n${stderr}`,
    );
  }
  return stdout;
}

/** Runs Chromium headless on one page with a throwaway profile; flags fit running as root. */
async function runChromium(
  htmlPath: string,
  flags: string[],
  options: BrowserOptions,
): Promise<{ stdout: string; stderr: string }> {
  const { chromium = DEFAULT_CHROMIUM, virtualTimeBudgetMs = 5000 } = options;
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const output = await new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        `--virtual-time-budget=${virtualTimeBudgetMs}`,
        ...flags,
        pathToFileURL(resolve(htmlPath)).href,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    const stderr = decoder.decode(output.stderr).trimEnd().split("\n").slice(-10).join("\n");
    if (!output.success) {
      throw new Error(
        `Cannot open "${htmlPath}" in Chromium: its exit code is ${output.code}, expected 0. Chromium said:\n${stderr}`,
      );
    }
    return { stdout: decoder.decode(output.stdout), stderr };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot find Chromium at ${chromium}: install it with \`apt-get install -y chromium\``,
      );
    }
    throw error;
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}
