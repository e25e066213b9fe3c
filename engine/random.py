"""Seeded random number generation: a Philox counter and key, advanced on the host.

The numbers themselves are made on the GPU by shaders/random.wgsl: the generator
only hands out (seed, offset) pairs, so the same seed yields the same numbers on
every adapter, natively and in the browser. Host-side draws (`randperm`, used by
data loader shuffling) derive a Python `random.Random` from the same pair.
"""

from __future__ import annotations

import random as _pyrandom
import time


class Generator:
    """A random number generator (torch.Generator): a 64-bit seed and a counter."""

    def __init__(self, device=None):
        self._seed = 67280421310721
        self._offset = 0

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise RuntimeError("Overflow when unpacking long")
        self._seed = seed & 0xFFFFFFFFFFFFFFFF
        self._offset = 0
        return self

    def seed(self) -> int:
        self.manual_seed(time.time_ns() & 0xFFFFFFFFFFFFFFFF)
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        return (self._seed, self._offset)

    def set_state(self, state) -> Generator:
        self._seed, self._offset = int(state[0]), int(state[1])
        return self

    def _advance(self, count: int) -> tuple[int, int]:
        """Reserve `count` Philox counters; return (seed, first counter)."""
        offset = self._offset
        self._offset += count
        return self._seed, offset

    def _python_random(self) -> _pyrandom.Random:
        """A host-side generator for draws that do not run on the GPU."""
        seed, offset = self._advance(1)
        return _pyrandom.Random(seed * 1_000_003 + offset)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: the same seed gives the same numbers everywhere."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)
