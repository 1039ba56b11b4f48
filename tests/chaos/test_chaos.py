"""A small chaos run on every `make test` (`make chaos` runs 300 trials)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.chaos.harness import report, run_trials

TRIALS = int(os.environ.get("STEPSTONE_CHAOS_TRIALS", "30"))


@pytest.mark.slow
@pytest.mark.timeout(TRIALS * 30 + 60)
def test_runs_killed_at_random_moments_are_never_lost_doubled_or_stuck(
    tmp_path: Path, database_kind: str, database_url: str
) -> None:
    tally = run_trials(
        tmp_path / "chaos",
        TRIALS,
        seed=int(os.environ.get("STEPSTONE_CHAOS_SEED", "7")),
        database_url=database_url if database_kind == "postgresql" else None,
    )
    print(report(tally))
    assert tally.trials == TRIALS
    assert sum(tally.kills.values()) >= TRIALS // 2, "most trials killed something"
    assert tally.clean, report(tally)
