"""The pure engines, timed call by call: look-up, index build, role-play scoring."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from bot.content.library import Library
from bot.core.roleplay import score_turn
from bot.core.search import SearchIndex

T = TypeVar("T")


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100) of a non-empty list."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed_ms(fn: Callable[[T], object], items: Iterable[T]) -> list[float]:
    """Milliseconds each call of `fn` took, one per item."""
    out = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        fn(item)
        out.append((clock() - start) * 1000)
    return out


def lookup_ms(index: SearchIndex, queries: list[str]) -> list[float]:
    """One look-up per query, as the bot does it (top 5). A first pass warms the caches."""
    for q in queries[: max(1, len(queries) // 10)]:
        index.search(q, limit=5)
    return timed_ms(lambda q: index.search(q, limit=5), queries)


def score_ms(lib: Library, answers: list[tuple[str, str, str]]) -> list[float]:
    """Scoring one trainee answer against its turn's rubric, per answer (after a warm-up pass)."""
    for a in answers[: max(1, len(answers) // 10)]:
        score_turn(lib, *a)
    return timed_ms(lambda a: score_turn(lib, *a), answers)
