// The training demo: an MLP learns the engine's 8x8 digits in this page. The loop is Python
// (Pyodide) on WebGPU, engine/web/train.py from the engine's wheel; it yields to the browser
// after every step (so Stop and the page keep working) and reads the loss back only every
// few steps (readbacks are what costs). This file is the page around it: the form, the
// chart, the drawing pad, and calls into that module through boot.js's callPython.
//
// Query parameters: epochs, hidden, lr, optimizer (adam|sgd), batch, seed, autostart=1.
//
// "Share" pushes the model in use to this server's model hub (engine.hub.push_async, with the
// training settings and test accuracy as metadata); "Load from hub" pulls one with
// engine.hub.load_model_async and uses it for the drawing once it is known to map 64 pixels
// to 10 digits. The token the user pastes stays in the page (sessionStorage at most).
import { bootEngine, byTestId, callPython, WebGPUUnavailable } from "/static/boot.js";

// Sized for a software GPU: on SwiftShader in headless Chromium (2 cores) the 675 steps
// (15 epochs of 45 batches of 32) take about 6 s and reach about 97% test accuracy.
const DEFAULTS = { hidden: 64, lr: 0.01, optimizer: "adam", epochs: 15, batch: 32, seed: 0 };

const form = byTestId("train-form");
const startButton = byTestId("start");
const stopButton = byTestId("stop");
const statusText = byTestId("status");
const detail = byTestId("status-detail");
const progressBar = byTestId("progress");
const lossText = byTestId("loss");
const accuracyText = byTestId("accuracy");
const rateText = byTestId("steps-per-second");
const epochText = byTestId("epoch");
const chart = byTestId("chart");

function setStatus(status, text = "") {
  statusText.textContent = status;
  detail.textContent = text;
}

// --- the settings: form <-> query parameters ---------------------------------------------

function readQuery() {
  const query = new URLSearchParams(location.search);
  const number = (name, parse) => {
    const value = parse(query.get(name));
    return Number.isFinite(value) && value > 0 ? value : DEFAULTS[name];
  };
  const optimizer = (query.get("optimizer") || "").toLowerCase();
  return {
    hidden: number("hidden", (v) => parseInt(v, 10)),
    lr: number("lr", parseFloat),
    optimizer: optimizer === "sgd" || optimizer === "adam" ? optimizer : DEFAULTS.optimizer,
    epochs: number("epochs", (v) => parseInt(v, 10)),
    batch: number("batch", (v) => parseInt(v, 10)),
    seed: Math.max(0, parseInt(query.get("seed") || DEFAULTS.seed, 10) || 0),
    autostart: query.get("autostart") === "1",
  };
}

function fillForm(config) {
  const hidden = form.elements.hidden;
  if (![...hidden.options].some((option) => option.value === String(config.hidden))) {
    hidden.add(new Option(String(config.hidden)));
  }
  hidden.value = String(config.hidden);
  form.elements.lr.value = String(config.lr);
  form.elements.optimizer.value = config.optimizer;
  form.elements.epochs.value = String(config.epochs);
}

function readForm(base) {
  const positive = (value, fallback) => (Number.isFinite(value) && value > 0 ? value : fallback);
  return {
    ...base,
    hidden: positive(parseInt(form.elements.hidden.value, 10), DEFAULTS.hidden),
    lr: positive(parseFloat(form.elements.lr.value), DEFAULTS.lr),
    optimizer: form.elements.optimizer.value,
    epochs: positive(parseInt(form.elements.epochs.value, 10), DEFAULTS.epochs),
  };
}

// --- the chart: loss (left axis) and test accuracy (right axis) per step -----------------

const history = { loss: [], accuracy: [], total: 1 };

