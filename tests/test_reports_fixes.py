"""Managers' reports, export and team management after the QA pass, over the real Application.

Each test replays what QA found: work for one team's assignment leaking into another team's
report and export, option keys in the CSV, same-name members, silent one-tap removals,
demoting a manager who owns teams, a chart with repeated labels, invisible work in progress,
and "1 members".
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg

from bot.core.assignments import due_reminders, today, zone
from bot.reports import score_figure, score_series
from tests.coachkit import ADMIN, PLAYBOOK, SCENARIO, active_run, answer, cbot, coaching_settings, current
from tests.harness import BotHarness, User, button_data, buttons, texts

__all__ = ["cbot", "coaching_settings"]

ALPHA_MGR = User(id=4002, first_name="Alice", language_code="en")
BETA_MGR = User(id=4005, first_name="Bob", language_code="zh")
SHARED = User(id=4003, first_name="Sam", language_code="en")  # in Alpha and in Beta
WANG1 = User(id=4011, first_name="王伟", language_code="zh")
WANG2 = User(id=4012, first_name="王伟", language_code="zh")
CHEAP = "I'll give you 20% off"  # a role-play reply that fails the fixture's rubric checks


def _csv(calls: list[Any]) -> list[dict[str, str]]:
    (doc,) = [c for c in calls if c.method == "sendDocument"]
    return list(csv.DictReader(io.StringIO(doc.files["document"][1].decode("utf-8-sig"))))


def _to(calls: list[Any], user: User) -> list[str]:
    return [c["text"] for c in calls if c.method == "sendMessage" and int(c["chat_id"]) == user.id]


async def _manager(bot: BotHarness, user: User, team: str) -> dict[str, Any]:
    await bot.send("/start", user)
    await bot.send(f"/promote {user.id}", ADMIN)
    await bot.send(f"/team new {team}", user)
    return bot.coach.store.one("select * from teams where owner_id = ? and name = ?", [user.id, team])


async def _join(bot: BotHarness, team: dict[str, Any], *users: User) -> None:
    for user in users:
        await bot.send(f"/join {team['code']}", user)


def _due(bot: BotHarness, days: int = 3) -> str:
    return (today(bot.coach) + timedelta(days=days)).isoformat()


async def _assign(bot: BotHarness, mgr: User, what: str, team: dict[str, Any]) -> int:
    await bot.send(f"/assign {what} {team['code']} {_due(bot)}", mgr)
    return bot.coach.store.one("select max(id) as id from assignments where team_id = ?", [team["id"]])["id"]


async def _two_teams(bot: BotHarness) -> tuple[dict[str, Any], dict[str, Any], int, int]:
    """Alpha assigns the quiz, which Sam finishes with misses; Sam practises the role-play
    once on his own (no assignment); then Beta assigns it and Sam gives a weak reply there."""
    alpha = await _manager(bot, ALPHA_MGR, "Alpha")
    beta = await _manager(bot, BETA_MGR, "Beta")
    await _join(bot, alpha, SHARED)
    await _join(bot, beta, SHARED)
    quiz_a = await _assign(bot, ALPHA_MGR, f"quiz:{PLAYBOOK}", alpha)
    await bot.press(f"asg:{quiz_a}", SHARED)
    while active_run(bot, SHARED) is not None:
        await answer(bot, SHARED, right=False)
    await bot.send(f"/roleplay {SCENARIO}", SHARED)
    await bot.send("Which quote are you comparing us with?", SHARED)
    await bot.send("/cancel", SHARED)
    rp_b = await _assign(bot, BETA_MGR, f"roleplay:{SCENARIO}", beta)
    await bot.press(f"asg:{rp_b}:f", SHARED)
    await bot.send(CHEAP, SHARED)
    return alpha, beta, quiz_a, rp_b


async def test_a_team_never_sees_work_done_for_another_teams_assignment(cbot: BotHarness) -> None:
    bot = cbot
    alpha, beta, quiz_a, rp_b = await _two_teams(bot)
    store = bot.coach.store
    assert store.one("select count(*) as n from quiz_answers")["n"] == 5

    practice = store.one("select id from roleplay_runs where assignment_id is null")["id"]
    beta_rows = _csv(await bot.send("/export Beta", BETA_MGR))
    assert {r["activity"] for r in beta_rows} == {"roleplay"}, "Alpha's quiz stays out"
    assert {(r["run_id"], r["assignment_id"], r["teams"]) for r in beta_rows} == {
        (str(practice), "", "Beta"),  # practice is the member's own: every team of theirs sees it
        (str(practice + 1), str(rp_b), "Beta"),
    }
    alpha_rows = _csv(await bot.send("/export Alpha", ALPHA_MGR))
    assert [r["activity"] for r in alpha_rows] == ["quiz"] * 5 + ["roleplay"], "Beta's role-play stays out"
    assert {(r["assignment_id"], r["teams"]) for r in alpha_rows} == {(str(quiz_a), "Alpha"), ("", "Alpha")}
    everyone = _csv(await bot.press("exp:all", ADMIN))
    assert {r["teams"] for r in everyone if r["assignment_id"] == str(quiz_a)} == {"Alpha"}
    assert {r["teams"] for r in everyone if r["assignment_id"] == str(rp_b)} == {"Beta"}
    assert {r["teams"] for r in everyone if r["assignment_id"] == ""} == {"Alpha; Beta"}

    beta_detail = texts(await bot.send(f"/report Beta {SHARED.id}", BETA_MGR))[0]
    assert "测验：答了 0 题" in beta_detail, "Alpha's quiz answers are not Beta's"
    assert "（测验答错）\n（还没有数据）" in beta_detail, "no weakest cards from Alpha's quiz"
    alpha_detail = texts(await bot.send(f"/report Alpha {SHARED.id}", ALPHA_MGR))[0]
    assert "Quizzes: 5 answers, 0 right" in alpha_detail
    assert "Role-plays: 1 finished, mean score 100" in alpha_detail, "the practice run only, not Beta's"

    beta_report = texts(await bot.send("/report Beta", BETA_MGR))[0]
    alpha_report = texts(await bot.send("/report Alpha", ALPHA_MGR))[0]
    card = bot.coach.lib.cards[f"{PLAYBOOK}/sample-card-2"].card
    assert card.title.zh not in beta_report and "missed" in alpha_report
    assert "Asks what exactly is being compared" not in alpha_report, "Beta's role-play checks stay in Beta"
    assert "问清比较的是什么" in beta_report
    assert score_series(store, beta["id"])["quiz"] == [] and score_series(store, alpha["id"])["quiz"]


async def test_the_csv_answer_column_shows_what_the_trainee_picked(cbot: BotHarness) -> None:
    bot = cbot
    team = await _manager(bot, ALPHA_MGR, "Alpha")
    await _join(bot, team, SHARED)
    await bot.send(f"/quiz {PLAYBOOK}", SHARED)
    while active_run(bot, SHARED) is not None:
        kind = current(bot, SHARED)[2].kind
        await answer(bot, SHARED, right=kind != "truefalse")
    rows = {r["item"].split("/")[-1]: r for r in _csv(await bot.send("/export Alpha", ALPHA_MGR))}
    assert (
        rows["q-single"]["answer"] == "Ask which price they compare" and rows["q-single"]["answer_key"] == "b"
    )
    assert rows["q-truefalse"]["answer"] == "True" and rows["q-truefalse"]["answer_key"] == "true"
    assert rows["q-order"]["answer"] == "Sum up → Propose a next step"
    assert rows["q-order"]["answer_key"] == "sum,ask"
    picked = rows["q-multiple"]["answer_key"].split(",")
    texts_en = {o.id: o.text.en for o in bot.coach.lib.questions[f"{PLAYBOOK}/q-multiple"][1].options}
    assert rows["q-multiple"]["answer"] == "; ".join(texts_en[i] for i in picked) and len(picked) >= 2
    assert rows["q-text"]["answer"].startswith("Could we") and rows["q-text"]["answer_key"] == ""
    # A Chinese-speaking manager reads the options in Chinese.
    await bot.send("/start", BETA_MGR)
    await bot.send(f"/promote {BETA_MGR.id}", ADMIN)
    with bot.coach.store.tx() as db:
        db.execute("update teams set owner_id = ?", [BETA_MGR.id])
    zh = {r["item"].split("/")[-1]: r for r in _csv(await bot.send("/export Alpha", BETA_MGR))}
    assert zh["q-single"]["answer"] == "问清比较的是哪笔账" and zh["q-truefalse"]["answer"] == "对"
    # Content removed since: the stored key, not an error or a blank.
    with bot.coach.store.tx() as db:
        db.execute("update quiz_answers set question = 'gone/q-single' where question like '%/q-single'")
        db.execute("update quiz_answers set answer = 'zz' where question like '%/q-order'")
    gone = {r["item"].split("/")[-1]: r for r in _csv(await bot.send("/export Alpha", BETA_MGR))}
    assert gone["q-single"]["answer"] == "b" and gone["q-order"]["answer"] == "zz"


async def test_a_name_two_members_share_is_ambiguous_not_unknown(cbot: BotHarness) -> None:
    team = await _manager(cbot, ALPHA_MGR, "East")
    await _join(cbot, team, WANG1, WANG2, SHARED)
    reply = texts(await cbot.send("/report East 王伟", ALPHA_MGR))[0]
    assert "2 members of team East are called" in reply
    assert f"王伟 ({WANG1.id})" in reply and f"王伟 ({WANG2.id})" in reply and "no \u201c" not in reply
    assert "👤 <b>王伟</b>" in texts(await cbot.send(f"/report East {WANG2.id}", ALPHA_MGR))[0]
    assert "There is no" in texts(await cbot.send("/report East 李雷", ALPHA_MGR))[0]


async def test_removing_asks_first_and_tells_the_trainee_who_may_also_leave(cbot: BotHarness) -> None:
    bot = cbot
    team = await _manager(bot, ALPHA_MGR, "Alpha")
    await _join(bot, team, SHARED, WANG1, WANG2)
    calls = await bot.press(f"tmr:{team['id']}:{SHARED.id}", ALPHA_MGR)
    assert "Remove Sam (4003) from team <b>Alpha</b>?" in texts(calls)[0]
    assert button_data(calls) == [f"tmy:{team['id']}:{SHARED.id}", f"tm:{team['id']}"]
    assert store_members(bot, team) == {SHARED.id, WANG1.id, WANG2.id}, "nothing removed before Confirm"
    calls = await bot.press(f"tm:{team['id']}", ALPHA_MGR)  # Cancel: back to the member list
    assert "Members of" in texts(calls)[0] and store_members(bot, team) == {SHARED.id, WANG1.id, WANG2.id}
    calls = await bot.press(f"tmy:{team['id']}:{SHARED.id}", ALPHA_MGR)
    assert "Removed Sam (4003)" in texts(calls)[0]
    assert _to(calls, SHARED) == ["ℹ️ Your manager removed you from team <b>Alpha</b>. " + _REMOVED_TAIL]
    calls = await bot.send(f"/team remove Alpha {WANG1.id}", ALPHA_MGR)  # typed: no confirm, still told
    assert "Removed" in texts(calls)[0] and "经理把你移出了团队 <b>Alpha</b>" in _to(calls, WANG1)[0]
    # A trainee leaves by name; the manager hears of it.
    calls = await bot.send("/team leave alpha", WANG2)
    assert "你已退出团队 <b>Alpha</b>" in _to(calls, WANG2)[0]
    assert _to(calls, ALPHA_MGR) == [f"ℹ️ 王伟 ({WANG2.id}) left team <b>Alpha</b>."]
    assert store_members(bot, team) == set()
    assert "你还没有加入团队" in texts(await bot.send("/team leave Alpha", WANG2))[0]


_REMOVED_TAIL = "Its assignments and reminders will no longer come to you."


def store_members(bot: BotHarness, team: dict[str, Any]) -> set[int]:
    rows = bot.coach.store.query("select user_id from team_members where team_id = ?", [team["id"]])
    return {r["user_id"] for r in rows}


async def test_leaving_with_buttons_and_by_join_code(cbot: BotHarness) -> None:
    alpha = await _manager(cbot, ALPHA_MGR, "Sales")
    beta = await _manager(cbot, BETA_MGR, "Sales")  # the same name, another manager
    await _join(cbot, alpha, SHARED)
    await _join(cbot, beta, SHARED)
    calls = await cbot.send("/team leave Sales", SHARED)
    assert "Leave which team?" in texts(calls)[0]
    assert sorted(button_data(calls)) == sorted([f"tml:{alpha['id']}", f"tml:{beta['id']}"])
    calls = await cbot.press(f"tml:{beta['id']}", SHARED)
    assert "You left team" in texts(calls)[0] and "退出了团队" in _to(calls, BETA_MGR)[0]
    assert "expired" in texts(await cbot.press(f"tml:{beta['id']}", SHARED))[0]
    calls = await cbot.send(f"/team leave {alpha['code'].lower()}", SHARED)
    assert "You left team" in texts(calls)[0] and store_members(cbot, alpha) == set()
    assert "/team leave" in texts(await cbot.send("/team what", SHARED))[0]


async def test_demoting_a_manager_who_owns_teams_hands_them_over_first(cbot: BotHarness) -> None:
    bot = cbot
    team = await _manager(bot, ALPHA_MGR, "Alpha")
    await _join(bot, team, SHARED)
    aid = await _assign(bot, ALPHA_MGR, f"quiz:{PLAYBOOK}", team)
    calls = await bot.send(f"/demote {ALPHA_MGR.id}", ADMIN)
    assert "still manages these teams: <b>Alpha</b> (1 member)" in texts(calls)[0]
    assert bot.coach.store.user(ALPHA_MGR.id)["role"] == "manager", "refused until handed over"
    assert "stays a manager" in texts(await bot.press(f"dmt:{ALPHA_MGR.id}:n", ADMIN))[0]
    assert "Sorry, only admins" in texts(await bot.press(f"dmt:{ALPHA_MGR.id}:y", SHARED))[0]
    calls = await bot.press(f"dmt:{ALPHA_MGR.id}:y", ADMIN)
    assert (
        "You now own these teams: <b>Alpha</b> (1 member)." in texts(calls)[0]
        and "no longer a manager" in texts(calls)[0]
    )
    assert bot.coach.store.user(ALPHA_MGR.id)["role"] == "trainee"
    assert bot.coach.store.one("select owner_id from teams")["owner_id"] == ADMIN.id
    # The summary of the pending assignment reaches the new owner, whose Report button works.
    day = date.fromisoformat(_due(bot))
    after = datetime.combine(day + timedelta(days=1), time(9), tzinfo=zone(bot.coach))
    summaries = [r for r in due_reminders(bot.coach, after) if "finished" in r.text]
    assert [r.chat_id for r in summaries] == [ADMIN.id]
    assert "📊" in texts(await bot.press(f"rep:{team['id']}", ADMIN))[0]
    assert (
        bot.coach.store.one("select created_by from assignments where id = ?", [aid])["created_by"]
        == ADMIN.id
    )
    await bot.send("/start", WANG1)
    await bot.send(f"/promote {WANG1.id}", ADMIN)
    assert "no longer a manager" in texts(await bot.send(f"/demote {WANG1.id}", ADMIN))[0]  # no teams


async def test_work_in_progress_shows_in_the_report(cbot: BotHarness) -> None:
    bot = cbot
    team = await _manager(bot, ALPHA_MGR, "Alpha")
    await _join(bot, team, SHARED, WANG1)
    aid = await _assign(bot, ALPHA_MGR, f"quiz:{PLAYBOOK}", team)
    await bot.press(f"asg:{aid}", SHARED)
    for _ in range(2):
        await answer(bot, SHARED, right=True)
    report = texts(await bot.send("/report Alpha", ALPHA_MGR))[0]
    assert "done 0/2 (0%) · 1 in progress" in report
    assert "Sam (4003) — 0/1 ⏳1 ·" in report and "王伟 (4011) — 0/1 ·" in report
    detail = texts(await bot.send(f"/report Alpha {SHARED.id}", ALPHA_MGR))[0]
    assert "in progress, 2 of 5 answered" in detail
    assert "⬜" in texts(await bot.send(f"/report Alpha {WANG1.id}", ALPHA_MGR))[0]
    while active_run(bot, SHARED) is not None:
        await answer(bot, SHARED, right=True)
    report = texts(await bot.send("/report Alpha", ALPHA_MGR))[0]
    assert "in progress" not in report.split("<b>Members")[0] and "Sam (4003) — 1/1 ·" in report


async def test_counts_names_and_pickers_read_right(cbot: BotHarness) -> None:
    bot = cbot
    east_a = await _manager(bot, ALPHA_MGR, "East")
    assert texts(await bot.send("/team new", ALPHA_MGR))[0].startswith("Usage: /team new team-name")
    east_b = await _manager(bot, BETA_MGR, "East")
    await _join(bot, east_a, SHARED)
    listing = texts(await bot.send("/team", ALPHA_MGR))[0]
    assert "· 1 member\n" in listing and "1 members" not in listing
    report = texts(await bot.send("/report", ALPHA_MGR))[0]
    assert "East</b> · 1 member\n" in report
    await _join(bot, east_a, WANG1)
    assert "East</b> · 2 members" in texts(await bot.send("/report East", ALPHA_MGR))[0]
    labels = {b["text"] for b in buttons(await bot.send("/report", ADMIN))}
    assert {"East (Alice)", "East (Bob)"} <= labels
    labels = {b["text"] for b in buttons(await bot.send("/export", ADMIN))}
    assert {"East (Alice)", "East (Bob)", "Everyone"} <= labels
    assert {b["text"] for b in buttons(await bot.send("/report", BETA_MGR))} <= {"East"}
    assert east_b["id"] != east_a["id"]


def _finished_runs(bot: BotHarness, team_id: int, days: list[date]) -> None:
    store = bot.coach.store
    with store.tx() as db:
        member = db.execute("select user_id from team_members where team_id = ?", [team_id]).fetchone()[0]
        for i, day in enumerate(days):
            db.execute(
                "insert into quiz_runs (user_id, playbook, questions, status, score, started_at, finished_at) "
                "values (?, ?, '[]', 'finished', ?, ?, ?)",
                [member, PLAYBOOK, 40 + i % 50, day.isoformat(), f"{day.isoformat()}T10:00:00Z"],
            )


async def test_the_chart_labels_each_day_once_and_stays_inside_the_image(cbot: BotHarness) -> None:
    bot = cbot
    team = await _manager(bot, ALPHA_MGR, "Alpha")
    await _join(bot, team, SHARED)
    start = date(2026, 11, 21)
    seen_spans = []
    for span in (1, 3, 20, 200):
        with bot.coach.store.tx() as db:
            db.execute("delete from quiz_runs")
        _finished_runs(bot, team["id"], [start + timedelta(days=i) for i in range(span)])
        fig = score_figure(bot.coach.store, team["id"])
        assert fig is not None
        canvas = FigureCanvasAgg(fig)  # what savefig draws with
        canvas.draw()
        renderer = canvas.get_renderer()
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()  # the ticks drawn: a locator also returns some just outside
        labels = [
            t.label1 for t in ax.xaxis.get_major_ticks() if lo <= t.get_loc() <= hi and t.label1.get_text()
        ]
        names = [lbl.get_text() for lbl in labels]
        assert names and len(names) == len(set(names)), f"{span} days: {names}"
        assert len(names) <= 12
        if span <= 3:
            assert names == [(start + timedelta(days=i)).strftime("%m-%d") for i in range(span)]
        box = fig.bbox
        for artist in [*labels, ax.yaxis.label, *ax.get_yticklabels()]:
            ext = artist.get_window_extent(renderer)
            assert box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1, (
                span,
                artist.get_text(),
            )
        seen_spans.append(span)
    calls = await bot.send("/report Alpha", ALPHA_MGR)
    (png,) = [c for c in calls if c.method == "sendDocument"]
    assert png.files["document"][1][:4] == b"\x89PNG" and seen_spans == [1, 3, 20, 200]
