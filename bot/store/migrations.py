"""Versioned schema migrations (sqlite-utils `Migrations`). Never edit a shipped one; add a new one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("coachbot")


@migrations()
def m001_users_and_events(db: Database) -> None:
    db["users"].create(
        {
            "id": int,  # Telegram user id (or a local id in the terminal chat)
            "name": str,
            "lang": str,  # zh | en
            "lang_chosen": int,  # 1 once the user picked a language with /lang
            "role": str,  # trainee | manager (admins come from settings)
            "tz": str,
            "created_at": str,
            "last_active": str,
            "blocked": int,  # 1 when Telegram says the user blocked the bot
        },
        pk="id",
        not_null={"lang", "role", "created_at"},
        defaults={"lang": "zh", "lang_chosen": 0, "role": "trainee", "blocked": 0},
    )
    db["events"].create(
        {
            "id": int,
            "user_id": int,
            "kind": str,  # search | view | inline
            "ref": str,  # card id (view) or top result (search)
            "text": str,  # the query text, for searches
            "lang": str,
            "score": float,
            "ts": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["events"].create_index(["user_id", "ts"])
    db["events"].create_index(["kind", "ref"])


@migrations()
def m002_sessions_and_roleplay(db: Database) -> None:
    # One in-progress session (role-play, quiz, drill...) per user; survives restarts.
    db["sessions"].create(
        {"user_id": int, "kind": str, "ref_id": int, "state": str, "updated_at": str},
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["roleplay_runs"].create(
        {
            "id": int,
            "user_id": int,
            "scenario": str,
            "node": str,  # the turn now waiting for an answer
            "guided": int,
            "status": str,  # active | finished | cancelled
            "ending": str,
            "outcome": str,
            "score": float,  # mean turn score when finished
            "assignment_id": int,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["roleplay_runs"].create_index(["user_id", "started_at"])
    db["roleplay_runs"].create_index(["scenario"])
    db["roleplay_turns"].create(
        {
            "id": int,
            "run_id": int,
            "node": str,
            "reply": str,
            "guided_choice": str,
            "score": int,
            "passed": int,
            "outcome": str,
            "verdict": str,  # advance | continuation | null
            "checks": str,  # JSON list of {id, kind, passed, weight}
            "ts": str,
        },
        pk="id",
        foreign_keys=[("run_id", "roleplay_runs", "id")],
    )
    db["roleplay_turns"].create_index(["run_id"])
