"""``make chaos``: many chaos trials, their counts printed and written to a report.

python -m tests.chaos [--trials 300] [--seed 1] [--report bench/CHAOS.md]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.machine import machine_facts

from tests.chaos.harness import report, run_trials


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", type=Path, default=Path("bench/CHAOS.md"))
    options = parser.parse_args()
    facts = machine_facts()
    with tempfile.TemporaryDirectory(prefix="stepstone-chaos-") as root:
        tally = run_trials(
            Path(root), options.trials, seed=options.seed, progress=lambda line: print(line)
        )
    text = report(tally)
    print(text)
    machine = "\n".join(f"| {fact} | {value} |" for fact, value in facts.items())
    options.report.write_text(
        "# Chaos results\n\n"
        f"Made by `make chaos` (`python -m tests.chaos --trials {options.trials}"
        f" --seed {options.seed}`); what a trial does and what counts as lost, doubled or"
        " stuck: `tests/chaos/harness.py`.\n\n"
        f"```\n{text}\n```\n\n## Machine\n\n| fact | value |\n|---|---|\n{machine}\n"
    )
    return 0 if tally.clean else 1


if __name__ == "__main__":
    sys.exit(main())
