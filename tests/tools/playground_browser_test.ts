/// <reference lib="dom" />
/**
 * The playground in a real browser (Debian's Chromium through puppeteer-core), offline: a model
 * trained briefly on real MNIST images is written into a playground, strokes are drawn on its
 * canvas with the mouse and a finger, and its predictions are compared with Deno's for the same
 * inputs. Every request the page makes is recorded: from file:// it must fetch nothing but files
 * beside it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend/backend.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { saveModel } from "../../lib/model/checkpoint.ts";
import { createModel } from "../../lib/model/network.ts";
import { predictProbabilities } from "../../lib/model/predict.ts";
import { train } from "../../lib/train/train.ts";
import { writePlayground } from "../../lib/tools/playground.ts";
import { inkFromRgba, prepareDigit } from "../../lib/tools/playground/prepare.js";
import { launchChromium, serveFolder } from "./_browser.ts";

const COMPARED = 100;
const TOLERANCE = 1e-4;

await setupBackend({ log: false });

/** A model worth drawing for: 3 epochs on 20,000 real training images (about 90 % accurate, a few
 * seconds). */
async function trainedPlayground(folder: string): Promise<{ model: tf.LayersModel; html: string }> {
  const { train: trainSplit } = await loadMnist({ limit: 20_000 });
  const model = createModel({ seed: 0 });
  await train(model, trainSplit, { epochs: 3, seed: 0 });
  await saveModel(model, join(folder, "ann_mnist_test"));
  const { htmlPath } = await writePlayground(join(folder, "ann_mnist_test"), join(folder, "site"));
  return { model, html: htmlPath };
}

/** Opens a page, recording every URL it requests and the errors it throws. */
async function openPage(browser: Browser, url: string, options: { touch?: boolean } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width: 900, height: 720, hasTouch: options.touch ?? false });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.state !== "loading", { timeout: 30_000 });
  const state = await page.evaluate(() => ({ ...document.body.dataset }));
  assert.equal(state.state, "ready", `${await page.$eval("#status", (e) => e.textContent)}`);
  return { page, requests, errors, state };
}

/** Waits until the page has handled every stroke (its update count stops changing) and the bars
 * have finished moving. */
async function settle(page: Page): Promise<void> {
  let before = -1;
  for (;;) {
    const now = await page.evaluate(async () => {
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      await new Promise((r) => setTimeout(r, 50));
      return (globalThis as unknown as { playground: { updates: number } }).playground.updates;
    });
    if (now === before) break;
    before = now;
  }
  await page.waitForFunction(() => document.getAnimations().length === 0);
}

/** Strokes as points in fractions of the pad: a "7" of two lines, and a "0", an ellipse. */
const SEVEN = [[0.25, 0.2], [0.75, 0.2], [0.45, 0.85]];
const ZERO = Array.from({ length: 25 }, (_, i) => {
  const angle = (2 * Math.PI * i) / 24;
  return [0.5 + 0.22 * Math.sin(angle), 0.5 - 0.32 * Math.cos(angle)];
});

/** Draws one stroke through `path` with the mouse or a finger, about 36 moves in all. */
async function draw(page: Page, path: number[][], input: "mouse" | "touch"): Promise<void> {
  const steps = Math.ceil(36 / (path.length - 1));
  const box = (await (await page.$("#pad"))!.boundingBox())!;
  const points = [path[0]];
  for (let i = 1; i < path.length; i++) {
    for (let s = 1; s <= steps; s++) {
      points.push([0, 1].map((k) => path[i - 1][k] + (path[i][k] - path[i - 1][k]) * s / steps));
    }
  }
  const [first, ...rest] = points.map((
    [fx, fy],
  ) => [box.x + fx * box.width, box.y + fy * box.height]);
  if (input === "mouse") {
    await page.mouse.move(first[0], first[1]);
    await page.mouse.down();
    for (const [x, y] of rest) await page.mouse.move(x, y);
    await page.mouse.up();
  } else {
    await page.touchscreen.touchStart(first[0], first[1]);
    for (const [x, y] of rest) await page.touchscreen.touchMove(x, y);
    await page.touchscreen.touchEnd();
  }
  await settle(page);
}

