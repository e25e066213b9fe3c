"""The page's namespace and `page_run`, the function behind `window.runPython(code)`.

web/static/boot.js imports this module once the engine is up on the page's GPU and calls
`page_run` through its `callPython` (under JSPI where the browser has it, so the user's
code may read back synchronously; plainly elsewhere). Pyodide's `eval_code_async` runs the
code; it is imported only when `page_run` is called without an `evaluate` of its own, so the
module imports natively too (tests/engine/web/test_runner.py passes a native evaluator).
"""

from __future__ import annotations

import contextlib
import io
import json
import traceback

FILENAME = "<console>"  # the user's code, as its tracebacks name it

# What the user's code finds imported, as in a PyTorch script.
PRELUDE = (
    "import engine\nimport engine as torch\nimport engine.nn as nn\n"
    "import engine.nn.functional as F\n"
)


def new_namespace():
    """A fresh namespace for the user's code: `engine`, `torch`, `nn` and `F` imported."""
    namespace = {"__name__": "__main__"}
    exec(PRELUDE, namespace)
    return namespace


page_namespace = new_namespace()  # the page's: every window.runPython call runs here


def user_traceback(error):
    """`error`'s traceback from the first frame of the user's code on ("<console>"): the
    evaluator's own frames before it are left out; none at all for an error in no frame
    of the user's (a SyntaxError, which still shows the offending line)."""
    summary = traceback.TracebackException.from_exception(error)
    frames = list(summary.stack)
    firsts = [i for i, frame in enumerate(frames) if frame.filename == FILENAME]
    summary.stack = traceback.StackSummary.from_list(frames[firsts[0] :] if firsts else [])
    return "".join(summary.format())


async def _pyodide_evaluate(code, namespace, filename):
    from pyodide.code import eval_code_async  # Pyodide only

    return await eval_code_async(code, namespace, filename=filename)


async def page_run(code, namespace=None, evaluate=None):
    """Run `code` (top-level `await` allowed) in `namespace` (the page's by default) and
    return JSON: {"stdout", "stderr", "result", "error"}: what it printed, the repr of its
    last expression (null when that is None or there is none) and the traceback of the
    error it raised (null when none; the error is never raised out of here).

    `evaluate(code, namespace, filename)` awaits the code's last expression (Pyodide's
    `eval_code_async` by default)."""
    namespace = page_namespace if namespace is None else namespace
    evaluate = evaluate or _pyodide_evaluate
    out, err = io.StringIO(), io.StringIO()
    result = error = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            value = await evaluate(code, namespace, FILENAME)
            if value is not None:
                result = repr(value)
        except BaseException as caught:  # the user's error, shown to the user
            error = user_traceback(caught)
    return json.dumps(
        {"stdout": out.getvalue(), "stderr": err.getvalue(), "result": result, "error": error}
    )
