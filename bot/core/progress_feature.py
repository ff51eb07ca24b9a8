"""/progress, the weekly team /leaderboard, and the weekly digest each trainee receives.

Everything is derived from what other features already store (quiz answers, role-play
runs, card views, review items); the formulas are in docs/progress.md.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.coach import Feature
from bot.core.prefs import iso_week, prefs, tz_of, user_zone, week_start
from bot.core.progress import Mastery, active_days, mastery, open_assignments, recent_results, streak, weeks
from bot.core.render import e
from bot.core.reply import Button, Reply, rows
from bot.core.review import drill_due, due_count, parse_ts, sync_items, ts
from bot.i18n import add_strings, t

if TYPE_CHECKING:
    from bot.core.coach import Coach, Who

DIGEST_HOUR = 9  # the weekly digest goes out from Monday 09:00, the trainee's time
TOP = 10  # leaderboard rows shown per team
MEDALS = ("🥇", "🥈", "🥉")
ON, OFF = ("on", "开", "打开"), ("off", "关", "关闭")

add_strings(
    {
        "cmd.progress": {
            "zh": "我的进度：掌握度、连续天数、待复习",
            "en": "My progress: mastery, streak, reviews due",
        },
        "cmd.leaderboard": {
            "zh": "本周团队排行榜（/leaderboard off 不参与）",
            "en": "This week's team leaderboard (/leaderboard off to hide)",
        },
        "pg.title": {"zh": "📈 <b>我的进度</b>", "en": "📈 <b>Your progress</b>"},
        "pg.streak": {"zh": "🔥 连续学习 <b>{n}</b> 天", "en": "🔥 Active days in a row: <b>{n}</b>"},
        "pg.streak_today": {"zh": "（今天已打卡）", "en": " (today counts)"},
        "pg.streak_none": {
            "zh": "🔥 还没有连续天数：今天练一次就开始。",
            "en": "🔥 No streak yet: any practice today starts one.",
        },
        "pg.due": {"zh": "🧠 待复习 <b>{n}</b> 项 → /drill", "en": "🧠 Reviews due: <b>{n}</b> → /drill"},
        "pg.due_none": {"zh": "🧠 现在没有待复习的内容。", "en": "🧠 No reviews due right now."},
        "pg.mastery": {"zh": "<b>掌握度</b>（0-100）", "en": "<b>Mastery</b> (0-100)"},
        "pg.recent": {"zh": "<b>最近成绩</b>", "en": "<b>Recent results</b>"},
        "pg.quiz_result": {"zh": "{right}/{total} 题对", "en": "{right}/{total} right"},
        "pg.assignments": {"zh": "<b>未完成的作业</b>", "en": "<b>Open assignments</b>"},
        "pg.due_on": {"zh": "截止 {date}", "en": "due {date}"},
        "pg.overdue": {"zh": "已逾期", "en": "overdue"},
        "pg.btn.drill": {"zh": "🧠 复习", "en": "🧠 Drill"},
        "pg.btn.board": {"zh": "🏆 排行榜", "en": "🏆 Leaderboard"},
        "lb.title": {"zh": "🏆 <b>{team}</b> · 本周排行", "en": "🏆 <b>{team}</b> · this week"},
        "lb.points": {"zh": "{n} 分", "en": "{n} pts"},
        "lb.you": {"zh": "（你）", "en": " (you)"},
        "lb.nobody": {"zh": "本周还没有人上榜。", "en": "Nobody on the board yet this week."},
        "lb.how": {
            "zh": "每完成一次复习、答对一道测验题、通过一轮角色扮演得 1 分；每周一清零。/leaderboard off 可不参与。",
            "en": "One point per review, right quiz answer and passed role-play turn; resets every Monday. /leaderboard off hides you.",
        },
        "lb.hidden": {
            "zh": "你现在不在排行榜上显示。/leaderboard on 可重新参与。",
            "en": "You're hidden from the leaderboard. /leaderboard on shows you again.",
        },
        "lb.off": {
            "zh": "好的，你不会出现在排行榜上了。/leaderboard on 可重新参与。",
            "en": "OK, you're off the leaderboard. /leaderboard on puts you back.",
        },
        "lb.on": {"zh": "好的，你会出现在团队排行榜上。", "en": "OK, you're on your team's leaderboard."},
        "lb.usage": {
            "zh": "用法：/leaderboard 查看，/leaderboard off 不参与，/leaderboard on 参与。",
            "en": "Usage: /leaderboard to see it, /leaderboard off to hide, /leaderboard on to show you.",
        },
        "lb.no_team": {
            "zh": "你还没有加入团队。请向你的经理要团队邀请码，用 /join 加入。",
            "en": "You're not in a team yet. Ask your manager for the team code and use /join.",
        },
        "dg.title": {"zh": "📬 <b>你的一周小结</b>", "en": "📬 <b>Your week</b>"},
        "dg.week": {
            "zh": "复习 {reviews} 次 · 测验答对 {right}/{answered} · 完成角色扮演 {roleplays} 次",
            "en": "{reviews} reviews · {right}/{answered} quiz answers right · {roleplays} role-plays finished",
        },
        "dg.improved": {"zh": "<b>进步了</b>", "en": "<b>Improved</b>"},
        "dg.now": {"zh": "<b>当前掌握度</b>", "en": "<b>Mastery now</b>"},
        "dg.flat": {
            "zh": "这周掌握度没有变化；每天几分钟复习就能往上走。",
            "en": "Mastery held steady this week; a few minutes of drill a day moves it up.",
        },
        "dg.due": {
            "zh": "🧠 现在待复习 {now} 项，本周还会到期 {week} 项 → /drill",
            "en": "🧠 {now} reviews due now, {week} more coming this week → /drill",
        },
    }
)


def bar(score: int) -> str:
    filled = round(score / 10)
    return "█" * filled + "░" * (10 - filled)


def mastery_lines(coach: Coach, scores: dict[str, Mastery], lang: str) -> list[str]:
    return [
        f"<code>{bar(m.score)}</code> {m.score:>3} · {e(coach.lib.playbooks[pid].title.get(lang))}"
        for pid, m in scores.items()
    ]


class ProgressFeature(Feature):
    help_entries = (
        ("progress", "cmd.progress", "all"),
        ("leaderboard", "cmd.leaderboard", "all"),
    )

    def commands(self):  # type: ignore[no-untyped-def]
        return {"progress": self.progress, "leaderboard": self.leaderboard}

    # ------------------------------------------------------------ /progress

    def progress(self, who: Who, args: str = "") -> list[Reply]:
        coach, lang, now = self.coach, who.lang, datetime.now(UTC)
        store = coach.store
        sync_items(store, coach.lib, who.id)
        tz = user_zone(store, who.id, coach.timezone)
        today = now.astimezone(tz).date()
        days = active_days(store, who.id, now, tz)
        n = streak(days, today)
        lines = [t(lang, "pg.title")]
        if n:
            lines.append(t(lang, "pg.streak", n=n) + (e(t(lang, "pg.streak_today")) if today in days else ""))
        else:
            lines.append(e(t(lang, "pg.streak_none")))
        due = drill_due(store, who.id, now)
        lines.append(t(lang, "pg.due", n=due) if due else e(t(lang, "pg.due_none")))
        lines += [
            "",
            t(lang, "pg.mastery"),
            *mastery_lines(coach, mastery(store, coach.lib, who.id, now), lang),
        ]
        recent = recent_results(store, who.id)
        if recent:
            lines += ["", t(lang, "pg.recent"), *(self._result_line(r, lang, tz) for r in recent)]
        assignments = open_assignments(store, who.id)
        if assignments:
            lines += [
                "",
                t(lang, "pg.assignments"),
                *(self._assignment_line(a, lang, today) for a in assignments),
            ]
        buttons = rows(
            Button(t(lang, "pg.btn.drill"), "go:drill") if due else None,
            Button(t(lang, "pg.btn.board"), "go:leaderboard"),
            per_row=2,
        )
        return [Reply("\n".join(lines), buttons)]

    def _title(self, kind: str, ref: str, lang: str) -> str:
        lib = self.coach.lib
        found = lib.playbooks.get(ref) if kind == "quiz" else lib.scenarios.get(ref)
        return found.title.get(lang) if found else ref

    def _result_line(self, r: dict[str, Any], lang: str, tz: Any) -> str:
        when = parse_ts(r["finished_at"]).astimezone(tz).strftime("%m-%d")
        title = e(self._title(r["kind"], r["ref"], lang))
        score = round(r["score"] or 0)
        if r["kind"] == "quiz":
            detail = e(t(lang, "pg.quiz_result", right=r["correct"] or 0, total=r["answered"] or 0))
            return f"• 📝 {title} — {detail} · {score} <i>{when}</i>"
        return f"• 🎭 {title} — {score}/100 <i>{when}</i>"

    def _assignment_line(self, a: dict[str, Any], lang: str, today: date) -> str:
        icon = "📝" if a["kind"] == "quiz" else "🎭"
        late = f" · ⚠️ {e(t(lang, 'pg.overdue'))}" if a["due_date"] < today.isoformat() else ""
        due = e(t(lang, "pg.due_on", date=a["due_date"]))
        return f"• {icon} {e(self._title(a['kind'], a['ref'], lang))} — {due}{late}"

    # ------------------------------------------------------------ /leaderboard

    def leaderboard(self, who: Who, args: str = "") -> list[Reply]:
        lang, store = who.lang, self.coach.store
        arg = args.strip().lower()
        mine = prefs(store, who.id)
        if arg in ON or arg in OFF:
            with store.tx() as db:
                db.execute(
                    "update user_prefs set leaderboard = ? where user_id = ?", [int(arg in ON), who.id]
                )
            return [Reply(t(lang, "lb.on" if arg in ON else "lb.off"))]
        if arg:
            return [Reply(t(lang, "lb.usage"))]
        teams = store.query(
            "select id, name from teams where owner_id = :u or id in (select team_id from team_members where user_id = :u) "
            "order by id limit 3",
            {"u": who.id},
        )
        if not teams:
            return [Reply(t(lang, "lb.no_team"))]
        since = week_start(datetime.now(UTC), user_zone(store, who.id, self.coach.timezone))
        parts = [self._board(who, team, since) for team in teams]
        parts.append(e(t(lang, "lb.how" if mine["leaderboard"] else "lb.hidden")))
        return [Reply("\n\n".join(parts))]

    def _board(self, who: Who, team: dict[str, Any], since: datetime) -> str:
        lang, store = who.lang, self.coach.store
        ids = [
            r["user_id"]
            for r in store.query(
                "select m.user_id from team_members m left join user_prefs p on p.user_id = m.user_id "
                "where m.team_id = ? and coalesce(p.leaderboard, 1) = 1",
                [team["id"]],
            )
        ]
        stats = weeks(store, ids, since)
        ranked = sorted(stats.items(), key=lambda kv: (-kv[1][1].points, kv[1][0], kv[0]))
        ranked = [kv for kv in ranked if kv[1][1].points > 0]
        lines = [t(lang, "lb.title", team=e(team["name"]))]
        for rank, (uid, (name, week)) in enumerate(ranked, 1):
            if rank > TOP and uid != who.id:
                continue
            mark = MEDALS[rank - 1] if rank <= len(MEDALS) else f"{rank}."
            you = e(t(lang, "lb.you")) if uid == who.id else ""
            lines.append(f"{mark} {e(name or '—')}{you} — {e(t(lang, 'lb.points', n=week.points))}")
        if not ranked:
            lines.append(e(t(lang, "lb.nobody")))
        return "\n".join(lines)

    # ------------------------------------------------------------ the weekly digest

    def scheduled(self, now: datetime) -> list[Reply]:
        return weekly_digests(self.coach, now)


def weekly_digests(coach: Coach, now: datetime) -> list[Reply]:
    """Each trainee's digest, once per ISO week from Monday 09:00 their time (caught up after a
    restart); users who joined this week wait for next week. Stored as sent before returning."""
    store = coach.store
    users = store.query(
        "select u.id, u.lang, u.tz, u.created_at, p.digest_week, p.digest_state from users u "
        "left join user_prefs p on p.user_id = u.id where u.blocked = 0"
    )
    replies = []
    for u in users:
        tz = tz_of(u["tz"], coach.timezone)
        week, start = iso_week(now, tz), week_start(now, tz)
        if u["digest_week"] == week or now < start + timedelta(hours=DIGEST_HOUR):
            continue
        reply, scores = None, None
        if u["created_at"] < ts(start):
            reply, scores = _digest(coach, u, now, tz)
        with store.tx() as db:
            db.execute(
                "insert into user_prefs (user_id, digest_week, digest_state, created_at) values (?, ?, ?, ?) "
                "on conflict(user_id) do update set digest_week = excluded.digest_week, "
                "digest_state = coalesce(excluded.digest_state, user_prefs.digest_state)",
                [u["id"], week, json.dumps(scores) if scores else None, ts(now)],
            )
        if reply is not None:
            replies.append(reply)
    return replies


def _digest(coach: Coach, u: dict[str, Any], now: datetime, tz: Any) -> tuple[Reply | None, dict[str, int]]:
    """The digest text and the mastery snapshot to compare with next week (no reply if idle)."""
    store, lang, uid = coach.store, u["lang"], u["id"]
    sync_items(store, coach.lib, uid)
    scores = mastery(store, coach.lib, uid, now)
    snapshot = {pid: m.score for pid, m in scores.items()}
    _, week = weeks(store, [uid], now - timedelta(days=7))[uid]
    due_now = drill_due(store, uid, now)
    if not (week.points or week.quiz_answered or week.roleplays or due_now):
        return None, snapshot
    before = json.loads(u["digest_state"] or "null")
    lines = [t(lang, "dg.title")]
    n = streak(active_days(store, uid, now, tz), now.astimezone(tz).date())
    if n:
        lines.append(t(lang, "pg.streak", n=n))
    lines.append(
        e(
            t(
                lang,
                "dg.week",
                reviews=week.reviews,
                right=week.quiz_right,
                answered=week.quiz_answered,
                roleplays=week.roleplays,
            )
        )
    )
    title = coach.lib.playbooks
    if before:
        up = [(pid, before.get(pid, 0), s) for pid, s in snapshot.items() if s > before.get(pid, 0)]
        lines += ["", t(lang, "dg.improved")] if up else ["", e(t(lang, "dg.flat"))]
        lines += [f"📈 {e(title[pid].title.get(lang))}: {old} → <b>{new}</b>" for pid, old, new in up[:5]]
    else:
        touched = sorted((m for m in scores.values() if m.touched), key=lambda m: -m.score)[:3]
        if touched:
            lines += ["", t(lang, "dg.now"), *mastery_lines(coach, {m.playbook: m for m in touched}, lang)]
    coming = due_count(store, uid, now + timedelta(days=7)) - due_now
    lines += ["", t(lang, "dg.due", now=due_now, week=coming)]
    buttons = rows(
        Button(t(lang, "pg.btn.drill"), "go:drill"), Button(t(lang, "menu.progress"), "go:progress")
    )
    return Reply("\n".join(lines), buttons, chat_id=uid), snapshot
