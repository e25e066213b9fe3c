"""Saving and loading tensors in the safetensors format, in pure Python.

A safetensors file is::

    8 bytes      N, the header length, unsigned little-endian
    N bytes      UTF-8 JSON: {name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
                              "__metadata__": {str: str}}   (optional)
    the rest     the data buffer; tensor `name` is bytes [b, e) of it, C order, little-endian

(https://github.com/huggingface/safetensors). Everything here uses only `struct`, `json` and
`array`, so the same code reads and writes model files natively and in the browser, where
there is no NumPy. Files we write are read by `safetensors.torch.load_file` and the other way
round. All WebGPU hosts (x86, ARM, WebAssembly) are little-endian, like the format.

`save`/`load` mirror `torch.save`/`torch.load`. A flat `{str: Tensor}` dict (a module's
`state_dict()`) is stored as it is. Any other structure of dicts, lists, tuples, tensors and
JSON scalars (an optimizer's `state_dict()`) is stored as its tensors under dotted names
(`state.0.exp_avg`) plus a JSON description of the structure in the metadata entry
`engine.structure`, from which `load` rebuilds it with its original key types.
"""

import json
import os
import re
import struct
from array import array

import engine

# Bytes per element of every dtype the loader understands.
ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "F64": 8,
}

# The safetensors library refuses headers above 100 MB; so do we, before allocating anything.
MAX_HEADER_SIZE = 100_000_000

STRUCTURE_KEY = "engine.structure"

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

# The reference reader counts elements and bytes in 64-bit unsigned integers, refusing a
# shape whose running product overflows, and PyTorch holds sizes and strides as signed
# 64-bit integers: a shape is accepted only if its non-zero sizes multiply to at most this.
MAX_ELEMENTS = 2**63 - 1


def _writable_dtypes():
    """Pairs (engine dtype, safetensors dtype) of the dtypes a tensor can be saved in."""
    # Looked up on each call: this module is imported while `engine` is still initializing.
    return [(engine.float32, "F32"), (engine.int32, "I32"), (engine.bool, "BOOL")]


def _dtype_code(dtype, name):
    for engine_dtype, code in _writable_dtypes():
        if dtype == engine_dtype:
            return code
    raise ValueError(f"cannot save tensor {name!r}: unsupported dtype {dtype}")


def _numel(shape):
    count = 1
    for size in shape:
        count *= size
    return count


# ----------------------------------------------------------------------------- writing


def _check_tensors(tensors):
    if not isinstance(tensors, dict):
        raise TypeError(f"expected a dict of str -> Tensor, got {type(tensors).__name__}")
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, got {name!r}")
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved by the format and cannot name a tensor")
        if not isinstance(tensor, engine.Tensor):
            raise TypeError(f"value of {name!r} is {type(tensor).__name__}, not a Tensor")


def _check_metadata(metadata):
    if metadata is None:
        return
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError("metadata must be a dict of str -> str")


def _encode(tensors, metadata):
    """The pieces of the safetensors file for `tensors`, in sorted name order.

    Every tensor is read back before anything is written, so that a failure cannot leave a
    half-written file behind.
    """
    _check_tensors(tensors)
    _check_metadata(metadata)
    raws = [tensors[name].detach()._tobytes() for name in sorted(tensors)]
    return _assemble(tensors, metadata, raws)


