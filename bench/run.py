"""Coachbot benchmarks: every speed and scale target, measured in one run, in a temp dir.

    python bench/run.py            # a readable table with the targets (about 3 minutes)
    python bench/run.py --json     # one JSON object with the figures (progress on stderr)
    python bench/run.py --quick    # tiny sizes, seconds: keeps the harness honest, not a measurement

The bot's own throughput is always measured next to a bare python-telegram-bot echo bot,
in the same run and the same harness, so their ratio holds on a noisy machine.
See bench/README.md for what each figure means and the latest results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import channel, data, engines, manager  # noqa: E402
from bot.config import REPO_ROOT, Settings  # noqa: E402
from bot.content.library import KINDS, load_library  # noqa: E402
from bot.core.search import SearchIndex  # noqa: E402

KEYS = (
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
)


@dataclass(frozen=True)
class Sizes:
    queries: int = 1000
    big_cards: int = 10_000
    answers: int = 1000
    updates: int = 1000
    rounds: int = 3  # bot and echo throughput, interleaved; the best of each counts
    trainees: int = 500
    attempts: int = 200_000
    review_items: int = 2000
    startup_runs: int = 3  # after one unmeasured run that caches bytecode; the median counts
    fanout: int = 1000


FULL = Sizes()
QUICK = Sizes(
    queries=60,
    big_cards=300,
    answers=40,
    updates=60,
    rounds=1,
    trainees=10,
    attempts=2000,
    review_items=100,
    startup_runs=1,
    fanout=40,
)


def targets(sizes: Sizes) -> dict[str, tuple[str, Callable[[dict[str, Any]], bool]]]:
    """key -> (the target as text, whether the figures meet it)."""
    ideal = sizes.fanout / 30

    def at_most(key: str, limit: float) -> Callable[[dict[str, Any]], bool]:
        return lambda r: r[key] is not None and r[key] <= limit

    return {
        "lookup_p99_ms": ("<= 5", at_most("lookup_p99_ms", 5)),
        "lookup10k_p99_ms": ("<= 25", at_most("lookup10k_p99_ms", 25)),
        "index10k_build_s": ("<= 1", at_most("index10k_build_s", 1)),
        "score_p99_ms": ("<= 10", at_most("score_p99_ms", 10)),
        "updates_per_s": (
            ">= 0.5 x echo",
            lambda r: r["updates_per_s"] >= 0.5 * r["echo_updates_per_s"],
        ),
        "report_ms": ("<= 300", at_most("report_ms", 300)),
        "export_ms": ("<= 2000", at_most("export_ms", 2000)),
        "drill_queue_ms": ("<= 20", at_most("drill_queue_ms", 20)),
        "startup_s": ("<= 1", at_most("startup_s", 1)),
        "rss_mb": ("<= 150", at_most("rss_mb", 150)),
        "fanout_1k_s": (f"{ideal:.1f} +-10%", lambda r: abs(r["fanout_1k_s"] - ideal) <= 0.1 * ideal),
        "fanout_429": ("0", lambda r: r["fanout_429"] == 0),
    }


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    """A child process that caches bytecode, as any installed bot does (outside the source tree)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "coachbot-bench-pycache")
    return env


