"""The benchmark harness runs end to end at a tiny size, so it cannot rot.

It checks the shape of `bench/run.py --json` (exactly the published keys, every one a
number), never a timing: figures belong in bench/README.md, not in assertions.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KEYS = [
    "lookup_p50_ms",
    "lookup_p99_ms",
    "lookup10k_p99_ms",
    "index10k_build_s",
    "score_p99_ms",
    "updates_per_s",
    "echo_updates_per_s",
    "report_ms",
    "export_ms",
    "drill_queue_ms",
    "startup_s",
    "rss_mb",
    "fanout_1k_s",
    "fanout_429",
]


def test_quick_bench_prints_every_figure_as_a_number() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--json", "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert list(figures) == KEYS
    for key, value in figures.items():
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        assert math.isfinite(value) and value >= 0, (key, value)
    assert isinstance(figures["fanout_429"], int)
    # Throughput figures are rates of real work: both bots answered every update.
    assert figures["updates_per_s"] > 0 and figures["echo_updates_per_s"] > 0


def test_throughput_parts_runs_and_names_every_part() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "throughput_parts.py"), "--rounds", "1", "--updates", "40"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = dict(line.rsplit(maxsplit=1) for line in done.stdout.splitlines()[1:5])
    assert [name.strip() for name in rows] == ["echo", "card reply", "bot, search answered", "bot"]
    assert all(float(value) > 0 for value in rows.values())
    assert "bot / echo throughput" in done.stdout
    assert "with search answered at no cost" in done.stdout
