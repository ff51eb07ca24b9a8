"""Teams, assignments, reminders and reports end to end over the real Application.

An admin creates a team; two trainees join (code and deep link); the admin assigns a quiz and
a role-play; one trainee finishes both, the other is reminded (the reminder job is run with a
controlled clock); /report and /export then show exactly what happened.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from bot.core.assignments import due_reminders, today, zone
from bot.core.quiz import right_ids, shown_ids
from bot.reports import build_report, export_csv
from tests.coachkit import ADMIN, PLAYBOOK, SCENARIO, active_run, answer, cbot, coaching_settings, current
from tests.harness import BotHarness, User, button_data, buttons, texts

__all__ = ["cbot", "coaching_settings"]

ANNA = User(id=3001, first_name="安娜", language_code="zh-hans")
BEN = User(id=3002, first_name="Ben", language_code="en")
TEAM = "Sales East"


def _sent_to(calls: list[Any], user: User) -> list[str]:
    return [c["text"] for c in calls if c.method == "sendMessage" and int(c["chat_id"]) == user.id]


def _at(bot: BotHarness, day: Any, hour: int, minute: int = 0) -> datetime:
    """A moment on `day` in the bot's time zone (due dates are days there)."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone(bot.coach))


async def _run_reminders(bot: BotHarness, when: datetime) -> list[Any]:
    bot.app.bot_data["clock"] = lambda: when
    (job,) = bot.app.job_queue.get_jobs_by_name("due-reminders")
    before = len(bot.api.calls)
    await job.run(bot.app)
    return bot.api.calls[before:]


def _csv(calls: list[Any]) -> tuple[str, list[dict[str, str]]]:
    (doc,) = [c for c in calls if c.method == "sendDocument"]
    name, data, _mime = doc.files["document"]
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel reads Chinese"
    return name, list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def _setup_team(bot: BotHarness) -> dict[str, Any]:
    calls = await bot.send(f"/team new {TEAM}", ADMIN)
    team = bot.coach.store.one("select * from teams where name = ?", [TEAM])
    link = f"https://t.me/{bot.coach.bot_username}?start=j_{team['code']}"
    assert team["code"] in texts(calls)[0] and link in texts(calls)[0]
    assert buttons(calls)[0]["url"] == link
    assert "你加入了团队" in texts(await bot.send(f"/join {team['code'].lower()}", ANNA))[0]
    assert "You joined team" in texts(await bot.send(f"/start j_{team['code']}", BEN))[0]
    assert "already" in texts(await bot.send(f"/start j_{team['code']}", BEN))[0]
    return team


