"""Spaced review with FSRS: review items in the store, today's queue, and rating one.

Every card a trainee opened and every quiz question they answered becomes a review item,
derived from the `events` and `quiz_answers` tables (no hooks in other features). An
item's FSRS state lives in columns (state, step, stability, difficulty, due, last_review),
so the day's queue is one range query on the (user_id, due) index; the `fsrs` package
does all the scheduling.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler, State
from sqlite_utils import Database

from bot.content.library import Library
from bot.core.prefs import prefs
from bot.store import Store
from bot.store.db import now as now_ts

# No fuzzing: the due date a trainee is shown on the rating buttons is the one they get.
SCHEDULER = Scheduler(enable_fuzzing=False)
# Items due within this window join the drill now: an "Again" (1 min) comes back in the same
# sitting, while a "Good" on a new item (10 min) waits instead of repeating at once.
LEARN_AHEAD = timedelta(minutes=5)
RATINGS = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the store's timestamp text (bot.store.db.now)


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_FORMAT)


def parse_ts(text: str) -> datetime:
    """The store's UTC text back to an aware datetime (fromisoformat: fast, reads the Z as UTC)."""
    return datetime.fromisoformat(text)


def drill_queue(store: Store, user_id: int, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The user's review items due at `now`, most overdue first: one indexed range query."""
    return store.query(
        "select * from review_items where user_id = ? and due <= ? order by due limit ?",
        [user_id, ts(now), limit],
    )


def due_count(store: Store, user_id: int, now: datetime) -> int:
    row = store.one(
        "select count(*) as n from review_items where user_id = ? and due <= ?", [user_id, ts(now)]
    )
    return int(row["n"]) if row else 0


def drill_due(store: Store, user_id: int, now: datetime) -> int:
    """Items the drill would show at `now` (due within LEARN_AHEAD): the one "due" figure that
    /drill, /progress, reminders and digests all show, so they never disagree."""
    return due_count(store, user_id, now + LEARN_AHEAD)


def next_due(store: Store, user_id: int) -> datetime | None:
    row = store.one("select min(due) as due from review_items where user_id = ?", [user_id])
    return parse_ts(row["due"]) if row and row["due"] else None


def to_card(row: dict[str, Any]) -> Card:
    return Card(
        card_id=row["id"],  # an explicit id: fsrs would otherwise sleep 1 ms to make one
        state=State(row["state"]),
        step=row["step"],
        stability=row["stability"],
        difficulty=row["difficulty"],
        due=parse_ts(row["due"]),
        last_review=parse_ts(row["last_review"]) if row["last_review"] else None,
    )


def retrievability(row: dict[str, Any], now: datetime) -> float:
    """FSRS's probability that the trainee recalls this item now (0 before any rating)."""
    return float(SCHEDULER.get_card_retrievability(to_card(row), now))


def preview(row: dict[str, Any], now: datetime) -> dict[Rating, datetime]:
    """When the item would next be due for each rating (shown on the rating buttons)."""
    card = to_card(row)
    return {r: SCHEDULER.review_card(card, r, now)[0].due for r in RATINGS}


def _apply(db: Database, row: dict[str, Any], rating: Rating, when: datetime, source: str) -> bool:
    """Inside a tx: review the item at `when`; False when it changed meanwhile (a double tap)."""
    card, _ = SCHEDULER.review_card(to_card(row), rating, when)
    cur = db.execute(
        "update review_items set state = ?, step = ?, stability = ?, difficulty = ?, due = ?, "
        "last_review = ?, reps = reps + 1 where id = ? and reps = ?",
        [
            int(card.state),
            card.step,
            card.stability,
            card.difficulty,
            ts(card.due),
            ts(when),
            row["id"],
            row["reps"],
        ],
    )
    if cur.rowcount != 1:
        return False
    db.execute(
        "insert into review_logs (item_id, user_id, rating, source, due, stability, ts) values (?, ?, ?, ?, ?, ?, ?)",
        [row["id"], row["user_id"], int(rating), source, ts(card.due), card.stability, ts(when)],
    )
    return True


def rate(store: Store, row: dict[str, Any], rating: Rating, now: datetime) -> dict[str, Any] | None:
    """Store a drill rating; the item's new row, or None when the button was stale."""
    with store.tx() as db:
        if not _apply(db, row, rating, now, "drill"):
            return None
    return store.one("select * from review_items where id = ?", [row["id"]])


def sync_items(store: Store, lib: Library, user_id: int) -> None:
    """Bring the user's review items up to date with their new card views and quiz answers.

    Views add a card item (due at once); each quiz answer adds or reviews its question item
    (right = Good, wrong = Again). Watermarks in `user_prefs` make this incremental.
    """
    mark = prefs(store, user_id)
    views = store.query(
        "select id, ref, ts from events where user_id = ? and kind = 'view' and id > ? order by id",
        [user_id, mark["seen_event"]],
    )
    answers = store.query(
        "select id, question, correct, ts from quiz_answers where user_id = ? and id > ? order by id",
        [user_id, mark["seen_answer"]],
    )
    if not views and not answers:
        return
    with store.tx() as db:
        for view in views:
            if view["ref"] in lib.cards:
                _insert(db, user_id, "card", view["ref"], view["ts"])
        for answer in answers:
            if answer["question"] not in lib.questions:
                continue
            _insert(db, user_id, "question", answer["question"], answer["ts"])
            row = next(
                db.query(
                    "select * from review_items where user_id = ? and kind = 'question' and ref = ?",
                    [user_id, answer["question"]],
                )
            )
            if row["last_review"] is None or row["last_review"] <= answer["ts"]:
                rating = Rating.Good if answer["correct"] else Rating.Again
                _apply(db, row, rating, parse_ts(answer["ts"]), "quiz")
        db.execute(
            "update user_prefs set seen_event = ?, seen_answer = ? where user_id = ?",
            [
                views[-1]["id"] if views else mark["seen_event"],
                answers[-1]["id"] if answers else mark["seen_answer"],
                user_id,
            ],
        )


def _insert(db: Database, user_id: int, kind: str, ref: str, when: str) -> None:
    db.execute(
        "insert into review_items (user_id, kind, ref, state, step, due, created_at) "
        "values (?, ?, ?, ?, 0, ?, ?) on conflict(user_id, kind, ref) do nothing",
        [user_id, kind, ref, int(State.Learning), when, now_ts()],
    )


def delete_item(store: Store, item_id: int) -> None:
    """Drop an item whose card or question is no longer in the content."""
    with store.tx() as db:
        db.execute("delete from review_logs where item_id = ?", [item_id])
        db.execute("delete from review_items where id = ?", [item_id])
