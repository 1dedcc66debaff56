"""A seeded random source tuned for generating large worlds quickly."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """Items with weights, prepared once for O(log n) weighted draws."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative = list(itertools.accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]


class Dice:
    """Seeded draws built on random() only: random.choices/randrange cost 5-40x more."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self.random = self._rng.random

    def below(self, n: int) -> int:
        """Return an int in [0, n) for n up to 2**52."""
        return int(self.random() * n)

    def pick(self, items: Sequence[T]) -> T:
        """Return one item, uniformly."""
        return items[int(self.random() * len(items))]

    def weighted(self, table: Weighted[T]) -> T:
        """Return one item according to its weight."""
        index = bisect.bisect_right(table.cumulative, self.random() * table.total)
        return table.items[min(index, len(table.items) - 1)]

    def chance(self, p: float) -> bool:
        """Return True with probability p."""
        return self.random() < p

    def between(self, low: timedelta, high: timedelta) -> timedelta:
        """Return a whole-second duration in [low, high]."""
        lo = low.total_seconds()
        hi = max(lo, high.total_seconds())
        return timedelta(seconds=int(lo + (hi - lo) * self.random()))

    def bits(self, k: int) -> int:
        """Return k random bits."""
        return self._rng.getrandbits(k)

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """Return k distinct items."""
        return self._rng.sample(items, k)