def child(*args: str) -> Any:
    """Run bench/child.py in a fresh interpreter; its last line of output, as JSON."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "child.py"), *args],
        env=child_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"bench/child.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def startup_s(tmp: Path, runs: int) -> float:
    def once(i: int) -> float:
        return float(child("startup", repr(time.time()), str(tmp / f"startup{i}.db"), str(tmp / "content")))

    once(-1)  # unmeasured: compiles bytecode if needed, as only the very first start of a bot does
    return statistics.median(once(i) for i in range(runs))


def snapshot_content(tmp: Path) -> Path:
    """A copy of the content, so that every part of the run measures the same library."""
    content = tmp / "content"
    for kind in KINDS:
        if (REPO_ROOT / kind).is_dir():
            shutil.copytree(REPO_ROOT / kind, content / kind)
    return content


def bench_settings(tmp: Path, name: str) -> Settings:
    return Settings(token="123456:BENCH", db_path=tmp / f"{name}.db", content_dir=tmp / "content")


def measure(sizes: Sizes, tmp: Path) -> dict[str, Any]:
    r: dict[str, Any] = {}
    lib = load_library(snapshot_content(tmp))
    queries = data.queries(lib, sizes.queries)

    say(f"look-up: {len(queries)} queries on the shipped library ({len(lib.cards)} cards)")
    times = engines.lookup_ms(SearchIndex(lib), queries)
    r["lookup_p50_ms"] = engines.percentile(times, 50)
    r["lookup_p99_ms"] = engines.percentile(times, 99)

    say(f"big library: a bot process holding {sizes.big_cards} cards (index build, look-ups, memory)")
    big = child("big", str(sizes.big_cards), str(sizes.queries), str(tmp / "big.db"), str(tmp / "content"))
    r["index10k_build_s"], r["lookup10k_p99_ms"], r["rss_mb"] = (
        big["index_build_s"],
        big["lookup_p99_ms"],
        big["rss_mb"],
    )

    say(f"scoring: {sizes.answers} role-play answers")
    r["score_p99_ms"] = engines.percentile(engines.score_ms(lib, data.answers(lib, sizes.answers)), 99)

    say(f"throughput: {sizes.updates} look-up updates, bot and bare echo bot, {sizes.rounds} round(s)")
    updates = channel.updates(queries, sizes.updates)
    bot, echo = [], []
    for i in range(sizes.rounds):
        echo.append(asyncio.run(channel.echo_updates_per_s(updates)))
        bot.append(asyncio.run(channel.bot_updates_per_s(bench_settings(tmp, f"round{i}"), updates)))
    r["updates_per_s"], r["echo_updates_per_s"] = max(bot), max(echo)

    say(f"reports: a team of {sizes.trainees} trainees with {sizes.attempts} attempts")
    r.update(manager.report_and_export_ms(tmp, lib, sizes.trainees, sizes.attempts))
    say(f"drill: a trainee with {sizes.review_items} review items")
    r["drill_queue_ms"] = manager.drill_queue_ms(tmp, sizes.review_items)

    say(f"start-up: {sizes.startup_runs} fresh process(es)")
    r["startup_s"] = startup_s(tmp, sizes.startup_runs)

    say(f"fan-out: a reminder to {sizes.fanout} trainees against a 30/s Bot API")
    r["fanout_1k_s"], r["fanout_429"] = asyncio.run(
        channel.fanout(bench_settings(tmp, "fanout"), sizes.fanout)
    )
    return {k: _round(r[k]) for k in KEYS}


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3 if value < 100 else 1)
    return value


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def table(results: dict[str, Any], sizes: Sizes, elapsed: float) -> str:
    goals = targets(sizes)
    lines = [
        f"Coachbot benchmarks, {time.strftime('%Y-%m-%d')}, {machine()}",
        f"{'figure':<20} {'value':>10}  {'target':<16} result",
    ]
    for key in KEYS:
        value = results[key]
        shown = "missing" if value is None else f"{value:g}"
        goal, ok = goals.get(key, ("", None))
        verdict = "" if ok is None else ("missing" if value is None else "ok" if ok(results) else "MISSED")
        lines.append(f"{key:<20} {shown:>10}  {goal:<16} {verdict}")
    ratio = results["updates_per_s"] / results["echo_updates_per_s"]
    lines.append(f"bot / echo throughput: {ratio:.2f}; whole run {elapsed:.0f} s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (smoke test); figures not comparable"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coachbot-bench-") as tmp:
        results = measure(sizes, Path(tmp))
    if args.json:
        print(json.dumps(results))
    else:
        print(table(results, sizes, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