/** What the page shows after drawing: its input, the bars and the canvas's ink. */
async function shownState(page: Page) {
  return await page.evaluate(() => {
    const shown = (globalThis as unknown as {
      playground: { input: Float32Array | null; probabilities: number[] };
    }).playground;
    const pad = document.getElementById("pad") as HTMLCanvasElement;
    const rgba = pad.getContext("2d")!.getImageData(0, 0, pad.width, pad.height).data;
    return {
      input: shown.input ? Array.from(shown.input) : null,
      probabilities: shown.probabilities,
      guess: document.getElementById("guess")!.textContent,
      bars: [...document.querySelectorAll("#bars li")].map((li) => ({
        digit: (li as HTMLElement).dataset.digit,
        probability: Number((li as HTMLElement).dataset.probability),
        top: li.classList.contains("top"),
        width: (li.querySelector(".bar") as HTMLElement).getBoundingClientRect().width,
        text: li.querySelector(".pct")!.textContent,
      })),
      rgba: Array.from(rgba),
      size: [pad.width, pad.height],
    };
  });
}

/** Checks that a drawing produced a prediction, the way Deno would make it from the same ink. */
function assertPrediction(model: tf.LayersModel, shown: Awaited<ReturnType<typeof shownState>>) {
  const [width, height] = shown.size;
  const expected = prepareDigit(inkFromRgba(shown.rgba), width, height);
  assert.ok(expected && shown.input, "the drawing left no ink");
  assert.deepEqual(shown.input, Array.from(expected), "the page prepared its input differently");
  const deno = predictProbabilities(model, expected);
  const p = shown.bars.map((bar) => bar.probability);
  p.forEach((v, c) =>
    assert.ok(Math.abs(v - deno[c]) <= TOLERANCE, `class ${c}: ${v} vs ${deno[c]}`)
  );
  const best = p.indexOf(Math.max(...p));
  assert.equal(shown.guess, String(best));
  assert.deepEqual(shown.bars.map((bar) => bar.digit), [..."0123456789"]);
  assert.deepEqual(shown.bars.map((bar) => bar.top), p.map((_, c) => c === best));
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.equal(shown.bars[best].text, `${(100 * p[best]).toFixed(1)} %`);
  // The bars are drawn to scale: the widest is the most probable.
  const widths = shown.bars.map((bar) => bar.width);
  assert.ok(widths[best] > 0 && widths.every((w) => w <= widths[best]), `${widths}`);
}

