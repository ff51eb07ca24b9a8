"""Manager-side figures on a big, realistic database: team report, CSV export, drill queue.

Rows are generated directly with SQL through the Store's own schema (its migrations), in
one transaction, so a team of 500 trainees with 200,000 attempts takes seconds to build.
An attempt is a quiz answer or a role-play turn (the rows the CSV export lists); runs,
assignments and look-up events around them are generated in realistic proportions.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.content.library import Library
from bot.store import Store

QUIZ_SHARE = 0.75  # of attempts: quiz answers; the rest are role-play turns
PER_QUIZ = 5  # answers per quiz run
PER_ROLEPLAY = 4  # turns per role-play run
EVENTS_PER_TRAINEE = 100  # look-ups and card views
NOW = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(rng: random.Random, days: int = 90) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(days * 86400))


def _insert(db: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        cols = list(rows[0])
        sql = f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})"
        db.conn.executemany(sql, [[r[c] for c in cols] for r in rows])


def build_team(store: Store, lib: Library, trainees: int, attempts: int, seed: int = 3) -> int:
    """A team of `trainees` with `attempts` quiz answers and role-play turns; its id."""
    rng = random.Random(seed)
    manager, first = 1, 1000
    users = [
        {
            "id": uid,
            "name": f"学员{uid}" if uid % 2 else f"Trainee {uid}",
            "lang": "zh" if uid % 2 else "en",
            "role": "manager" if uid == manager else "trainee",
            "created_at": _ts(NOW - timedelta(days=120)),
            "last_active": _ts(_when(rng, 30)),
        }
        for uid in [manager, *range(first, first + trainees)]
    ]
    members = [u["id"] for u in users[1:]]
    questions = list(lib.questions)
    quizzes = sorted({pid for pid, _ in (q.split("/") for q in questions)})
    scenarios = list(lib.scenarios)
    assignments = [
        {
            "id": i + 1,
            "team_id": 1,
            "kind": kind,
            "ref": ref,
            "questions": json.dumps(rng.sample([q for q in questions if q.startswith(ref + "/")], 3))
            if kind == "quiz"
            else None,
            "due_date": (NOW - timedelta(days=7 * i)).date().isoformat(),
            "created_by": manager,
            "created_at": _ts(NOW - timedelta(days=7 * i + 7)),
        }
        for i, (kind, ref) in enumerate(
            [("quiz", rng.choice(quizzes)) for _ in range(8)]
            + [("roleplay", rng.choice(scenarios)) for _ in range(4)]
        )
    ]
    by_kind = {k: [a["id"] for a in assignments if a["kind"] == k] for k in ("quiz", "roleplay")}
    quiz_runs, quiz_answers, rp_runs, rp_turns = [], [], [], []
    n_quiz = int(attempts * QUIZ_SHARE)
    while len(quiz_answers) < n_quiz:
        run_id, uid, start = len(quiz_runs) + 1, rng.choice(members), _when(rng)
        asked = rng.sample(questions, PER_QUIZ)
        right = [rng.random() < 0.7 for _ in asked]
        quiz_runs.append(
            {
                "id": run_id,
                "user_id": uid,
                "playbook": asked[0].split("/")[0],
                "assignment_id": rng.choice(by_kind["quiz"]) if rng.random() < 0.4 else None,
                "questions": json.dumps(asked),
                "pos": PER_QUIZ,
                "status": "finished",
                "correct": sum(right),
                "answered": PER_QUIZ,
                "score": 100 * sum(right) / PER_QUIZ,
                "started_at": _ts(start),
                "finished_at": _ts(start + timedelta(minutes=4)),
            }
        )
        for k, (qid, ok) in enumerate(zip(asked, right, strict=True)):
            quiz_answers.append(
                {
                    "id": len(quiz_answers) + 1,
                    "run_id": run_id,
                    "user_id": uid,
                    "question": qid,
                    "card": lib.questions[qid][1].card,
                    "kind": lib.questions[qid][1].kind,
                    "answer": "a",
                    "correct": int(ok),
                    "score": 100 if ok else 0,
                    "ts": _ts(start + timedelta(seconds=40 * k)),
                }
            )
    while len(quiz_answers) + len(rp_turns) < attempts:
        run_id, uid, start = len(rp_runs) + 1, rng.choice(members), _when(rng)
        sid = rng.choice(scenarios)
        nodes = list(lib.scenarios[sid].nodes)
        scores = []
        for k in range(PER_ROLEPLAY):
            node = nodes[k % len(nodes)]
            checks = [
                {"id": c.id, "kind": c.kind, "passed": rng.random() < 0.6, "weight": c.effective_weight}
                for c in lib.node_rubric(sid, node)
            ]
            score = rng.randint(20, 100)
            scores.append(score)
            rp_turns.append(
                {
                    "id": len(rp_turns) + 1,
                    "run_id": run_id,
                    "node": node,
                    "reply": "我想先了解一下贵单位现在的通信情况，您看下周二方便吗？",
                    "score": score,
                    "passed": int(score >= 60),
                    "outcome": "strong" if score >= 75 else "partial" if score >= 35 else "weak",
                    "verdict": None,
                    "checks": json.dumps(checks),
                    "ts": _ts(start + timedelta(seconds=60 * k)),
                }
            )
        rp_runs.append(
            {
                "id": run_id,
                "user_id": uid,
                "scenario": sid,
                "node": nodes[0],
                "guided": 0,
                "status": "finished",
                "ending": None,
                "outcome": "success",
                "score": statistics.mean(scores),
                "assignment_id": rng.choice(by_kind["roleplay"]) if rng.random() < 0.4 else None,
                "started_at": _ts(start),
                "finished_at": _ts(start + timedelta(minutes=5)),
            }
        )
    cards = list(lib.cards)
    events = [
        {
            "user_id": uid,
            "kind": rng.choice(("search", "view", "view", "inline")),
            "ref": rng.choice(cards),
            "text": "客户说太贵了",
            "lang": "zh",
            "score": 70.0,
            "ts": _ts(_when(rng)),
        }
        for uid in members
        for _ in range(EVENTS_PER_TRAINEE)
    ]
    with store.tx() as db:
        _insert(db, "users", users)
        _insert(
            db,
            "teams",
            [
                {
                    "id": 1,
                    "name": "华东政企一组",
                    "code": "BENCH1",
                    "owner_id": manager,
                    "created_at": _ts(NOW),
                }
            ],
        )
        _insert(db, "team_members", [{"team_id": 1, "user_id": u, "joined_at": _ts(NOW)} for u in members])
        _insert(db, "assignments", assignments)
        _insert(db, "quiz_runs", quiz_runs)
        _insert(db, "quiz_answers", quiz_answers)
        _insert(db, "roleplay_runs", rp_runs)
        _insert(db, "roleplay_turns", rp_turns)
        _insert(db, "events", events)
    store.db.execute("analyze")
    return 1


def build_reviews(store: Store, items: int, others: int = 50, seed: int = 4) -> int:
    """A trainee with `items` review items (among `others` trainees with as many); their id."""
    rng = random.Random(seed)
    first = 500_000
    users = [
        {"id": uid, "name": f"Trainee {uid}", "lang": "zh", "role": "trainee", "created_at": _ts(NOW)}
        for uid in range(first, first + others + 1)
    ]
    rows = []
    for user in users:
        for i in range(items):
            last = _when(rng, 60)
            rows.append(
                {
                    "user_id": user["id"],
                    "kind": "card" if i % 3 else "question",
                    "ref": f"gen-{i // 50:04d}/c{i % 50}",
                    "state": rng.choice((1, 2, 2, 2, 3)),
                    "step": 0,
                    "stability": round(rng.uniform(0.5, 60), 2),
                    "difficulty": round(rng.uniform(1, 10), 2),
                    # Most items are due later; about a quarter are due today or overdue.
                    "due": _ts(last + timedelta(days=rng.uniform(0, 60))),
                    "last_review": _ts(last),
                    "reps": rng.randint(1, 12),
                    "created_at": _ts(last - timedelta(days=5)),
                }
            )
    with store.tx() as db:
        _insert(db, "users", users)
        _insert(db, "review_items", rows)
    store.db.execute("analyze")
    return first


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report_and_export_ms(tmp: Path, lib: Library, trainees: int, attempts: int) -> dict[str, float | None]:
    """Median time of `build_report` and `export_csv` for the generated team (None: not built yet)."""
    try:
        from bot.reports import build_report, export_csv
    except ImportError:
        return {"report_ms": None, "export_ms": None}
    store = Store(tmp / "reports.db")
    try:
        team = build_team(store, lib, trainees, attempts)
        rows = export_csv(store, team, lib, "zh").count(b"\n") - 1
        if rows < attempts:
            raise RuntimeError(f"the export has {rows} rows, expected {attempts}")
        return {
            "report_ms": median_ms(lambda: build_report(store, lib, team), 5),
            "export_ms": median_ms(lambda: export_csv(store, team, lib, "zh"), 3),  # as /export sends it
        }
    finally:
        store.close()


def drill_queue_ms(tmp: Path, items: int) -> float | None:
    """Median time of today's whole drill queue for a trainee with `items` review items."""
    try:
        from bot.core.review import drill_queue
    except ImportError:
        return None
    store = Store(tmp / "reviews.db")
    try:
        user = build_reviews(store, items)
        end_of_day = NOW.replace(hour=23, minute=59)
        if not drill_queue(store, user, end_of_day, items):
            raise RuntimeError("the generated trainee has nothing due")
        return median_ms(lambda: drill_queue(store, user, end_of_day, items), 20)
    finally:
        store.close()
