"""Assignments: a manager sets a quiz or a role-play for a team with a due date; the bot
delivers it, lists it in /todo, and chases it.

An assignment is finished for a trainee when a run started from it (`quiz_runs.assignment_id`,
`roleplay_runs.assignment_id`) is finished; that is derived from the runs, never copied.
A trainee who starts the same content themselves (`/quiz`, `/roleplay`) while it is assigned to
them gets that run linked to the earliest-due open assignment (`link_assignment`).
Reminders are decided by `due_reminders(coach, now)`: a pure use-case over the store that
records each notice it returns, so a restart rebuilds everything and nothing goes out twice.
A cancelled assignment (`cancelled_at`) keeps its row and its runs, and leaves /todo, the
reminders, the summaries and the reports.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from bot.core.coach import Feature
from bot.core.prefs import tz_of
from bot.core.progress import open_assignments
from bot.core.render import e
from bot.core.reply import Button, Reply, rows
from bot.core.review import ts
from bot.core.teams import (
    NAME_MAX,
    clean_text,
    count_members,
    find_team,
    is_member,
    manageable_team,
    manageable_teams,
    parse_id,
    refusal,
)
from bot.i18n import add_strings, t
from bot.reports import done_sql
from bot.store.db import now as now_text

if TYPE_CHECKING:
    from bot.core.coach import Coach, Who

SESSION = "assign"
REMIND_AT = time(9, 0)  # reminders go at 09:00 the day before and on the due date
MAX_AHEAD_DAYS = 366
ASSIGNED_QUESTIONS = 20  # an assigned quiz asks at most this many questions
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")
SUMMARY_NAMES = 20
CANCEL_LIST = 30  # open assignments offered as cancel buttons
#: Day words accepted as a due date, in days from today (the bot's time zone).
RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "今天": 0, "明天": 1, "后天": 2}
#: A last word that is clearly an attempted date (not part of a team name): digits, / or ., or a day word.
DATEISH_RE = re.compile(
    r"[0-9\uff10-\uff19/.\uff0f]|[今明后昨]天|星期|礼拜|周[一二三四五六日天末]|下周|下个?月|月底"
    r"|^(yesterday|tonight|next|week|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|tmr|tmrw)$",
    re.IGNORECASE,
)

add_strings(
    {
        "cmd.todo": {"zh": "我的待办练习", "en": "My assigned work"},
        "cmd.assign": {
            "zh": "布置练习：/assign quiz:手册 团队 日期",
            "en": "Assign: /assign quiz:playbook team YYYY-MM-DD",
        },
        "as.usage": {
            "zh": "用法：/assign quiz:手册ID 团队 YYYY-MM-DD 或 /assign roleplay:场景ID 团队 YYYY-MM-DD；只发 /assign 会一步步引导你。",
            "en": "Usage: /assign quiz:playbook-id team YYYY-MM-DD or /assign roleplay:scenario-id team YYYY-MM-DD; plain /assign walks you through it.",
        },
        "as.cancel_usage": {
            "zh": "用法：/assign cancel 作业编号（只发 /assign cancel 会列出可以取消的作业）。",
            "en": "Usage: /assign cancel assignment-number (plain /assign cancel lists the ones you can cancel).",
        },
        "as.bad_what": {
            "zh": "没有“{what}”可以布置。用 quiz:手册ID 或 roleplay:场景ID。",
            "en": "There is nothing called \u201c{what}\u201d to assign. Use quiz:playbook-id or roleplay:scenario-id.",
        },
        "as.bad_date": {
            "zh": "日期请写成 YYYY-MM-DD（或 今天/明天/后天），并且在今天到一年之内，例如 {example}。",
            "en": "Write the date as YYYY-MM-DD (or today / tomorrow), from today up to a year ahead, e.g. {example}.",
        },
        "as.pick_kind": {"zh": "要布置什么？", "en": "What do you want to assign?"},
        "as.btn.quiz": {"zh": "📝 测验", "en": "📝 Quiz"},
        "as.btn.roleplay": {"zh": "🎭 角色扮演", "en": "🎭 Role-play"},
        "as.pick_ref": {"zh": "选一项内容：", "en": "Pick the content:"},
        "as.pick_team": {"zh": "布置给哪个团队？", "en": "Which team?"},
        "as.pick_date": {
            "zh": "截止日期？点一个，或直接输入 YYYY-MM-DD。",
            "en": "Due date? Tap one, or type YYYY-MM-DD.",
        },
        "as.btn.days": {"zh": "{n} 天后（{d}）", "en": "In {n} days ({d})"},
        "as.btn.tomorrow": {"zh": "明天（{d}）", "en": "Tomorrow ({d})"},
        "as.btn.cancel": {"zh": "✖️ 取消", "en": "✖️ Cancel"},
        "as.no_teams": {
            "zh": "你还没有团队，先用 /team new 名称 创建一个。",
            "en": "You have no team yet; create one with /team new name.",
        },
        "as.cancelled": {"zh": "好的，没有布置。", "en": "OK, nothing was assigned."},
        "as.created": {
            "zh": "✅ 已把 <b>{what}</b> 布置给 <b>{team}</b>（{members}），截止 {due}（作业 #{id}）。已通知每位成员。",
            "en": "✅ Assigned <b>{what}</b> to <b>{team}</b> ({members}), due {due} (assignment #{id}). Everyone has been told.",
        },
        "as.rem_both": {
            "zh": "截止前一天和当天的 {at} 会提醒未完成的人。",
            "en": "Those not finished get a reminder at {at} the day before and at {at} on the day.",
        },
        "as.rem_due": {
            "zh": "当天 {at} 会提醒未完成的人（前一天的提醒时间已经过了）。",
            "en": "Those not finished get a reminder at {at} on the day (the day-before reminder time has passed).",
        },
        "as.rem_none": {
            "zh": "不会再发提醒：前一天和当天 {at} 的提醒时间都已经过了。",
            "en": "No reminders will be sent: the reminder times ({at} the day before and on the day) have passed.",
        },
        "as.duplicate": {
            "zh": "<b>{team}</b> 已经有这项作业了：<b>{what}</b>，截止 {due}（作业 #{id}）。没有重复布置，也没有再通知成员。要取消它：/assign cancel {id}",
            "en": "<b>{team}</b> already has this: <b>{what}</b>, due {due} (assignment #{id}). Nothing new was assigned or sent. To cancel it: /assign cancel {id}",
        },
        "as.btn.cancel_one": {"zh": "✖️ 取消这项作业", "en": "✖️ Cancel this assignment"},
        "as.cancel_pick": {
            "zh": "要取消哪项作业？（只列出还没到期的）",
            "en": "Which assignment do you want to cancel? (open ones only)",
        },
        "as.cancel_none": {
            "zh": "你的团队没有未到期的作业。",
            "en": "Your teams have no open assignments.",
        },
        "as.cancel_confirm": {
            "zh": "确定取消 <b>{what}</b>（{team}，截止 {due}，作业 #{id}）吗？不会再提醒，也不会有汇总；会告诉成员一次。",
            "en": "Cancel <b>{what}</b> ({team}, due {due}, assignment #{id})? No more reminders or summary; the members are told once.",
        },
        "as.btn.cancel_yes": {"zh": "✖️ 确定取消", "en": "✖️ Yes, cancel it"},
        "as.btn.cancel_no": {"zh": "保留", "en": "Keep it"},
        "as.cancel_kept": {"zh": "好的，作业保留。", "en": "OK, the assignment stays."},
        "as.cancel_unknown": {
            "zh": "没有编号为 {id} 的作业。/assign cancel 会列出可以取消的作业。",
            "en": "There is no assignment #{id}. Plain /assign cancel lists the ones you can cancel.",
        },
        "as.cancel_already": {"zh": "这项作业已经取消了。", "en": "That assignment is already cancelled."},
        "as.cancel_done": {
            "zh": "❎ 已取消 <b>{what}</b>（{team}，截止 {due}，作业 #{id}）。不会再提醒，也不会有汇总；记录保留。",
            "en": "❎ Cancelled <b>{what}</b> ({team}, due {due}, assignment #{id}). No more reminders or summary; the history is kept.",
        },
        "as.cancel_told": {"zh": "已通知 {members}。", "en": "{members} told."},
        "as.cancel_notify": {
            "zh": "❎ <b>作业已取消</b>：{what}\n团队：{team} · 原截止 {due}。这项不用再做了。",
            "en": "❎ <b>Assignment cancelled</b>: {what}\nTeam: {team} · was due {due}. Nothing more to do for it.",
        },
        "as.start_cancelled": {
            "zh": "这项作业已经被经理取消了，不用再做。",
            "en": "Your manager cancelled this assignment; there is nothing to do for it.",
        },
        "as.linked": {
            "zh": "📌 这次练习算作你的作业（{team}，截止 {due}）。",
            "en": "📌 This counts for your assignment due {due} ({team}).",
        },
        "as.gone_manager": {
            "zh": "⚠️ 作业 #{id} <b>{what}</b>（{team}，截止 {due}）的内容已经从内容库中删除：成员无法完成，也不会收到提醒。可以用 /assign cancel {id} 取消它。",
            "en": "⚠️ The content of assignment #{id} <b>{what}</b> ({team}, due {due}) has been removed from the library: members cannot do it and get no reminders. Cancel it with /assign cancel {id}.",
        },
        "as.summary_gone": {
            "zh": "⚠️ 它的内容已经从内容库中删除。",
            "en": "⚠️ Its content has since been removed from the library.",
        },
        "as.notify": {
            "zh": "📌 <b>新作业</b>：{what}\n团队：{team} · 截止 {due}",
            "en": "📌 <b>New assignment</b>: {what}\nTeam: {team} · due {due}",
        },
        "as.btn.start": {"zh": "▶️ 开始", "en": "▶️ Start"},
        "as.remind_before": {
            "zh": "⏰ 提醒：<b>{what}</b>（{team}）明天 {due} 截止，还没完成。",
            "en": "⏰ Reminder: <b>{what}</b> ({team}) is due tomorrow, {due}, and is not finished yet.",
        },
        "as.remind_due": {
            "zh": "⏰ 今天截止：<b>{what}</b>（{team}），还没完成。",
            "en": "⏰ Due today: <b>{what}</b> ({team}) is not finished yet.",
        },
        "as.summary": {
            "zh": "📋 <b>{what}</b>（{team}）已过截止日期 {due}：{done}/{n} 人完成。",
            "en": "📋 <b>{what}</b> ({team}) was due {due}: {done} of {n} finished.",
        },
        "as.summary_missing": {"zh": "未完成：{names}", "en": "Not finished: {names}"},
        "as.btn.report": {"zh": "📊 看报告", "en": "📊 Report"},
        "as.quiz_title": {"zh": "测验：{title}", "en": "Quiz: {title}"},
        "as.roleplay_title": {"zh": "角色扮演：{title}", "en": "Role-play: {title}"},
        "todo.none": {
            "zh": "现在没有布置给你的练习 🎉 想练的话试试 /quiz 或 /roleplay。",
            "en": "Nothing is assigned to you right now 🎉 Try /quiz or /roleplay to practise.",
        },
        "todo.open": {"zh": "📌 <b>待完成</b>", "en": "📌 <b>To do</b>"},
        "todo.done": {"zh": "✅ <b>已完成</b>", "en": "✅ <b>Done</b>"},
        "todo.due": {"zh": "截止 {due}", "en": "due {due}"},
        "todo.overdue": {"zh": "已过期 {due}", "en": "overdue since {due}"},
        "todo.score": {"zh": "得分 {score}", "en": "score {score}"},
        "as.already_done": {
            "zh": "这项作业你已经完成了（得分 {score}）。想再练可以用下面的按钮。",
            "en": "You have already finished this one (score {score}). Practise again with the button below.",
        },
        "as.gone": {
            "zh": "这项作业的内容已经下线了，请联系你的经理。",
            "en": "This assignment's content is no longer available; please tell your manager.",
        },
        "as.session_hint": {
            "zh": "正在布置作业：请点上面的按钮，或 /cancel 取消。",
            "en": "You are setting an assignment: tap a button above, or /cancel.",
        },
    }
)


# ---------------------------------------------------------------- shared helpers


def zone(coach: Coach) -> tzinfo:
    """Due dates are days in the bot's time zone (COACHBOT_TIMEZONE), the same for the whole team."""
    return tz_of(None, coach.timezone)


