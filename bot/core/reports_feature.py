"""Manager reports in chat: /report [team [trainee]], /export [team]; tables and files come from bot.reports.

Only managers may ask, and only about the teams they own (admins: all teams). Trainees see
their own results in /todo and their runs' endings, never anyone else's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.assignments import content_title
from bot.core.calls import call_outcomes_html
from bot.core.coach import Feature
from bot.core.render import card_title, e
from bot.core.reply import Button, OutFile, Reply, rows
from bot.core.teams import (
    NAME_MAX,
    clean_text,
    count_members,
    find_team,
    manageable_team,
    manageable_teams,
    refusal,
    team_label,
)
from bot.i18n import add_strings, t
from bot.reports import TeamReport, build_report, export_csv, member_detail, scores_chart

if TYPE_CHECKING:
    from bot.core.coach import Who

SHOW_MEMBERS = 40  # members listed in chat; /export has everyone
SHOW_ASSIGNMENTS = 10

add_strings(
    {
        "cmd.report": {"zh": "团队报告：/report 团队 [成员]", "en": "Team report: /report team [member]"},
        "cmd.export": {
            "zh": "导出练习记录 CSV：/export [团队]",
            "en": "Export attempts as CSV: /export [team]",
        },
        "rep.pick": {"zh": "看哪个团队？", "en": "Which team?"},
        "rep.title": {"zh": "📊 <b>{team}</b> · {members}", "en": "📊 <b>{team}</b> · {members}"},
        "rep.assignments": {"zh": "<b>作业</b>", "en": "<b>Assignments</b>"},
        "rep.no_assignments": {"zh": "还没有布置作业（/assign）。", "en": "No assignments yet (/assign)."},
        "rep.assignment": {
            "zh": "• {what} · 截止 {due} · 完成 {done}/{n}（{pct}%）",
            "en": "• {what} · due {due} · done {done}/{n} ({pct}%)",
        },
        "rep.in_progress": {"zh": " · 进行中 {n}", "en": " · {n} in progress"},
        "rep.bands": {
            "zh": "   得分：平均 {avg} · <60：{b0} · 60–79：{b1} · ≥80：{b2}",
            "en": "   scores: mean {avg} · <60: {b0} · 60–79: {b1} · ≥80: {b2}",
        },
        "rep.members": {
            "zh": "<b>成员</b>（完成/作业 · 平均分 · 最近活跃；⏳ 进行中）",
            "en": "<b>Members</b> (done/assigned · mean · last active; ⏳ in progress)",
        },
        "rep.member": {
            "zh": "• {name} ({id}) — {done}/{total} · {avg} · {last}",
            "en": "• {name} ({id}) — {done}/{total} · {avg} · {last}",
        },
        "rep.member_started": {
            "zh": "• {name} ({id}) — {done}/{total} ⏳{started} · {avg} · {last}",
            "en": "• {name} ({id}) — {done}/{total} ⏳{started} · {avg} · {last}",
        },
        "rep.more_members": {
            "zh": "……还有 {n} 人，完整名单见 /export。",
            "en": "…and {n} more; /export has everyone.",
        },
        "rep.weak": {"zh": "<b>最薄弱的卡片</b>（测验答错）", "en": "<b>Weakest cards</b> (quiz misses)"},
        "rep.weak_line": {"zh": "• {card} — 错 {missed}/{n}", "en": "• {card} — missed {missed}/{n}"},
        "rep.checks": {
            "zh": "<b>最常没做到的要点</b>（角色扮演）",
            "en": "<b>Most-failed rubric checks</b> (role-play)",
        },
        "rep.check_line": {"zh": "• {label} · {scenario} — {n} 次", "en": "• {label} · {scenario} — {n}×"},
        "rep.lookups": {"zh": "<b>查得最多的卡片</b>", "en": "<b>Most looked-up cards</b>"},
        "rep.lookup_line": {"zh": "• {card} — {n} 次", "en": "• {card} — {n}×"},
        "rep.none_yet": {"zh": "（还没有数据）", "en": "(nothing yet)"},
        "rep.hint": {
            "zh": "看某个成员：/report {team} 用户ID",
            "en": "One member in detail: /report {team} user-id",
        },
        "rep.never": {"zh": "从未", "en": "never"},
        "rep.chart": {"zh": "📈 {team}：团队得分走势", "en": "📈 {team}: team scores over time"},
        "rep.no_member": {
            "zh": "团队 {team} 里没有“{who}”。用用户ID或名字。",
            "en": "There is no \u201c{who}\u201d in team {team}. Use their user id or name.",
        },
        "rep.ambiguous_member": {
            "zh": "团队 {team} 里有 {n} 个成员叫“{who}”，请用用户ID：",
            "en": "{n} members of team {team} are called \u201c{who}\u201d; use their user id:",
        },
        "rep.ambiguous_line": {
            "zh": "• {name} ({id}) — /report {team} {id}",
            "en": "• {name} ({id}) — /report {team} {id}",
        },
        "rep.member_title": {
            "zh": "👤 <b>{name}</b> ({id}) · {team}",
            "en": "👤 <b>{name}</b> ({id}) · {team}",
        },
        "rep.member_last": {"zh": "最近活跃：{last}", "en": "Last active: {last}"},
        "rep.member_quiz": {
            "zh": "测验：答了 {n} 题，答对 {right} 题",
            "en": "Quizzes: {n} answers, {right} right",
        },
        "rep.member_rp": {
            "zh": "角色扮演：完成 {n} 次，平均分 {avg}",
            "en": "Role-plays: {n} finished, mean score {avg}",
        },
        "rep.member_done": {
            "zh": "✅ {what} — 得分 {score}（{when}）",
            "en": "✅ {what} — score {score} ({when})",
        },
        "rep.member_open": {"zh": "⬜ {what} — 截止 {due}", "en": "⬜ {what} — due {due}"},
        "rep.member_quiz_started": {
            "zh": "⏳ {what} — 进行中，已答 {n}/{total} 题 · 截止 {due}",
            "en": "⏳ {what} — in progress, {n} of {total} answered · due {due}",
        },
        "rep.member_rp_started": {
            "zh": "⏳ {what} — 进行中，已回复 {n} 次 · 截止 {due}",
            "en": "⏳ {what} — in progress, {n} replies so far · due {due}",
        },
        "exp.caption": {
            "zh": "📄 {scope}：全部练习记录（UTF-8，可直接用 Excel 打开）",
            "en": "📄 {scope}: every attempt (UTF-8, opens in Excel)",
        },
        "exp.all": {"zh": "全部团队", "en": "All users"},
        "exp.pick": {"zh": "导出哪个团队？", "en": "Export which team?"},
        "exp.btn.all": {"zh": "全部", "en": "Everyone"},
    }
)


def _short(ts: str | None, lang: str) -> str:
    return ts[:10] if ts else t(lang, "rep.never")


def _avg(value: float | None) -> str:
    return "—" if value is None else str(round(value))


class ReportFeature(Feature):
    help_entries = (("report", "cmd.report", "manager"), ("export", "cmd.export", "manager"))

    def commands(self):  # type: ignore[no-untyped-def]
        return {"report": self.report, "export": self.export}

    def actions(self):  # type: ignore[no-untyped-def]
        return {"rep": self.press_report, "exp": self.press_export}

    def _gate(self, who: Who) -> list[Reply] | None:
        if not who.is_manager:
            return refusal(who)
        if not who.private:
            return [Reply(t(who.lang, "role.private"))]
        return None

    def _pick(self, who: Who, prefix: str, key: str, everyone: bool = False) -> list[Reply]:
        """No team named: the only one, or buttons to choose (a manager's own; all for admins)."""
        teams = manageable_teams(self.coach.store, who)
        if not teams and not everyone:
            return [Reply(t(who.lang, "team.none"))]
        buttons = [Button(team_label(who, tm)[:64], f"{prefix}:{tm['id']}") for tm in teams[:40]]
        if everyone:
            buttons.append(Button(t(who.lang, "exp.btn.all"), f"{prefix}:all"))
        return [Reply(t(who.lang, key), rows(*buttons, per_row=2))]

    # ------------------------------------------------------------ /report

    def report(self, who: Who, args: str) -> list[Reply]:
        refused = self._gate(who)
        if refused:
            return refused
        key = args.strip()
        store = self.coach.store
        if not key:
            teams = manageable_teams(store, who)
            if len(teams) == 1:
                return self.team_report(who, teams[0])
            return self._pick(who, "rep", "rep.pick")
        team, problem = find_team(store, who, key)
        if team is not None:
            return self.team_report(who, team)
        head, _, person = key.rpartition(" ")
        if head:
            team, problem2 = find_team(store, who, head)
            if team is not None:
                return self.member_report(who, team, person)
            problem = problem2 if problem2 == "team.ambiguous" else problem
        return [Reply(t(who.lang, problem or "team.unknown", team=e(clean_text(key, NAME_MAX))))]

    def press_report(self, who: Who, data: str) -> list[Reply]:
        if not who.is_manager:
            return refusal(who)
        team = manageable_team(self.coach.store, who, data)
        if team is None:
            return [Reply(t(who.lang, "not_allowed"))]
        return self.team_report(who, team)

    def team_report(self, who: Who, team: dict[str, Any]) -> list[Reply]:
        if not self.coach.allow_heavy(who):
            return [Reply(t(who.lang, "rate_limited"))]
        rep = build_report(self.coach.store, self.coach.lib, team["id"])
        replies = [Reply(self.report_html(rep, who.lang))]
        png = scores_chart(self.coach.store, team["id"])
        if png is not None:
            caption = e(t(who.lang, "rep.chart", team=team["name"]))
            replies.append(Reply("", file=OutFile(f"team-{team['id']}-scores.png", png, caption)))
        return replies

    def report_html(self, rep: TeamReport, lang: str) -> str:
        lib = self.coach.lib
        lines = [
            t(lang, "rep.title", team=e(rep.team["name"]), members=e(count_members(lang, rep.members))),
            "",
            t(lang, "rep.assignments"),
        ]
        if not rep.assignments:
            lines.append(e(t(lang, "rep.no_assignments")))
        for a in rep.assignments[:SHOW_ASSIGNMENTS]:
            what = content_title(self.coach, a.kind, a.ref, lang)
            pct = round(100 * a.done / a.members) if a.members else 0
            line = t(lang, "rep.assignment", what=what, due=a.due_date, done=a.done, n=a.members, pct=pct)
            if a.started:
                line += t(lang, "rep.in_progress", n=a.started)
            lines.append(e(line))
            if a.done:
                b0, b1, b2 = a.bands
                lines.append(e(t(lang, "rep.bands", avg=_avg(a.avg), b0=b0, b1=b1, b2=b2)))
        lines += ["", t(lang, "rep.members")]
        if not rep.people:
            lines.append(e(t(lang, "team.no_members")))
        for p in rep.people[:SHOW_MEMBERS]:
            line = t(
                lang,
                "rep.member_started" if p.started else "rep.member",
                name=p.name or "—",
                started=p.started,
                id=p.user_id,
                done=p.done,
                total=p.assigned,
                avg=_avg(p.avg),
                last=_short(p.last_active, lang),
            )
            lines.append(e(line))
        if len(rep.people) > SHOW_MEMBERS:
            lines.append(e(t(lang, "rep.more_members", n=len(rep.people) - SHOW_MEMBERS)))
        lines += ["", t(lang, "rep.weak")]
        lines += [
            e(t(lang, "rep.weak_line", card=card_title(lib, ref, lang), missed=missed, n=n))
            for ref, missed, n in rep.weak_cards
        ] or [e(t(lang, "rep.none_yet"))]
        lines += ["", t(lang, "rep.checks")]
        for sid, node, cid, n in rep.failed_checks:
            labels = {c.id: c.label.get(lang) for c in lib.node_rubric(sid, node)}
            scenario = lib.scenarios[sid].title.get(lang)
            lines.append(e(t(lang, "rep.check_line", label=labels.get(cid, cid), scenario=scenario, n=n)))
        if not rep.failed_checks:
            lines.append(e(t(lang, "rep.none_yet")))
        lines += ["", t(lang, "rep.lookups")]
        lines += [
            e(t(lang, "rep.lookup_line", card=card_title(lib, ref, lang), n=n)) for ref, n in rep.looked_up
        ] or [e(t(lang, "rep.none_yet"))]
        lines += ["", call_outcomes_html(self.coach, rep.team["id"], lang)]
        lines += ["", f"<i>{e(t(lang, 'rep.hint', team=rep.team['name']))}</i>"]
        return "\n".join(lines)

    def member_report(self, who: Who, team: dict[str, Any], person: str) -> list[Reply]:
        store, lang = self.coach.store, who.lang
        wanted = clean_text(person, 64)
        members = store.query(
            "select u.id, u.name from team_members m join users u on u.id = m.user_id where m.team_id = ?",
            [team["id"]],
        )
        match = [m for m in members if str(m["id"]) == wanted] or [
            m for m in members if (m["name"] or "").casefold() == wanted.casefold()
        ]
        if len(match) > 1:
            return [self._ambiguous(lang, team, wanted, match)]
        detail = member_detail(store, self.coach.lib, team["id"], match[0]["id"]) if match else None
        if detail is None:
            return [Reply(t(lang, "rep.no_member", team=e(team["name"]), who=e(wanted)))]
        u = detail.user
        lines = [
            t(lang, "rep.member_title", name=e(u["name"] or "—"), id=u["id"], team=e(team["name"])),
            e(t(lang, "rep.member_last", last=_short(u["last_active"], lang))),
            "",
            t(lang, "rep.assignments"),
        ]
        for a in detail.assignments[:SHOW_ASSIGNMENTS]:
            what = content_title(self.coach, a["kind"], a["ref"], lang)
            lines.append(e(self._assignment_line(a, what, lang)))
        if not detail.assignments:
            lines.append(e(t(lang, "rep.no_assignments")))
        lines += [
            "",
            e(t(lang, "rep.member_quiz", n=detail.quiz_answers, right=detail.quiz_right)),
            e(t(lang, "rep.member_rp", n=detail.roleplays, avg=_avg(detail.roleplay_avg))),
            "",
            t(lang, "rep.weak"),
        ]
        lines += [
            e(t(lang, "rep.weak_line", card=card_title(self.coach.lib, ref, lang), missed=missed, n=n))
            for ref, missed, n in detail.weak_cards
        ] or [e(t(lang, "rep.none_yet"))]
        buttons = rows(
            *(
                Button(card_title(self.coach.lib, ref, lang)[:64], f"cd:{ref}")
                for ref, _, _ in detail.weak_cards
            )
        )
        return [Reply("\n".join(lines), buttons)]

    @staticmethod
    def _assignment_line(a: dict[str, Any], what: str, lang: str) -> str:
        """Done (score, when), in progress (how far), or not started."""
        if a["done"]:
            return t(
                lang,
                "rep.member_done",
                what=what,
                score=_avg(a["score"]),
                when=_short(a["finished_at"], lang),
            )
        if a["started"] and a["kind"] == "quiz":
            total = a["total"] or "?"
            return t(
                lang,
                "rep.member_quiz_started",
                what=what,
                n=a["progress"] or 0,
                total=total,
                due=a["due_date"],
            )
        if a["started"]:
            return t(lang, "rep.member_rp_started", what=what, n=a["progress"] or 0, due=a["due_date"])
        return t(lang, "rep.member_open", what=what, due=a["due_date"])

    @staticmethod
    def _ambiguous(lang: str, team: dict[str, Any], wanted: str, match: list[dict[str, Any]]) -> Reply:
        """Several members share the name asked for: list them with their ids."""
        lines = [t(lang, "rep.ambiguous_member", n=len(match), team=e(team["name"]), who=e(wanted))]
        lines += [
            e(t(lang, "rep.ambiguous_line", name=m["name"] or "—", id=m["id"], team=team["name"]))
            for m in sorted(match, key=lambda m: m["id"])
        ]
        return Reply("\n".join(lines))

    # ------------------------------------------------------------ /export

    def export(self, who: Who, args: str) -> list[Reply]:
        refused = self._gate(who)
        if refused:
            return refused
        key = args.strip()
        store = self.coach.store
        if not key:
            teams = manageable_teams(store, who)
            if len(teams) == 1 and not who.is_admin:
                return self.export_file(who, teams[0])
            return self._pick(who, "exp", "exp.pick", everyone=who.is_admin)
        team, problem = find_team(store, who, key)
        if team is None:
            return [Reply(t(who.lang, problem or "team.unknown", team=e(clean_text(key, NAME_MAX))))]
        return self.export_file(who, team)

    def press_export(self, who: Who, data: str) -> list[Reply]:
        if not who.is_manager:
            return refusal(who)
        if data == "all":
            return self.export_file(who, None) if who.is_admin else [Reply(t(who.lang, "not_allowed"))]
        team = manageable_team(self.coach.store, who, data)
        if team is None:
            return [Reply(t(who.lang, "not_allowed"))]
        return self.export_file(who, team)

    def export_file(self, who: Who, team: dict[str, Any] | None) -> list[Reply]:
        if not self.coach.allow_heavy(who):
            return [Reply(t(who.lang, "rate_limited"))]
        data = export_csv(self.coach.store, team["id"] if team else None, self.coach.lib, who.lang)
        scope = team["name"] if team else t(who.lang, "exp.all")
        name = f"coachbot-team-{team['id']}.csv" if team else "coachbot-all.csv"
        caption = e(t(who.lang, "exp.caption", scope=scope))
        return [Reply("", file=OutFile(name, data, caption))]
