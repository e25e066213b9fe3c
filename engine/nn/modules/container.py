"""Containers: Sequential, ModuleList, ModuleDict."""

import operator
from collections import OrderedDict

from .module import Module, _addindent


class Sequential(Module):
    r"""A chain of modules: ``forward(x)`` feeds ``x`` through each module in order.

    Built from positional modules (named ``"0"``, ``"1"``, ...) or from one
    ``OrderedDict`` of name -> module::

        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        model = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 2)), ("act", nn.ReLU())]))
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def _absolute_index(self, idx):
        idx = operator.index(idx)
        size = len(self)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return idx % size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._absolute_index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._absolute_index(idx)]
        setattr(self, key, module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for key in list(self._modules.keys())[idx]:
                delattr(self, key)
        else:
            delattr(self, list(self._modules.keys())[self._absolute_index(idx)])
        # Keep positional names consecutive, as PyTorch does.
        self._modules = OrderedDict(
            (str(index), module) for index, module in enumerate(self._modules.values())
        )

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, "
                f"but {type(other)} is given."
            )
        combined = Sequential()
        for module in list(self) + list(other):
            combined.append(module)
        return combined

    def append(self, module):
        """Append ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, sequential):
        """Append every module of an iterable of modules."""
        for module in sequential:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        size = len(self._modules)
        if not -size <= index <= size:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += size
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(modules))
        return self

    def pop(self, key):
        """Remove and return the module at position ``key``."""
        module = self[key]
        del self[key]
        return module

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(Module):
    r"""A list of modules, registered so that their parameters are visible.

    Indexing, slicing (returns a ModuleList), ``len``, iteration, ``append``,
    ``extend``, ``insert``, ``pop``, ``+`` and ``+=`` behave like a Python list.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _absolute_index(self, idx):
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._absolute_index(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._absolute_index(idx), module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for index in range(len(self._modules))[idx]:
                delattr(self, str(index))
        else:
            delattr(self, self._absolute_index(idx))
        self._modules = OrderedDict(
            (str(index), module) for index, module in enumerate(self._modules.values())
        )

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        combined = ModuleList()
        for module in list(self) + list(other):
            combined.append(module)
        return combined

    def __repr__(self):
        # Runs of identical modules print once: "(0-2): 3 x Linear(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [start, end, repr]
        for index, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = index
            else:
                blocks.append([index, index, text])
        lines = []
        for start, end, text in blocks:
            if start == end:
                line = f"({start}): {text}"
            else:
                line = f"({start}-{end}): {end - start + 1} x {text}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def append(self, module):
        """Append ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every module of an iterable."""
        if not hasattr(modules, "__iter__"):
            raise TypeError(
                "ModuleList.extend should be called with an iterable, "
                f"but got {type(modules).__name__}"
            )
        offset = len(self)
        for index, module in enumerate(modules):
            self.add_module(str(offset + index), module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        for position in range(len(self._modules), index, -1):
            self._modules[str(position)] = self._modules[str(position - 1)]
        self._modules[str(index)] = module

    def pop(self, key):
        """Remove and return the module at position ``key``."""
        module = self[key]
        del self[key]
        return module


class ModuleDict(Module):
    r"""An ordered dict of name -> module, registered so that their parameters are visible.

    Supports ``d[key]``, ``d[key] = m``, ``del d[key]``, ``len``, iteration over keys,
    ``in``, ``keys()``, ``values()``, ``items()``, ``update()``, ``pop()``, ``clear()``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove all modules."""
        self._modules.clear()

    def pop(self, key):
        """Remove and return the module named ``key``."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add modules from a mapping or an iterable of (name, module) pairs."""
        if hasattr(modules, "items"):
            pairs = modules.items()
        else:
            pairs = []
            for index, pair in enumerate(modules):
                if len(pair) != 2:
                    raise ValueError(
                        f"ModuleDict update sequence element #{index} has length "
                        f"{len(pair)}; 2 is required"
                    )
                pairs.append(pair)
        for key, module in pairs:
            self[key] = module
