"""Backhaul's benchmarks: each measures one path against baselines run in the same process,
on the same machine, in the same run, and reports ratios (see ``bench/RESULTS.md``).

Run them with ``make bench`` (``scripts/bench.sh``), or ``python -m bench [names]``.
"""
