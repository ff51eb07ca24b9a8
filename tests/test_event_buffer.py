"""Look-up events are written in batches, and nothing that reads or writes ever misses one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import db as store_db
from bot.store.db import EVENT_BATCH, Store
from tests.harness import BotHarness, User

TRAINEE = User(id=7301, language_code="zh")


def _on_disk(path: Path, user_id: int) -> list[str]:
    """Event kinds as another process sees them (only what has been committed)."""
    with sqlite3.connect(str(path)) as other:
        rows = other.execute("select kind from events where user_id = ? order by id", [user_id]).fetchall()
    return [kind for (kind,) in rows]


async def test_a_lookup_is_answered_before_its_events_are_written_yet_every_read_sees_them(
    bot: BotHarness,
) -> None:
    await bot.send("客户说你们比电信贵多了", TRAINEE)
    store = bot.coach.store
    assert store.pending_events() == 2  # the search and the card view
    assert _on_disk(bot.settings.db_path, TRAINEE.id) == []
    rows = store.query("select kind, ref from events where user_id = ? order by id", [TRAINEE.id])
    assert [r["kind"] for r in rows] == ["search", "view"]
    assert rows[1]["ref"] == "objection-handling/price-too-high"
    assert store.pending_events() == 0
    assert _on_disk(bot.settings.db_path, TRAINEE.id) == ["search", "view"]


async def test_a_busy_bot_writes_them_in_batches(bot: BotHarness) -> None:
    trainees = [User(id=7400 + i, language_code="zh") for i in range(8)]  # within the look-up rate limit
    for _ in range(EVENT_BATCH // len(trainees)):
        for trainee in trainees:
            await bot.send("客户说再考虑一下", trainee)
    store = bot.coach.store
    on_disk = sum(len(_on_disk(bot.settings.db_path, t.id)) for t in trainees)
    assert on_disk >= EVENT_BATCH
    assert store.pending_events() < EVENT_BATCH
    assert on_disk + store.pending_events() == 2 * EVENT_BATCH  # a search and a view each


async def test_a_quiet_bot_writes_them_on_its_flush_job(bot: BotHarness) -> None:
    await bot.send("客户说再考虑一下", TRAINEE)
    assert _on_disk(bot.settings.db_path, TRAINEE.id) == []
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("flush-events")
    assert job.job.trigger.interval.total_seconds() == store_db.EVENT_DELAY_S
    await job.run(bot.app)
    assert _on_disk(bot.settings.db_path, TRAINEE.id) == ["search", "view"]


async def test_any_write_carries_the_waiting_events_in_its_commit(bot: BotHarness) -> None:
    await bot.send("客户说再考虑一下", TRAINEE)
    bot.coach.store.set_lang(TRAINEE.id, "en")
    assert _on_disk(bot.settings.db_path, TRAINEE.id) == ["search", "view"]


def test_closing_the_store_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = Store(path)
    store.ensure_user(42, "T", "zh")
    store.log_events([(42, "search", None, "太贵了", "zh", None)])
    store.close()
    assert _on_disk(path, 42) == ["search"]


def test_an_event_the_database_refuses_is_dropped_and_blocks_nothing(tmp_path: Path) -> None:
    """An event whose user was deleted meanwhile (a foreign key) must not fail later writes."""
    path = tmp_path / "events.db"
    store = Store(path)
    store.ensure_user(42, "T", "zh")
    store.ensure_user(43, "U", "zh")
    store.log_events([(42, "view", "a/b", None, "zh", None), (99, "view", "a/c", None, "zh", None)])
    store.set_lang(43, "en")  # a write: the good event goes in with it, the orphan is dropped
    assert store.pending_events() == 0
    assert _on_disk(path, 42) == ["view"]
    assert _on_disk(path, 99) == []
    assert store.one("select lang from users where id = 43") == {"lang": "en"}
    store.close()


def test_reads_inside_a_write_see_the_events_and_start_no_second_transaction(tmp_path: Path) -> None:
    store = Store(tmp_path / "events.db")
    store.ensure_user(42, "T", "zh")
    store.log_events([(42, "view", "a/b", None, "zh", None)])
    with store.tx() as db:
        assert store.one("select count(*) n from events where user_id = 42") == {"n": 1}
        assert store.db is db
        db.execute("update users set lang = 'en' where id = 42")
    assert store.pending_events() == 0
    assert _on_disk(tmp_path / "events.db", 42) == ["view"]
    store.close()
