"""The device over the browser's `navigator.gpu` through Pyodide's JS FFI.

Start a page with `await engine.backend.browser.init()` once: creating the adapter and the
device is asynchronous in JavaScript. After that `engine.backend.get_device()` (and so every
op) works as natively. Without `init()`, the first GPU use creates the device through
Pyodide's `run_sync` (JSPI), which only works when the code runs under `runPythonAsync`
(or an `async def` called from JS); otherwise a RuntimeError names `init()`.

Synchronous readback (`.item()`, `.tolist()`) also goes through `run_sync`; where the
browser cannot stack-switch, the awaitable twins work everywhere:
`await t.item_async()`, `await t.tolist_async()`.

GPU errors: one `validation` error scope is always open on the device and is popped and
re-pushed at every submit; the popped scopes are awaited at the next readback, which raises
RuntimeError with the browser's message (the data read is never returned). Shader compile
errors raise at `compile()` when the stack can switch (`getCompilationInfo()`), else at the
next readback.

The hot path follows what was measured (docs/architecture.md, Facts about the adapters):
descriptors converted with `to_js(..., dict_converter=Object.fromEntries)`, bind groups
created by a small JS function with positional arguments, one JS call per recorded
dispatch, JS arrays (never Python lists) for `queue.submit`, `writeBuffer` from a `to_js`
copy (small) or a zero-copy `Uint8Array` view (large).
"""

from __future__ import annotations

import re

import js
from pyodide.ffi import can_run_sync, create_proxy, run_sync, to_js

from .device import REQUESTED_LIMITS, Device, Pipeline, check_power_preference

_MAP_MODE_READ = 0x0001  # GPUMapMode.READ
# uploads from this size on go through a zero-copy view instead of a to_js copy
_ZERO_COPY_MIN = 256 << 10
# popped error scopes kept unawaited between readbacks before they are folded into one
_MAX_PENDING_CHECKS = 256

# the limits reported by info() (wgpu-py's names, as natively), the requested ones first
_REPORTED_LIMITS = (
    *REQUESTED_LIMITS,
    "max-compute-workgroup-size-y",
    "max-compute-workgroup-size-z",
    "max-compute-workgroups-per-dimension",
    "max-bind-groups",
    "max-bindings-per-bind-group",
    "max-uniform-buffers-per-shader-stage",
    "max-uniform-buffer-binding-size",
    "min-uniform-buffer-offset-alignment",
    "min-storage-buffer-offset-alignment",
)

_INIT_HINT = (
    "call `await engine.backend.browser.init()` once at page start (creating a WebGPU "
    "device is asynchronous in JavaScript)"
)
_ASYNC_HINT = (
    "synchronous readback needs JSPI stack switching (pyodide.ffi.run_sync): run the code "
    "with runPythonAsync in a browser with JSPI (Chromium 137+; Node 20 with "
    "--experimental-wasm-stack-switching), or use the awaitable twins: "
    "`await t.item_async()`, `await t.tolist_async()`"
)

# positional-argument helpers (much faster than building descriptors from Python)
_make_bind_group = js.Function.new(
    "device",
    "layout",
    "uniform",
    "uniformOffset",
    "uniformSize",
    "...spans",
    """
    const entries = [];
    for (let i = 0; i < spans.length; i += 3) {
        entries.push({binding: i / 3,
                      resource: {buffer: spans[i], offset: spans[i + 1], size: spans[i + 2]}});
    }
    entries.push({binding: spans.length / 3,
                  resource: {buffer: uniform, offset: uniformOffset, size: uniformSize}});
    return device.createBindGroup({layout, entries});
    """,
)
_record_dispatch = js.Function.new(
    "pass",
    "pipeline",
    "group",
    "x",
    "y",
    "z",
    "pass.setPipeline(pipeline); pass.setBindGroup(0, group); pass.dispatchWorkgroups(x, y, z);",
)
_first_error = js.Function.new(
    "scopes", "return Promise.all(scopes).then((errors) => errors.find((e) => e) || null);"
)
_error_message = js.Function.new(
    "error", "return error ? (error.constructor.name + ': ' + error.message) : null;"
)


