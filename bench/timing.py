"""Small statistics shared by the benchmarks."""

from __future__ import annotations

import statistics
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
