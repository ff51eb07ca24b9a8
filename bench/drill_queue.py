"""Drill queue and progress export timings on a synthetic store (target: queue <= 20 ms).

    python bench/drill_queue.py [--users 100] [--items 2000]

Fills a temporary SQLite store with `--users` trainees of `--items` review items each
(FSRS states from real ratings, due dates spread over the past and next two months), then
times `drill_queue` for one trainee with 2,000 items, `/progress`'s mastery, and the
`coachbot export` function for everyone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fsrs import Card, Rating  # noqa: E402

from bot.config import REPO_ROOT  # noqa: E402
from bot.content.library import load_library  # noqa: E402
from bot.core.progress import mastery  # noqa: E402
from bot.core.review import SCHEDULER, drill_queue, due_count, ts  # noqa: E402
from bot.ops import progress_records, render_export  # noqa: E402
from bot.store import Store  # noqa: E402


def fill(store: Store, refs: list[tuple[str, str]], users: int, items: int, now: datetime) -> None:
    rng = random.Random(7)
    with store.tx() as db:
        for uid in range(1, users + 1):
            db.execute(
                "insert into users (id, name, lang, role, created_at, last_active) values (?, ?, 'zh', 'trainee', ?, ?)",
                [uid, f"trainee {uid}", ts(now), ts(now)],
            )
            rows = []
            for n in range(items):
                kind, ref = refs[n % len(refs)]
                when = now - timedelta(days=rng.uniform(0, 60))
                card, _ = SCHEDULER.review_card(Card(card_id=n + 1), rng.choice(list(Rating)), when)
                due = now + timedelta(days=rng.uniform(-30, 60))
                state = (int(card.state), card.step, card.stability, card.difficulty)
                rows.append((uid, kind, f"{ref}#{n}", *state, ts(due), ts(when), 1, ts(when)))
            db.conn.executemany(
                "insert into review_items (user_id, kind, ref, state, step, stability, difficulty, due, "
                "last_review, reps, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(median, worst) milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--items", type=int, default=2000)
    args = ap.parse_args()
    lib = load_library(REPO_ROOT)
    refs = [("card", r) for r in lib.cards] + [("question", q) for q in lib.questions]
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        start = time.perf_counter()
        fill(store, refs, args.users, args.items, now)
        print(f"store: {args.users} users x {args.items} review items in {time.perf_counter() - start:.1f}s")
        due = due_count(store, 1, now)
        med, worst = timed(lambda: drill_queue(store, 1, now, 20), 300)
        print(
            f"drill_queue(limit=20), user with {args.items} items ({due} due): median {med:.2f} ms, worst {worst:.2f} ms"
        )
        med, worst = timed(lambda: drill_queue(store, 1, now, args.items), 50)
        print(f"drill_queue(limit={args.items}), whole due set: median {med:.2f} ms, worst {worst:.2f} ms")
        med, worst = timed(lambda: due_count(store, 1, now), 300)
        print(f"due_count: median {med:.2f} ms, worst {worst:.2f} ms")
        med, worst = timed(lambda: mastery(store, lib, 1, now), 20)
        print(f"mastery (all playbooks, {args.items} items): median {med:.1f} ms, worst {worst:.1f} ms")
        start = time.perf_counter()
        text = render_export(store, progress_records(store, lib, now, "Asia/Shanghai"), "csv", now)
        took = time.perf_counter() - start
        print(f"export csv, {args.users} users: {took:.2f}s, {len(text.splitlines()) - 1} rows")
        plan = store.query(
            "explain query plan select * from review_items where user_id = ? and due <= ? order by due limit ?",
            [1, ts(now), 20],
        )
        print("query plan:", "; ".join(r["detail"] for r in plan))
        store.close()


if __name__ == "__main__":
    main()
