// The lab page's main thread: controls, the worker's messages, the charts. Training runs in the
// worker (lib/tools/lab/worker.ts, inlined as text), so the page redraws while it trains.
// `LAB` (defaults, colours, the rate range) comes from lab.ts as JSON; `LAB_DATA` from lab/data.js.
/* global LAB_DATA, Plot */

const LAB = JSON.parse(document.getElementById("lab-config").textContent);

const $ = (id) => document.getElementById(id);
const RATE_STEPS = 1000;
const LOG_MIN = Math.log10(LAB.rateRange.min), LOG_MAX = Math.log10(LAB.rateRange.max);
const LOSS_CAP = 10;

const sliderToRate = (v) =>
  Number((10 ** (LOG_MIN + (v / RATE_STEPS) * (LOG_MAX - LOG_MIN))).toPrecision(2));
const rateToSlider = (rate) =>
  Math.round(((Math.log10(rate) - LOG_MIN) / (LOG_MAX - LOG_MIN)) * RATE_STEPS);
const rateLabel = (rate) => `lr ${rate}`;

function bytes(base64) {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
const DATA = {
  train: {
    pixels: bytes(LAB_DATA.train.pixels),
    labels: bytes(LAB_DATA.train.labels),
    count: LAB_DATA.train.count,
  },
  validation: {
    pixels: bytes(LAB_DATA.validation.pixels),
    labels: bytes(LAB_DATA.validation.labels),
    count: LAB_DATA.validation.count,
  },
};
const WORKER_URL = URL.createObjectURL(
  new Blob([$("lab-worker").textContent], { type: "text/javascript" }),
);

// ---- Controls ----------------------------------------------------------------------------------

const runRows = LAB.slotRates.map((rate, i) => {
  const row = document.createElement("div");
  row.className = "run";
  row.innerHTML = `<input type="checkbox" checked aria-label="use run ${i + 1}">` +
    `<input type="range" min="0" max="${RATE_STEPS}" aria-label="learning rate ${i + 1}">` +
    `<output></output>`;
  const [enabled, slider, output] = row.children;
  enabled.style.accentColor = LAB.colors[i];
  slider.style.accentColor = LAB.colors[i];
  slider.value = rateToSlider(rate);
  const show = () => (output.textContent = String(sliderToRate(Number(slider.value))));
  slider.addEventListener("input", show);
  show();
  $("runs").append(row);
  return { row, enabled, slider, output };
});
for (const size of LAB.trainSizes) {
  $("train-images").append(new Option(size.toLocaleString("en"), size));
}

function setControls(config) {
  runRows.forEach((r, i) => {
    const rate = config.learningRates[i];
    r.enabled.checked = rate !== undefined;
    if (rate !== undefined) {
      r.slider.value = rateToSlider(rate);
      r.output.textContent = String(rate);
    }
  });
  $("momentum").value = config.momentum;
  $("momentum").nextElementSibling.textContent = config.momentum;
  $("batch-size").value = String(config.batchSize);
  $("epochs").value = config.epochs;
  $("seed").value = config.seed;
  if (![...$("train-images").options].some((o) => Number(o.value) === config.trainImages)) {
    $("train-images").append(
      new Option(config.trainImages.toLocaleString("en"), config.trainImages),
    );
  }
  $("train-images").value = String(config.trainImages);
}

function readControls() {
  return {
    // A slider's own value is exact when labTrain set it; rounding it back would move it.
    learningRates: runRows.filter((r) => r.enabled.checked).map((r) =>
      Number(r.output.textContent)
    ),
    momentum: Number($("momentum").value),
    batchSize: Number($("batch-size").value),
    epochs: Number($("epochs").value),
    seed: Number($("seed").value),
    trainImages: Number($("train-images").value),
  };
}
$("weights-change").addEventListener(
  "change",
  () => session?.weights && drawWeights(session.weights),
);
$("momentum").addEventListener(
  "input",
  (e) => (e.target.nextElementSibling.textContent = e.target.value),
);
setControls(LAB.defaults);

// ---- State of a training --------------------------------------------------------------------

let worker = null, session = null;

function newSession(config) {
  return {
    config,
    labels: config.learningRates.map(rateLabel),
    colors: config.learningRates.map((_, i) => LAB.colors[i]),
    points: [],
    epochs: [],
    ratios: [],
    diverged: new Map(),
    step: 0,
    paused: false,
    done: null,
    dirty: true,
  };
}

/** Starts a training of `config`: what the Start button and `window.labTrain` both call. */
function start(config) {
  stop();
  setControls(config);
  session = newSession(config);
  const current = session;
  const finished = new Promise((resolve, reject) => (current.done = { resolve, reject }));
  worker = new Worker(WORKER_URL);
  worker.onmessage = (event) => receive(current, event.data);
  worker.onerror = (event) => fail(current, event.message ?? "the worker failed");
  worker.postMessage({ type: "start", config, train: DATA.train, validation: DATA.validation });
  buildWatch(current);
  runRows.forEach((r) => r.row.classList.remove("diverged"));
  setButtons("running");
  $("message").textContent = "";
  scheduleDraw();
  return finished;
}

function stop() {
  worker?.terminate();
  worker = null;
  session?.done?.reject(new Error("Stopped: the lab was reset or restarted"));
  session = null;
}

function fail(current, message) {
  $("message").textContent = `Training failed: ${message}`;
  $("phase").textContent = "stopped: see the message below";
  setButtons("ready");
  current.done.reject(new Error(message));
  worker?.terminate();
  worker = null;
}

function receive(current, message) {
  if (current !== session) return;
  if (message.type === "error") return fail(current, message.message);
  if (message.type === "paused") {
    current.step = message.step;
    $("step-count").textContent = String(message.step);
    $("phase").textContent = `paused at step ${message.step}`;
    return;
  }
  if (message.type === "done") {
    current.step = message.steps;
    $("step-count").textContent = String(message.steps);
    $("phase").textContent = `done: ${current.config.epochs} epochs`;
    setButtons("done");
    current.dirty = true;
    scheduleDraw();
    const done = current.done;
    current.done = null;
    return done.resolve(message.histories);
  }
  for (const m of message.messages) {
    if (m.type === "points") {
      for (const p of m.points) {
        current.points.push({
          ...p,
          label: current.labels[p.run],
          loss: Math.min(p.loss, LOSS_CAP),
        });
      }
    } else if (m.type === "epoch" && !m.row.diverged) {
      current.epochs.push({ ...m.row, run: m.run, label: current.labels[m.run] });
    } else if (m.type === "diverged") {
      current.diverged.set(m.run, m.at);
      const row = runRows[rowOfRun(m.run)];
      row?.row.classList.add("diverged");
      if (row) row.row.title = `diverged at step ${m.at.step}: a batch's loss was ${m.at.loss}`;
    } else if (m.type === "ratios") {
      m.ratios.forEach((ratio, layer) =>
        current.ratios.push({
          run: m.run,
          label: current.labels[m.run],
          step: m.step,
          layer: `layer ${layer + 1}`,
          ratio,
        })
      );
    } else if (m.type === "progress") {
      current.step = m.step;
      $("step-count").textContent = String(m.step);
      if (!current.paused) {
        $("phase").textContent =
          `epoch ${m.epoch} of ${current.config.epochs}, batch ${m.batch} of ${m.batches} · ` +
          `${Math.round(m.stepsPerSecond)} steps/s (all runs together)`;
      }
    } else if (m.type === "weights") {
      current.weights = m;
      drawWeights(m);
    }
  }
  current.dirty = true;
  scheduleDraw();
}

/** The control row of run k (rows left unchecked have no run). */
function rowOfRun(k) {
  const used = runRows.map((r, i) => (r.enabled.checked ? i : -1)).filter((i) => i >= 0);
  return used[k];
}

function setButtons(state) {
  $("start").disabled = state === "running";
  $("pause").disabled = state !== "running";
  $("pause").textContent = session?.paused ? "Resume" : "Pause";
}

$("start").addEventListener("click", () => {
  start(readControls()).catch((error) => {
    if (!/^Stopped/.test(error.message)) $("message").textContent = error.message;
  });
});
$("pause").addEventListener("click", () => {
  if (!session || !worker) return;
  session.paused = !session.paused;
  worker.postMessage({ type: session.paused ? "pause" : "resume" });
  $("pause").textContent = session.paused ? "Resume" : "Pause";
  if (session.paused) $("phase").textContent = "pausing…";
});
$("reset").addEventListener("click", () => {
  stop();
  setControls(LAB.defaults);
  clearCharts();
  $("step-count").textContent = "0";
  $("phase").textContent = "ready";
  $("message").textContent = "";
  $("pause").textContent = "Pause";
  runRows.forEach((r) => r.row.classList.remove("diverged"));
  setButtons("ready");
});

// ---- Drawing --------------------------------------------------------------------------------

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  // At most about five redraws a second: Plot rebuilds each chart's SVG from its data.
  setTimeout(() =>
    requestAnimationFrame(() => {
      drawPending = false;
      if (session?.dirty) {
        session.dirty = false;
        draw(session);
      }
    }), 200);
}

