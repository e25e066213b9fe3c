// The console page: a textarea, Run (or Ctrl+Enter), stdout + the last expression's repr,
// and errors with their traceback. Python and the engine come from boot.js.
import { bootEngine, byTestId, HAS_JSPI, WebGPUUnavailable } from "/static/boot.js";

const editor = byTestId("editor");
const runButton = byTestId("run");
const output = byTestId("output");
const errorBox = byTestId("error");
const status = byTestId("status");

let runPython = null;

// Without JSPI the example must not read back synchronously: the same program, awaited.
const EXAMPLE_WITHOUT_JSPI = `x = torch.randn(3, 4, requires_grad=True)
y = (x @ x.t()).softmax(dim=1)
y.sum().backward()
print("grad:", await x.grad.tolist_async())
await y.tolist_async()`;

if (!HAS_JSPI) {
  byTestId("no-jspi").hidden = false;
  editor.value = EXAMPLE_WITHOUT_JSPI;
}

async function run() {
  if (!runPython || runButton.disabled) return;
  runButton.disabled = true;
  status.textContent = "running";
  errorBox.hidden = true;
  errorBox.textContent = "";
  const started = performance.now();
  try {
    const { stdout, stderr, result, error } = await runPython(editor.value);
    let text = stdout + stderr;
    if (result !== null) text += (text && !text.endsWith("\n") ? "\n" : "") + result;
    output.textContent = text;
    if (error) {
      errorBox.textContent = error;
      errorBox.hidden = false;
    }
    status.textContent = `ready (last run ${((performance.now() - started) / 1000).toFixed(2)} s)`;
  } catch (error) {
    errorBox.textContent = String(error && error.message ? error.message : error);
    errorBox.hidden = false;
    status.textContent = "ready";
  } finally {
    runButton.disabled = false;
  }
}

runButton.addEventListener("click", run);
editor.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});

try {
  ({ runPython } = await bootEngine({ onProgress: (text) => (status.textContent = text) }));
  status.textContent = "ready";
  runButton.disabled = false;
} catch (error) {
  status.textContent = "error";
  if (!(error instanceof WebGPUUnavailable)) {
    errorBox.textContent = `The engine could not start: ${error && error.message ? error.message : error}`;
    errorBox.hidden = false;
  }
}
