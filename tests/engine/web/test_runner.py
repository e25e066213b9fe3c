"""engine/web/runner.py natively: `page_run` (behind window.runPython) with a native
evaluator in place of Pyodide's `eval_code_async`, its JSON, its tracebacks cut to the
user's "<console>" frames, and the namespace the pages give the user's code.

In the browser the same functions run under Pyodide (tests/browser/test_pages.py).
"""

import ast
import asyncio
import inspect
import json
import sys

import pytest
import torch

import engine
import engine.nn
import engine.nn.functional
from engine.web import runner


async def native_evaluate(code, namespace, filename):
    """What Pyodide's `eval_code_async` does with the user's code, natively: top-level
    `await` allowed, the value of the last expression (None when the code ends otherwise)."""
    body = ast.parse(code, filename).body
    last = body.pop() if body and isinstance(body[-1], ast.Expr) else None
    value = None
    parts = [(ast.Module(body, type_ignores=[]), "exec")]
    if last is not None:
        parts.append((ast.Expression(last.value), "eval"))
    for tree, mode in parts:
        compiled = compile(tree, filename, mode, flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        value = eval(compiled, namespace)
        if compiled.co_flags & inspect.CO_COROUTINE:
            value = await value
    return value


def run(code, namespace=None, evaluate=native_evaluate):
    """page_run's answer, decoded."""
    namespace = runner.new_namespace() if namespace is None else namespace
    return json.loads(asyncio.run(runner.page_run(code, namespace, evaluate)))


def test_the_namespace_has_the_engine_imported_as_in_a_pytorch_script():
    namespace = runner.new_namespace()
    assert namespace["__name__"] == "__main__"
    assert namespace["engine"] is engine and namespace["torch"] is engine
    assert namespace["nn"] is engine.nn and namespace["F"] is engine.nn.functional
    assert runner.new_namespace() is not namespace  # a fresh one each time
    assert runner.page_namespace["torch"] is engine


def test_stdout_stderr_and_the_last_expression():
    code = "import sys\nprint('hello', 6 * 7)\nprint('careful', file=sys.stderr)\n"
    answer = run(code + "torch.ones(3).sum().item()")
    assert answer == {"stdout": "hello 42\n", "stderr": "careful\n", "result": "3.0", "error": None}
    assert list(answer) == ["stdout", "stderr", "result", "error"]


def test_result_is_the_repr_and_null_for_none_or_no_expression():
    assert run("'abc'")["result"] == "'abc'"
    assert run("[1, 2.5]")["result"] == "[1, 2.5]"
    assert run("x = 3")["result"] is None
    assert run("None")["result"] is None
    assert run("print(1)")["result"] is None  # print returns None
    assert run("")["result"] is None


def test_top_level_await():
    answer = run("import asyncio\nawait asyncio.sleep(0)\nawait torch.ones(2).sum().item_async()")
    assert answer == {"stdout": "", "stderr": "", "result": "2.0", "error": None}


def test_the_page_namespace_keeps_its_state_between_runs(monkeypatch):
    monkeypatch.setattr(runner, "page_namespace", runner.new_namespace())

    def page(code):
        return json.loads(asyncio.run(runner.page_run(code, evaluate=native_evaluate)))

    assert page("x = torch.arange(4.0)")["error"] is None
    assert page("(x * 2).tolist()")["result"] == "[0.0, 2.0, 4.0, 6.0]"
    assert "x" in runner.page_namespace


def test_computes_what_torch_computes():
    values = [[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]]
    answer = run(f"F.softmax(torch.tensor({values}) * 2, dim=1).tolist()")
    expected = torch.softmax(torch.tensor(values) * 2, dim=1)
    torch.testing.assert_close(torch.tensor(ast.literal_eval(answer["result"])), expected)


def test_the_traceback_starts_at_the_users_code():
    answer = run("print('before')\nx = 1\n\ndef f():\n    return 1 / 0\n\nf()")
    assert answer["stdout"] == "before\n" and answer["result"] is None
    traceback = answer["error"]
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert traceback.endswith("ZeroDivisionError: division by zero\n")
    assert 'File "<console>", line 7, in <module>' in traceback
    assert 'File "<console>", line 5, in f' in traceback
    # nothing of the evaluator or the runner before the user's first frame
    assert "runner.py" not in traceback and "test_runner.py" not in traceback
    assert traceback.count('File "') == 2


def test_frames_below_the_users_code_are_kept():
    answer = run("a = torch.ones(2, 3)\nb = torch.ones(4, 5)\na @ b")
    traceback = answer["error"]
    frames = [line.strip() for line in traceback.splitlines() if line.strip().startswith("File")]
    assert frames[0] == 'File "<console>", line 3, in <module>'
    assert len(frames) > 1 and all("<console>" not in frame for frame in frames[1:])
    assert any("engine" in frame for frame in frames[1:])


def test_a_syntax_error_shows_the_line_and_no_frames():
    answer = run("x = (1,\nprint(x)")
    error = answer["error"]
    assert "Traceback" not in error
    assert 'File "<console>", line 1' in error and error.rstrip().splitlines()[-1].startswith(
        "SyntaxError:"
    )
    assert "runner.py" not in error


def test_an_error_outside_the_users_code_keeps_only_its_message():
    async def failing(code, namespace, filename):
        raise RuntimeError("the evaluator broke")

    assert run("1", evaluate=failing)["error"] == "RuntimeError: the evaluator broke\n"


@pytest.mark.parametrize("raised", ["SystemExit(3)", "KeyboardInterrupt()"])
def test_base_exceptions_are_answers_too(raised):
    answer = run(f"print('x')\nraise {raised}")
    assert answer["stdout"] == "x\n"
    assert answer["error"].splitlines()[-1].startswith(raised.split("(")[0])


def test_output_is_captured_per_run_and_restored():
    stdout, stderr = sys.stdout, sys.stderr
    assert run("print('one')")["stdout"] == "one\n"
    assert run("1 / 0")["stdout"] == ""
    assert (sys.stdout, sys.stderr) == (stdout, stderr)


def test_the_default_evaluator_is_pyodides_imported_only_when_used():
    # Natively there is no Pyodide: the module imported, and page_run says what is missing.
    assert "pyodide" not in sys.modules
    error = run("1", evaluate=None)["error"]
    assert error.splitlines()[-1] == "ModuleNotFoundError: No module named 'pyodide'"
