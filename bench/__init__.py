"""Stepstone's benchmarks: the journal's commit floor, per-step overhead, resume time.

Run them with ``make bench``; see ``bench/README.md`` and the latest ``bench/RESULTS.md``.
"""
