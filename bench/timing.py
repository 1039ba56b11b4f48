"""Small statistics shared by the benchmarks."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """Repeated measurements of one quantity, in milliseconds."""

    values_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.values_ms)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.values_ms)

    @property
    def min_ms(self) -> float:
        return min(self.values_ms)

    @property
    def max_ms(self) -> float:
        return max(self.values_ms)


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99 for p99): the smallest value that at
    least that fraction of the values do not exceed."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
