// The playground page's script. lib/tools/playground.ts inlines it into playground.html with
// prepare.js in place of the import below (a page opened from file:// may not load modules).
// It expects stock tfjs as the global `tf` (playground/tf.min.js, loaded before it).
import { inkFromRgba, prepareDigit } from "./prepare.js";

/** @type {any} */
const tf = /** @type {any} */ (globalThis).tf;
const PIXELS = 784;
const CLASSES = 10;
/** Pen width on the 280-px pad: about 2 px once the digit is shrunk into MNIST's 20-px box. */
const STROKE_WIDTH = 22;
const INK = "#1f2328";

const body = document.body;
const pad = /** @type {HTMLCanvasElement} */ (document.getElementById("pad"));
const seen = /** @type {HTMLCanvasElement} */ (document.getElementById("seen"));
const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const guess = /** @type {HTMLElement} */ (document.getElementById("guess"));
const confidence = /** @type {HTMLElement} */ (document.getElementById("confidence"));
const bars = createBars(/** @type {HTMLElement} */ (document.getElementById("bars")));
const padContext = /** @type {CanvasRenderingContext2D} */ (
  pad.getContext("2d", { willReadFrequently: true })
);

/** What the page last showed, for tests and the curious: the 784 inputs and 10 probabilities. */
const shown = { input: /** @type {Float32Array | null} */ (null), probabilities: [], updates: 0 };
/** @type {any} */ (globalThis).playground = shown;

const ready = start();
ready.catch((error) => {
  status.textContent = `Cannot start the playground: ${error.message}`;
  body.dataset.state = "error";
});

/**
 * The model's probabilities for one MNIST-style image.
 *
 * @param {Float32Array} pixels 784 values in [0, 1], row-major 28×28, ink = 1.
 * @returns {Promise<number[]>} 10 probabilities, one per digit, adding up to 1.
 */
async function predictDigit(pixels) {
  const model = await ready;
  if (!(pixels instanceof Float32Array)) {
    throw new TypeError(
      `Cannot predict "pixels": type is ${
        pixels?.constructor?.name ?? typeof pixels
      }, expected a Float32Array`,
    );
  }
  if (pixels.length !== PIXELS) {
    throw new RangeError(
      `Cannot predict "pixels": length is ${pixels.length}, expected ${PIXELS}`,
    );
  }
  const bad = pixels.findIndex((v) => !(v >= 0 && v <= 1));
  if (bad >= 0) {
    throw new RangeError(
      `Cannot predict "pixels": pixel ${bad} is ${pixels[bad]}, expected a value in [0, 1]`,
    );
  }
  // The model ends in log-softmax; exp turns its log-probabilities into probabilities.
  const probabilities = tf.tidy(() => tf.exp(model.predict(tf.tensor2d(pixels, [1, PIXELS]))));
  const values = await probabilities.data();
  probabilities.dispose();
  return Array.from(values);
}
/** @type {any} */ (globalThis).predictDigit = predictDigit;

async function start() {
  if (!tf) {
    throw new Error(
      "tfjs did not load: keep the playground/ folder (tf.min.js, model.json) beside this page",
    );
  }
  // The cpu backend computes in float32 like Deno's wasm backend; webgl may use float16 textures.
  await tf.setBackend("cpu");
  await tf.ready();
  const { model, source } = await loadModel();
  tf.tidy(() => model.predict(tf.zeros([1, PIXELS]))); // warm up, so the first stroke is quick
  body.dataset.backend = tf.getBackend();
  body.dataset.modelSource = source;
  body.dataset.state = "ready";
  status.textContent = `Model loaded (${
    source === "embedded" ? "copy embedded in this page" : source
  }), tfjs ${tf.version.tfjs} on the ${tf.getBackend()} backend, all in this browser.`;
  return model;
}

/** Over http(s) the page fetches model.json like any tfjs app; from file:// it cannot, so it
 * reads the copy embedded in the page. Both load with stock tfjs. */
async function loadModel() {
  if (location.protocol === "http:" || location.protocol === "https:") {
    const url = body.dataset.modelUrl;
    return { model: await tf.loadLayersModel(url), source: url };
  }
  const data = JSON.parse(
    /** @type {HTMLElement} */ (document.getElementById("model-data")).textContent ?? "",
  );
  const bytes = Uint8Array.from(atob(data.weightsBase64), (c) => c.charCodeAt(0));
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: data.modelTopology,
    weightSpecs: data.weightSpecs,
    weightData: bytes.buffer,
  }));
  return { model, source: "embedded" };
}