def today(coach: Coach, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone(coach)).date()


def parse_due(coach: Coach, raw: str, now: datetime | None = None) -> date | None:
    """A due date from YYYY-MM-DD or a day word (today, 明天...), today or up to a year ahead; else None."""
    text, first = raw.strip(), today(coach, now)
    if text.casefold() in RELATIVE_DAYS:
        return first + timedelta(days=RELATIVE_DAYS[text.casefold()])
    if not DATE_RE.match(text):
        return None
    try:
        y, m, d = (int(x) for x in text.split("-"))
        due = date(y, m, d)
    except ValueError:
        return None
    return due if first <= due <= first + timedelta(days=MAX_AHEAD_DAYS) else None


def is_date_word(raw: str) -> bool:
    """A word /assign reads as the due date (never as part of the team name)."""
    return bool(DATE_RE.match(raw)) or raw.casefold() in RELATIVE_DAYS


def looks_like_date(raw: str) -> bool:
    """A word that was probably meant as a date (25/11/2026, 25.11, tomorrow, 下周五), so a team
    lookup that failed on it deserves the date help rather than "no such team"."""
    return is_date_word(raw) or bool(DATEISH_RE.search(raw))


def reminder_plan(coach: Coach, due: date, created: datetime) -> str:
    """Which reminders an assignment created at `created` will get (the rule due_reminders applies:
    a window is used only if the assignment existed when it opened): the i18n key saying so."""
    tz = zone(coach)
    if created < _local(due - timedelta(days=1), REMIND_AT, tz):
        return "as.rem_both"
    return "as.rem_due" if created < _local(due, REMIND_AT, tz) else "as.rem_none"


