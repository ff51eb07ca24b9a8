"""What bench/run.py measures in a fresh process, so imports and the whole heap count.

python bench/child.py startup T0 DB      prints seconds from T0 (time.time()) to a ready Coach
python bench/child.py rss CARDS DB       prints the peak RSS (MB) of a bot with CARDS cards
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def startup(t0: float, db: Path) -> float:
    """Load and validate all content and open the store, as `coachbot run` does first."""
    from bot.app import build_coach
    from bot.config import Settings

    build_coach(Settings(db_path=db))
    return time.time() - t0


def rss(cards: int, db: Path) -> float:
    """A whole bot process (Telegram application included) holding a `cards`-card library."""
    import resource

    from bench.data import big_library
    from bot.channels.fake_api import RecordingRequest
    from bot.channels.telegram_app import build_application
    from bot.config import REPO_ROOT, Settings
    from bot.content.library import load_library
    from bot.core.coach import Coach
    from bot.store import Store

    lib = big_library(load_library(REPO_ROOT), cards)
    settings = Settings(token="123456:BENCH", db_path=db)
    coach = Coach(lib, Store(db))
    build_application(settings, coach, request=RecordingRequest())
    if len(coach.index.card_ids) != cards:
        raise RuntimeError(f"the index holds {len(coach.index.card_ids)} cards, not {cards}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def main(argv: list[str]) -> None:
    what, arg, db = argv
    value = startup(float(arg), Path(db)) if what == "startup" else rss(int(arg), Path(db))
    print(f"{value:.6f}")


if __name__ == "__main__":
    main(sys.argv[1:])
