"""What a trainee's record adds up to: mastery per playbook, streak, recent results, weekly points.

Plain functions over the Store and the Library; the formulas are documented in
docs/progress.md. Nothing here writes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from bot.content.library import Library
from bot.core.review import retrievability, ts
from bot.store import Store

# Component weights of mastery (docs/progress.md); a component a playbook lacks is left out.
W_QUIZ, W_ROLEPLAY, W_RETENTION = 0.4, 0.3, 0.3
STREAK_WINDOW = 400  # days of history read for the streak


@dataclass(frozen=True)
class Mastery:
    playbook: str
    quiz: float | None  # share of the playbook's questions whose latest answer was right
    roleplay: float | None  # mean best score (0-1) over the role-plays that use its cards
    retention: float  # mean FSRS recall probability over its cards and questions
    score: int  # 0-100

    @property
    def touched(self) -> bool:
        return bool(self.quiz or self.roleplay or self.retention)


def mastery(store: Store, lib: Library, user_id: int, now: datetime) -> dict[str, Mastery]:
    """Mastery 0-100 of every playbook for one user (three small indexed queries)."""
    latest = store.query(
        "select question, correct from quiz_answers where id in "
        "(select max(id) from quiz_answers where user_id = ? group by question)",
        [user_id],
    )
    right = {r["question"] for r in latest if r["correct"]}
    best = {
        r["scenario"]: (r["best"] or 0) / 100
        for r in store.query(
            "select scenario, max(score) as best from roleplay_runs where user_id = ? and status = 'finished' "
            "group by scenario",
            [user_id],
        )
    }
    recall: dict[str, float] = defaultdict(float)
    for row in store.query("select * from review_items where user_id = ?", [user_id]):
        recall[row["ref"].split("/")[0]] += retrievability(row, now)
    out = {}
    for pid, pb in lib.playbooks.items():
        qids = [f"{pid}/{q.id}" for q in pb.quiz]
        quiz = sum(q in right for q in qids) / len(qids) if qids else None
        cards = {c.id for c in lib.playbook_cards(pid)}
        linked = [sid for sid, sc in lib.scenarios.items() if cards & set(sc.cards)]
        roleplay = sum(best.get(sid, 0.0) for sid in linked) / len(linked) if linked else None
        retention = min(1.0, recall[pid] / (len(cards) + len(qids)))
        parts = [(W_QUIZ, quiz), (W_ROLEPLAY, roleplay), (W_RETENTION, retention)]
        total = sum(w for w, v in parts if v is not None)
        score = round(100 * sum(w * v for w, v in parts if v is not None) / total)
        out[pid] = Mastery(pid, quiz, roleplay, retention, score)
    return out


# ---------------------------------------------------------------- streak

_ACTIVITY = """
select distinct substr(ts, 1, 13) as hour from (
  select ts from events where user_id = :u and ts >= :since
  union all select ts from quiz_answers where user_id = :u and ts >= :since
  union all select t.ts from roleplay_turns t join roleplay_runs r on r.id = t.run_id
   where r.user_id = :u and t.ts >= :since
  union all select ts from review_logs where user_id = :u and ts >= :since
  union all select ts from call_logs where user_id = :u and outcome is not null and ts >= :since
)
"""


def active_days(
    store: Store, user_id: int, now: datetime, tz: tzinfo, days: int = STREAK_WINDOW
) -> set[date]:
    """Local dates with any activity: look-ups, quiz answers, role-play turns, reviews, call logs."""
    since = ts(now - timedelta(days=days))
    hours = store.query(_ACTIVITY, {"u": user_id, "since": since})
    # Hour buckets keep the result small; whole-hour time zones map each bucket to one local date.
    return {
        datetime.strptime(r["hour"], "%Y-%m-%dT%H").replace(tzinfo=UTC).astimezone(tz).date() for r in hours
    }


def streak(days: set[date], today: date) -> int:
    """Consecutive active days up to today (or up to yesterday while today is still open)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


# ---------------------------------------------------------------- recent results and assignments


def recent_results(store: Store, user_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The latest finished quizzes and role-plays: kind, ref, score, finished_at."""
    return store.query(
        "select * from ("
        " select 'quiz' as kind, playbook as ref, score, correct, answered, finished_at from quiz_runs"
        "  where user_id = :u and status = 'finished'"
        " union all"
        " select 'roleplay', scenario, score, null, null, finished_at from roleplay_runs"
        "  where user_id = :u and status = 'finished'"
        ") order by finished_at desc limit :n",
        {"u": user_id, "n": limit},
    )


def open_assignments(
    store: Store, user_id: int, limit: int = 5, kind: str | None = None, ref: str | None = None
) -> list[dict[str, Any]]:
    """Assignments of the user's teams they have not finished yet (not cancelled), soonest due
    first, with their team's name; `kind` and `ref` narrow them to one piece of content."""
    return store.query(
        "select a.*, tm.name as team from assignments a "
        "join team_members m on m.team_id = a.team_id and m.user_id = :u "
        "join teams tm on tm.id = a.team_id "
        "where a.cancelled_at is null "
        "and (:kind is null or a.kind = :kind) and (:ref is null or a.ref = :ref) "
        "and not exists (select 1 from quiz_runs r where r.assignment_id = a.id and r.user_id = :u "
        "  and r.status = 'finished') "
        "and not exists (select 1 from roleplay_runs r where r.assignment_id = a.id and r.user_id = :u "
        "  and r.status = 'finished') "
        "order by a.due_date, a.id limit :n",
        {"u": user_id, "n": limit, "kind": kind, "ref": ref},
    )


# ---------------------------------------------------------------- weekly points


@dataclass(frozen=True)
class Week:
    reviews: int
    quiz_right: int
    quiz_answered: int
    turns_passed: int
    roleplays: int

    @property
    def points(self) -> int:
        """Leaderboard points: one per review, right quiz answer and passed role-play turn."""
        return self.reviews + self.quiz_right + self.turns_passed


_WEEK = """
select u.id as user_id, u.name as name,
 (select count(*) from review_logs l where l.user_id = u.id and l.source = 'drill' and l.ts >= :since)
   as reviews,
 (select count(*) from quiz_answers a where a.user_id = u.id and a.correct = 1 and a.ts >= :since)
   as quiz_right,
 (select count(*) from quiz_answers a where a.user_id = u.id and a.ts >= :since) as quiz_answered,
 (select count(*) from roleplay_turns t join roleplay_runs r on r.id = t.run_id
   where r.user_id = u.id and t.passed = 1 and t.ts >= :since) as turns_passed,
 (select count(*) from roleplay_runs r where r.user_id = u.id and r.status = 'finished'
   and r.finished_at >= :since) as roleplays
from users u where u.id in (select value from json_each(:ids))
"""


def weeks(store: Store, user_ids: list[int], since: datetime) -> dict[int, tuple[str, Week]]:
    """Each user's name and activity since `since` (one statement for the whole team)."""
    rows = store.query(_WEEK, {"since": ts(since), "ids": json.dumps(user_ids)})
    return {
        r["user_id"]: (
            r["name"] or "",
            Week(r["reviews"], r["quiz_right"], r["quiz_answered"], r["turns_passed"], r["roleplays"]),
        )
        for r in rows
    }
