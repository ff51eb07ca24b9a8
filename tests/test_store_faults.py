"""Store faults with real SQLite: a locked database and a full disk.

The user is told in their language, the transaction rolls back (nothing half-written),
and the bot recovers by itself once the fault is gone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from tests.harness import BotHarness, User, texts

USER = User(id=5150, language_code="zh")


def _counts(bot: BotHarness) -> tuple[int, str]:
    turns = bot.coach.store.one("select count(*) n from roleplay_turns")["n"]
    node = bot.coach.store.one("select node from roleplay_runs where user_id = ?", [USER.id])["node"]
    return turns, node


@contextmanager
def locked(bot: BotHarness) -> Iterator[None]:
    """Another process holds the write lock; our connection waits only briefly."""
    conn = bot.coach.store.db.conn
    conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(str(bot.settings.db_path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
        conn.execute("PRAGMA busy_timeout = 5000")


@contextmanager
def disk_full(bot: BotHarness) -> Iterator[None]:
    """Writes to role-play runs fail as on a full disk. The answer's transaction inserts the
    turn first and moves the run second, so the failure lands mid-transaction."""
    conn = bot.coach.store.db.conn
    conn.execute(
        "create temp trigger full_disk before update on roleplay_runs "
        "begin select raise(abort, 'database or disk is full'); end"
    )
    try:
        yield
    finally:
        conn.execute("drop trigger temp.full_disk")


async def _start_roleplay(bot: BotHarness) -> None:
    await bot.press("rps:price-objection-sme:f", USER)


ANSWER = "您拿来比较的是对方哪一份报价？里面都包含哪些业务？"


async def test_locked_database_tells_the_user_and_loses_nothing(bot: BotHarness) -> None:
    await _start_roleplay(bot)
    before = _counts(bot)
    with locked(bot):
        sent = texts(await bot.send(ANSWER, USER))
    assert sent == ["系统正忙，刚才的内容没有保存，请再发一次。"]
    assert _counts(bot) == before  # no turn stored, the run did not move
    # The lock is gone: the same answer now goes through, once.
    sent = texts(await bot.send(ANSWER, USER))
    assert "得分" in sent[0]
    assert _counts(bot)[0] == before[0] + 1


async def test_full_disk_rolls_back_and_recovers(bot: BotHarness) -> None:
    await _start_roleplay(bot)
    before = _counts(bot)
    with disk_full(bot):
        sent = texts(await bot.send(ANSWER, USER))
    assert sent == ["系统正忙，刚才的内容没有保存，请再发一次。"]
    assert _counts(bot) == before  # the turn inserted first was rolled back too
    assert bot.coach.store.one("select count(*) n from sessions where user_id = ?", [USER.id])["n"] == 1
    sent = texts(await bot.send(ANSWER, USER))
    assert "得分" in sent[0] and _counts(bot)[0] == before[0] + 1


async def test_a_failed_write_leaves_no_partial_rows(bot: BotHarness) -> None:
    """Inside one transaction, a failure after the first insert undoes the first insert."""
    store = bot.coach.store
    store.ensure_user(USER.id, "x", "zh")
    before = store.one("select count(*) n from events")["n"]
    try:
        with store.tx() as db:
            db.execute("insert into events (user_id, kind, ts) values (?, 'view', 'now')", [USER.id])
            db.execute("insert into no_such_table values (1)")
    except Exception as exc:
        assert type(exc).__name__ == "StoreError"
    assert store.one("select count(*) n from events")["n"] == before
