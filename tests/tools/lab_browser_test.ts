/// <reference lib="dom" />
/**
 * The learning-rate lab in a real browser (Debian's Chromium through puppeteer-core), offline: the
 * page is written for a subset of real MNIST images, trained through `window.labTrain` and through
 * its controls, from file:// and over http from 127.0.0.1, and compared with Deno's `train()` on
 * the same images and batch order. Every request the page makes is recorded.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadSplits } from "../../lib/data/mnist.ts";
import { createModel } from "../../lib/model/network.ts";
import { train } from "../../lib/train/train.ts";
import { writeLab } from "../../lib/tools/lab.ts";
import type { LabConfig, LabEpoch } from "../../lib/tools/lab/engine.ts";
import { projectPath } from "../../lib/util/paths.ts";
import { launchChromium, serveFolder } from "./_browser.ts";

await setupBackend({ log: false });
const IMAGES = 1000;
const splits = await loadSplits({ limit: IMAGES });

/** Opens the lab, recording every URL it requests and every error it throws. */
async function openLab(browser: Browser, url: string) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1300, height: 1000 });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => "labTrain" in globalThis);
  return { page, requests, errors };
}

function labTrain(page: Page, config: Partial<LabConfig>): Promise<LabEpoch[][] | string> {
  return page.evaluate(
    (config) =>
      (globalThis as unknown as { labTrain(c: unknown): Promise<LabEpoch[][]> }).labTrain(config)
        .catch((error: Error) => `rejected: ${error.message}`),
    config,
  );
}

const stepCount = (page: Page) =>
  page.$eval("#step-count", (element) => Number(element.textContent));

Deno.test({
  name: "the lab trains offline in Chromium, as Deno's train() does",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const folder = await Deno.makeTempDir({ prefix: "lab-" });
    const { htmlPath } = await writeLab(folder, { trainImages: IMAGES, splits });
    const browser = await launchChromium();
    try {
      await t.step(
        "from file://, labTrain: 0.1 beats 0.01 after an epoch, 3 diverges, and the first epoch is train()'s",
        async () => {
          const { page, requests, errors } = await openLab(browser, pathToFileURL(htmlPath).href);
          // 16 steps: enough for 3 to blow up, whatever the seed.
          const config = { learningRates: [0.01, 0.1, 3], epochs: 1, trainImages: IMAGES, seed: 1 };
          const histories = await labTrain(page, config);
          assert.ok(Array.isArray(histories), String(histories));
          const [slow, fast, wild] = histories;
          assert.ok(
            fast[0].val_loss! < slow[0].val_loss!,
            `${fast[0].val_loss} vs ${slow[0].val_loss}`,
          );
          assert.equal(wild.at(-1)!.diverged, true);
          assert.match(await page.$eval("#runs", (e) => e.textContent!), /3/);
          assert.equal(await page.$$eval("#runs .run.diverged", (rows) => rows.length), 1);

          const model = createModel({ seed: 1 });
          const expected = await train(model, splits.train, {
            epochs: 1,
            seed: 1,
            validation: splits.validation,
            optimizer: { kind: "sgd", learningRate: 0.1, momentum: 0.5 },
          });
          model.dispose();
          const [trainRow, validationRow] = expected.history;
          // The page sums in float64 (TypeScript BLAS), Deno in float32 (OpenBLAS).
          assert.ok(Math.abs(fast[0].loss - trainRow.loss) <= 1e-4 * trainRow.loss);
          assert.ok(Math.abs(fast[0].val_loss! - validationRow.loss) <= 1e-4 * validationRow.loss);

          const refused = await labTrain(page, { learningRates: [10] });
          assert.match(String(refused), /^rejected: .*option learningRates\[0\] is 10/);
          const site = pathToFileURL(folder).href + "/";
          assert.ok(
            requests.every((url) => url.startsWith(site) || url.startsWith("blob:")),
            `${requests}`,
          );
          assert.ok(requests.includes(`${site}lab/data.js`), `${requests}`);
          assert.deepEqual(errors, []);
          await page.close();
        },
      );

      await t.step(
        "Start trains with the controls, Pause holds the step count, Resume goes on",
        async () => {
          const { page, errors } = await openLab(browser, pathToFileURL(htmlPath).href);
          await page.select("#train-images", String(IMAGES));
          await page.click("#start");
          await page.waitForFunction(() =>
            Number(document.getElementById("step-count")!.textContent) > 20
          );
          await page.screenshot({ path: projectPath("reports", "lab-training.png") });
          await page.click("#pause");
          await page.waitForFunction(() =>
            /^paused/.test(document.getElementById("phase")!.textContent!)
          );
          const paused = await stepCount(page);
          await new Promise((resolve) => setTimeout(resolve, 800));
          assert.equal(await stepCount(page), paused, "steps went on while paused");
          await page.click("#pause");
          await page.waitForFunction(
            (n) => Number(document.getElementById("step-count")!.textContent) > n,
            {},
            paused,
          );
          // Every chart has drawn, and the weights are images.
          for (const id of ["loss-chart", "val-chart", "accuracy-chart", "ratio-chart"]) {
            assert.ok(await page.$(`#${id} svg`), `#${id} has no chart`);
          }
          assert.equal(await page.$$eval("#weights canvas", (c) => c.length), 16);
          await page.click("#reset");
          assert.equal(await stepCount(page), 0);
          assert.equal(await page.$("#loss-chart svg"), null);
          assert.deepEqual(errors, []);
          await page.close();
        },
      );

      await t.step(
        "Start with every run unchecked says which option is wrong and that training stopped",
        async () => {
          const { page, errors } = await openLab(browser, pathToFileURL(htmlPath).href);
          await page.$$eval(
            "#runs input[type=checkbox]",
            (boxes) => boxes.forEach((box) => ((box as HTMLInputElement).checked = false)),
          );
          await page.click("#start");
          await page.waitForFunction(() =>
            /^stopped/.test(document.getElementById("phase")!.textContent!)
          );
          const message = await page.$eval("#message", (m) => m.textContent!);
          assert.match(message, /learningRates/);
          assert.equal(await page.$eval("#start", (b) => (b as HTMLButtonElement).disabled), false);
          assert.deepEqual(errors, []);
          await page.close();
        },
      );

      await t.step(
        "over http from 127.0.0.1 it loads and trains, asking nothing of other hosts",
        async () => {
          const server = serveFolder(folder);
          try {
            const origin = `http://127.0.0.1:${server.addr.port}`;
            const { page, requests, errors } = await openLab(browser, `${origin}/lab.html`);
            const histories = await labTrain(page, {
              learningRates: [0.05],
              epochs: 1,
              trainImages: 200,
            });
            assert.ok(Array.isArray(histories), String(histories));
            assert.equal(histories[0].length, 1);
            assert.ok(
              requests.every((url) => url.startsWith(`${origin}/`) || url.startsWith("blob:")),
              `${requests}`,
            );
            assert.deepEqual(errors, []);
            await page.close();
          } finally {
            await server.shutdown();
          }
        },
      );
    } finally {
      await browser.close();
      await Deno.remove(folder, { recursive: true });
    }
  },
});
