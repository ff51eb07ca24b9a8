"""Team reports, CSV export and the score chart: pure functions over the Store (and the Library).

Every query is set-based (one statement per table of the report, never one per member) and
runs on covering indexes, so a team of hundreds with hundreds of thousands of attempts reports
in well under a second. Chat rendering lives in bot/core/reports_feature.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.content.library import Library
from bot.store import Store

#: (assignment, user) pairs with a finished run started from the assignment, best score first
#: finished. `{aids}` is a subquery or list of the assignment ids wanted.
DONE_SQL = """
select assignment_id, user_id, max(score) as score, min(finished_at) as finished_at from (
  select assignment_id, user_id, score, finished_at from quiz_runs
   where status = 'finished' and assignment_id in ({aids})
  union all
  select assignment_id, user_id, score, finished_at from roleplay_runs
   where status = 'finished' and assignment_id in ({aids})
) group by assignment_id, user_id
"""

#: A role-play check failed: a must/good point missed, or a red flag hit.
FAILED_CHECK = "(json_extract(j.value, '$.kind') = 'red_flag') = json_extract(j.value, '$.passed')"
TOP = 5


def done_sql(aids: str) -> str:
    return DONE_SQL.format(aids=aids)


@dataclass(frozen=True)
class AssignmentStat:
    id: int
    kind: str  # quiz | roleplay
    ref: str
    due_date: str
    done: int
    members: int
    avg: float | None
    bands: tuple[int, int, int]  # finished with score < 60, 60-79, >= 80


@dataclass(frozen=True)
class MemberStat:
    user_id: int
    name: str
    done: int
    assigned: int
    avg: float | None
    last_active: str | None


@dataclass(frozen=True)
class TeamReport:
    team: dict[str, Any]
    members: int
    assignments: list[AssignmentStat]
    people: list[MemberStat]
    weak_cards: list[tuple[str, int, int]]  # (card ref, answers missed, answers given)
    failed_checks: list[tuple[str, str, str, int]]  # (scenario, node, check id, times failed)
    looked_up: list[tuple[str, int]]  # (card ref, look-ups)


@dataclass(frozen=True)
class MemberDetail:
    team: dict[str, Any]
    user: dict[str, Any]
    assignments: list[dict[str, Any]]  # id, kind, ref, due_date, done, score, finished_at
    quiz_answers: int
    quiz_right: int
    roleplays: int
    roleplay_avg: float | None
    weak_cards: list[tuple[str, int, int]]


def _team_assignments(team_id: int) -> str:
    return f"select id from assignments where team_id = {int(team_id)}"


def build_report(store: Store, lib: Library, team_id: int) -> TeamReport:
    """Everything /report shows about one team."""
    team = store.one("select * from teams where id = ?", [team_id])
    if team is None:
        raise KeyError(team_id)
    refresh_tallies(store)
    done = done_sql(_team_assignments(team_id))
    members = store.one("select count(*) as n from team_members where team_id = ?", [team_id])
    n_members = int(members["n"]) if members else 0
    stats = [
        AssignmentStat(
            r["id"],
            r["kind"],
            r["ref"],
            r["due_date"],
            r["done"],
            n_members,
            r["avg"],
            (r["b0"] or 0, r["b1"] or 0, r["b2"] or 0),
        )
        for r in store.query(
            f"with done as ({done}) "
            "select a.id, a.kind, a.ref, a.due_date, count(d.user_id) as done, avg(d.score) as avg, "
            "sum(d.score < 60) as b0, sum(d.score >= 60 and d.score < 80) as b1, sum(d.score >= 80) as b2 "
            "from assignments a left join done d on d.assignment_id = a.id "
            "and d.user_id in (select user_id from team_members where team_id = :team) "
            "where a.team_id = :team group by a.id order by a.due_date desc, a.id desc",
            {"team": team_id},
        )
    ]
    people = [
        MemberStat(r["id"], r["name"] or "", r["done"], len(stats), r["avg"], r["last_active"])
        for r in store.query(
            f"with done as ({done}) "
            "select u.id, u.name, u.last_active, count(d.assignment_id) as done, avg(d.score) as avg "
            "from team_members m join users u on u.id = m.user_id "
            "left join done d on d.user_id = m.user_id "
            "where m.team_id = :team group by u.id order by done, u.last_active, u.name",
            {"team": team_id},
        )
    ]
    return TeamReport(
        team=team,
        members=n_members,
        assignments=stats,
        people=people,
        weak_cards=_weak_cards(store, lib, "m.team_id = :team", {"team": team_id}),
        failed_checks=_failed_checks(store, lib, team_id),
        looked_up=_looked_up(store, lib, team_id),
    )


def refresh_tallies(store: Store) -> None:
    """Fold attempts stored since the last call into the per-trainee tallies (set-based, one pass).

    Quiz answers and role-play turns never change once written, so each is counted once,
    whichever code path wrote it. Cheap when nothing is new: two indexed max() reads, no write.
    """
    marks = {r["name"]: r["last_id"] for r in store.query("select * from tally_marks")}
    tops = (
        store.one(
            "select (select max(id) from quiz_answers) as quiz, (select max(id) from roleplay_turns) as roleplay"
        )
        or {}
    )
    span = {name: (marks.get(name, 0), tops.get(name) or 0) for name in ("quiz", "roleplay")}
    if all(old >= new for old, new in span.values()):
        return
    with store.tx() as db:
        db.execute(
            "insert into card_tallies (user_id, card, answered, missed) "
            "select user_id, card, count(*), sum(correct = 0) from quiz_answers where id > ? and id <= ? "
            "group by user_id, card on conflict (user_id, card) do update set "
            "answered = answered + excluded.answered, missed = missed + excluded.missed",
            span["quiz"],
        )
        # The new turns' failed checks, read out of their JSON once.
        db.execute(
            "create temp table new_failures as select r.user_id, r.scenario, t.node, "
            "json_extract(j.value, '$.id') as check_id, count(*) as n "
            "from roleplay_turns t join roleplay_runs r on r.id = t.run_id, json_each(t.checks) j "
            f"where t.id > ? and t.id <= ? and {FAILED_CHECK} group by 1, 2, 3, 4",
            span["roleplay"],
        )
        db.execute(
            "insert or ignore into rubric_checks (scenario, node, check_id) "
            "select distinct scenario, node, check_id from new_failures"
        )
        db.execute(
            "insert into check_tallies (user_id, check_key, failed) select f.user_id, k.id, sum(f.n) "
            "from new_failures f join rubric_checks k on k.scenario = f.scenario and k.node = f.node "
            "and k.check_id = f.check_id where true group by 1, 2 "
            "on conflict (user_id, check_key) do update set failed = failed + excluded.failed"
        )
        db.execute("drop table temp.new_failures")
        db.conn.executemany(
            "insert into tally_marks (name, last_id) values (?, ?) "
            "on conflict (name) do update set last_id = excluded.last_id",
            [(name, new) for name, (_, new) in span.items()],
        )


def _weak_cards(store: Store, lib: Library, where: str, params: dict[str, Any]) -> list[tuple[str, int, int]]:
    rows = store.query(
        "select c.card, sum(c.missed) as missed, sum(c.answered) as n "
        "from team_members m join card_tallies c on c.user_id = m.user_id "
        f"where {where} group by c.card having missed > 0 order by missed desc, n, c.card limit {TOP * 2}",
        params,
    )
    return [(r["card"], r["missed"], r["n"]) for r in rows if r["card"] in lib.cards][:TOP]


def _failed_checks(store: Store, lib: Library, team_id: int) -> list[tuple[str, str, str, int]]:
    rows = store.query(
        "select k.scenario, k.node, k.check_id, t.n from (select c.check_key, sum(c.failed) as n "
        "from team_members m join check_tallies c on c.user_id = m.user_id where m.team_id = ? "
        f"group by c.check_key order by n desc limit {TOP * 2}) t join rubric_checks k on k.id = t.check_key "
        "order by t.n desc, 1, 2, 3",
        [team_id],
    )
    return [
        (r["scenario"], r["node"], r["check_id"], r["n"])
        for r in rows
        if r["scenario"] in lib.scenarios and f"rp:{r['scenario']}/{r['node']}" in lib.rubrics
    ][:TOP]


def _looked_up(store: Store, lib: Library, team_id: int) -> list[tuple[str, int]]:
    rows = store.query(
        "select e.ref, count(*) as n from team_members m join events e on e.user_id = m.user_id "
        "where m.team_id = ? and e.kind in ('search', 'view', 'inline') and e.ref is not null "
        f"group by e.ref order by n desc, e.ref limit {TOP * 2}",
        [team_id],
    )
    return [(r["ref"], r["n"]) for r in rows if r["ref"] in lib.cards][:TOP]


def member_detail(store: Store, lib: Library, team_id: int, user_id: int) -> MemberDetail | None:
    """One trainee in one team: their assignments, practice totals and weakest cards."""
    team = store.one("select * from teams where id = ?", [team_id])
    user = store.one(
        "select u.* from team_members m join users u on u.id = m.user_id where m.team_id = ? and m.user_id = ?",
        [team_id, user_id],
    )
    if team is None or user is None:
        return None
    refresh_tallies(store)
    done = done_sql(_team_assignments(team_id))
    assignments = store.query(
        f"with done as ({done}) "
        "select a.id, a.kind, a.ref, a.due_date, d.user_id is not null as done, d.score, d.finished_at "
        "from assignments a left join done d on d.assignment_id = a.id and d.user_id = :user "
        "where a.team_id = :team order by a.due_date desc, a.id desc",
        {"team": team_id, "user": user_id},
    )
    quiz = store.one(
        "select count(*) as n, coalesce(sum(correct), 0) as right from quiz_answers where user_id = ?",
        [user_id],
    ) or {"n": 0, "right": 0}
    rp = store.one(
        "select count(*) as n, avg(score) as avg from roleplay_runs where user_id = ? and status = 'finished'",
        [user_id],
    ) or {"n": 0, "avg": None}
    return MemberDetail(
        team=team,
        user=user,
        assignments=assignments,
        quiz_answers=quiz["n"],
        quiz_right=quiz["right"],
        roleplays=rp["n"],
        roleplay_avg=rp["avg"],
        weak_cards=_weak_cards(
            store, lib, "m.team_id = :team and m.user_id = :user", {"team": team_id, "user": user_id}
        ),
    )


# ---------------------------------------------------------------- CSV export

EXPORT_COLUMNS = (
    "ts",
    "user_id",
    "name",
    "teams",
    "activity",
    "run_id",
    "assignment_id",
    "content",
    "item",
    "card",
    "answer",
    "correct",
    "score",
)


#: SQL: a quote before user text a spreadsheet would run as a formula (=, +, -, @, tab, CR).
_GUARD = "iif(unicode({c}) in (61, 43, 45, 64, 9, 13), '''', '')"


def _csv_line(*fields: str) -> str:
    """SQL building one CSV line with a single printf(): a field is a column or literal written
    as is (numbers, timestamps, content ids), or "text:<column>" for user text (quoted, its
    quotes doubled by %w, formula-safe)."""
    fmt, args = [], []
    for field in fields:
        if field.startswith("text:"):
            col = field[5:]
            fmt.append('"%s%w"')
            args += [_GUARD.format(c=col), f"coalesce({col}, '')"]
        else:
            fmt.append("%s")
            args.append(field)
    return f"printf('{','.join(fmt)}', {', '.join(args)})"


_QUIZ_LINE = _csv_line(
    *("a.ts", "a.user_id", "text:p.name", "text:p.teams", "'quiz'", "a.run_id", "r.assignment_id"),
    *("r.playbook", "a.question", "a.card", "text:a.answer", "a.correct", "a.score"),
)
_ROLEPLAY_LINE = _csv_line(
    *("t.ts", "r.user_id", "text:p.name", "text:p.teams", "'roleplay'", "t.run_id", "r.assignment_id"),
    *("r.scenario", "t.node", "''", "text:t.reply", "t.passed", "t.score"),
)


def export_csv(store: Store, team_id: int | None) -> bytes:
    """Every quiz answer, then every role-play turn (of one team's members, or of everyone), as CSV.

    UTF-8 with a byte-order mark, so Excel shows Chinese correctly. SQLite builds each line
    (user text quoted, ids and numbers plain) in one pass over the attempts.
    """
    if team_id is None:
        people = (
            "select u.id as user_id, u.name, group_concat(tm.name, '; ') as teams from users u "
            "left join team_members m on m.user_id = u.id left join teams tm on tm.id = m.team_id group by u.id"
        )
    else:
        tid = int(team_id)
        people = (
            f"select u.id as user_id, u.name, (select name from teams where id = {tid}) as teams "
            f"from team_members m join users u on u.id = m.user_id where m.team_id = {tid}"
        )
    # The attempts stay the outer loop (CROSS JOIN): sequential reads, then one lookup per join;
    # joining `people` both filters to the team and brings each row's name and teams.
    sql = f"""
    with people as materialized ({people})
    select {_QUIZ_LINE} from quiz_answers a cross join quiz_runs r on r.id = a.run_id
      cross join people p on p.user_id = a.user_id
    union all
    select {_ROLEPLAY_LINE} from roleplay_turns t cross join roleplay_runs r on r.id = t.run_id
      cross join people p on p.user_id = r.user_id
    """
    lines = [",".join(EXPORT_COLUMNS), *(row[0] for row in store.db.execute(sql))]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


# ---------------------------------------------------------------- chart


def score_series(store: Store, team_id: int) -> dict[str, list[tuple[date, float]]]:
    """The team's mean finished-run score per day, for quizzes and role-plays."""
    rows = store.query(
        "select 'quiz' as kind, substr(r.finished_at, 1, 10) as day, avg(r.score) as avg "
        "from team_members m join quiz_runs r on r.user_id = m.user_id "
        "where m.team_id = :team and r.status = 'finished' group by day "
        "union all "
        "select 'roleplay', substr(r.finished_at, 1, 10), avg(r.score) "
        "from team_members m join roleplay_runs r on r.user_id = m.user_id "
        "where m.team_id = :team and r.status = 'finished' group by 2 "
        "order by 1, 2",
        {"team": team_id},
    )
    series: dict[str, list[tuple[date, float]]] = {"quiz": [], "roleplay": []}
    for r in rows:
        if r["day"]:
            series[r["kind"]].append((date.fromisoformat(r["day"]), float(r["avg"] or 0)))
    return series


def scores_chart(store: Store, team_id: int) -> bytes | None:
    """A PNG line chart of the team's scores over time, or None when nothing is finished yet.

    Labels are English and numeric on purpose: a server may have no CJK font.
    """
    series = score_series(store, team_id)
    if not any(series.values()):
        return None
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.figure import Figure  # no pyplot: no global state, headless (Agg) by default

    fig = Figure(figsize=(6.4, 3), dpi=90)
    ax = fig.subplots()
    for kind, label, style in (("quiz", "Quiz", "o-"), ("roleplay", "Role-play", "s--")):
        points = series[kind]
        if points:
            # Markers only while points are few: they show single days, and they cost time.
            style = style if len(points) <= 31 else style[1:]
            ax.plot([p[0] for p in points], [p[1] for p in points], style, label=label, markersize=4)
    days = [p[0] for points in series.values() for p in points]
    ax.set_xlim(min(days) - timedelta(days=1), max(days) + timedelta(days=1))
    ax.set_ylim(0, 100)
    ax.set_ylabel("mean score")
    ax.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.12)  # tight_layout is slow
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
