"""Neural-network building blocks, as in ``torch.nn``.

The layers live in ``engine.nn.modules`` (one file per kind, as ``torch.nn.modules``) and are
re-exported here, as torch.nn does; ``functional``, ``init`` and ``parameter`` sit beside it.
"""

from . import functional, init, modules, utils
from .modules import *  # noqa: F403 (the layers, listed once in modules.__all__)
from .parameter import Parameter

__all__ = [*modules.__all__, "Parameter", "functional", "init", "modules", "utils"]
