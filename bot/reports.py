"""Team reports, CSV export and the score chart: pure functions over the Store (and the Library).

Every query is set-based (one statement per table of the report, never one per member) and
runs on covering indexes, so a team of hundreds with hundreds of thousands of attempts reports
in well under a second. Chat rendering lives in bot/core/reports_feature.py.

What counts for a team: work done for that team's assignments plus its members' own practice
(runs started from no assignment). A run started from another team's assignment belongs to
that team and never shows in this one's report, member details, chart or export.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.content.library import Library
from bot.store import Store

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: (assignment, user) pairs with a finished run started from the assignment, best score first
#: finished. `{aids}` is a subquery or list of the assignment ids wanted; `{who}` narrows it
#: (" and user_id = 5") or is empty.
DONE_SQL = """
select assignment_id, user_id, max(score) as score, min(finished_at) as finished_at from (
  select assignment_id, user_id, score, finished_at from quiz_runs
   where status = 'finished' and assignment_id in ({aids}){who}
  union all
  select assignment_id, user_id, score, finished_at from roleplay_runs
   where status = 'finished' and assignment_id in ({aids}){who}
) group by assignment_id, user_id
"""

#: (assignment, user) pairs with a run in progress, with how far it got: quiz answers given,
#: or role-play replies sent. (A finished run may exist too: DONE_SQL wins where both do.)
STARTED_SQL = """
select assignment_id, user_id, max(progress) as progress from (
  select r.assignment_id, r.user_id, (select count(*) from quiz_answers x where x.run_id = r.id) as progress
    from quiz_runs r where r.status = 'active' and r.assignment_id in ({aids}){who}
  union all
  select r.assignment_id, r.user_id, (select count(*) from roleplay_turns x where x.run_id = r.id)
    from roleplay_runs r where r.status = 'active' and r.assignment_id in ({aids}){who}
) group by assignment_id, user_id
"""

#: A role-play check failed: a must/good point missed, or a red flag hit.
FAILED_CHECK = "(json_extract(j.value, '$.kind') = 'red_flag') = json_extract(j.value, '$.passed')"
TOP = 5


def done_sql(aids: str, who: str = "") -> str:
    return DONE_SQL.format(aids=aids, who=who)


def _team_assignments(team_id: int, live: bool = False) -> str:
    """SQL: the ids of the team's assignments (`live`: leaving out cancelled ones, which
    reports do not list, though work done for them still counts as the team's)."""
    return f"select id from assignments where team_id = {int(team_id)}" + (
        " and cancelled_at is null" if live else ""
    )


def counts_for_team(run: str, team_id: int) -> str:
    """SQL condition: the run `run` (an alias) counts for this team: practice, or its assignment."""
    return f"({run}.assignment_id is null or {run}.assignment_id in ({_team_assignments(team_id)}))"


def _foreign_runs(table: str, team_id: int, cols: str, user: str = "") -> str:
    """SQL: the members' runs started from another team's assignment (to leave out of tallies).

    Read off the (assignment_id, ...) index (the unary + keeps SQLite off the user_id one,
    which would fetch every practice run's row): only assigned runs are looked at. `cols` are
    the columns of `r` wanted; `user` narrows it to one member (a bound parameter, ":user").
    """
    tid = int(team_id)
    one = f" and r.user_id = {user}" if user else ""
    return (
        f"select {cols} from {table} r where r.assignment_id is not null "
        f"and r.assignment_id not in ({_team_assignments(tid)}){one} "
        f"and +r.user_id in (select user_id from team_members where team_id = {tid})"
    )


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
    started: int = 0  # members with a run in progress and none finished


@dataclass(frozen=True)
class MemberStat:
    user_id: int
    name: str
    done: int
    assigned: int
    avg: float | None
    last_active: str | None
    started: int = 0  # assignments begun but not finished


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
    #: id, kind, ref, due_date, done, score, finished_at; started (a run in progress), progress
    #: (answers or replies so far) and total (an assigned quiz's questions)
    assignments: list[dict[str, Any]]
    quiz_answers: int
    quiz_right: int
    roleplays: int
    roleplay_avg: float | None
    weak_cards: list[tuple[str, int, int]]