Deno.test({
  name: "the playground predicts drawn digits offline in Chromium, matching Deno",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const folder = await Deno.makeTempDir({ prefix: "playground-" });
    const { model, html } = await trainedPlayground(folder);
    const { test } = await loadMnist({ limit: COMPARED });
    const images = test.images;
    const deno = predictProbabilities(model, images);
    const browser = await launchChromium();
    try {
      await t.step(
        "from file:// it loads the embedded model and fetches only files beside it",
        async () => {
          const { page, requests, errors, state } = await openPage(
            browser,
            pathToFileURL(html).href,
          );
          assert.deepEqual(errors, []);
          assert.equal(state.backend, "cpu");
          assert.equal(state.modelSource, "embedded");
          assert.match(
            await page.$eval(".sub", (e) => e.textContent!),
            /^Model ann_mnist_test: 109,386 parameters/,
          );
          const site = pathToFileURL(join(folder, "site")).href + "/";
          assert.ok(
            requests.length >= 2 && requests.every((url) => url.startsWith(site)),
            `${requests}`,
          );
          assert.ok(requests.includes(`${site}playground/tf.min.js`));
          await page.close();
        },
      );

      await t.step(
        "a mouse-drawn 7 shows ten bars, a 7, and the probabilities Deno computes",
        async () => {
          const { page } = await openPage(browser, pathToFileURL(html).href);
          await draw(page, SEVEN, "mouse");
          const shown = await shownState(page);
          assertPrediction(model, shown);
          assert.equal(shown.guess, "7");
          await page.click("#clear");
          await settle(page);
          const cleared = await shownState(page);
          assert.equal(cleared.input, null);
          assert.equal(cleared.guess, "–");
          assert.ok(cleared.bars.every((bar) => bar.probability === 0 && bar.width === 0));
          assert.ok(cleared.rgba.every((v) => v === 0), "Clear left ink on the pad");
          await page.close();
        },
      );

      await t.step(
        "a finger-drawn 0 is read as a 0 (touch arrives as pointer events)",
        async () => {
          const { page } = await openPage(browser, pathToFileURL(html).href, { touch: true });
          await draw(page, ZERO, "touch");
          const shown = await shownState(page);
          assertPrediction(model, shown);
          assert.equal(shown.guess, "0");
          await page.close();
        },
      );

      await t.step(`predictDigit() agrees with Deno on ${COMPARED} test images`, async () => {
        const { page } = await openPage(browser, pathToFileURL(html).href);
        const browserP = await predictInPage(page, images);
        assertAgree(browserP, deno);
        const rejected = await page.evaluate(() =>
          (globalThis as unknown as { predictDigit(p: unknown): Promise<number[]> })
            .predictDigit(new Float32Array(3)).then(
              () => "resolved",
              (e: Error) => `${e.name}: ${e.message}`,
            )
        );
        assert.equal(rejected, 'RangeError: Cannot predict "pixels": length is 3, expected 784');
        await page.close();
      });

      await t.step("over http it loads playground/model.json with tf.loadLayersModel", async () => {
        const server = serveFolder(join(folder, "site"));
        try {
          const origin = `http://127.0.0.1:${server.addr.port}`;
          const { page, requests, state } = await openPage(browser, `${origin}/playground.html`);
          assert.equal(state.modelSource, "playground/model.json");
          assert.ok(requests.includes(`${origin}/playground/model.json`), `${requests}`);
          assert.ok(requests.every((url) => url.startsWith(`${origin}/`)), `${requests}`);
          assertAgree(
            await predictInPage(page, images.subarray(0, 10 * 784)),
            deno.subarray(0, 100),
          );
          await page.close();
        } finally {
          await server.shutdown();
        }
      });

      await t.step("without its playground/ folder the page says what is missing", async () => {
        await Deno.remove(join(folder, "site", "playground", "tf.min.js"));
        const page = await browser.newPage();
        await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
        await page.waitForFunction(() => document.body.dataset.state === "error");
        assert.equal(
          await page.$eval("#status", (e) => e.textContent),
          "Cannot start the playground: tfjs did not load: keep the playground/ folder " +
            "(tf.min.js, model.json) beside this page",
        );
        await page.close();
      });
    } finally {
      await browser.close();
      model.dispose();
      await Deno.remove(folder, { recursive: true });
    }
  },
});

/** Runs `predictDigit` in the page on each 784-pixel image. */
async function predictInPage(page: Page, images: Float32Array): Promise<Float32Array> {
  const rows = await page.evaluate(async (flat: number[]) => {
    const predict = (globalThis as unknown as {
      predictDigit(p: Float32Array): Promise<number[]>;
    }).predictDigit;
    const out: number[][] = [];
    for (let i = 0; i < flat.length; i += 784) {
      out.push(await predict(new Float32Array(flat.slice(i, i + 784))));
    }
    return out;
  }, Array.from(images));
  return Float32Array.from(rows.flat());
}

/** Same most probable class and every probability within the tolerance, image by image. */
function assertAgree(browserP: Float32Array, deno: Float32Array): void {
  assert.equal(browserP.length, deno.length);
  let worst = 0;
  for (let i = 0; i < deno.length / 10; i++) {
    const a = browserP.subarray(i * 10, i * 10 + 10), b = deno.subarray(i * 10, i * 10 + 10);
    assert.equal(argmax(a), argmax(b), `image ${i}: class ${argmax(a)} vs ${argmax(b)}`);
    for (let c = 0; c < 10; c++) worst = Math.max(worst, Math.abs(a[c] - b[c]));
  }
  assert.ok(worst <= TOLERANCE, `largest difference ${worst}`);
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