def _assemble(tensors, metadata, raws):
    """The file's pieces: its header's length, the header, then `raws`, each tensor's bytes
    in sorted name order."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, raw in zip(sorted(tensors), raws, strict=True):
        tensor = tensors[name]
        code = _dtype_code(tensor.dtype, name)
        shape = [int(size) for size in tensor.shape]
        if len(raw) != _numel(shape) * ITEMSIZE[code]:
            raise RuntimeError(
                f"tensor {name!r}: {len(raw)} bytes read back for shape {shape} of {code}"
            )
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # Pad with spaces so that the data buffer starts 8-byte aligned, as the reference writer does.
    text += b" " * (-len(text) % 8)
    return [struct.pack("<Q", len(text)), text, *raws]


def _write(tensors, metadata, file):
    for chunk in _encode(tensors, metadata):
        file.write(chunk)


def dumps(tensors, metadata=None):
    """The safetensors file holding `tensors` (a dict str -> Tensor) and `metadata`, as bytes."""
    return b"".join(_encode(tensors, metadata))


async def dumps_async(tensors, metadata=None):
    """`dumps` with awaitable readbacks, for a web page without JSPI: the same bytes."""
    _check_tensors(tensors)
    _check_metadata(metadata)
    raws = [await tensors[name].detach()._tobytes_async() for name in sorted(tensors)]
    return b"".join(_assemble(tensors, metadata, raws))


def save_file(tensors, filename, metadata=None):
    """Write `tensors` (a dict str -> Tensor) and optional `metadata` (str -> str) to a file."""
    chunks = _encode(tensors, metadata)
    with open(filename, "wb") as file:
        for chunk in chunks:
            file.write(chunk)


# ----------------------------------------------------------------------------- parsing


def parse_header(data, file_size=None):
    """Parse and validate the header of the safetensors file `data` (bytes-like).

    Returns `(header, data_start)`: the header dict (tensor entries and, if present,
    "__metadata__") and the offset in the file where the data buffer begins. `data` may be
    only the beginning of the file (enough to hold the header) when `file_size` gives the
    length of the whole file. Every problem raises ValueError naming the tensor and what is
    wrong: a bad length, invalid JSON, an unknown dtype, a shape that does not match its byte
    range, offsets out of range, overlapping, or leaving gaps in the data buffer.
    """
    data = memoryview(data).cast("B")
    if file_size is None:
        file_size = len(data)
    if len(data) < 8:
        raise ValueError(f"not a safetensors file: {len(data)} bytes, too short for a header")
    (header_size,) = struct.unpack_from("<Q", data, 0)
    if header_size > MAX_HEADER_SIZE:
        raise ValueError(f"header length {header_size} exceeds the limit of {MAX_HEADER_SIZE}")
    data_start = 8 + header_size
    if data_start > file_size:
        raise ValueError(
            f"header length {header_size} runs past the end of the file ({file_size} bytes)"
        )
    if data_start > len(data):
        raise ValueError(f"need the first {data_start} bytes to read the header, got {len(data)}")
    header = _decode_header(bytes(data[8:data_start]))
    _check_entries(header, file_size - data_start)
    return header, data_start


# A JSON string may spell a lone UTF-16 surrogate ("\\ud800"): Python decodes it to a str
# that cannot be encoded as UTF-8 again, the reference reader (serde_json) refuses it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(value, what):
    if isinstance(value, str) and _SURROGATE.search(value):
        raise ValueError(f"header holds a lone UTF-16 surrogate in {what}")


def _decode_header(text):
    def reject_duplicates(pairs):
        for key, value in pairs:
            _check_text(key, f"the name {key[:40]!r}")
            _check_text(value, f"the value of {key[:40]!r}")
        result = dict(pairs)
        if len(result) != len(pairs):
            seen = set()
            repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
            raise ValueError(f"header names {repeated!r} more than once")
        return result

    def parse_int(literal):
        # serde_json, the reference reader's parser, reads -0 as a float, never as a size
        if literal == "-0":
            raise ValueError("-0 is not an integer")
        return int(literal)

    try:
        header = json.loads(
            text.decode("utf-8"), object_pairs_hook=reject_duplicates, parse_int=parse_int
        )
    except UnicodeDecodeError as error:
        raise ValueError(f"header is not valid UTF-8: {error}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"header is not valid JSON: {error}") from None
    except RecursionError:
        raise ValueError("header is not valid JSON: nested too deeply") from None
    except ValueError as error:  # e.g. an integer literal past Python's digit limit
        raise ValueError(f"header is not valid JSON: {error}") from None
    if not isinstance(header, dict):
        raise ValueError(f"header must be a JSON object, got {type(header).__name__}")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("'__metadata__' must be an object mapping str to str")
    return header


def _is_int(value):
    # JSON true/false arrive as Python bools, which are ints; they are not sizes.
    return type(value) is int


def _countable(shape):
    count = 1
    for size in shape:
        count *= size or 1
        if count > MAX_ELEMENTS:
            return False
    return True


def _check_entries(header, buffer_size):
    """Check each entry's fields, then that the entries tile the data buffer exactly."""
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(
                f"tensor {name!r}: entry must have exactly 'dtype', 'shape' and 'data_offsets'"
            )
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in ITEMSIZE:
            raise ValueError(
                f"tensor {name!r}: unsupported dtype {dtype!r} (supported: {', '.join(ITEMSIZE)})"
            )
        if not isinstance(shape, list) or not all(_is_int(s) and s >= 0 for s in shape):
            raise ValueError(f"tensor {name!r}: shape {shape!r} is not a list of sizes >= 0")
        if not _countable(shape):
            raise ValueError(
                f"tensor {name!r}: shape {shape} is too large: its non-zero sizes multiply "
                f"past {MAX_ELEMENTS} (2**63 - 1), more than 64-bit sizes can count"
            )
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_int(o) and o >= 0 for o in offsets)
        ):
            raise ValueError(f"tensor {name!r}: data_offsets {offsets!r} are not [begin, end]")
        begin, end = offsets
        if begin > end:
            raise ValueError(f"tensor {name!r}: data_offsets {offsets} end before they begin")
        if end > buffer_size:
            raise ValueError(
                f"tensor {name!r}: data_offsets {offsets} out of range "
                f"(the data buffer has {buffer_size} bytes)"
            )
        expected = _numel(shape) * ITEMSIZE[dtype]
        if end - begin != expected:
            raise ValueError(
                f"tensor {name!r}: shape {shape} of {dtype} needs {expected} bytes, "
                f"but data_offsets {offsets} span {end - begin}"
            )
        ranges.append((begin, end, name))

    position, previous = 0, None
    for begin, end, name in sorted(ranges):
        if begin < position:
            raise ValueError(f"tensor {name!r}: data_offsets overlap those of {previous!r}")
        if begin > position:
            after = f"after {previous!r}" if previous is not None else "at the start"
            raise ValueError(
                f"tensor {name!r}: gap of {begin - position} bytes {after} in the data buffer"
            )
        position, previous = end, name
    if position != buffer_size:
        raise ValueError(
            f"data buffer has {buffer_size} bytes but the tensors cover only {position} "
            f"({buffer_size - position} unaccounted bytes at the end)"
        )


