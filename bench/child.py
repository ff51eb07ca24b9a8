"""What bench/run.py measures in a fresh process, so imports and the whole heap count.

    python bench/child.py startup T0 DB CONTENT        seconds from T0 (a time.time()) to a ready Coach
    python bench/child.py big CARDS QUERIES DB CONTENT  the big-library figures, as JSON

`big` is one bot process holding a generated library of CARDS cards: it times building
the Coach and its search index (the index is nearly all of that work, whether the Coach
builds it at once or on first use), times QUERIES look-ups on it, wires the Telegram
application, and reports the peak resident memory.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def startup(t0: float, db: Path, content: Path) -> float:
    """Load and validate all content and open the store, as `coachbot run` does first."""
    from bot.app import build_coach
    from bot.config import Settings

    build_coach(Settings(db_path=db, content_dir=content))
    return time.time() - t0


def big(cards: int, queries: int, db: Path, content: Path) -> dict[str, float]:
    import gc
    import resource

    from bench.data import big_library
    from bench.data import queries as make_queries
    from bench.engines import lookup_ms, percentile
    from bot.channels.fake_api import RecordingRequest
    from bot.channels.telegram_app import build_application
    from bot.config import Settings
    from bot.content.library import load_library
    from bot.core.coach import Coach
    from bot.store import Store

    shipped = load_library(content)
    asked = make_queries(shipped, queries)
    lib = big_library(shipped, cards)
    gc.collect()
    start = time.perf_counter()
    coach = Coach(lib, Store(db))
    index = coach.index  # what the Telegram channel does before serving its first update
    build = time.perf_counter() - start
    if len(index.card_ids) != cards:
        raise RuntimeError(f"the index holds {len(index.card_ids)} cards, not {cards}")
    p99 = percentile(lookup_ms(index, asked), 99)
    build_application(
        Settings(token="123456:BENCH", db_path=db, content_dir=content), coach, RecordingRequest()
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss = peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux
    return {"index_build_s": build, "lookup_p99_ms": p99, "rss_mb": rss}


def main(argv: list[str]) -> None:
    if argv[0] == "startup":
        print(f"{startup(float(argv[1]), Path(argv[2]), Path(argv[3])):.6f}")
    else:
        print(json.dumps(big(int(argv[1]), int(argv[2]), Path(argv[3]), Path(argv[4]))))


if __name__ == "__main__":
    main(sys.argv[1:])
