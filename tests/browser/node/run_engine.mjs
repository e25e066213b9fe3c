// Runs Python code against the engine inside Pyodide, on WebGPU from Dawn for Node.
//
//   source .ci/env.sh   # lavapipe (Mesa 25) as the Vulkan driver Dawn uses
//   node --experimental-wasm-stack-switching tests/browser/node/run_engine.mjs [file.py] < code
//
// Pyodide comes from node_modules/pyodide and WebGPU from the npm package `webgpu`
// (nothing from the network). The repository is mounted read-only-in-spirit at /repo
// (NODEFS), so `import engine` and `shaders/` are the working tree's. The code runs
// under runPythonAsync after `await engine.backend.browser.init()`, so synchronous
// readback (JSPI `run_sync`) works, as in a page. On success one JSON line is printed to
// stdout: {"result": <the last expression, JSON-encoded (repr for what JSON cannot hold)>,
// "stdout": ..., "stderr": ..., "timings": {...}}. On a Python error the traceback goes
// to stderr and the exit status is 1.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const t0 = performance.now();
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');

const source = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : readFileSync(0, 'utf8');

const { create, globals } = await import(join(repo, 'node_modules', 'webgpu', 'index.js'));
Object.assign(globalThis, globals);
const { loadPyodide } = await import(join(repo, 'node_modules', 'pyodide', 'pyodide.mjs'));
const out = [];
const err = [];
const pyodide = await loadPyodide({
  indexURL: join(repo, 'node_modules', 'pyodide') + '/',
  stdout: (line) => out.push(line),
  stderr: (line) => err.push(line),
});
const tLoaded = performance.now();
// Only now: a global `navigator` during loadPyodide makes it take Node for a browser.
Object.defineProperty(globalThis, 'navigator', {
  value: { gpu: create([]) },
  configurable: true,
  writable: true,
});

pyodide.FS.mkdir('/repo');
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: repo }, '/repo');

let exitCode = 0;
try {
  await pyodide.runPythonAsync(`
import sys
sys.dont_write_bytecode = True  # no Python 3.14 .pyc files in the working tree
sys.path.insert(0, "/repo")
import engine.backend.browser
await engine.backend.browser.init()
`);
  const tInit = performance.now();
  pyodide.globals.set('_engine_source', source);
  const result = await pyodide.runPythonAsync(`
import json as _json
from pyodide.code import eval_code_async as _eval_code_async

_json.dumps(
    await _eval_code_async(_engine_source, {"__name__": "__main__"}),
    default=repr,
)
`);
  const tDone = performance.now();
  process.stdout.write(
    JSON.stringify({
      result: JSON.parse(result),
      stdout: out.join('\n'),
      stderr: err.join('\n'),
      timings: {
        load_s: (tLoaded - t0) / 1000,
        init_s: (tInit - tLoaded) / 1000,
        run_s: (tDone - tInit) / 1000,
      },
    }) + '\n',
  );
} catch (error) {
  if (out.length) process.stderr.write(out.join('\n') + '\n');
  if (err.length) process.stderr.write(err.join('\n') + '\n');
  process.stderr.write(String(error && error.message ? error.message : error) + '\n');
  exitCode = 1;
}
// Dawn keeps Node alive while `gpu` is reachable (webgpu README, "Lifetime").
delete globalThis.navigator;
process.exit(exitCode);
