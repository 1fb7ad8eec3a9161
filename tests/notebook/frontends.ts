/**
 * The tools our users run notebooks with, driven from tests: a Run All client (every execute request
 * sent back to back, as Jupyter frontends do), the stock `jupyter nbconvert --to notebook --execute`,
 * and Debian's classic Jupyter Notebook in Chromium, where Kernel → Restart & Run All is pressed and
 * the outputs are counted in the page.
 */
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { CHROMIUM_FLAGS } from "../tools/_browser.ts";
import { type CellOutputs, notebookOutputs, type Output } from "./outputs.ts";

const PYTHON = "/usr/bin/python3";
const RUN_ALL = fileURLToPath(new URL("./run_all.py", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const decoder = new TextDecoder();

/** Environment for the kernels: this process's, plus `env`. */
function kernelEnv(env: Record<string, string>): Record<string, string> {
  return { ...Deno.env.toObject(), NO_COLOR: "1", ...env };
}

async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string> },
): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: kernelEnv(options.env),
    stdin: "null",
  }).output();
  if (!output.success) {
    const stderr = decoder.decode(output.stderr).trimEnd().split("\n").slice(-30).join("\n");
    throw new Error(`${command} ${args.join(" ")} exited with code ${output.code}:\n${stderr}`);
  }
  return decoder.decode(output.stdout);
}

/** What the Run All client saw. */
export interface RunAllResult {
  cells: CellOutputs[];
  /** Outputs that arrived after their cell's `idle` (a frontend still shows them). */
  late: number;
  /** Outputs whose parent was no cell's request. */
  unknown: number;
}

/**
 * Sends every code cell's execute request at once on a fresh kernel and files each output under its
 * parent request's cell.
 *
 * @param path The notebook.
 * @param env Extra environment for the kernel.
 * @returns Each code cell's outputs and the counts of late and unlabelled outputs.
 */
