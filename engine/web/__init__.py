"""The Python of the pages in web/: they load it from the engine's wheel, import it and call
its functions from JavaScript (web/static/boot.js, web/static/train.js).

- `runner`: what every page that boots the engine runs: the page's namespace and
  `page_run`, the function behind `window.runPython(code)`;
- `train`: the training demo (/demos/train): training, prediction, Share and Load from hub.

Both import natively too (what only Pyodide has is imported when it is used), so that
tests/engine/web/ runs them on the native backend.
"""
