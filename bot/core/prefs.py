"""A trainee's progress settings (reminder time, leaderboard, bookkeeping) and time zone.

The row is created on first need; the time zone lives in `users.tz` and falls back to
the bot's (Settings.timezone), so "today" and "this week" are the trainee's own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.store import Store
from bot.store.db import now as now_ts

MAX_ZONE = 64


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone called `name`, or None when there is no such zone (never raises)."""
    if not name or len(name) > MAX_ZONE:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def tz_of(name: str | None, default: str) -> tzinfo:
    """The user's zone, else the bot's default, else UTC."""
    return zone(name) or zone(default) or UTC


def user_zone(store: Store, user_id: int, default: str) -> tzinfo:
    row = store.one("select tz from users where id = ?", [user_id])
    return tz_of(row["tz"] if row else None, default)


def prefs(store: Store, user_id: int) -> dict[str, Any]:
    """The user's settings row, created with defaults on first need."""
    row = store.one("select * from user_prefs where user_id = ?", [user_id])
    if row is not None:
        return row
    with store.tx() as db:
        db.execute(
            "insert into user_prefs (user_id, created_at) values (?, ?) on conflict(user_id) do nothing",
            [user_id, now_ts()],
        )
    row = store.one("select * from user_prefs where user_id = ?", [user_id])
    assert row is not None
    return row


def local_day(now: datetime, tz: tzinfo) -> date:
    return now.astimezone(tz).date()


def week_start(now: datetime, tz: tzinfo) -> datetime:
    """Monday 00:00 of the trainee's current week, in UTC."""
    local = now.astimezone(tz)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), datetime.min.time(), tz)
    return monday.astimezone(UTC)


def iso_week(now: datetime, tz: tzinfo) -> str:
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"
