"""Timing: medians and percentiles of repeated calls, wall clock."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Samples of one measurement, in seconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def pct(self, q: float) -> float:
        """The ``q`` quantile (nearest rank)."""
        s = sorted(self.samples)
        return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]

    @property
    def p95(self) -> float:
        return self.pct(0.95)

    @property
    def reps(self) -> int:
        return len(self.samples)


def bench(call: Callable[[Any], object], inputs: Sequence[Any], *, budget: float,
          min_reps: int = 5, max_reps: int = 50, warm: bool = True) -> Timing:
    """Time ``call`` over ``inputs`` (cycled), after one warm-up call: at least
    ``min_reps`` calls, then until ``budget`` seconds are spent or ``max_reps``."""
    gc.collect()
    if warm:
        call(inputs[0])
    samples: list[float] = []
    spent = 0.0
    while len(samples) < max_reps and (len(samples) < min_reps or spent < budget):
        arg = inputs[len(samples) % len(inputs)]
        t0 = time.perf_counter()
        call(arg)
        samples.append(time.perf_counter() - t0)
        spent += samples[-1]
    return Timing(tuple(samples))


def once(call: Callable[[], object]) -> tuple[float, Any]:
    """Seconds one call took, and what it answered."""
    t0 = time.perf_counter()
    out = call()
    return time.perf_counter() - t0, out


def ms(t: float) -> str:
    """A duration for the table: milliseconds below 10 s, else seconds."""
    if t >= 10:
        return f"{t:,.1f} s"
    v = t * 1000
    return f"{v:,.3f} ms" if v < 1 else f"{v:,.2f} ms" if v < 100 else f"{v:,.0f} ms"


def mt(t: Timing) -> str:
    """Median / p95 (repetitions)."""
    return f"{ms(t.median)} / {ms(t.p95)} ({t.reps})"