function drawChart() {
  const ctx = chart.getContext("2d");
  const { width, height } = chart;
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue("--fg-muted").trim() || "#57606a";
  const lossColor = style.getPropertyValue("--accent").trim() || "#0a58ca";
  const accuracyColor = "#d9480f";
  const pad = { left: 48, right: 48, top: 26, bottom: 28 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  ctx.clearRect(0, 0, width, height);
  ctx.font = "12px system-ui, sans-serif";
  ctx.strokeStyle = fg;
  ctx.fillStyle = fg;
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.left, pad.top, w, h);

  const maxLoss = Math.max(0.5, ...history.loss.map((p) => p.value));
  const x = (step) => pad.left + (w * step) / history.total;
  const yLoss = (value) => pad.top + h - (h * value) / maxLoss;
  const yAccuracy = (value) => pad.top + h - (h * value) / 100;

  ctx.textAlign = "right";
  ctx.fillText(maxLoss.toFixed(2), pad.left - 6, pad.top + 10);
  ctx.fillText("0", pad.left - 6, pad.top + h);
  ctx.textAlign = "left";
  ctx.fillText("100%", pad.left + w + 6, pad.top + 10);
  ctx.fillText("0%", pad.left + w + 6, pad.top + h);
  ctx.textAlign = "center";
  ctx.fillText(`step (of ${history.total})`, pad.left + w / 2, height - 8);

  const line = (points, y, color) => {
    if (!points.length) return;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(x(p.step), y(p.value)) : ctx.moveTo(x(p.step), y(p.value))));
    ctx.stroke();
    for (const p of points.length < 40 ? points : []) {
      ctx.beginPath();
      ctx.arc(x(p.step), y(p.value), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  };
  line(history.loss, yLoss, lossColor);
  line(history.accuracy, yAccuracy, accuracyColor);

  ctx.textAlign = "left";
  ctx.fillStyle = lossColor;
  ctx.fillText("— training loss", pad.left, 16);  // the legend, above the plot
  ctx.fillStyle = accuracyColor;
  ctx.fillText("— test accuracy", pad.left + 112, 16);
}

// --- training ----------------------------------------------------------------------------

let engineReady = null; // { pyodide, train, predict, share, loadFromHub, hubModels }
let training = false;
const hooks = { stopRequested: false, progress: onProgress };

function onProgress(json) {
  const report = JSON.parse(json);
  history.total = report.total;
  progressBar.max = report.total;
  progressBar.value = report.step;
  epochText.textContent = `${report.epoch}`;
  rateText.textContent = report.rate.toFixed(1);
  if (report.loss !== undefined) {
    lossText.textContent = report.loss.toFixed(4);
    history.loss.push({ step: report.step, value: report.loss });
  }
  if (report.accuracy !== undefined) {
    accuracyText.textContent = report.accuracy.toFixed(1);
    history.accuracy.push({ step: report.step, value: report.accuracy });
  }
  detail.textContent = `epoch ${report.epoch}, step ${report.step} of ${report.total}`;
  drawChart();
}

async function startTraining(config) {
  if (!engineReady || training || hubBusy) return;
  training = true;
  updateHubButtons();
  hooks.stopRequested = false;
  history.loss = [];
  history.accuracy = [];
  lossText.textContent = accuracyText.textContent = rateText.textContent = "–";
  epochText.textContent = "–";
  progressBar.value = 0;
  drawChart();
  startButton.disabled = true;
  stopButton.disabled = false;
  setStatus("training", "starting…");
  modelSource.textContent = "training in this page…";
  try {
    const result = JSON.parse(
      await callPython(engineReady.train, JSON.stringify(config), hooks),
    );
    if (result.stopped) {
      setStatus("ready", `stopped after step ${result.step}; Start trains a new model`);
    } else {
      setStatus("done", "draw a digit below");
    }
    hasModel = true;
    const length = result.stopped
      ? `stopped at step ${result.step}`
      : `${config.epochs} epoch${config.epochs === 1 ? "" : "s"}`;
    modelSource.textContent =
      `trained in this page (hidden ${config.hidden}, ${config.optimizer}, ${length})`;
    predictDrawing();
  } catch (error) {
    setStatus("error", errorText(error));
  } finally {
    training = false;
    startButton.disabled = false;
    stopButton.disabled = true;
    updateHubButtons();
  }
}

function errorText(error) {
  return String(error && error.message ? error.message : error);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  startTraining(readForm(readQuery()));
});
stopButton.addEventListener("click", () => {
  hooks.stopRequested = true;
  stopButton.disabled = true;
  detail.textContent = "stopping…";
});

// --- the model hub: share the model in use, load one ------------------------------------

const TOKEN_KEY = "engine.hub.token"; // sessionStorage only, and only when asked to
const shareForm = byTestId("share-form");
const shareButton = byTestId("share");
const shareResult = byTestId("share-result");
const tokenInput = byTestId("share-token");
const rememberToken = byTestId("remember-token");
const loadForm = byTestId("load-form");
const loadButton = byTestId("load");
const loadResult = byTestId("load-result");
const modelSource = byTestId("model-source");
const modelList = byTestId("hub-models");
let hubBusy = false;