async def test_the_whole_manager_loop(cbot: BotHarness) -> None:
    bot = cbot
    team = await _setup_team(bot)
    listing = texts(await bot.send("/team", ADMIN))[0]
    assert "安娜 (3001)" in listing and "Ben (3002)" in listing and team["code"] in listing

    # --- assign a quiz (team by name) and a role-play (team by join code)
    due = (today(bot.coach) + timedelta(days=2)).isoformat()
    calls = await bot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due}", ADMIN)
    assert "Assigned" in texts(calls)[0] and "(2 members)" in texts(calls)[0]
    quiz_a = bot.coach.store.one("select * from assignments where kind = 'quiz'")
    assert len(json.loads(quiz_a["questions"])) == 5, "the fixed question set is stored on the assignment"
    assert "新作业" in _sent_to(calls, ANNA)[0] and "New assignment" in _sent_to(calls, BEN)[0]
    assert f"asg:{quiz_a['id']}" in button_data(calls)
    calls = await bot.send(f"/assign roleplay:{SCENARIO} {team['code']} {due}", ADMIN)
    rp_a = bot.coach.store.one("select * from assignments where kind = 'roleplay'")
    assert _sent_to(calls, ANNA) and _sent_to(calls, BEN)
    assert len(texts(await bot.send("/todo", BEN))[0].split("\n• ")) == 3  # header + two open

    # --- Anna does the quiz (the fixed set, one miss) and the role-play (guided, strong reply)
    await bot.press(f"asg:{quiz_a['id']}", ANNA)
    assert active_run(bot, ANNA)["questions"] == json.loads(quiz_a["questions"])
    while active_run(bot, ANNA) is not None:
        await answer(bot, ANNA, right=current(bot, ANNA)[2].kind != "truefalse", lang="zh")
    calls = await bot.press(f"asg:{rp_a['id']}", ANNA)
    assert f"asg:{rp_a['id']}:g" in button_data(calls)
    calls = await bot.press(f"asg:{rp_a['id']}:g", ANNA)
    strong = next(d for d in button_data(calls) if d.startswith("rpg:") and _is_strong(bot, d))
    await bot.press(strong, ANNA)
    run = bot.coach.store.one("select * from roleplay_runs where user_id = ?", [ANNA.id])
    assert run["status"] == "finished" and run["assignment_id"] == rp_a["id"]
    todo = texts(await bot.send("/todo", ANNA))[0]
    assert "已完成" in todo and "现在没有布置给你的练习" in todo
    assert "已经完成" in texts(await bot.press(f"asg:{quiz_a['id']}", ANNA))[0]

    # --- Ben only looks things up and tries a practice role-play badly
    await bot.send("they say we are too expensive", BEN)
    await bot.send(f"/roleplay {SCENARIO}", BEN)
    await bot.send("I'll give you 20% off", BEN)

    # --- reminders: the day before, on the day, and the manager's summary; never twice
    day = datetime.fromisoformat(due).date()
    calls = await _run_reminders(bot, _at(bot, day - timedelta(days=1), 9, 30))
    assert len(_sent_to(calls, BEN)) == 2 and not _sent_to(calls, ANNA) and not _sent_to(calls, ADMIN)
    assert all("due tomorrow" in x for x in _sent_to(calls, BEN))
    assert await _run_reminders(bot, _at(bot, day - timedelta(days=1), 9, 35)) == []
    calls = await _run_reminders(bot, _at(bot, day, 10))
    assert len(_sent_to(calls, BEN)) == 2 and all("Due today" in x for x in _sent_to(calls, BEN))
    assert await _run_reminders(bot, _at(bot, day, 18)) == []
    calls = await _run_reminders(bot, _at(bot, day + timedelta(days=1), 0, 30))
    summaries = _sent_to(calls, ADMIN)
    assert len(summaries) == 2 and all("1 of 2 finished" in s and "Ben (3002)" in s for s in summaries)
    assert f"rep:{team['id']}" in button_data(calls)
    assert await _run_reminders(bot, _at(bot, day + timedelta(days=3), 12)) == []

    # --- the report shows exactly that
    calls = await bot.send(f"/report {TEAM}", ADMIN)
    report = texts(calls)[0]
    assert report.count("done 1/2 (50%)") == 2
    assert "安娜 (3001) — 2/2" in report and "Ben (3002) — 0/2" in report
    weak_card = bot.coach.lib.cards["sample-playbook/sample-card-2"].card.title.en
    assert f"{weak_card} — missed 1/" in report.replace("&#x27;", "'")
    assert "Asks what exactly is being compared" in report  # Ben's missed rubric check
    assert "Most looked-up cards" in report and "× " not in report
    (png,) = [c for c in calls if c.method == "sendDocument"]
    assert png.files["document"][0].endswith(".png") and png.files["document"][1][:4] == b"\x89PNG"
    detail = texts(await bot.send(f"/report {TEAM} {ANNA.id}", ADMIN))[0]
    assert "安娜" in detail and "Quizzes: 5 answers, 4 right" in detail and "Role-plays: 1 finished" in detail

    # --- and the export has every attempt, nothing else
    name, rows = _csv(await bot.send(f"/export {TEAM}", ADMIN))
    assert name.endswith(".csv")
    quiz_rows = [r for r in rows if r["activity"] == "quiz"]
    rp_rows = [r for r in rows if r["activity"] == "roleplay"]
    assert len(quiz_rows) == 5 and {r["name"] for r in quiz_rows} == {"安娜"}
    assert sum(r["correct"] == "1" for r in quiz_rows) == 4
    # Ben started the assigned scenario himself (/roleplay): that run counts for the assignment.
    assert {(r["name"], r["assignment_id"]) for r in rp_rows} == {
        ("安娜", str(rp_a["id"])),
        ("Ben", str(rp_a["id"])),
    }
    assert all(r["teams"] == TEAM for r in rows)
    assert export_csv(bot.coach.store, team["id"]) == export_csv(bot.coach.store, team["id"])
    assert build_report(bot.coach.store, bot.coach.lib, team["id"]).members == 2


def _is_strong(bot: BotHarness, data: str) -> bool:
    from bot.core.roleplay_feature import guided_order

    _, run_id, node, i = data.split(":")
    return guided_order(int(run_id), node)[int(i)] == "strong"


