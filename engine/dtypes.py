"""Element types. Every element is 32 bits on the GPU, because WGSL storage arrays are.

`int64`/`long` are accepted names for `int32`: WGSL has no 64-bit integers, so
integer tensors hold 32-bit values whatever they are called. `bool` is stored as a
u32 of 0 or 1 (WGSL has no 1-byte storage type); it is one byte when serialized.
"""

from __future__ import annotations


class dtype:
    """A tensor element type: its WGSL storage type and its Python `array` typecode."""

    __slots__ = ("name", "wgsl", "typecode", "category", "itemsize")

    def __init__(self, name: str, wgsl: str, typecode: str, category: int):
        self.name = name
        self.wgsl = wgsl
        self.typecode = typecode
        self.category = category  # 0 bool < 1 integer < 2 floating: type promotion order
        self.itemsize = 4

    @property
    def is_floating_point(self) -> bool:
        return self.category == 2

    @property
    def is_signed(self) -> bool:
        return self.category > 0

    def __repr__(self) -> str:
        return f"engine.{self.name}"

    def __reduce__(self):
        return self.name


float32 = dtype("float32", "f32", "f", 2)
int32 = dtype("int32", "i32", "i", 1)
bool_ = dtype("bool", "u32", "I", 0)

_BY_CATEGORY = (bool_, int32, float32)

# accepted names, as in PyTorch; the 64-bit ones are stored as 32 bits
ALIASES = {
    "float32": float32,
    "float": float32,
    "int32": int32,
    "int": int32,
    "int64": int32,
    "long": int32,
    "bool": bool_,
}


def to_dtype(value) -> dtype:
    """A dtype from a dtype, a name ('float32', 'long'), a Python type or a NumPy dtype."""
    if isinstance(value, dtype):
        return value
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    name = getattr(value, "name", value)  # numpy dtypes and torch dtypes have .name-ish forms
    if isinstance(name, str):
        name = name.removeprefix("torch.").removeprefix("engine.")
        if name in ALIASES:
            return ALIASES[name]
        if name in ("float16", "half", "bfloat16", "float64", "double"):
            raise NotImplementedError(
                f"dtype {name} is not supported: tensors are float32, int32 or bool"
            )
    raise TypeError(f"cannot interpret {value!r} as an engine dtype")


def promote(*categories: int) -> dtype:
    """The result type of mixing operands of the given categories (bool < int < float)."""
    return _BY_CATEGORY[max(categories)]


def category_of_scalar(value) -> int:
    """The category of a Python number: bool 0, int 1, float 2."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    return 2