function updateHubButtons() {
  const idle = engineReady !== null && !training && !hubBusy;
  shareButton.disabled = !(idle && hasModel);
  loadButton.disabled = !idle;
  startButton.disabled = !(engineReady !== null && !training && !hubBusy);
}

// state: "busy" | "ok" | "error" (data-state, for styles and tests); text only, never HTML.
function showHubMessage(element, state, text, link = null) {
  element.dataset.state = state;
  element.classList.toggle("hub-error", state === "error");
  element.textContent = text;
  if (link) {
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = link.text;
    element.append(" ", anchor);
  }
}

function sessionToken(value) {
  try {
    if (value === undefined) return sessionStorage.getItem(TOKEN_KEY);
    if (value === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch {
    // storage refused (a privacy mode): the token simply is not remembered
  }
  return null;
}

async function whileHubBusy(work) {
  hubBusy = true;
  updateHubButtons();
  try {
    return await work();
  } finally {
    hubBusy = false;
    updateHubButtons();
  }
}

async function refreshModelList() {
  try {
    const names = JSON.parse(await callPython(engineReady.hubModels));
    modelList.replaceChildren(...names.map((name) => new Option(name)));
  } catch {
    // only suggestions: typing owner/name still works
  }
}

shareForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (shareButton.disabled) return;
  const repo = shareForm.elements.repo.value.trim();
  const token = tokenInput.value.trim();
  sessionToken(rememberToken.checked ? token : null);
  showHubMessage(shareResult, "busy", `Pushing the model to ${repo}…`);
  await whileHubBusy(async () => {
    try {
      const result = JSON.parse(await callPython(engineReady.share, repo, token));
      if (result.error) {
        showHubMessage(shareResult, "error", `Not shared: ${result.error}`);
        return;
      }
      const name = `${result.owner}/${result.name}`;
      showHubMessage(shareResult, "ok", `Shared as ${name} version ${result.version}.`, {
        href: `/hub?model=${encodeURIComponent(name)}`,
        text: "See it on the hub",
      });
      shareResult.dataset.version = String(result.version);
      if (!loadForm.elements.repo.value) loadForm.elements.repo.value = name;
      refreshModelList();
    } catch (error) {
      showHubMessage(shareResult, "error", `Not shared: ${errorText(error)}`);
    }
  });
});

rememberToken.addEventListener("change", () => {
  sessionToken(rememberToken.checked && tokenInput.value ? tokenInput.value.trim() : null);
});

loadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (loadButton.disabled) return;
  const repo = loadForm.elements.repo.value.trim();
  const version = loadForm.elements.version.value.trim();
  showHubMessage(loadResult, "busy", `Loading ${repo}…`);
  await whileHubBusy(async () => {
    try {
      const result = JSON.parse(await callPython(engineReady.loadFromHub, repo, version));
      if (result.error) {
        showHubMessage(loadResult, "error", result.error);
        return;
      }
      hasModel = true;
      const accuracy = Number.parseFloat(result.accuracy);
      const note = Number.isFinite(accuracy)
        ? ` (test accuracy ${(100 * accuracy).toFixed(1)}% when it was shared)`
        : "";
      modelSource.textContent = `${result.source} from the hub`;
      showHubMessage(loadResult, "ok", `Loaded ${result.source}${note}: draw a digit below.`);
      predictDrawing();
    } catch (error) {
      showHubMessage(loadResult, "error", `Could not load ${repo}: ${errorText(error)}`);
    }
  });
});

// --- drawing and prediction --------------------------------------------------------------

const pad = byTestId("draw-canvas");
const preview = document.getElementById("preview");
const predictionText = byTestId("prediction");
const probabilityList = byTestId("probabilities");
const padContext = pad.getContext("2d");
let hasModel = false;
let drawing = false;
let inked = false;
let predicting = false;
let predictAgain = false;

function clearPad() {
  padContext.fillStyle = "#000";
  padContext.fillRect(0, 0, pad.width, pad.height);
  preview.getContext("2d").clearRect(0, 0, 8, 8);
  inked = false;
  predictionText.textContent = "–";
  probabilityList.replaceChildren();
}

function pointerAt(event) {
  const box = pad.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * pad.width) / box.width,
    ((event.clientY - box.top) * pad.height) / box.height,
  ];
}