def _js(value):
    """A Python descriptor as a plain JS object (dicts -> Objects, lists -> Arrays)."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def _camel(name: str) -> str:
    """max-storage-buffer-binding-size (wgpu-py's name) -> maxStorageBufferBindingSize."""
    return re.sub(r"-([a-z])", lambda m: m.group(1).upper(), name)


def _gpu():
    navigator = getattr(js, "navigator", None)
    gpu = getattr(navigator, "gpu", None) if navigator is not None else None
    if not gpu:
        raise RuntimeError(
            "WebGPU is not available (navigator.gpu is missing): use a browser with WebGPU "
            "enabled (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu)"
        )
    return gpu


async def _request(power_preference: str | None = None):
    """(adapter, device) from navigator.gpu, with the adapter's largest buffer limits."""
    preference = check_power_preference(power_preference or "high-performance")
    adapter = await _gpu().requestAdapter(_js({"powerPreference": preference}))
    if not adapter:  # JS null arrives as jsnull
        raise RuntimeError(
            "navigator.gpu.requestAdapter() returned no adapter: WebGPU is present but no "
            "usable GPU adapter was found (try another browser, or enable a software adapter)"
        )
    wanted = {_camel(name): getattr(adapter.limits, _camel(name)) for name in REQUESTED_LIMITS}
    device = await adapter.requestDevice(_js({"requiredLimits": wanted}))
    return adapter, device


_prepared = None  # (adapter, device) made by init() for the next BrowserDevice()


async def init(power_preference: str | None = None) -> BrowserDevice:
    """Create the process's device (once; later calls return it). Await at page start."""
    global _prepared
    from .. import backend

    if backend._device is None:
        _prepared = await _request(power_preference or backend._power_preference)
    return backend.get_device()


class BrowserDevice(Device):
    """A `Device` whose hooks call the browser's WebGPU through Pyodide's JS FFI."""

    def __init__(self, power_preference: str | None = None, *, _handles=None):
        global _prepared
        super().__init__()
        if _handles is None:
            _handles, _prepared = _prepared, None
        if _handles is None:
            if not can_run_sync():
                raise RuntimeError(f"no WebGPU device yet: {_INIT_HINT}")
            _handles = run_sync(_request(power_preference))
        self.adapter, self.device = _handles
        self.queue = self.device.queue
        limits = self.device.limits
        self._use_limits({name: getattr(limits, _camel(name)) for name in _REPORTED_LIMITS})
        self._errors: list[str] = []
        self._checks: list = []  # popped error-scope promises not yet awaited
        self._info = self._adapter_info()
        text = " ".join(str(v) for v in self._info.values())
        self._is_cpu = self._info["fallback"] or bool(
            re.search(r"swiftshader|llvmpipe|lavapipe|software|\bcpu\b", text, re.IGNORECASE)
        )
        self._on_error = create_proxy(self._uncaptured)
        self.device.onuncapturederror = self._on_error
        self.device.pushErrorScope("validation")

    @classmethod
    async def create_async(cls, power_preference: str | None = None) -> BrowserDevice:
        """A new device (not the process's one: for that, `await init()`)."""
        return cls(power_preference, _handles=await _request(power_preference))

    # ---- errors --------------------------------------------------------------
    def _uncaptured(self, event):
        self._errors.append(_error_message(event.error) or "uncaptured WebGPU error")

    def _rotate_scope(self):
        """Close the error scope that covered everything since the last submit."""
        self._checks.append(self.device.popErrorScope())
        self.device.pushErrorScope("validation")
        if len(self._checks) > _MAX_PENDING_CHECKS:
            self._checks = [_first_error(_js(self._checks))]

    def _raise_errors(self, scope_errors):
        messages = [m for m in (_error_message(e) for e in scope_errors) if m]
        messages += self._errors
        self._errors = []
        if messages:
            raise RuntimeError("WebGPU error: " + "\n".join(dict.fromkeys(messages)))

    # ---- hooks ---------------------------------------------------------------
    def _create_buffer(self, size, usage):
        return self.device.createBuffer(_js({"size": size, "usage": usage}))

    def _write(self, handle, offset, data):
        view = memoryview(data).cast("B")
        if len(view) < _ZERO_COPY_MIN:
            # measured under Node + Dawn: a copy via to_js costs ~15 us at 256 B and
            # ~70 us at 64 KB, the zero-copy view ~90-120 us
            self.queue.writeBuffer(handle, offset, to_js(view))
            return
        # a zero-copy Uint8Array over the Python buffer (~0.4 ms for 4 MB, where to_js
        # takes ~2 ms); writeBuffer copies it before returning
        proxy = create_proxy(view)
        try:
            js_view = proxy.getBuffer("u8")
            try:
                self.queue.writeBuffer(handle, offset, js_view.data)
            finally:
                js_view.release()
        finally:
            proxy.destroy()

    def compile(self, name, code, entry_point, constants):
        # its own error scope: a bad shader raises here (when the stack can switch) and
        # does not resurface at the next readback
        self.device.pushErrorScope("validation")
        module = self.device.createShaderModule(_js({"label": name, "code": code}))
        compute = {"module": module, "entryPoint": entry_point}
        if constants:
            compute["constants"] = constants
        pipeline = self.device.createComputePipeline(
            _js({"label": name, "layout": "auto", "compute": compute})
        )
        layout = pipeline.getBindGroupLayout(0)
        scope = self.device.popErrorScope()
        if not can_run_sync():
            self._checks.append(scope)  # raised at the next readback
            return Pipeline(name, pipeline, layout)
        info, error = run_sync(js.Promise.all(_js([module.getCompilationInfo(), scope])))
        errors = [
            f"{name}:{m.lineNum}:{m.linePos}: {m.message}"
            for m in info.messages
            if m.type == "error"
        ]
        if errors:
            raise RuntimeError("WGSL compilation failed:\n" + "\n".join(errors))
        if error:
            raise RuntimeError(f"WebGPU pipeline creation failed for {name}: {error.message}")
        return Pipeline(name, pipeline, layout)

    def _create_bind_group(self, layout, bindings, uniform_offset, uniform_size):
        spans = [x for span in bindings for x in span]
        return _make_bind_group(
            self.device, layout, self._uniform_buffer, uniform_offset, uniform_size, *spans
        )

    def _create_encoder(self):
        return self.device.createCommandEncoder()

    def _begin_pass(self, encoder):
        return encoder.beginComputePass()

    def _encode_dispatch(self, compute_pass, pipeline, bind_group, groups):
        x, y, z = (*groups, 1, 1)[:3]
        _record_dispatch(compute_pass, pipeline, bind_group, x, y, z)

    def _encode_copy(self, encoder, source, source_offset, target, target_offset, size):
        encoder.copyBufferToBuffer(source, source_offset, target, target_offset, size)

    def _submit_encoder(self, encoder):
        self.queue.submit(_js([encoder.finish()]))
        self._rotate_scope()

    def _read_start(self, regions):
        """Copy `regions` into one staging buffer, submit, start mapping it."""
        staging, size, copies = self._copy_to_staging(regions)
        checks, self._checks = self._checks, []
        waited = js.Promise.all(_js([staging.mapAsync(_MAP_MODE_READ, 0, size), *checks]))
        return staging, size, copies, waited

    def _read_finish(self, staging, size, copies, settled):
        try:
            data = js.Uint8Array.new(staging.getMappedRange(0, size)).to_memoryview()
        finally:
            staging.unmap()
        results = self._read_done(staging, size, copies, data.cast("B"))
        self._raise_errors(list(settled)[1:])
        return results

    def _read(self, regions):
        if not can_run_sync():
            # submit what is pending (its uniforms are already written), but map nothing:
            # a mapping that cannot be waited for would break the next submit
            if self._pending:
                self._submit()
            raise RuntimeError(_ASYNC_HINT)
        staging, size, copies, waited = self._read_start(regions)
        return self._read_finish(staging, size, copies, run_sync(waited))

    def _read_async(self, regions):
        staging, size, copies, waited = self._read_start(regions)  # submitted now

        async def finish():
            return self._read_finish(staging, size, copies, await waited)

        return finish()

    # ---- information ---------------------------------------------------------
    def _adapter_info(self) -> dict:
        info = self.adapter.info
        fields = ("vendor", "architecture", "device", "description")
        values = {name: getattr(info, name, None) or "" for name in fields}
        values["fallback"] = bool(getattr(info, "isFallbackAdapter", False))
        return values

    @property
    def is_cpu(self):
        return self._is_cpu

    def info(self):
        info = self._info
        return {
            "backend": "WebGPU",
            "vendor": info["vendor"],
            "architecture": info["architecture"],
            "device": info["device"],
            "description": info["description"],
            "adapter_type": "cpu" if self.is_cpu else "gpu",
            "api": "navigator.gpu (Pyodide)",
            "limits": dict(self.limits),
            "features": sorted(js.Array.from_(self.adapter.features).to_py()),
        }
