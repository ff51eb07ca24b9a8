"""Open the database (WAL, migrations applied) and the small query helpers the core needs.

One `Store` per process is the single writer. Every method that writes commits before it
returns, so what the core stored survives a crash right after, with one exception: look-up
events (what was searched, viewed, shared) are usage statistics, and a commit for each was
a third of a look-up's time. They are kept in memory and written together, within
`EVENT_DELAY_S` or `EVENT_BATCH` events, and always before anything else is read or
written, so no reader ever misses one; a crash loses at most those few seconds of them.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.utils import dedupe_keys

from bot.errors import StoreError
from bot.store.migrations import migrations

log = logging.getLogger(__name__)

#: Buffered look-up events are written when this many are waiting ...
EVENT_BATCH = 64
#: ... or the oldest has waited this long (s); the Telegram channel also flushes this often.
EVENT_DELAY_S = 2.0
#: If the database refuses them for a long while, older events are dropped beyond this.
EVENT_BUFFER_MAX = 10_000
_INSERT_EVENTS = "insert into events (user_id, kind, ref, text, lang, score, ts) values (?, ?, ?, ?, ?, ?, ?)"

#: How stale users.last_active may get before a message refreshes it (reports show the day).
ACTIVITY_RESOLUTION_MIN = 10


def _minutes_ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: The statements `Store.query` and `Store.one` run (anything else is a write, or no rows).
_READS = frozenset({"select", "with", "pragma", "explain", "values"})
_WORD = re.compile(r"\s*([A-Za-z]+)")


def _first_word(sql: str) -> str:
    word = _WORD.match(sql)
    return word.group(1).lower() if word else ""


def _keys(cursor: sqlite3.Cursor) -> list[str]:
    """Column names; a repeated one gets a suffix (`id`, `id_2`) as sqlite-utils gives it."""
    names = [d[0] for d in cursor.description]
    return names if len(set(names)) == len(names) else list(dedupe_keys(names))


def now() -> str:
    """UTC timestamp text that sorts correctly."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=5.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA foreign_keys = ON")
        self._db = Database(conn)
        if str(path) != ":memory:":
            self._db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        migrations.apply(self._db)
        self._events: list[tuple[Any, ...]] = []  # look-up events not yet written
        self._events_since = 0.0  # monotonic time the oldest of them was logged

    @property
    def db(self) -> Database:
        """The sqlite-utils database, for what the helpers here do not cover. Buffered
        events are written first, so whatever is read or written through it sees them."""
        self.flush_events()
        return self._db

    def close(self) -> None:
        try:
            self.flush_events()
        except StoreError:
            log.exception("could not save %d look-up events before closing", len(self._events))
        self._db.conn.close()

    @contextmanager
    def tx(self) -> Iterator[Database]:
        """One atomic write: all of it commits, or none of it (and a StoreError is raised)."""
        conn = self._db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"database busy: {exc}") from exc
        try:
            written = self._write_events(conn)  # in the same commit, and before this write
            yield self._db
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(f"could not save: {exc}") from exc
        except BaseException:
            self._rollback()
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(f"could not save: {exc}") from exc
        del self._events[:written]

    def _rollback(self) -> None:
        with suppress(sqlite3.Error):  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
            self._db.conn.execute("ROLLBACK")

    # ------------------------------------------------------------ look-up events

    def _write_events(self, conn: sqlite3.Connection) -> int:
        """Inside a transaction: insert the buffered events; how many were taken. Events a
        constraint refuses (their user was deleted meanwhile) are dropped, never left to
        fail every later write."""
        taken = len(self._events)
        if not taken:
            return 0
        conn.execute("SAVEPOINT events")
        try:
            conn.executemany(_INSERT_EVENTS, self._events[:taken])
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK TO events")
            for event in self._events[:taken]:
                try:
                    conn.execute(_INSERT_EVENTS, event)
                except sqlite3.IntegrityError as exc:
                    log.error("dropped a look-up event the database refused (%s): %s", exc, event[:3])
        conn.execute("RELEASE events")
        return taken

    def flush_events(self) -> None:
        """Write the buffered look-up events now (raises StoreError if the database fails).
        Inside a `tx()` there is nothing to do: it wrote them when it began."""
        if self._events and not self._db.conn.in_transaction:
            with self.tx():
                pass

    def pending_events(self) -> int:
        return len(self._events)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Rows as dicts. A plain read: sqlite-utils' `db.query` wraps every read in a
        SAVEPOINT and RELEASE, three statements where one does (a look-up reads twice)."""
        self.flush_events()
        cursor = self._read(sql, params)
        keys = _keys(cursor)
        return [dict(zip(keys, row, strict=True)) for row in cursor]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        self.flush_events()
        return self._one(sql, params)

    def _one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        """`one` without writing buffered events first: for reads of tables events never
        change (users, sessions), which every message makes."""
        cursor = self._read(sql, params)
        row = cursor.fetchone()
        cursor.close()  # ends the statement now: an unfinished read would pin a WAL snapshot
        return None if row is None else dict(zip(_keys(cursor), row, strict=True))

    def _read(self, sql: str, params: Any) -> sqlite3.Cursor:
        # Reads only: the writes go through `tx()`, and nothing here may commit one by accident.
        if _first_word(sql) not in _READS:
            raise ValueError(f"Store.query and Store.one only read; got {sql[:40]!r}")
        cursor = self._db.conn.execute(sql, () if params is None else params)
        if cursor.description is None:
            raise ValueError(f"not a query that returns rows: {sql[:40]!r}")
        return cursor

    # ------------------------------------------------------------ users

    def user(self, user_id: int) -> dict[str, Any] | None:
        return self._one("select * from users where id = ?", [user_id])

    def ensure_user(self, user_id: int, name: str, lang: str) -> dict[str, Any]:
        """The user's row, created on first contact; refreshes name and activity time.

        A message from a known, unblocked user with the same name and activity in the last
        few minutes writes nothing: activity is reported by the day, and a commit per
        message was a third of a lookup's store time.
        """
        row = self.user(user_id)
        if (
            row is not None
            and row["name"] == name
            and not row["blocked"]
            and (row["last_active"] or "") >= _minutes_ago(ACTIVITY_RESOLUTION_MIN)
        ):
            return row
        ts = now()
        with self.tx() as db:
            db.execute(
                "insert into users (id, name, lang, lang_chosen, role, created_at, last_active, blocked) "
                "values (?, ?, ?, 0, 'trainee', ?, ?, 0) "
                "on conflict(id) do update set name = excluded.name, last_active = excluded.last_active, "
                "blocked = 0",
                [user_id, name, lang, ts, ts],
            )
        row = self.user(user_id)
        assert row is not None
        return row

    def set_lang(self, user_id: int, lang: str) -> None:
        with self.tx() as db:
            db.execute("update users set lang = ?, lang_chosen = 1 where id = ?", [lang, user_id])

    def set_role(self, user_id: int, role: str) -> None:
        with self.tx() as db:
            db.execute("update users set role = ? where id = ?", [role, user_id])

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        with self.tx() as db:
            db.execute("update users set blocked = ? where id = ?", [int(blocked), user_id])

    # ------------------------------------------------------------ events

    def log_event(
        self,
        user_id: int,
        kind: str,
        ref: str | None,
        text: str | None = None,
        lang: str | None = None,
        score: float | None = None,
    ) -> None:
        self.log_events([(user_id, kind, ref, text, lang, score)])

    def log_events(
        self, events: list[tuple[int, str, str | None, str | None, str | None, float | None]]
    ) -> None:
        """Record (user, kind, ref, text, lang, score) look-up events: buffered, and written
        with the next write, read or flush (see the module's docstring)."""
        if not self._events:
            self._events_since = time.monotonic()
        ts = now()
        self._events += [(*event, ts) for event in events]
        if len(self._events) >= EVENT_BATCH or time.monotonic() - self._events_since >= EVENT_DELAY_S:
            try:
                self.flush_events()
            except StoreError as exc:  # kept for the next try; the reply need not wait
                log.warning("could not save %d look-up events yet: %s", len(self._events), exc)
                del self._events[:-EVENT_BUFFER_MAX]

    # ------------------------------------------------------------ sessions

    def session(self, user_id: int) -> dict[str, Any] | None:
        row = self._one("select * from sessions where user_id = ?", [user_id])
        if row:
            row["state"] = json.loads(row["state"] or "{}")
        return row

    def set_session(self, db: Database, user_id: int, kind: str, ref_id: int, state: dict[str, Any]) -> None:
        """Inside a `tx()`: make this the user's one in-progress session."""
        db.execute(
            "insert into sessions (user_id, kind, ref_id, state, updated_at) values (?, ?, ?, ?, ?) "
            "on conflict(user_id) do update set kind = excluded.kind, ref_id = excluded.ref_id, "
            "state = excluded.state, updated_at = excluded.updated_at",
            [user_id, kind, ref_id, json.dumps(state, ensure_ascii=False), now()],
        )

    def cancel_run(self, table: str, run_id: int, user_id: int) -> None:
        """End the user's active run in `table` as cancelled and close their session, atomically."""
        if table not in ("quiz_runs", "roleplay_runs"):
            raise ValueError(f"not a run table: {table}")
        with self.tx() as db:
            db.execute(
                f"update {table} set status = 'cancelled', finished_at = ? "
                "where id = ? and user_id = ? and status = 'active'",
                [now(), run_id, user_id],
            )
            self.clear_session(db, user_id)

    def clear_session(self, db: Database, user_id: int) -> None:
        db.execute("delete from sessions where user_id = ?", [user_id])