pad.addEventListener("pointerdown", (event) => {
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  const [x, y] = pointerAt(event);
  padContext.strokeStyle = "#fff";
  padContext.lineWidth = 18;
  padContext.lineCap = padContext.lineJoin = "round";
  padContext.beginPath();
  padContext.moveTo(x, y);
  padContext.lineTo(x + 0.1, y + 0.1);
  padContext.stroke();
  inked = true;
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const [x, y] = pointerAt(event);
  padContext.lineTo(x, y);
  padContext.stroke();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    predictDrawing();
  });
}
document.getElementById("clear").addEventListener("click", clearPad);

// The drawing as the data set's 8x8 images are made (UCI optdigits): the digit's bounding
// box scaled into 32x32 (keeping its aspect), then the ink of each 4x4 block, in [0, 1].
function drawingAs8x8() {
  const { width, height } = pad;
  const ink = padContext.getImageData(0, 0, width, height).data;
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[4 * (y * width + x)] > 32) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return null;
  const side = Math.max(right - left + 1, bottom - top + 1);
  const small = document.createElement("canvas");
  small.width = small.height = 32;
  const smallContext = small.getContext("2d", { willReadFrequently: true });
  smallContext.fillStyle = "#000";
  smallContext.fillRect(0, 0, 32, 32);
  smallContext.imageSmoothingQuality = "high";
  const scale = 30 / side;
  const [w, h] = [(right - left + 1) * scale, (bottom - top + 1) * scale];
  smallContext.drawImage(pad, left, top, right - left + 1, bottom - top + 1,
    (32 - w) / 2, (32 - h) / 2, w, h);
  const pixels = smallContext.getImageData(0, 0, 32, 32).data;
  const values = [];
  for (let by = 0; by < 8; by++) {
    for (let bx = 0; bx < 8; bx++) {
      let sum = 0;
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) sum += pixels[4 * ((4 * by + y) * 32 + 4 * bx + x)];
      }
      values.push(Math.min(1, sum / (16 * 255) * 1.5));
    }
  }
  const previewContext = preview.getContext("2d");
  const image = previewContext.createImageData(8, 8);
  values.forEach((v, i) => {
    image.data.set([255 * v, 255 * v, 255 * v, 255], 4 * i);
  });
  previewContext.putImageData(image, 0, 0);
  return values;
}

async function predictDrawing() {
  if (!inked || !engineReady) return;
  if (!hasModel) {
    predictionText.textContent = "train or load a model first";
    return;
  }
  if (predicting) {
    predictAgain = true;
    return;
  }
  predicting = true;
  try {
    const pixels = drawingAs8x8();
    if (!pixels) return;
    const probabilities = JSON.parse(
      await callPython(engineReady.predict, JSON.stringify(pixels)),
    );
    const best = probabilities.indexOf(Math.max(...probabilities));
    predictionText.textContent = `${best}`;
    probabilityList.replaceChildren(
      ...probabilities.map((p) => {
        const item = document.createElement("li");
        item.dataset.testid = "probability";
        item.textContent = `${(100 * p).toFixed(1).padStart(5)}%`;
        const bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = `${Math.round(120 * p)}px`;
        item.append(bar);
        return item;
      }),
    );
  } catch (error) {
    predictionText.textContent = "error";
    detail.textContent = String(error && error.message ? error.message : error);
  } finally {
    predicting = false;
    if (predictAgain) {
      predictAgain = false;
      predictDrawing();
    }
  }
}

// --- start -------------------------------------------------------------------------------

const initial = readQuery();
fillForm(initial);
clearPad();
drawChart();
try {
  const { pyodide } = await bootEngine({ onProgress: (text) => setStatus("loading", text) });
  setStatus("loading", "loading the digits…");
  const demo = pyodide.pyimport("engine.web.train"); // the demo's Python
  await callPython(demo.load_digits);
  engineReady = {
    pyodide,
    train: demo.train,
    predict: demo.predict,
    share: demo.share,
    loadFromHub: demo.load_from_hub,
    hubModels: demo.hub_models,
  };
  const savedToken = sessionToken();
  if (savedToken) {
    tokenInput.value = savedToken;
    rememberToken.checked = true;
  }
  setStatus("ready", "press Start");
  updateHubButtons();
  refreshModelList();
  if (initial.autostart) startTraining(initial);
} catch (error) {
  const message = error instanceof WebGPUUnavailable ? "WebGPU is not available" : error;
  setStatus("error", String(message && message.message ? message.message : message));
}