def read_metadata(data):
    """The `__metadata__` dict (str -> str) of the safetensors file `data`, or {} if none."""
    header, _ = parse_header(data)
    return dict(header.get("__metadata__", {}))


# ----------------------------------------------------------------------------- loading


def _array(typecode, raw):
    # array(typecode, memoryview) would iterate the bytes as numbers; frombytes reinterprets.
    values = array(typecode)
    values.frombytes(raw)
    return values


def _as_int32(values, name, code):
    """`values` (an array of integers) as int32 bytes, refusing values that do not fit."""
    low, high = min(values), max(values)
    if low < _INT32_MIN or high > _INT32_MAX:
        raise ValueError(
            f"tensor {name!r}: {code} values from {low} to {high} do not fit in int32, "
            "the widest integer type WGSL has"
        )
    return array("i", values).tobytes()


def _bf16_to_f32(raw):
    # A bfloat16 is the high half of a float32: put its two bytes above two zero bytes.
    out = bytearray(2 * len(raw))
    out[2::4] = raw[0::2]
    out[3::4] = raw[1::2]
    return out


# Any nonzero byte is true; the stored form of a bool is exactly 0 or 1.
_BOOL_BYTES = bytes([0] + [1] * 255)

_INT_TYPECODES = {"I64": "q", "U32": "I", "I16": "h", "U16": "H", "I8": "b", "U8": "B"}


def _tensor_from_bytes(raw, code, shape, name):
    """An engine tensor of `shape` from `raw`, the bytes of a tensor of safetensors dtype `code`."""
    if code in ("F32", "F16", "BF16", "F64"):
        dtype = engine.float32
    elif code == "BOOL":
        dtype = engine.bool
    else:
        dtype = engine.int32
    if _numel(shape) == 0:
        return engine.zeros(tuple(shape), dtype=dtype)

    if code in ("F32", "I32"):
        payload = raw
    elif code == "BOOL":
        payload = bytes(raw).translate(_BOOL_BYTES)
    elif code == "F16":
        payload = array("f", struct.unpack(f"<{len(raw) // 2}e", raw)).tobytes()
    elif code == "BF16":
        payload = _bf16_to_f32(bytes(raw))
    elif code == "F64":
        # Values beyond float32's range become +-inf, as in torch's .float().
        payload = array("f", _array("d", raw)).tobytes()
    else:
        payload = _as_int32(_array(_INT_TYPECODES[code], raw), name, code)
    return engine.frombuffer(payload, dtype=dtype).reshape(tuple(shape))


def _load_bytes(data):
    """The tensors (name -> Tensor) and the metadata of the safetensors file `data`."""
    data = memoryview(data).cast("B")
    header, data_start = parse_header(data)
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = data[data_start + begin : data_start + end]
        tensors[name] = _tensor_from_bytes(raw, entry["dtype"], entry["shape"], name)
    return tensors, metadata


