"""Operator jobs behind `coachbot export` and `coachbot backup`.

Both are safe while the bot runs: the export only reads, and the backup uses SQLite's online
backup API (a consistent snapshot even while the bot writes), written to a temporary file
and renamed into place, so a half-written backup never carries the final name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.content.library import Library, load_library
from bot.core.calls import call_outcomes
from bot.core.prefs import tz_of
from bot.core.progress import active_days, mastery, streak
from bot.core.review import due_count, ts
from bot.errors import ConfigError, StoreError
from bot.store import Store

CSV_FIELDS = (
    "user_id",
    "name",
    "role",
    "teams",
    "last_active",
    "streak",
    "review_items",
    "due_now",
    "reviews_7d",
    "playbook",
    "mastery",
    "quiz_pct",
    "roleplay_pct",
    "retention_pct",
)


def _pct(value: float | None) -> int | None:
    return None if value is None else round(100 * value)


def progress_records(store: Store, lib: Library, now: datetime, default_tz: str) -> list[dict[str, Any]]:
    """Every user's progress: streak, reviews, and mastery per playbook (read-only)."""
    teams: dict[int, list[str]] = {}
    for r in store.query(
        "select m.user_id, t.name from team_members m join teams t on t.id = m.team_id order by t.name"
    ):
        teams.setdefault(r["user_id"], []).append(r["name"])
    counts = {
        r["user_id"]: r
        for r in store.query(
            "select user_id, count(*) as items, "
            "(select count(*) from review_logs l where l.user_id = i.user_id and l.ts >= :week) as reviews "
            "from review_items i group by user_id",
            {"week": ts(now - timedelta(days=7))},
        )
    }
    records = []
    for u in store.query("select id, name, role, tz, last_active from users order by id"):
        uid = u["id"]
        tz = tz_of(u["tz"], default_tz)
        scores = mastery(store, lib, uid, now)
        records.append(
            {
                "user_id": uid,
                "name": u["name"] or "",
                "role": u["role"],
                "teams": teams.get(uid, []),
                "last_active": u["last_active"],
                "streak": streak(active_days(store, uid, now, tz), now.astimezone(tz).date()),
                "review_items": counts[uid]["items"] if uid in counts else 0,
                "due_now": due_count(store, uid, now),
                "reviews_7d": counts[uid]["reviews"] if uid in counts else 0,
                "playbooks": {
                    pid: {
                        "mastery": m.score,
                        "quiz_pct": _pct(m.quiz),
                        "roleplay_pct": _pct(m.roleplay),
                        "retention_pct": _pct(m.retention),
                    }
                    for pid, m in scores.items()
                },
            }
        )
    return records


def render_export(store: Store, records: list[dict[str, Any]], fmt: str, now: datetime) -> str:
    """CSV: one row per user and playbook. JSON: the records plus the real-call tally per card."""
    if fmt == "json":
        body = {
            "generated_at": now.isoformat(timespec="seconds"),
            "users": records,
            "call_outcomes": call_outcomes(store, None),
        }
        return json.dumps(body, ensure_ascii=False, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for rec in records:
        base = {k: v for k, v in rec.items() if k in CSV_FIELDS}
        base["teams"] = "; ".join(rec["teams"])
        for pid, values in rec["playbooks"].items():
            writer.writerow({**base, "playbook": pid, **values})
    return out.getvalue()


def _existing_db(settings: Settings) -> Path:
    if not settings.db_path.is_file():
        raise ConfigError(
            f"there is no database at {settings.db_path}; set COACHBOT_DB to the bot's database"
        )
    return settings.db_path


def export_all(settings: Settings, fmt: str, output: Path | None) -> int:
    """`coachbot export`: all progress as CSV or JSON, to a file or stdout."""
    store = Store(_existing_db(settings))
    try:
        now = datetime.now(UTC)
        records = progress_records(store, load_library(settings.content_dir), now, settings.timezone)
        text = render_export(store, records, fmt, now)
    finally:
        store.close()
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        # A BOM lets Excel open Chinese names in the CSV correctly.
        output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        print(f"exported {len(records)} users to {output}", file=sys.stderr)
    return 0


def backup(settings: Settings, path: Path) -> int:
    """`coachbot backup PATH`: a consistent copy of the live database, as one self-contained file."""
    source = _existing_db(settings)
    if path.exists() and path.resolve() == source.resolve():
        raise ConfigError("the backup path is the database itself; choose another file")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(str(source), timeout=30.0)
    dst = sqlite3.connect(str(part))
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # no -wal file beside the copy
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if check != "ok":
        part.unlink(missing_ok=True)
        raise StoreError(f"the backup failed its integrity check: {check}")
    os.replace(part, path)
    print(f"backup written to {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0
