// The shared start of every page that runs the engine: WebGPU first, then Pyodide from our
// own server (/pyodide/, nothing from a CDN), then the engine's wheel (/wheels/...), then
// `await engine.backend.browser.init()`. Exposes `window.runPython(code)`, which runs the code
// through `page_run` of engine/web/runner.py (the Python of the pages lives in engine/web/).
//
//   import { bootEngine } from "/static/boot.js";
//   const { pyodide, runPython } = await bootEngine({ onProgress: (text) => ... });
//
// Without WebGPU (or without an adapter) `[data-testid=webgpu-error]` explains what the
// page needs and `bootEngine` rejects with a `WebGPUUnavailable` error: never a blank page.

const PYODIDE_URL = "/pyodide/";
const WHEEL_INDEX = "/wheels/latest.json";

export class WebGPUUnavailable extends Error {}

// JSPI (WebAssembly.Suspending: Chromium 137 and later). With it, Python called through
// `callPromising` may block on a promise, so `.item()` and `.tolist()` work; without it
// (Safari, Firefox) Python is called plainly and the pages use the awaitable twins only.
export const HAS_JSPI = typeof WebAssembly.Suspending === "function";

// Call a function of the page's Python (engine/web/) from JS and await what this returns:
// for an `async def`, a Promise of its result in any browser.
export function callPython(fn, ...args) {
  return HAS_JSPI ? fn.callPromising(...args) : fn(...args);
}

const HOW_TO_GET_WEBGPU =
  "Use Chrome or Edge 113 or newer (desktop), or turn on WebGPU in chrome://flags " +
  "(#enable-unsafe-webgpu), then reload this page.";

function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

function showWebGPUError(reason) {
  let box = byTestId("webgpu-error");
  if (!box) {
    box = document.createElement("div");
    box.dataset.testid = "webgpu-error";
    (document.querySelector("main") || document.body).prepend(box);
  }
  box.className = "alert alert-error";
  box.setAttribute("role", "alert");
  box.replaceChildren();
  const title = document.createElement("strong");
  title.textContent = "This page needs WebGPU. ";
  const text = document.createElement("span");
  text.textContent = `${reason} ${HOW_TO_GET_WEBGPU}`;
  box.append(title, text);
  box.hidden = false;
}

function describeAdapter(adapter) {
  const info = adapter.info || {};
  const parts = [info.vendor, info.architecture, info.device, info.description]
    .filter((part) => part)
    .filter((part, i, all) => all.indexOf(part) === i);
  let text = parts.length ? parts.join(" · ") : "a WebGPU adapter (details hidden by the browser)";
  if (info.isFallbackAdapter || adapter.isFallbackAdapter) text += " (software fallback)";
  return text;
}

let adapterCheck = null;

// WebGPU present and an adapter granted; fills [data-testid=adapter]. Cheap: no Pyodide.
export function checkWebGPU() {
  adapterCheck ??= (async () => {
    const slot = byTestId("adapter");
    const fail = (reason) => {
      if (slot) slot.textContent = "none (WebGPU unavailable)";
      showWebGPUError(reason);
      throw new WebGPUUnavailable(`WebGPU unavailable: ${reason}`);
    };
    if (!("gpu" in navigator) || !navigator.gpu) {
      fail("This browser does not provide WebGPU (navigator.gpu is missing).");
    }
    let adapter = null;
    try {
      adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
    } catch (error) {
      fail(`Asking for a GPU adapter failed (${error && error.message ? error.message : error}).`);
    }
    if (!adapter) fail("WebGPU is present but no GPU adapter is available.");
    const description = describeAdapter(adapter);
    if (slot) slot.textContent = description;
    return description;
  })();
  return adapterCheck;
}

let booted = null;

// Pyodide + the engine on the page's GPU. Resolves to { pyodide, runPython, adapter }.
export function bootEngine({ onProgress = () => {} } = {}) {
  booted ??= (async () => {
    onProgress("Checking WebGPU…");
    const adapter = await checkWebGPU();
    onProgress("Loading Python (Pyodide)…");
    const { loadPyodide } = await import(`${PYODIDE_URL}pyodide.mjs`);
    const pyodide = await loadPyodide({ indexURL: PYODIDE_URL });
    onProgress("Loading the engine…");
    const response = await fetch(WHEEL_INDEX, { cache: "no-cache" });
    if (!response.ok) throw new Error(`${WHEEL_INDEX}: HTTP ${response.status}`);
    const wheel = await response.json();
    await pyodide.loadPackage(new URL(wheel.url, location.href).href);
    onProgress("Starting the engine on the GPU…");
    await callPython(pyodide.pyimport("engine.backend.browser").init);
    // The page's namespace and the runner behind window.runPython (engine/web/runner.py):
    // tracebacks are cut to the user's own frames ("<console>").
    const pageRun = pyodide.pyimport("engine.web.runner").page_run;

    // One run at a time: stdout/stderr are redirected per run.
    let queue = Promise.resolve();
    const runPython = (code) => {
      const run = queue.then(async () => JSON.parse(await callPython(pageRun, String(code))));
      queue = run.catch(() => {});
      return run;
    };
    window.runPython = runPython;
    return { pyodide, runPython, adapter };
  })();
  return booted;
}

export { byTestId };