def loads(data):
    """The tensors of the safetensors file `data` (bytes-like) as a dict name -> Tensor.

    F32, I32 and BOOL load as they are; F16, BF16 and F64 become float32; I64, U32, I16, U16,
    I8 and U8 become int32 (ValueError if a value does not fit).
    """
    tensors, _ = _load_bytes(data)
    return tensors


def load_file(filename):
    """The tensors of the safetensors file at `filename` as a dict name -> Tensor."""
    with open(filename, "rb") as file:
        return loads(file.read())


# ----------------------------------------------------------------------------- save / load


def _flatten(obj, path, tensors):
    """Encode `obj` as JSON, moving its tensors into `tensors` under their dotted path.

    Every dict becomes {"__dict__": [[key, value], ...]} so that int keys stay ints, and
    every tuple {"__tuple__": [...]}; lists and scalars are themselves, and a tensor becomes
    {"__tensor__": name}. Since plain dicts never appear as themselves, any JSON object in
    the encoding is one of these tags.
    """
    if isinstance(obj, engine.Tensor):
        name = ".".join(path) if path else "_"
        if name in tensors:
            raise ValueError(f"two tensors would both be saved as {name!r}; rename a key")
        tensors[name] = obj
        return {"__tensor__": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"cannot save dict key {key!r}: keys must be str or int")
            items.append([key, _flatten(value, [*path, str(key)], tensors)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        encoded = [_flatten(value, [*path, str(i)], tensors) for i, value in enumerate(obj)]
        return {"__tuple__": encoded} if isinstance(obj, tuple) else encoded
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot save {type(obj).__name__} at {'.'.join(path) or 'top level'}")


def _unflatten(encoded, tensors):
    """Rebuild the object that `_flatten` encoded, taking its tensors from `tensors`."""
    if isinstance(encoded, list):
        return [_unflatten(value, tensors) for value in encoded]
    if not isinstance(encoded, dict):
        return encoded
    if "__tensor__" in encoded:
        name = encoded["__tensor__"]
        if name not in tensors:
            raise ValueError(f"{STRUCTURE_KEY!r} metadata refers to a missing tensor {name!r}")
        return tensors[name]
    if "__tuple__" in encoded:
        return tuple(_unflatten(value, tensors) for value in encoded["__tuple__"])
    if "__dict__" in encoded:
        return {key: _unflatten(value, tensors) for key, value in encoded["__dict__"]}
    raise ValueError(f"{STRUCTURE_KEY!r} metadata holds an unknown tag: {sorted(encoded)}")


def _is_flat_state_dict(obj):
    return (
        isinstance(obj, dict)
        and obj.keys().isdisjoint({"__metadata__"})
        and all(isinstance(k, str) and isinstance(v, engine.Tensor) for k, v in obj.items())
    )


def save(obj, f):
    """Save `obj` to `f`, a path or a binary file object, as a safetensors file.

    A dict str -> Tensor (a module's state_dict) is written as it is, readable by any
    safetensors reader. Other structures of dicts, lists, tuples, tensors and JSON scalars
    (an optimizer's state_dict) keep their shape in the metadata; `load` rebuilds them.
    """
    if _is_flat_state_dict(obj):
        tensors, metadata = obj, None
    else:
        tensors = {}
        structure = _flatten(obj, [], tensors)
        metadata = {STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    if isinstance(f, (str, os.PathLike)):
        save_file(tensors, f, metadata)
    else:
        _write(tensors, metadata, f)


def load(f, map_location=None, weights_only=True):
    """Load what `save` wrote (or any safetensors file) from `f`, a path or a binary file.

    Returns a dict name -> Tensor, or the saved structure when the file was written by `save`
    from something other than a flat state_dict. Tensors live on the engine's one device, so
    `map_location` may name any device ("cpu", "cuda", "webgpu", ...) and changes nothing.
    Safetensors files hold only data, never code, so loading is always as safe as PyTorch's
    `weights_only=True`.
    """
    if callable(map_location) or isinstance(map_location, dict):
        raise NotImplementedError("load: map_location as a function or a dict")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            data = file.read()
    else:
        data = f.read()
    tensors, metadata = _load_bytes(data)
    structure = metadata.get(STRUCTURE_KEY)
    if structure is None:
        return tensors
    try:
        encoded = json.loads(structure)
    except json.JSONDecodeError as error:
        raise ValueError(f"{STRUCTURE_KEY!r} metadata is not valid JSON: {error}") from None
    return _unflatten(encoded, tensors)