def _local(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def content_title(coach: Coach, kind: str, ref: str, lang: str) -> str:
    """ "Quiz: <playbook title>" / "Role-play: <scenario title>" (the id if the content is gone)."""
    lib = coach.lib
    item = lib.playbooks.get(ref) if kind == "quiz" else lib.scenarios.get(ref)
    title = item.title.get(lang) if item else ref
    return t(lang, "as.quiz_title" if kind == "quiz" else "as.roleplay_title", title=title)


def _valid_ref(coach: Coach, kind: str, ref: str) -> bool:
    if kind == "quiz":
        pb = coach.lib.playbooks.get(ref)
        return pb is not None and bool(pb.quiz)
    return kind == "roleplay" and ref in coach.lib.scenarios


def finished(coach: Coach, assignment_id: int, user_id: int) -> dict[str, Any] | None:
    return coach.store.one(
        f"select * from ({done_sql('?')}) where user_id = ?", [assignment_id, assignment_id, user_id]
    )


def link_assignment(coach: Coach, who: Who, kind: str, ref: str) -> tuple[dict[str, Any] | None, str]:
    """The trainee's earliest-due open assignment of this content, and the line telling them the
    run they start themselves counts for it; (None, "") when there is none."""
    found = open_assignments(coach.store, who.id, limit=20, kind=kind, ref=ref)
    a = next((x for x in found if _playable(coach, x)), None)
    if a is None:
        return None, ""
    return a, t(who.lang, "as.linked", due=a["due_date"], team=e(a["team"]))


def _playable(coach: Coach, a: dict[str, Any]) -> bool:
    """An assigned quiz is its fixed question set: one whose questions all left the library can't count."""
    if a["kind"] != "quiz":
        return True
    return any(q in coach.lib.questions for q in json.loads(a["questions"] or "[]"))


def _members(coach: Coach, team_id: int) -> list[dict[str, Any]]:
    """The team's members who can be messaged (not blocked), with their language."""
    return coach.store.query(
        "select u.id, u.lang from team_members m join users u on u.id = m.user_id "
        "where m.team_id = ? and u.blocked = 0 order by u.id",
        [team_id],
    )


# ---------------------------------------------------------------- the feature


class AssignFeature(Feature):
    session_kind = SESSION
    help_entries = (("todo", "cmd.todo", "all"), ("assign", "cmd.assign", "manager"))

    def commands(self):  # type: ignore[no-untyped-def]
        return {"assign": self.assign, "todo": self.todo}

    def actions(self):  # type: ignore[no-untyped-def]
        return {"asg": self.press_start, "asn": self.press_new, "asx": self.press_cancel}

    # ------------------------------------------------------------ /assign

    def assign(self, who: Who, args: str) -> list[Reply]:
        if not who.is_manager:
            return refusal(who)
        if not who.private:
            return [Reply(t(who.lang, "role.private"))]
        tokens = args.split()
        if tokens and tokens[0].casefold() in ("cancel", "取消"):
            return self.cancel_command(who, tokens[1:])
        state: dict[str, Any] = {}
        if tokens and ":" in tokens[0]:
            kind, _, ref = tokens.pop(0).partition(":")
            kind, ref = kind.lower(), ref.lower()[:64]
            if kind not in ("quiz", "roleplay") or not _valid_ref(self.coach, kind, ref):
                what = e(clean_text(f"{kind}:{ref}", 70))
                return [Reply(t(who.lang, "as.bad_what", what=what) + "\n" + e(t(who.lang, "as.usage")))]
            state.update(kind=kind, ref=ref)
        if tokens and is_date_word(tokens[-1]):
            due = parse_due(self.coach, tokens.pop())
            if due is None:
                return [Reply(self._date_help(who))]
            state["due"] = due.isoformat()
        if tokens:
            team, problem = find_team(self.coach.store, who, " ".join(tokens))
            if team is None:
                return [Reply(self._team_problem(who, tokens, problem))]
            state["team"] = team["id"]
        return self._step(who, state)

    def _date_help(self, who: Who) -> str:
        example = (today(self.coach) + timedelta(days=7)).isoformat()
        return t(who.lang, "as.bad_date", example=example)

    def _team_problem(self, who: Who, tokens: list[str], problem: str | None) -> str:
        """No team by that name: if the last word was meant as a date (25/11/2026, tomorrow),
        the date is what is wrong, so say how to write one."""
        unknown = t(who.lang, problem or "team.unknown", team=e(clean_text(" ".join(tokens), NAME_MAX)))
        if problem == "team.ambiguous" or not looks_like_date(tokens[-1]):
            return unknown
        if len(tokens) == 1 or find_team(self.coach.store, who, " ".join(tokens[:-1]))[0] is not None:
            return self._date_help(who)
        return unknown + "\n" + self._date_help(who)

    def _step(self, who: Who, state: dict[str, Any], edit: bool = False) -> list[Reply]:
        """Ask for the next missing piece (kept in the session, so a restart resumes), or create."""
        if {"kind", "ref", "team", "due"} <= state.keys():
            return self.create(who, state["kind"], state["ref"], state["team"], state["due"])
        lang = who.lang
        cancel = Button(t(lang, "as.btn.cancel"), "asn:x")
        if "kind" not in state:
            text = t(lang, "as.pick_kind")
            buttons = rows(
                Button(t(lang, "as.btn.quiz"), "asn:k:quiz"),
                Button(t(lang, "as.btn.roleplay"), "asn:k:roleplay"),
                per_row=2,
            ) + rows(cancel)
        elif "ref" not in state:
            text = t(lang, "as.pick_ref")
            if state["kind"] == "quiz":
                items = [(pb.id, pb.title.get(lang)) for pb in self.coach.lib.playbooks.values() if pb.quiz]
            else:
                items = [(sc.id, sc.title.get(lang)) for sc in self.coach.lib.scenarios.values()]
            buttons = rows(*(Button(title, f"asn:r:{ref}") for ref, title in items), cancel)
        elif "team" not in state:
            teams = manageable_teams(self.coach.store, who)
            if not teams:
                self._clear(who)
                return [Reply(t(lang, "as.no_teams"), edit=edit)]
            text = t(lang, "as.pick_team")
            buttons = rows(*(Button(tm["name"], f"asn:t:{tm['id']}") for tm in teams[:30]), cancel, per_row=2)
        else:
            text = t(lang, "as.pick_date")
            first = today(self.coach)
            choices = [Button(self._day_label(lang, first, n), f"asn:d:{n}") for n in (1, 3, 7, 14)]
            buttons = rows(*choices, cancel, per_row=2)
        with self.coach.store.tx() as db:
            self.coach.store.set_session(db, who.id, SESSION, 0, state)
        return [Reply(text, buttons, edit=edit)]

    @staticmethod
    def _day_label(lang: str, first: date, n: int) -> str:
        day = (first + timedelta(days=n)).isoformat()
        return t(lang, "as.btn.tomorrow", d=day) if n == 1 else t(lang, "as.btn.days", n=n, d=day)

    def _clear(self, who: Who) -> None:
        with self.coach.store.tx() as db:
            db.execute("delete from sessions where user_id = ? and kind = ?", [who.id, SESSION])

    def press_new(self, who: Who, data: str) -> list[Reply]:
        """A step of the interactive flow; every value is checked again (button data is never trusted)."""
        if not who.is_manager:
            return refusal(who)
        session = self.coach.store.session(who.id)
        if session is None or session["kind"] != SESSION:
            return [Reply(t(who.lang, "stale_button"))]
        state = dict(session["state"])
        step, _, value = data.partition(":")
        if step == "x":
            self._clear(who)
            return [Reply(t(who.lang, "as.cancelled"), edit=True)]
        if step == "k" and value in ("quiz", "roleplay"):
            state = {"kind": value, **{k: v for k, v in state.items() if k in ("team", "due")}}
        elif step == "r" and "kind" in state and _valid_ref(self.coach, state["kind"], value):
            state["ref"] = value
        elif step == "t" and manageable_team(self.coach.store, who, value) is not None:
            state["team"] = int(value)
        elif step == "d" and value in ("1", "3", "7", "14"):
            state["due"] = (today(self.coach) + timedelta(days=int(value))).isoformat()
        else:
            return [Reply(t(who.lang, "stale_button"))]
        return self._step(who, state, edit=True)

    def on_session_text(self, who: Who, session: dict, text: str) -> list[Reply]:
        state = dict(session["state"])
        if not who.is_manager:
            self._clear(who)
            return refusal(who)
        if {"kind", "ref", "team"} <= state.keys():
            due = parse_due(self.coach, text)
            if due is None:
                return [Reply(self._date_help(who))]
            state["due"] = due.isoformat()
            return self._step(who, state)
        return [Reply(t(who.lang, "as.session_hint"))]

    def cancel(self, who: Who, session: dict) -> list[Reply]:
        self._clear(who)
        return [Reply(t(who.lang, "as.cancelled"))]

    def create(self, who: Who, kind: str, ref: str, team_id: int, due: str) -> list[Reply]:
        """Store the assignment, then tell the manager and every member (in each member's language).

        An assignment identical to one still open (team, content, due date) is refused: a second
        copy would double every notice, reminder and summary, and halve the trainee's tally."""
        store, lang = self.coach.store, who.lang
        team = manageable_team(store, who, team_id)
        if team is None or not _valid_ref(self.coach, kind, ref):
            self._clear(who)
            return [Reply(t(lang, "stale_button"))]
        questions = None
        if kind == "quiz":
            qids = [f"{ref}/{q.id}" for q in self.coach.lib.playbooks[ref].quiz]
            random.shuffle(qids)
            questions = json.dumps(qids[:ASSIGNED_QUESTIONS])
        created = datetime.now(UTC)
        what = content_title(self.coach, kind, ref, lang)
        with store.tx() as db:
            db.execute("delete from sessions where user_id = ? and kind = ?", [who.id, SESSION])
            same = db.execute(
                "select id from assignments where team_id = ? and kind = ? and ref = ? and due_date = ? "
                "and cancelled_at is null",
                [team["id"], kind, ref, due],
            ).fetchone()
            if same is None:
                cur = db.execute(
                    "insert into assignments (team_id, kind, ref, questions, due_date, created_by, created_at) "
                    "values (?, ?, ?, ?, ?, ?, ?)",
                    [team["id"], kind, ref, questions, due, who.id, ts(created)],
                )
                aid = int(cur.lastrowid or 0)
        if same is not None:
            text = t(lang, "as.duplicate", what=e(what), team=e(team["name"]), due=due, id=same[0])
            return [Reply(text)]
        members = _members(self.coach, team["id"])
        plan = reminder_plan(self.coach, date.fromisoformat(due), created)
        text = t(
            lang,
            "as.created",
            what=e(what),
            team=e(team["name"]),
            members=count_members(lang, len(members)),
            due=due,
            id=aid,
        )
        undo = rows(Button(t(lang, "as.btn.cancel_one"), f"asx:{aid}"))
        replies = [Reply(text + " " + e(t(lang, plan, at=REMIND_AT.strftime("%H:%M"))), undo)]
        for m in members:
            lang = m["lang"]
            text = t(
                lang,
                "as.notify",
                what=e(content_title(self.coach, kind, ref, lang)),
                team=e(team["name"]),
                due=due,
            )
            replies.append(Reply(text, rows(Button(t(lang, "as.btn.start"), f"asg:{aid}")), chat_id=m["id"]))
        return replies

    # ------------------------------------------------------------ /assign cancel

    def cancel_command(self, who: Who, tokens: list[str]) -> list[Reply]:
        """`/assign cancel` lists the open assignments to cancel; `/assign cancel ID` cancels one."""
        if not tokens:
            return self._cancel_list(who)
        aid = parse_id(tokens[0].lstrip("#"))
        if aid is None or len(tokens) > 1:
            return [Reply(t(who.lang, "as.cancel_usage"))]
        found = self._cancellable(who, aid)
        if isinstance(found, str):
            return [Reply(found)]
        return self._cancel(who, *found)

    def _cancel_list(self, who: Who) -> list[Reply]:
        teams = {tm["id"]: tm for tm in manageable_teams(self.coach.store, who)}
        if not teams:
            return [Reply(t(who.lang, "as.no_teams"))]
        marks = ",".join("?" * len(teams))
        open_ = self.coach.store.query(
            f"select * from assignments where team_id in ({marks}) and cancelled_at is null "
            f"and due_date >= ? order by due_date, id limit {CANCEL_LIST}",
            [*teams, today(self.coach).isoformat()],
        )
        if not open_:
            return [Reply(t(who.lang, "as.cancel_none"))]
        buttons = []
        for a in open_:
            what = content_title(self.coach, a["kind"], a["ref"], who.lang)
            label = f"✖️ #{a['id']} {what} · {teams[a['team_id']]['name']} · {a['due_date']}"
            buttons.append(Button(label[:64], f"asx:{a['id']}"))
        return [Reply(t(who.lang, "as.cancel_pick"), rows(*buttons))]

    def _cancellable(self, who: Who, aid: int | None) -> tuple[dict[str, Any], dict[str, Any]] | str:
        """The assignment and its team if this person may cancel it; else the answer to give."""
        a = self.coach.store.one("select * from assignments where id = ?", [aid]) if aid else None
        if a is None:
            return t(who.lang, "as.cancel_unknown", id=aid or "?")
        team = manageable_team(self.coach.store, who, a["team_id"])
        if team is None:
            return t(who.lang, "not_allowed")
        if a["cancelled_at"]:
            return t(who.lang, "as.cancel_already")
        return a, team

    def press_cancel(self, who: Who, data: str) -> list[Reply]:
        """`asx:ID` asks to confirm, `asx:ID:y` cancels, `asx:ID:n` keeps (ids checked again)."""
        if not who.is_manager:
            return refusal(who)
        raw, _, step = data.partition(":")
        aid = parse_id(raw)
        if aid is None or step not in ("", "y", "n"):
            return [Reply(t(who.lang, "stale_button"))]
        found = self._cancellable(who, aid)
        if isinstance(found, str):
            return [Reply(found, edit=bool(step))]
        a, team = found
        if step == "n":
            return [Reply(t(who.lang, "as.cancel_kept"), edit=True)]
        if step == "y":
            return self._cancel(who, a, team, edit=True)
        what = content_title(self.coach, a["kind"], a["ref"], who.lang)
        text = t(who.lang, "as.cancel_confirm", what=e(what), team=e(team["name"]), due=a["due_date"], id=aid)
        buttons = rows(
            Button(t(who.lang, "as.btn.cancel_yes"), f"asx:{aid}:y"),
            Button(t(who.lang, "as.btn.cancel_no"), f"asx:{aid}:n"),
            per_row=2,
        )
        return [Reply(text, buttons)]

    def _cancel(self, who: Who, a: dict[str, Any], team: dict[str, Any], edit: bool = False) -> list[Reply]:
        """Mark it cancelled (once: a second tap finds it done), then tell the members if it was
        still open; runs, notices and the row stay for the history."""
        with self.coach.store.tx() as db:
            cur = db.execute(
                "update assignments set cancelled_at = ?, cancelled_by = ? where id = ? and cancelled_at is null",
                [now_text(), who.id, a["id"]],
            )
        if cur.rowcount != 1:
            return [Reply(t(who.lang, "as.cancel_already"), edit=edit)]
        lang, due = who.lang, a["due_date"]
        members = _members(self.coach, team["id"]) if due >= today(self.coach).isoformat() else []
        what = content_title(self.coach, a["kind"], a["ref"], lang)
        text = t(lang, "as.cancel_done", what=e(what), team=e(team["name"]), due=due, id=a["id"])
        if members:
            text += " " + e(t(lang, "as.cancel_told", members=count_members(lang, len(members))))
        replies = [Reply(text, edit=edit)]
        for m in members:
            what_m = e(content_title(self.coach, a["kind"], a["ref"], m["lang"]))
            note = t(m["lang"], "as.cancel_notify", what=what_m, team=e(team["name"]), due=due)
            replies.append(Reply(note, chat_id=m["id"]))
        return replies

    # ------------------------------------------------------------ doing the work

    def press_start(self, who: Who, data: str) -> list[Reply]:
        """Start (or resume) an assignment; only a member of its team may."""
        raw, _, mode = data.partition(":")
        aid = parse_id(raw)
        a = self.coach.store.one("select * from assignments where id = ?", [aid]) if aid else None
        if a is None:
            return [Reply(t(who.lang, "stale_button"))]
        if not is_member(self.coach.store, a["team_id"], who.id):
            return [Reply(t(who.lang, "not_allowed"))]
        if a["cancelled_at"]:
            return [Reply(t(who.lang, "as.start_cancelled"))]
        if not _valid_ref(self.coach, a["kind"], a["ref"]):
            return [Reply(t(who.lang, "as.gone"))]
        from bot.core.quiz_feature import QuizFeature
        from bot.core.roleplay_feature import RoleplayFeature

        done = finished(self.coach, a["id"], who.id)
        if a["kind"] == "quiz":
            quiz = next(f for f in self.coach.features if isinstance(f, QuizFeature))
            if done is not None:
                score = round(done["score"] or 0)
                again = rows(Button(t(who.lang, "qz.btn.again"), f"qzs:{a['ref']}"))
                return [Reply(t(who.lang, "as.already_done", score=score), again)]
            run = quiz.active_run(who.id, assignment_id=a["id"])
            return quiz.resume(who, run) if run else quiz.start(who, a["ref"], assignment=a)
        rp = next(f for f in self.coach.features if isinstance(f, RoleplayFeature))
        if mode in ("f", "g"):
            return rp.start(who, a["ref"], mode == "g", assignment_id=a["id"])
        intro = rp.intro(who, a["ref"])[0]
        buttons = rows(
            Button(t(who.lang, "rp.btn.start"), f"asg:{a['id']}:f"),
            Button(t(who.lang, "rp.btn.guided"), f"asg:{a['id']}:g"),
            per_row=2,
        )
        if done is not None:
            note = t(who.lang, "as.already_done", score=round(done["score"] or 0))
            return [Reply(note + "\n\n" + intro.text, buttons)]
        return [Reply(intro.text, buttons)]

    # ------------------------------------------------------------ /todo

    def todo(self, who: Who, args: str = "") -> list[Reply]:
        """The trainee's own assignments: open ones with a start button, then the latest done."""
        rows_ = self.coach.store.query(
            f"with mine as (select a.* from assignments a join team_members m on m.team_id = a.team_id "
            f"and m.user_id = :user where a.cancelled_at is null), done as ({done_sql('select id from mine')}) "
            "select a.id, a.kind, a.ref, a.due_date, tm.name as team, d.user_id is not null as done, d.score "
            "from mine a join teams tm on tm.id = a.team_id "
            "left join done d on d.assignment_id = a.id and d.user_id = :user "
            "order by a.due_date, a.id",
            {"user": who.id},
        )
        lang, first = who.lang, today(self.coach).isoformat()
        # Open work whose content was removed from the library cannot be done: it is not listed.
        open_ = [r for r in rows_ if not r["done"] and _valid_ref(self.coach, r["kind"], r["ref"])]
        done = [r for r in rows_ if r["done"]][-5:]
        if not open_ and not done:
            return [Reply(t(lang, "todo.none"))]
        lines: list[str] = []
        buttons = []
        if open_:
            lines.append(t(lang, "todo.open"))
            for r in open_[:20]:
                what = content_title(self.coach, r["kind"], r["ref"], lang)
                when = t(lang, "todo.overdue" if r["due_date"] < first else "todo.due", due=r["due_date"])
                lines.append(f"• {e(what)} · {e(r['team'])} · {e(when)}")
                buttons.append(Button(("▶️ " + what)[:64], f"asg:{r['id']}"))
        if done:
            lines += ["", t(lang, "todo.done")] if lines else [t(lang, "todo.done")]
            for r in done:
                what = content_title(self.coach, r["kind"], r["ref"], lang)
                lines.append(f"• {e(what)} · {e(t(lang, 'todo.score', score=round(r['score'] or 0)))}")
        if not open_:
            lines += ["", t(lang, "todo.none")]
        return [Reply("\n".join(lines), rows(*buttons))]


# ---------------------------------------------------------------- reminders


def due_reminders(coach: Coach, now: datetime) -> list[Reply]:
    """The reminders and manager summaries due at `now`, each recorded as sent before it is returned.

    Trainees not finished get one at 09:00 the day before the due date and one at 09:00 on it
    (a window the bot was down for is skipped, not sent late), worded from the local date at
    sending; the manager who assigned it gets a summary once the due date has passed. Cancelled
    assignments get nothing; one whose content was removed from the library reminds nobody, and
    its manager is told once. Called from a repeating job; safe to call any time.
    """
    store = coach.store
    pending = store.query(
        "select a.*, tm.name as team, exists (select 1 from assignment_notices n where n.assignment_id = a.id "
        "and n.kind = 'gone') as told_gone from assignments a join teams tm on tm.id = a.team_id "
        "where a.cancelled_at is null and not exists (select 1 from assignment_notices n "
        "where n.assignment_id = a.id and n.kind = 'summary') order by a.id"
    )
    replies: list[Reply] = []
    sent: list[tuple[int, int, str]] = []
    tz = zone(coach)
    local_today = now.astimezone(tz).date()
    for a in pending:
        due = date.fromisoformat(a["due_date"])
        created = datetime.fromisoformat(a["created_at"].replace("Z", "+00:00"))
        before_at, due_at, end = (
            _local(due - timedelta(days=1), REMIND_AT, tz),
            _local(due, REMIND_AT, tz),
            _local(due + timedelta(days=1), time(0, 0), tz),
        )
        gone = not _valid_ref(coach, a["kind"], a["ref"])
        if now >= end:
            replies += _summary(coach, a, sent, gone=gone and not a["told_gone"])
            continue
        if gone:
            replies += [] if a["told_gone"] else _gone_notice(coach, a, sent)
            continue
        kind = "before" if before_at <= now < due_at else "due" if due_at <= now else None
        start = before_at if kind == "before" else due_at
        if kind is None or created >= start:
            continue
        members = store.query(
            f"with done as ({done_sql('?')}) "
            "select u.id, u.lang from team_members m join users u on u.id = m.user_id "
            "where m.team_id = ? and u.blocked = 0 "
            "and not exists (select 1 from done d where d.user_id = m.user_id) "
            "and not exists (select 1 from assignment_notices n where n.assignment_id = ? "
            "and n.kind = ? and n.user_id = m.user_id)",
            [a["id"], a["id"], a["team_id"], a["id"], kind],
        )
        for m in members:
            lang = m["lang"]
            text = t(
                lang,
                "as.remind_due" if due <= local_today else "as.remind_before",
                what=e(content_title(coach, a["kind"], a["ref"], lang)),
                team=e(a["team"]),
                due=a["due_date"],
            )
            replies.append(
                Reply(text, rows(Button(t(lang, "as.btn.start"), f"asg:{a['id']}")), chat_id=m["id"])
            )
            sent.append((a["id"], m["id"], kind))
    if sent:
        with store.tx() as db:
            db.conn.executemany(
                "insert into assignment_notices (assignment_id, user_id, kind, sent_at) values (?, ?, ?, ?) "
                "on conflict do nothing",
                [(*s, now_text()) for s in sent],
            )
    return replies


def _gone_notice(coach: Coach, a: dict[str, Any], sent: list[tuple[int, int, str]]) -> list[Reply]:
    """Tell the manager who assigned it, once, that the assignment's content left the library."""
    sent.append((a["id"], a["created_by"], "gone"))
    manager = coach.store.user(a["created_by"])
    if manager is None or manager["blocked"]:
        return []
    lang = manager["lang"]
    what = e(content_title(coach, a["kind"], a["ref"], lang))
    text = t(lang, "as.gone_manager", what=what, team=e(a["team"]), due=a["due_date"], id=a["id"])
    return [Reply(text, chat_id=manager["id"])]


def _summary(
    coach: Coach, a: dict[str, Any], sent: list[tuple[int, int, str]], gone: bool = False
) -> list[Reply]:
    """The manager's summary of a past-due assignment: how many finished, who did not (and, if
    they were not told before, that its content was removed)."""
    store = coach.store
    members = store.query(
        f"with done as ({done_sql('?')}) "
        "select u.id, u.name, d.user_id is not null as done from team_members m join users u on u.id = m.user_id "
        "left join done d on d.user_id = m.user_id where m.team_id = ? order by u.name",
        [a["id"], a["id"], a["team_id"]],
    )
    sent.append((a["id"], a["created_by"], "summary"))
    if gone:
        sent.append((a["id"], a["created_by"], "gone"))
    manager = store.user(a["created_by"])
    if manager is None or manager["blocked"]:
        return []
    lang = manager["lang"]
    done = sum(1 for m in members if m["done"])
    text = t(
        lang,
        "as.summary",
        what=e(content_title(coach, a["kind"], a["ref"], lang)),
        team=e(a["team"]),
        due=a["due_date"],
        done=done,
        n=len(members),
    )
    missing = [f"{m['name'] or '—'} ({m['id']})" for m in members if not m["done"]]
    if missing:
        more = f" +{len(missing) - SUMMARY_NAMES}" if len(missing) > SUMMARY_NAMES else ""
        text += "\n" + t(lang, "as.summary_missing", names=e(", ".join(missing[:SUMMARY_NAMES]) + more))
    if gone:
        text += "\n" + e(t(lang, "as.summary_gone"))
    button = rows(Button(t(lang, "as.btn.report"), f"rep:{a['team_id']}"))
    return [Reply(text, button, chat_id=manager["id"])]