async def test_reminders_skip_the_finished_the_late_and_windows_the_bot_missed(cbot: BotHarness) -> None:
    bot = cbot
    team = await _setup_team(bot)
    due = (
        today(bot.coach) + timedelta(days=1)
    ).isoformat()  # assigned after 09:00 the day before? no reminder then
    await cbot.send(f"/assign quiz:{PLAYBOOK} {team['code']} {due}", ADMIN)
    day = datetime.fromisoformat(due).date()
    coach = cbot.coach
    aid = coach.store.one("select id from assignments")["id"]
    created = coach.store.one("select created_at from assignments")["created_at"]
    before = _at(bot, day - timedelta(days=1), 9, 30)
    expected = (
        2
        if datetime.fromisoformat(created.replace("Z", "+00:00")) < _at(bot, day - timedelta(days=1), 9)
        else 0
    )
    assert len(due_reminders(coach, before)) == expected
    # Ben finishes before the due-day reminder: only Anna hears about it.
    await cbot.press(f"asg:{aid}", BEN)
    while active_run(cbot, BEN) is not None:
        await answer(cbot, BEN, right=True)
    on_day = due_reminders(coach, _at(bot, day, 9, 5))
    assert [r.chat_id for r in on_day] == [ANNA.id] and "今天截止" in on_day[0].text
    # A bot that was down through the due date sends only the summary, once.
    late = due_reminders(coach, _at(bot, day + timedelta(days=5), 9))
    assert [r.chat_id for r in late] == [ADMIN.id] and "1 of 2 finished" in late[0].text
    assert due_reminders(coach, _at(bot, day + timedelta(days=6), 9)) == []


async def test_interactive_assign_with_buttons_survives_a_restart(coaching_settings) -> None:
    bot = await BotHarness.start(coaching_settings)
    try:
        await _setup_team(bot)
        calls = await bot.send("/assign", ADMIN)
        assert "asn:k:quiz" in button_data(calls)
        calls = await bot.press("asn:k:roleplay", ADMIN)
        assert f"asn:r:{SCENARIO}" in button_data(calls) and calls[-1].method == "editMessageText"
        calls = await bot.press(f"asn:r:{SCENARIO}", ADMIN)
        team_button = next(d for d in button_data(calls) if d.startswith("asn:t:"))
    finally:
        await bot.stop()
    bot = await BotHarness.start(coaching_settings)
    try:
        calls = await bot.press(team_button, ADMIN)
        assert "asn:d:7" in button_data(calls)
        calls = await bot.send("2001-01-01", ADMIN)
        assert "YYYY-MM-DD" in texts(calls)[0]
        due = (today(bot.coach) + timedelta(days=5)).isoformat()
        calls = await bot.send(due, ADMIN)
        assert "Assigned" in texts(calls)[0] and _sent_to(calls, ANNA) and _sent_to(calls, BEN)
        assert bot.coach.store.one("select due_date from assignments")["due_date"] == due
        assert bot.coach.store.session(ADMIN.id) is None
        assert "expired" in texts(await bot.press("asn:d:7", ADMIN))[0]
    finally:
        await bot.stop()


async def test_assign_with_partial_arguments_asks_for_the_rest_and_rejects_bad_ones(
    cbot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await _setup_team(cbot)
    calls = await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM}", ADMIN)
    assert "asn:d:3" in button_data(calls)
    assert "asn:x" in button_data(calls)
    assert "nothing was assigned" in texts(await cbot.press("asn:x", ADMIN))[0]
    bad = [
        f"/assign quiz:nope {TEAM} 2030-01-01",
        f"/assign homework:{PLAYBOOK} {TEAM}",
        f"/assign quiz:{PLAYBOOK} Nowhere 2030-01-01",
        f"/assign quiz:{PLAYBOOK} {TEAM} 2030-02-30",
        f"/assign quiz:{PLAYBOOK} {TEAM} 1999-01-01",
        "/assign " + "x" * 5000,
        "/assign quiz:\u202e\u0000 team",
    ]
    for command in bad:
        reply = texts(await cbot.send(command, ADMIN))
        assert len(reply) == 1 and len(reply[0]) < 400, command
    assert cbot.coach.store.one("select count(*) as n from assignments")["n"] == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"], (
        "bad input is answered, never an exception"
    )