export async function runAll(path: string, env: Record<string, string>): Promise<RunAllResult> {
  const stdout = await run(PYTHON, [RUN_ALL, path, "deno", "600"], { env });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/**
 * Runs plain `jupyter nbconvert --to notebook --execute`: no custom client, no waiting for late
 * output.
 *
 * @param path The notebook.
 * @param env Extra environment for the kernel.
 * @returns Each code cell's outputs in the executed copy.
 */
export async function stockNbconvert(
  path: string,
  env: Record<string, string>,
): Promise<CellOutputs[]> {
  const folder = await Deno.makeTempDir({ prefix: "nbconvert-" });
  try {
    await run("/usr/bin/jupyter", [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.timeout=600",
      "--output-dir",
      folder,
      path,
    ], { env, cwd: dirname(path) });
    const executed = JSON.parse(await Deno.readTextFile(join(folder, basename(path))));
    return notebookOutputs(executed);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

/** What the classic Notebook page showed after Restart & Run All. */
export interface PageResult {
  /** Each code cell's outputs as the page's model holds them. */
  cells: CellOutputs[];
  /** Each code cell's output areas counted in the page's DOM, in cell order. */
  domCounts: number[];
  /** Whether every code cell got an execution count within the time allowed. */
  finished: boolean;
}

/**
 * Debian's classic Jupyter Notebook server on 127.0.0.1, serving copies of notebooks, and a headless
 * Chromium driven by puppeteer-core to open them.
 */
export class ClassicNotebook {
  #server: Deno.ChildProcess;
  #browser: Browser;
  #url: string;
  #token: string;
  /** Where the copies live: a folder directly under the project, so `../lib/mod.ts` resolves. */
  readonly folder: string;

  private constructor(
    server: Deno.ChildProcess,
    browser: Browser,
    url: string,
    token: string,
    folder: string,
  ) {
    this.#server = server;
    this.#browser = browser;
    this.#url = url;
    this.#token = token;
    this.folder = folder;
  }

  /**
   * Starts the server on a free port and the browser.
   *
   * @param projectRoot The folder holding `lib/` and `deno.json`.
   * @param env Extra environment for the kernels the server starts.
   * @returns The running pair; call `close()`.
   */
  static async start(projectRoot: string, env: Record<string, string>): Promise<ClassicNotebook> {
    // A copy: the page may autosave, and the notebooks in the repository must stay clean.
    const folder = await Deno.makeTempDir({ dir: projectRoot, prefix: ".frontend-test-" });
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const token = crypto.randomUUID();
    const server = new Deno.Command("/usr/bin/jupyter-notebook", {
      args: [
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        `--port=${port}`,
        "--port-retries=0",
        `--NotebookApp.token=${token}`,
        `--notebook-dir=${folder}`,
      ],
      env: kernelEnv({ ...env, JUPYTER_RUNTIME_DIR: join(folder, ".runtime") }),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          const response = await fetch(`${url}/api/status?token=${token}`).catch(() => null);
          await response?.body?.cancel();
          return response?.ok === true;
        },
        60_000,
        "the Jupyter Notebook server to answer",
      );
      const browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
      return new ClassicNotebook(server, browser, url, token, folder);
    } catch (error) {
      server.kill();
      await server.status;
      await Deno.remove(folder, { recursive: true });
      throw error;
    }
  }

  /**
   * Opens a copy of the notebook, presses Kernel → Restart & Run All, waits until every code cell
   * has run and the page has been quiet for a second, counts the outputs and saves a screenshot.
   *
   * @param path The notebook to copy and open.
   * @param screenshotPath Where to save a PNG of the whole page.
   * @param timeoutMs How long the run may take.
   * @returns What the page shows.
   */
  async restartAndRunAll(
    path: string,
    screenshotPath: string,
    timeoutMs = 600_000,
  ): Promise<PageResult> {
    const copy = join(this.folder, basename(path));
    await Deno.copyFile(path, copy);
    const page: Page = await this.#browser.newPage();
    try {
      await page.setViewport({ width: 1100, height: 900 });
      await page.goto(
        `${this.#url}/notebooks/${relative(this.folder, copy)}?token=${this.#token}`,
      );
      // Page-side code as strings: it runs in classic Notebook's page, where `Jupyter` lives.
      await page.waitForFunction("Jupyter?.notebook?.kernel?.is_connected?.() === true", {
        timeout: 120_000,
      });
      await page.evaluate("Jupyter.notebook.set_autosave_interval(0)");
      await page.evaluate("Jupyter.notebook.restart_run_all({ confirm: false })");
      const finished = await page.waitForFunction(
        `(() => {
          const cells = Jupyter.notebook.get_cells()
            .filter((c) => c.cell_type === "code" && c.get_text().trim());
          const failed = cells.some((c) =>
            c.output_area.outputs.some((o) => o.output_type === "error"));
          return failed || cells.every((c) => typeof c.input_prompt_number === "number");
        })()`,
        { timeout: timeoutMs, polling: 250 },
      ).then(() => true, () => false);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // late output would still show
      const state = await page.evaluate(`Jupyter.notebook.get_cells().flatMap((cell, index) =>
        cell.cell_type === "code" && cell.get_text().trim()
          ? [{
            index,
            outputs: JSON.parse(JSON.stringify(cell.output_area.outputs)),
            dom: cell.element[0].querySelectorAll(".output_area").length,
          }]
          : [])`) as { index: number; outputs: Output[]; dom: number }[];
      // The page scrolls inside #site; let it grow so the screenshot holds the whole notebook.
      await page.evaluate(`(() => {
        const site = document.querySelector("#site");
        if (site) Object.assign(site.style, { height: "auto", overflow: "visible" });
      })()`);
      await Deno.mkdir(dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath, fullPage: true });
      return {
        cells: state.map(({ index, outputs }) => ({ index, outputs })),
        domCounts: state.map((cell) => cell.dom),
        finished,
      };
    } finally {
      // Stop the kernel so that it does not outlive the test.
      await page.evaluate("Jupyter?.notebook?.kernel?.kill?.()").catch(() => {});
      await page.close();
    }
  }

  /** Stops the browser and the server and removes the copies. */
  async close(): Promise<void> {
    await this.#browser.close().catch(() => {});
    this.#server.kill("SIGTERM");
    await this.#server.status;
    await Deno.remove(this.folder, { recursive: true });
  }
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