function color(current) {
  return { domain: current.labels, range: current.colors, legend: true };
}

function draw(current) {
  const width = Math.max(320, $("loss-chart").clientWidth);
  const marks = current.labels.flatMap((label, k) => {
    const at = current.diverged.get(k);
    const last = current.points.filter((p) => p.run === k).at(-1);
    return at && last
      ? [
        Plot.dot([last], {
          x: "step",
          y: "loss",
          stroke: current.colors[k],
          symbol: "times",
          r: 7,
          strokeWidth: 2.5,
        }),
        Plot.text([last], {
          x: "step",
          y: "loss",
          text: () => `${label} diverged (step ${at.step})`,
          dx: 10,
          dy: 12,
          textAnchor: "start",
          fill: current.colors[k],
          fontWeight: "bold",
        }),
      ]
      : [];
  });
  const steps = Math.ceil(current.config.trainImages / current.config.batchSize) *
    current.config.epochs;
  replace(
    "loss-chart",
    Plot.plot({
      width,
      height: 260,
      x: { label: "step", domain: [0, steps] },
      y: { type: "log", label: `loss (log; capped at ${LOSS_CAP})`, grid: true, tickFormat: "~g" },
      color: color(current),
      marks: [
        Plot.line(current.points, { x: "step", y: "loss", stroke: "label", z: "label" }),
        ...marks,
      ],
    }),
  );
  const epochs = {
    label: "epoch",
    domain: [0.5, current.config.epochs + 0.5],
    ticks: Math.min(current.config.epochs, 10),
  };
  replace(
    "val-chart",
    Plot.plot({
      width,
      height: 220,
      x: epochs,
      y: { type: "log", label: "validation loss (log)", grid: true, tickFormat: "~g" },
      color: color(current),
      marks: [
        Plot.line(current.epochs, { x: "epoch", y: "val_loss", stroke: "label", z: "label" }),
        Plot.dot(current.epochs, { x: "epoch", y: "val_loss", fill: "label", r: 3, tip: true }),
      ],
    }),
  );
  replace(
    "accuracy-chart",
    Plot.plot({
      width,
      height: 220,
      x: epochs,
      y: { label: "validation accuracy (%)", grid: true, domain: [0, 100] },
      color: color(current),
      marks: [
        Plot.line(current.epochs, {
          x: "epoch",
          y: (d) => 100 * d.val_accuracy,
          stroke: "label",
          z: "label",
        }),
        Plot.dot(current.epochs, {
          x: "epoch",
          y: (d) => 100 * d.val_accuracy,
          fill: "label",
          r: 3,
          tip: true,
        }),
      ],
    }),
  );
  const ratios = current.ratios.filter((d) => d.ratio > 0 && Number.isFinite(d.ratio));
  replace(
    "ratio-chart",
    Plot.plot({
      width,
      height: 240,
      x: { label: "step", domain: [0, steps] },
      y: { type: "log", label: "‖ΔW‖/‖W‖ (log)", grid: true, tickFormat: "~e", ticks: 3 },
      fy: { label: null },
      marginRight: 60,
      color: color(current),
      marks: [
        Plot.ruleY([1e-3], { stroke: "#888", strokeDasharray: "4 3" }),
        Plot.line(ratios, { x: "step", y: "ratio", stroke: "label", z: "label", fy: "layer" }),
      ],
    }),
  );
}