async def test_team_member_removal_by_command_and_button(cbot: BotHarness) -> None:
    team = await _setup_team(cbot)
    assert "Removed" in texts(await cbot.send(f"/team remove {TEAM} {BEN.id}", ADMIN))[0]
    assert "is not in team" in texts(await cbot.send(f"/team remove {TEAM} {BEN.id}", ADMIN))[0]
    calls = await cbot.press(f"tm:{team['id']}", ADMIN)
    assert f"tmr:{team['id']}:{ANNA.id}" in button_data(calls)
    calls = await cbot.press(f"tmr:{team['id']}:{ANNA.id}", ADMIN)  # ❌ asks first
    assert "Remove 安娜 (3001)" in texts(calls)[0] and f"tmy:{team['id']}:{ANNA.id}" in button_data(calls)
    calls = await cbot.press(f"tmy:{team['id']}:{ANNA.id}", ADMIN)
    assert "Removed" in texts(calls)[0] and "editMessageText" in [c.method for c in calls]
    assert cbot.coach.store.one("select count(*) as n from team_members")["n"] == 0
    assert "expired" in texts(await cbot.press(f"tmy:{team['id']}:{ANNA.id}", ADMIN))[0]


async def test_promote_and_demote_a_manager_in_both_languages(cbot: BotHarness) -> None:
    await cbot.send("/start", ANNA)
    calls = await cbot.send(f"/promote {ANNA.id}", ADMIN)
    assert "is now a manager" in texts(calls)[0] and "你现在是经理了" in _sent_to(calls, ANNA)[0]
    assert "no teams yet" not in texts(await cbot.send("/team", ANNA))[0]  # Anna reads Chinese
    assert "还没有团队" in texts(await cbot.send("/team", ANNA))[0]
    help_text = texts(await cbot.send("/help", ANNA))[0]
    assert "/assign" in help_text and "/report" in help_text and "/promote" not in help_text
    assert "<b>安娜的团队</b> 建好了" in texts(await cbot.send("/team new 安娜的团队", ANNA))[0]
    assert "already a manager" in texts(await cbot.send(f"/promote {ANNA.id}", ADMIN))[0]
    calls = await cbot.send(f"/demote {ANNA.id}", ADMIN)  # she owns a team: hand it over first
    assert "still manages" in texts(calls)[0] and f"dmt:{ANNA.id}:y" in button_data(calls)
    assert "no longer a manager" in texts(await cbot.press(f"dmt:{ANNA.id}:y", ADMIN))[0]
    assert "只有经理" in texts(await cbot.send("/report", ANNA))[0]
    assert "admin" in texts(await cbot.send(f"/demote {ADMIN.id}", ADMIN))[0]
    assert "send me /start first" in texts(await cbot.send("/promote 99999", ADMIN))[0]
    assert "Usage" in texts(await cbot.send("/promote @anna", ADMIN))[0]


async def test_help_shows_each_role_its_commands(cbot: BotHarness) -> None:
    trainee = texts(await cbot.send("/help", BEN))[0]
    for cmd in ("/quiz", "/todo", "/join"):
        assert cmd in trainee
    for cmd in ("/team new", "/assign", "/report", "/export", "/promote"):
        assert cmd not in trainee
    assert "/team leave" in trainee
    admin = texts(await cbot.send("/help", ADMIN))[0]
    for cmd in ("/quiz", "/team", "/assign", "/report", "/export", "/promote", "/demote"):
        assert cmd in admin
    zh = texts(await cbot.send("/help", ANNA))[0]
    assert "/quiz" in zh and "测验" in zh


async def test_team_names_and_codes_are_checked(cbot: BotHarness) -> None:
    assert "1 to 40" in texts(await cbot.send("/team new " + "长" * 41, ADMIN))[0]
    assert "1 to 40" in texts(await cbot.send("/team new \u200b\u0007", ADMIN))[0]
    await cbot.send("/team new A<b>&", ADMIN)
    assert "already have" in texts(await cbot.send("/team new a<B>&", ADMIN))[0]
    assert "A&lt;b&gt;&amp;" in texts(await cbot.send("/team", ADMIN))[0]
    assert "No team has that" in texts(await cbot.send("/join NOPE1234", BEN))[0]
    assert "Usage" in texts(await cbot.send("/join", BEN))[0]
    assert "not in a team" in texts(await cbot.send("/team", BEN))[0]