def _progress_ctes(team_id: int, user_id: int | None = None) -> str:
    """`with done as (...), started as (...)` for this team's assignments (and one member).

    For the whole team `started` (pairs in progress and not done) is computed once, as
    subqueries read it per row; for one member the caller tells done from started."""
    aids = _team_assignments(team_id, live=True)
    who = "" if user_id is None else f" and user_id = {int(user_id)}"
    started = STARTED_SQL.format(aids=aids, who=who.replace("user_id", "r.user_id"))
    if user_id is None:
        started = (
            f"materialized (select * from ({started}) s where not exists "
            "(select 1 from done d where d.assignment_id = s.assignment_id and d.user_id = s.user_id))"
        )
    else:
        started = f"({started})"
    return f"with done as ({done_sql(aids, who)}), started as {started} "


def build_report(store: Store, lib: Library, team_id: int) -> TeamReport:
    """Everything /report shows about one team."""
    team = store.one("select * from teams where id = ?", [team_id])
    if team is None:
        raise KeyError(team_id)
    refresh_tallies(store)
    ctes = _progress_ctes(team_id)
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
            r["started"],
        )
        for r in store.query(
            f"{ctes}"
            "select a.id, a.kind, a.ref, a.due_date, count(d.user_id) as done, avg(d.score) as avg, "
            "sum(d.score < 60) as b0, sum(d.score >= 60 and d.score < 80) as b1, sum(d.score >= 80) as b2, "
            "(select count(*) from started s where s.assignment_id = a.id and s.user_id in "
            "(select user_id from team_members where team_id = :team)) as started "
            "from assignments a left join done d on d.assignment_id = a.id "
            "and d.user_id in (select user_id from team_members where team_id = :team) "
            "where a.team_id = :team and a.cancelled_at is null group by a.id "
            "order by a.due_date desc, a.id desc",
            {"team": team_id},
        )
    ]
    people = [
        MemberStat(r["id"], r["name"] or "", r["done"], len(stats), r["avg"], r["last_active"], r["started"])
        for r in store.query(
            f"{ctes}"
            "select u.id, u.name, u.last_active, count(d.assignment_id) as done, avg(d.score) as avg, "
            "(select count(*) from started s where s.user_id = u.id) as started "
            "from team_members m join users u on u.id = m.user_id "
            "left join done d on d.user_id = m.user_id "
            "where m.team_id = :team group by u.id order by done, started, u.last_active, u.name",
            {"team": team_id},
        )
    ]
    return TeamReport(
        team=team,
        members=n_members,
        assignments=stats,
        people=people,
        weak_cards=_weak_cards(store, lib, team_id),
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


def _mark(name: str) -> str:
    """SQL: the last attempt id the tallies hold (foreign work past it is not in them yet)."""
    return f"(select coalesce(max(last_id), 0) from tally_marks where name = '{name}')"


def _weak_cards(
    store: Store, lib: Library, team_id: int, user_id: int | None = None
) -> list[tuple[str, int, int]]:
    """Cards most missed in quizzes: the tallies, less answers given for other teams' assignments."""
    who = "m.team_id = :team" + (" and m.user_id = :user" if user_id is not None else "")
    foreign = _foreign_runs("quiz_runs", team_id, "r.id", ":user" if user_id is not None else "")
    rows = store.query(
        "with tally as (select c.card, sum(c.missed) as missed, sum(c.answered) as n "
        f"from team_members m join card_tallies c on c.user_id = m.user_id where {who} group by c.card), "
        "away as materialized (select a.card, sum(a.correct = 0) as missed, count(*) as n "
        f"from ({foreign}) r cross join quiz_answers a on a.run_id = r.id where a.id <= {_mark('quiz')} "
        "group by a.card) "
        "select * from (select t.card, t.missed - coalesce(w.missed, 0) as missed, t.n - coalesce(w.n, 0) as n "
        "from tally t left join away w on w.card = t.card) "
        f"where missed > 0 order by missed desc, n, card limit {TOP * 2}",
        {"team": team_id, "user": user_id},
    )
    return [(r["card"], r["missed"], r["n"]) for r in rows if r["card"] in lib.cards][:TOP]


def _failed_checks(store: Store, lib: Library, team_id: int) -> list[tuple[str, str, str, int]]:
    """Rubric checks most failed in role-plays, less those in other teams' assigned runs."""
    foreign = _foreign_runs("roleplay_runs", team_id, "r.id")
    rows = store.query(
        "with tally as (select c.check_key, sum(c.failed) as n from team_members m "
        "join check_tallies c on c.user_id = m.user_id where m.team_id = :team group by c.check_key), "
        "away as materialized (select k.id as check_key, count(*) as n "
        f"from ({foreign}) f cross join roleplay_runs r on r.id = f.id "
        "cross join roleplay_turns t on t.run_id = r.id, json_each(t.checks) j "
        "join rubric_checks k on k.scenario = r.scenario and k.node = t.node "
        "and k.check_id = json_extract(j.value, '$.id') "
        f"where t.id <= {_mark('roleplay')} and {FAILED_CHECK} group by k.id) "
        "select * from (select k.scenario, k.node, k.check_id, t.n - coalesce(w.n, 0) as n from tally t "
        "join rubric_checks k on k.id = t.check_key left join away w on w.check_key = t.check_key) "
        f"where n > 0 order by n desc, 1, 2, 3 limit {TOP * 2}",
        {"team": team_id},
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
    """One trainee in one team: their assignments, practice totals and weakest cards.

    Totals count the trainee's practice and this team's assignments, not other teams' work.
    """
    team = store.one("select * from teams where id = ?", [team_id])
    user = store.one(
        "select u.* from team_members m join users u on u.id = m.user_id where m.team_id = ? and m.user_id = ?",
        [team_id, user_id],
    )
    if team is None or user is None:
        return None
    refresh_tallies(store)
    params = {"team": team_id, "user": user_id}
    assignments = store.query(
        f"{_progress_ctes(team_id, user_id)}"
        "select a.id, a.kind, a.ref, a.due_date, d.user_id is not null as done, d.score, d.finished_at, "
        "d.user_id is null and s.user_id is not null as started, s.progress, "
        "json_array_length(a.questions) as total "
        "from assignments a left join done d on d.assignment_id = a.id and d.user_id = :user "
        "left join started s on s.assignment_id = a.id and s.user_id = :user "
        "where a.team_id = :team and a.cancelled_at is null order by a.due_date desc, a.id desc",
        params,
    )
    quiz = store.one(
        "select count(*) as n, coalesce(sum(a.correct), 0) as right from quiz_answers a "
        f"join quiz_runs r on r.id = a.run_id where a.user_id = :user and {counts_for_team('r', team_id)}",
        params,
    ) or {"n": 0, "right": 0}
    rp = store.one(
        "select count(*) as n, avg(r.score) as avg from roleplay_runs r "
        f"where r.user_id = :user and r.status = 'finished' and {counts_for_team('r', team_id)}",
        params,
    ) or {"n": 0, "avg": None}
    return MemberDetail(
        team=team,
        user=user,
        assignments=assignments,
        quiz_answers=quiz["n"],
        quiz_right=quiz["right"],
        roleplays=rp["n"],
        roleplay_avg=rp["avg"],
        weak_cards=_weak_cards(store, lib, team_id, user_id),
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
    "answer",  # what the trainee picked, as shown (option texts), or what they typed
    "correct",
    "score",
    "answer_key",  # the picked option ids (or true/false), the same in every language; empty if typed
)

#: True/false answers as the quiz shows them (qz.true / qz.false in bot/core/quiz_feature.py).
TRUE_FALSE = {"zh": ("对", "错"), "en": ("True", "False")}
#: The SQL function export_csv registers to turn a stored answer into its CSV field.
ANSWER_FN = "coachbot_answer_field"

#: SQL: a quote before user text a spreadsheet would run as a formula (=, +, -, @, tab, CR).
_GUARD = "iif(unicode({c}) in (61, 43, 45, 64, 9, 13), '''', '')"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_line(*fields: str) -> str:
    """SQL building one CSV line with a single printf(): a field is a column or literal written
    as is (numbers, timestamps, content ids), "text:<column>" for user text (quoted, its
    quotes doubled by %w, formula-safe), or "field:<expression>" that is already a CSV field."""
    fmt, args = [], []
    for field in fields:
        if field.startswith("text:"):
            col = field[5:]
            fmt.append('"%s%w"')
            args += [_GUARD.format(c=col), f"coalesce({col}, '')"]
        else:
            fmt.append("%s")
            args.append(field.removeprefix("field:"))
    return f"printf('{','.join(fmt)}', {', '.join(args)})"


def _quiz_line(teams: str) -> str:
    return _csv_line(
        *("a.ts", "a.user_id", "text:p.name", f"text:{teams}", "'quiz'", "a.run_id", "r.assignment_id"),
        *("r.playbook", "a.question", "a.card", f"field:{ANSWER_FN}(a.kind, a.question, a.answer)"),
        *("a.correct", "a.score", "text:iif(a.kind = 'text', '', a.answer)"),
    )


def _roleplay_line(teams: str) -> str:
    return _csv_line(
        *("t.ts", "r.user_id", "text:p.name", f"text:{teams}", "'roleplay'", "t.run_id", "r.assignment_id"),
        *("r.scenario", "t.node", "''", "text:t.reply", "t.passed", "t.score", "''"),
    )


def csv_field(text: str) -> str:
    """One quoted CSV field, formula-safe by the same rule as _GUARD."""
    guard = "'" if text.startswith(_FORMULA_START) else ""
    return '"' + guard + text.replace('"', '""') + '"'


def answer_reader(lib: Library | None, lang: str) -> Callable[[str | None, str | None, str | None], str]:
    """(kind, question, stored answer) -> the CSV field a manager reads: the option text(s) as
    the quiz showed them, in `lang`; typed answers as typed; the stored key when the question
    or an option has left the content since (or no library is given)."""
    yes, no = TRUE_FALSE.get(lang, TRUE_FALSE["en"])
    seen: dict[tuple[str, str, str], str] = {}

    def shown(kind: str, qid: str, raw: str) -> str:
        entry = lib.questions.get(qid) if lib is not None else None
        if entry is None or entry[1].kind != kind:
            return raw
        if kind == "truefalse":
            return {"true": yes, "false": no}.get(raw, raw)
        texts = {o.id: o.text.get(lang) for o in entry[1].options}
        ids = raw.split(",")
        if not all(i in texts for i in ids):
            return raw
        return (" → " if kind == "order" else "; ").join(texts[i] for i in ids)

    def field(kind: str | None, qid: str | None, raw: str | None) -> str:
        raw = raw or ""
        if kind is None or kind == "text" or qid is None:
            return csv_field(raw)
        key = (kind, qid, raw)
        if key not in seen:  # choices repeat: each (question, answer) is worked out once
            seen[key] = csv_field(shown(kind, qid, raw))
        return seen[key]

    return field


def export_csv(store: Store, team_id: int | None, lib: Library | None = None, lang: str = "en") -> bytes:
    """Every quiz answer, then every role-play turn (of one team's members, or of everyone), as CSV.

    A team's export holds its members' practice and the work done for its own assignments,
    never work done for another team's assignment; an assigned row's `teams` is that
    assignment's team. Answers are written as the trainee saw them, in `lang` (`lib` has the
    option texts). UTF-8 with a byte-order mark, so Excel shows Chinese correctly. SQLite
    builds each line (user text quoted, ids and numbers plain) in one pass over the attempts.
    """
    if team_id is None:
        people = (
            "select u.id as user_id, u.name, group_concat(tm.name, '; ') as teams from users u "
            "left join team_members m on m.user_id = u.id left join teams tm on tm.id = m.team_id group by u.id"
        )
        # An assigned run's team is its assignment's (two primary-key look-ups, assigned rows only).
        scope = "left join assignments ag on ag.id = r.assignment_id left join teams g on g.id = ag.team_id"
        teams, keep = "coalesce(g.name, p.teams)", "true"
    else:
        tid = int(team_id)
        people = (
            f"select u.id as user_id, u.name, (select name from teams where id = {tid}) as teams "
            f"from team_members m join users u on u.id = m.user_id where m.team_id = {tid}"
        )
        # Only practice and this team's assignments, so every row's team is this one.
        scope, teams, keep = "", "p.teams", counts_for_team("r", tid)
    store.db.conn.create_function(ANSWER_FN, 3, answer_reader(lib, lang), deterministic=True)
    # The attempts stay the outer loop (CROSS JOIN): sequential reads, then one lookup per join;
    # joining `people` both filters to the team and brings each row's name and teams.
    sql = f"""
    with people as materialized ({people})
    select {_quiz_line(teams)} from quiz_answers a cross join quiz_runs r on r.id = a.run_id
      cross join people p on p.user_id = a.user_id {scope} where {keep}
    union all
    select {_roleplay_line(teams)} from roleplay_turns t cross join roleplay_runs r on r.id = t.run_id
      cross join people p on p.user_id = r.user_id {scope} where {keep}
    """
    lines = [",".join(EXPORT_COLUMNS), *(row[0] for row in store.db.execute(sql))]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


# ---------------------------------------------------------------- chart

#: Spans up to this many days get a tick (and a MM-DD label) per day or per few days;
#: longer ones get month/year ticks.
DAY_TICKS_UP_TO = 62
MAX_TICKS = 9


def score_series(store: Store, team_id: int) -> dict[str, list[tuple[date, float]]]:
    """The team's mean finished-run score per day, for quizzes and role-plays.

    Practice and this team's assignments count: the members' runs off the covering indexes,
    less their runs for other teams' assignments (sums and counts, so the means stay exact).
    """
    parts = []
    for kind, table in (("quiz", "quiz_runs"), ("roleplay", "roleplay_runs")):
        foreign = _foreign_runs(table, team_id, "r.score, r.finished_at") + " and r.status = 'finished'"
        parts += [
            f"select '{kind}' as kind, substr(r.finished_at, 1, 10) as day, sum(r.score) as s, "
            f"count(r.score) as n from team_members m join {table} r on r.user_id = m.user_id "
            "where m.team_id = :team and r.status = 'finished' group by 2",
            f"select '{kind}', substr(r.finished_at, 1, 10), -sum(r.score), -count(r.score) from ({foreign}) r group by 2",
        ]
    rows = store.query(
        f"select kind, day, 1.0 * sum(s) / sum(n) as avg from ({' union all '.join(parts)}) "
        "group by kind, day having sum(n) > 0 order by kind, day",
        {"team": team_id},
    )
    series: dict[str, list[tuple[date, float]]] = {"quiz": [], "roleplay": []}
    for r in rows:
        if r["day"]:
            series[r["kind"]].append((date.fromisoformat(r["day"]), float(r["avg"] or 0)))
    return series


def _date_axis(ax: Any, first: date, last: date) -> None:
    """One tick per day (every few days for a longer span) labelled MM-DD, never repeated;
    months and years for long spans. The limits sit half a day past the data, so no label
    is cut at the edge."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DateFormatter, date2num
    from matplotlib.ticker import MultipleLocator

    lo, hi = date2num(first) - 0.5, date2num(last) + 0.5
    ax.set_xlim(lo, hi)
    days = (last - first).days + 1
    if days <= DAY_TICKS_UP_TO:
        ax.xaxis.set_major_locator(MultipleLocator(max(1, math.ceil(days / MAX_TICKS))))
        ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    else:
        locator = AutoDateLocator(minticks=3, maxticks=MAX_TICKS)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))


def score_figure(store: Store, team_id: int) -> Figure | None:
    """The score chart as a matplotlib Figure (scores_chart renders it), or None when nothing
    is finished yet. Labels are English and numeric on purpose: a server may have no CJK font."""
    series = score_series(store, team_id)
    if not any(series.values()):
        return None
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
    _date_axis(ax, min(days), max(days))
    ax.set_ylim(0, 100)
    ax.set_ylabel("mean score")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    # Room for the y label and the tick labels, set by hand: tight_layout is slow.
    fig.subplots_adjust(left=0.11, right=0.97, top=0.95, bottom=0.13)
    return fig


def scores_chart(store: Store, team_id: int) -> bytes | None:
    """A PNG line chart of the team's mean scores per day, or None when nothing is finished yet."""
    fig = score_figure(store, team_id)
    if fig is None:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