function replace(id, node) {
  $(id).replaceChildren(node);
}

function clearCharts() {
  for (
    const id of ["loss-chart", "val-chart", "accuracy-chart", "ratio-chart", "weights", "watch"]
  ) {
    $(id).replaceChildren();
  }
}

function buildWatch(current) {
  // The third run (0.1 at the start) learns the clearest strokes.
  const chosen = Math.min(
    Number(document.querySelector("input[name=watch]:checked")?.value ?? 2),
    current.labels.length - 1,
  );
  $("watch").replaceChildren(...current.labels.map((label, k) => {
    const wrap = document.createElement("label");
    wrap.innerHTML = `<input type="radio" name="watch" value="${k}"> `;
    wrap.append(label);
    wrap.style.color = current.colors[k];
    const input = wrap.firstChild;
    input.checked = k === chosen;
    input.addEventListener("change", () => worker?.postMessage({ type: "watch", run: k }));
    return wrap;
  }));
  worker?.postMessage({ type: "watch", run: chosen });
}

function drawWeights({ units, initialUnits }) {
  if ($("weights-change").checked) units = units.map((w, i) => w - initialUnits[i]);
  const count = units.length / 784;
  const box = $("weights");
  while (box.children.length < count) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 28;
    box.append(canvas);
  }
  let scale = 0;
  for (const w of units) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
  for (let j = 0; j < count; j++) {
    const context = box.children[j].getContext("2d");
    const image = context.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const w = units[j * 784 + p], t = Number.isFinite(w) && scale > 0 ? Math.abs(w) / scale : 0;
      const [r, g, b] = w >= 0
        ? [255 - 200 * t, 255 - 130 * t, 255]
        : [255, 255 - 200 * t, 255 - 200 * t];
      image.data.set([r, g, b, 255], 4 * p);
    }
    context.putImageData(image, 0, 0);
  }
}

/**
 * Trains like the Start button, with these settings, and resolves to one list of epochs per rate
 * (`{ epoch, loss, accuracy, val_loss, val_accuracy, diverged }`).
 */
globalThis.labTrain = (config = {}) => start({ ...LAB.defaults, ...config });
globalThis.labState = () => ({
  step: session?.step ?? 0,
  paused: session?.paused ?? false,
  running: worker !== null && session?.done !== null,
});
