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


@migrations()
def m101_quizzes(db: Database) -> None:
    # A quiz run holds its fixed question list and where the trainee is, so a restart resumes it.
    db["quiz_runs"].create(
        {
            "id": int,
            "user_id": int,
            "playbook": str,
            "assignment_id": int,  # set when the run was started from an assignment
            "questions": str,  # JSON list of "<playbook-id>/<question-id>", in the order asked
            "pos": int,  # index of the question now waiting for an answer
            "picks": str,  # JSON list of option positions picked so far (multiple choice, ordering)
            "status": str,  # active | finished | cancelled
            "correct": int,
            "answered": int,
            "score": float,  # mean answer score (0-100) when finished
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        defaults={"pos": 0, "picks": "[]", "correct": 0, "answered": 0},
    )
    db["quiz_runs"].create_index(["user_id", "status"])
    db["quiz_runs"].create_index(["assignment_id", "user_id", "status"])
    db["quiz_answers"].create(
        {
            "id": int,
            "run_id": int,
            "user_id": int,
            "question": str,  # "<playbook-id>/<question-id>"
            "card": str,  # the card the question tests
            "kind": str,
            "answer": str,  # option ids joined by ",", true/false, or the typed text
            "correct": int,
            "score": int,  # 100 or 0 for choices; the rubric score for typed answers
            "ts": str,
        },
        pk="id",
        foreign_keys=[("run_id", "quiz_runs", "id"), ("user_id", "users", "id")],
    )
    db["quiz_answers"].create_index(["run_id"])
    # Covering indexes for "what did this user miss before" and the team reports.
    db["quiz_answers"].create_index(["user_id", "question", "correct"])
    db["quiz_answers"].create_index(["user_id", "card", "correct"])


@migrations()
def m102_teams_and_assignments(db: Database) -> None:
    db["teams"].create(
        {"id": int, "name": str, "code": str, "owner_id": int, "created_at": str},
        pk="id",
        not_null={"name", "code", "owner_id"},
        foreign_keys=[("owner_id", "users", "id")],
    )
    db["teams"].create_index(["code"], unique=True)
    db["teams"].create_index(["owner_id"])
    db["team_members"].create(
        {"team_id": int, "user_id": int, "joined_at": str},
        pk=("team_id", "user_id"),
        foreign_keys=[("team_id", "teams", "id"), ("user_id", "users", "id")],
    )
    db["team_members"].create_index(["user_id"])
    db["assignments"].create(
        {
            "id": int,
            "team_id": int,
            "kind": str,  # quiz | roleplay
            "ref": str,  # playbook id or scenario id
            "questions": str,  # quiz: JSON list of question ids, the same fixed set for everyone
            "due_date": str,  # YYYY-MM-DD, in the bot's time zone
            "created_by": int,
            "created_at": str,
        },
        pk="id",
        not_null={"team_id", "kind", "ref", "due_date", "created_by"},
        foreign_keys=[("team_id", "teams", "id"), ("created_by", "users", "id")],
    )
    db["assignments"].create_index(["team_id", "due_date"])
    # What was sent, so a reminder or summary is never sent twice (and restarts lose none).
    db["assignment_notices"].create(
        {"assignment_id": int, "user_id": int, "kind": str, "sent_at": str},  # kind: before | due | summary
        pk=("assignment_id", "kind", "user_id"),
        foreign_keys=[("assignment_id", "assignments", "id")],
    )


@migrations()
def m103_report_indexes(db: Database) -> None:
    # Set-based team reports join members to their runs and look-ups.
    db["roleplay_runs"].create_index(["assignment_id", "user_id", "status"])
    db["roleplay_runs"].create_index(["user_id", "status", "finished_at"])
    db["events"].create_index(["user_id", "kind", "ref"])


@migrations()
def m201_reviews(db: Database) -> None:
    # Spaced review: one row per card or quiz question a trainee has met, holding its FSRS
    # state in columns so today's queue is one indexed range query on (user_id, due).
    db["review_items"].create(
        {
            "id": int,
            "user_id": int,
            "kind": str,  # card | question
            "ref": str,  # "<playbook-id>/<card-id>" or "<playbook-id>/<question-id>"
            "state": int,  # fsrs.State: 1 learning, 2 review, 3 relearning
            "step": int,
            "stability": float,
            "difficulty": float,
            "due": str,  # UTC timestamp text, sorts like bot.store.db.now()
            "last_review": str,
            "reps": int,  # ratings so far; button data carries it, so a double tap is stale
            "created_at": str,
        },
        pk="id",
        not_null={"user_id", "kind", "ref", "state", "due"},
        defaults={"reps": 0},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["review_items"].create_index(["user_id", "kind", "ref"], unique=True)
    db["review_items"].create_index(["user_id", "due"])
    db["review_logs"].create(
        {
            "id": int,
            "item_id": int,
            "user_id": int,
            "rating": int,  # fsrs.Rating 1-4
            "source": str,  # drill | quiz
            "due": str,  # the next due date this rating gave
            "stability": float,
            "ts": str,
        },
        pk="id",
        foreign_keys=[("item_id", "review_items", "id"), ("user_id", "users", "id")],
    )
    db["review_logs"].create_index(["user_id", "ts"])
    db["review_logs"].create_index(["item_id"])


@migrations()
def m202_progress_prefs(db: Database) -> None:
    # Per-trainee progress settings and bookkeeping (the time zone lives in users.tz).
    db["user_prefs"].create(
        {
            "user_id": int,
            "remind_at": str,  # HH:MM local time of the daily drill reminder, null = off
            "reminded_on": str,  # local date (YYYY-MM-DD) the reminder was last handled
            "leaderboard": int,  # 0 = opted out of the team leaderboard
            "digest_week": str,  # ISO week (e.g. 2025-W07) of the last weekly digest
            "digest_state": str,  # JSON {playbook: mastery} at the last digest, to say what improved
            "seen_event": int,  # events.id up to which card views became review items
            "seen_answer": int,  # quiz_answers.id up to which answers were applied to review items
            "created_at": str,
        },
        pk="user_id",
        defaults={"leaderboard": 1, "seen_event": 0, "seen_answer": 0},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["call_logs"].create(
        {
            "id": int,
            "user_id": int,
            "card": str,  # the card used on the real call
            "outcome": str,  # advanced | continued | won | lost; null while being logged
            "note": str,
            "ts": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["call_logs"].create_index(["card", "outcome"])
    db["call_logs"].create_index(["user_id", "ts"])


@migrations()
def m104_report_tallies(db: Database) -> None:
    # Covering indexes replace m101/m103's narrower ones: reports read runs without table lookups.
    for old in (
        "idx_quiz_runs_user_id_status",
        "idx_quiz_runs_assignment_id_user_id_status",
        "idx_quiz_answers_user_id_card_correct",
        "idx_roleplay_runs_assignment_id_user_id_status",
        "idx_roleplay_runs_user_id_status_finished_at",
    ):
        db.execute(f"drop index if exists {old}")
    db["quiz_runs"].create_index(["user_id", "status", "finished_at", "score"])
    db["quiz_runs"].create_index(["assignment_id", "status", "user_id", "score", "finished_at"])
    db["roleplay_runs"].create_index(["assignment_id", "status", "user_id", "score", "finished_at"])
    db["roleplay_runs"].create_index(["user_id", "status", "finished_at", "score"])
    # Per-trainee tallies derived from quiz_answers and roleplay_turns (both append-only), brought
    # up to date incrementally from a high-water mark, so reports never re-read every attempt.
    # WITHOUT ROWID: rows are stored in key order, so a team's tallies are range reads by user.
    db["tally_marks"].create({"name": str, "last_id": int}, pk="name")
    db.execute(
        "create table card_tallies (user_id integer, card text, answered integer, missed integer, "
        "primary key (user_id, card)) without rowid"
    )
    # Rubric checks get a small integer key: team totals then group by an integer, not three texts.
    db["rubric_checks"].create({"id": int, "scenario": str, "node": str, "check_id": str}, pk="id")
    db["rubric_checks"].create_index(["scenario", "node", "check_id"], unique=True)
    db.execute(
        "create table check_tallies (user_id integer, check_key integer, failed integer, "
        "primary key (user_id, check_key)) without rowid"
    )


@migrations()
def m105_assignment_cancel(db: Database) -> None:
    # A cancelled assignment keeps its row (history, linked runs) but leaves /todo, reminders,
    # summaries and reports; who cancelled it and when.
    db["assignments"].add_column("cancelled_at", str)
    db["assignments"].add_column("cancelled_by", int)
