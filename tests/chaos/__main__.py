"""``make chaos``: many chaos trials, their counts printed and written to a report.

python -m tests.chaos [--trials 300] [--seed 1] [--database sqlite|postgresql] [--report F]

On PostgreSQL (the server at ``STEPSTONE_TEST_POSTGRES``, default the local one) the trials use
a fresh database, dropped afterwards; the report goes to bench/CHAOS-postgresql.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from bench.machine import machine_facts

from tests.chaos.harness import report, run_trials
from tests.databases import fresh_postgres_database


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--report", type=Path)
    options = parser.parse_args()
    on_postgres = options.database == "postgresql"
    report_path = options.report or Path(
        "bench/CHAOS-postgresql.md" if on_postgres else "bench/CHAOS.md"
    )
    facts = machine_facts()
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(tempfile.TemporaryDirectory(prefix="stepstone-chaos-"))
        url = stack.enter_context(fresh_postgres_database()) if on_postgres else None
        tally = run_trials(
            Path(root),
            options.trials,
            seed=options.seed,
            database_url=url,
            progress=lambda line: print(line),
        )
    text = report(tally)
    print(text)
    machine = "\n".join(f"| {fact} | {value} |" for fact, value in facts.items())
    report_path.write_text(
        f"# Chaos results ({'PostgreSQL' if on_postgres else 'SQLite'})\n\n"
        f"Made by `make chaos` (`python -m tests.chaos --trials {options.trials}"
        f" --seed {options.seed} --database {options.database}`); what a trial does and what"
        " counts as lost, doubled or stuck: `tests/chaos/harness.py`.\n\n"
        f"```\n{text}\n```\n\n## Machine\n\n| fact | value |\n|---|---|\n{machine}\n"
    )
    return 0 if tally.clean else 1


if __name__ == "__main__":
    sys.exit(main())