def test_an_empty_team_reports_and_exports_cleanly() -> None:
    from bot.app import build_coach
    from bot.config import Settings
    from tests.coachkit import CONTENT

    coach = build_coach(Settings(db_path=":memory:", content_dir=CONTENT))  # type: ignore[arg-type]
    coach.store.ensure_user(1, "Boss", "en")
    with coach.store.tx() as db:
        db.execute("insert into teams (name, code, owner_id, created_at) values ('T', 'ABCDEFGH', 1, 'x')")
    rep = build_report(coach.store, coach.lib, 1)
    assert rep.members == 0 and rep.assignments == [] and rep.weak_cards == []
    assert export_csv(coach.store, None).decode("utf-8-sig").startswith("ts,user_id,name")
    coach.store.close()


def test_the_manager_flows_in_the_terminal_chat(coaching_settings, tmp_path) -> None:
    """An admin (by settings) and a trainee share one Coach in two terminals."""
    from bot.app import build_coach
    from bot.channels.console import Console

    coach = build_coach(coaching_settings)
    admin_out, trainee_out = io.StringIO(), io.StringIO()
    admin = Console(coach, ADMIN.id, "zh", admin_out, tmp_path)
    trainee = Console(coach, 3050, "en", trainee_out, tmp_path)
    try:
        admin.handle("/team new 华东大客户")
        code = coach.store.one("select code from teams")["code"]
        assert f"start=j_{code}" in admin_out.getvalue()
        trainee.handle(f"/join {code}")
        due = (today(coach) + timedelta(days=3)).isoformat()
        admin.handle(f"/assign quiz:{PLAYBOOK} 华东大客户 {due}")
        assert "[→ chat 3050]" in admin_out.getvalue() and "New assignment" in admin_out.getvalue()
        trainee.handle("/todo")
        trainee.handle("1")  # the first button: start the assignment
        while (run := coach.store.one("select * from quiz_runs where status = 'active'")) is not None:
            qids = json.loads(run["questions"])
            q = coach.lib.questions[qids[run["pos"]]][1]
            if q.kind == "text":
                trainee.handle("Could we arrange a call next week?")
                continue
            if q.kind == "truefalse":
                wanted = [f"qz:{run['id']}:{run['pos']}:{'t' if q.answer else 'f'}"]
            else:
                ids = shown_ids(q, run["id"], qids[run["pos"]])
                wanted = [f"qz:{run['id']}:{run['pos']}:o{ids.index(i)}" for i in right_ids(q)]
                if q.kind == "multiple":
                    wanted.append(f"qz:{run['id']}:{run['pos']}:s")
            for data in wanted:
                actions = [b.action for b in trainee.buttons]
                trainee.handle(str(actions.index(data) + 1))
        assert "Quiz done" in trainee_out.getvalue() and "5 of 5 right" in trainee_out.getvalue()
        admin.handle("/report 华东大客户")
        out = admin_out.getvalue()
        assert (
            "完成 1/1（100%）" in out and "[file saved:" in out and (tmp_path / "team-1-scores.png").exists()
        )
        admin.handle("/export 华东大客户")
        rows = list(csv.DictReader(io.StringIO((tmp_path / "coachbot-team-1.csv").read_text("utf-8-sig"))))
        assert len(rows) == 5 and {r["user_id"] for r in rows} == {"3050"}
        trainee.handle("/report")
        assert "only managers" in trainee_out.getvalue()
    finally:
        coach.store.close()


async def test_export_quotes_user_text_and_defuses_formulas(cbot: BotHarness) -> None:
    team = await _setup_team(cbot)
    await cbot.send(f"/quiz {PLAYBOOK}", BEN)
    while current(cbot, BEN)[2].kind != "text":
        await answer(cbot, BEN, right=True)
    tricky = '=HYPERLINK("http://x"), say "next week"\n第二行, 下周'
    await cbot.send(tricky, BEN)
    with cbot.coach.store.tx() as db:  # a name that looks like a formula, too
        db.execute("update users set name = '+Ben, \"the\" rep' where id = ?", [BEN.id])
    _, rows = _csv(await cbot.send(f"/export {team['code']}", ADMIN))
    typed = [r for r in rows if r["item"].endswith("q-text")]
    assert len(typed) == 1 and typed[0]["answer"] == "'" + tricky
    assert {r["name"] for r in rows} == {'\'+Ben, "the" rep'}
    assert all(len(r) == 14 and r["activity"] == "quiz" for r in rows)