/** @param {HTMLElement} list */
function createBars(list) {
  return Array.from({ length: CLASSES }, (_, digit) => {
    const item = document.createElement("li");
    item.dataset.digit = String(digit);
    item.innerHTML = `<span class="digit">${digit}</span>` +
      `<span class="track"><span class="bar"></span></span><span class="pct">–</span>`;
    list.append(item);
    return {
      item,
      bar: /** @type {HTMLElement} */ (item.querySelector(".bar")),
      pct: /** @type {HTMLElement} */ (item.querySelector(".pct")),
    };
  });
}

/** @param {number[] | null} probabilities */
function showProbabilities(probabilities) {
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  bars.forEach(({ item, bar, pct }, digit) => {
    const p = probabilities ? probabilities[digit] : 0;
    bar.style.width = `${(100 * p).toFixed(2)}%`;
    pct.textContent = probabilities ? `${(100 * p).toFixed(1)} %` : "–";
    item.dataset.probability = String(p);
    item.classList.toggle("top", digit === best);
  });
  guess.textContent = probabilities ? String(best) : "–";
  confidence.textContent = probabilities ? `${(100 * probabilities[best]).toFixed(1)} % sure` : "";
}

/** @param {Float32Array | null} input */
function showInput(input) {
  const context = /** @type {CanvasRenderingContext2D} */ (seen.getContext("2d"));
  const image = context.createImageData(28, 28);
  for (let i = 0; i < PIXELS; i++) {
    image.data.set([31, 35, 40, Math.round(255 * (input ? input[i] : 0))], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

let pending = false;
let generation = 0;

/** Predicts at most once per frame, however many pointer events arrive. */
function scheduleUpdate() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    update().catch((error) => (status.textContent = `Cannot predict: ${error.message}`));
  });
}

async function update() {
  const mine = ++generation;
  const { width, height } = pad;
  const ink = inkFromRgba(padContext.getImageData(0, 0, width, height).data);
  const input = prepareDigit(ink, width, height);
  const probabilities = input ? await predictDigit(input) : null;
  if (mine !== generation) return; // a newer drawing is already on its way
  showInput(input);
  showProbabilities(probabilities);
  shown.input = input;
  shown.probabilities = probabilities ?? [];
  shown.updates++;
  body.dataset.updates = String(shown.updates);
}

// Drawing with pointer events covers mouse, pen and touch alike; one pointer draws at a time.
/** @type {{ id: number, x: number, y: number } | null} */
let stroke = null;

/** @param {PointerEvent} event */
function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return {
    x: (event.clientX - box.left) * pad.width / box.width,
    y: (event.clientY - box.top) * pad.height / box.height,
  };
}

padContext.lineCap = "round";
padContext.lineJoin = "round";
padContext.lineWidth = STROKE_WIDTH;
padContext.strokeStyle = INK;
padContext.fillStyle = INK;

pad.addEventListener("pointerdown", (event) => {
  if (stroke) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  const { x, y } = padPoint(event);
  stroke = { id: event.pointerId, x, y };
  padContext.beginPath();
  padContext.arc(x, y, STROKE_WIDTH / 2, 0, 2 * Math.PI);
  padContext.fill();
  scheduleUpdate();
});

pad.addEventListener("pointermove", (event) => {
  if (!stroke || event.pointerId !== stroke.id) return;
  event.preventDefault();
  const current = stroke;
  padContext.beginPath();
  padContext.moveTo(current.x, current.y);
  for (const e of event.getCoalescedEvents?.() ?? [event]) {
    const { x, y } = padPoint(e);
    padContext.lineTo(x, y);
    current.x = x;
    current.y = y;
  }
  padContext.stroke();
  scheduleUpdate();
});

for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, (event) => {
    if (stroke && /** @type {PointerEvent} */ (event).pointerId === stroke.id) stroke = null;
  });
}

/** @type {HTMLElement} */ (document.getElementById("clear")).addEventListener("click", () => {
  padContext.clearRect(0, 0, pad.width, pad.height);
  stroke = null;
  scheduleUpdate();
});

showInput(null);
showProbabilities(null);
