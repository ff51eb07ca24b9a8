"""Assignment fixes from the manager QA pass, each driven through the real Telegram Application:
duplicates refused and cancelling, self-started runs counting, date help, honest reminder
promises, reminders worded from the local date, and content removed from the library.

Time is never read from the wall clock in an assertion: reminders run at chosen moments, and
what the confirmation promises is checked against what the reminder job then really sends.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.core.assignments import due_reminders, finished, reminder_plan, today, zone
from bot.core.reply import Reply
from bot.core.roleplay_feature import guided_order
from bot.i18n import t
from bot.reports import build_report
from tests.coachkit import (
    ADMIN,
    CONTENT,
    PLAYBOOK,
    SCENARIO,
    active_run,
    cbot,
    coaching_settings,
    finish_quiz,
)
from tests.harness import BotHarness, User, button_data, texts

__all__ = ["cbot", "coaching_settings"]

ANNA = User(id=3101, first_name="Anna", language_code="en")
BEN = User(id=3102, first_name="Ben", language_code="en")
MIA = User(id=3103, first_name="Mia", language_code="en")  # manages another team
TEAM = "Alpha"


def _sent_to(calls: list[Any], user: User) -> list[str]:
    return [c["text"] for c in calls if c.method == "sendMessage" and int(c["chat_id"]) == user.id]


def _at(bot: BotHarness, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(bot.coach))


def _to(replies: list[Reply], user: User) -> list[str]:
    return [r.text for r in replies if r.chat_id == user.id]


def _count(bot: BotHarness, where: str = "1") -> int:
    return bot.coach.store.one(f"select count(*) as n from assignments where {where}")["n"]


async def _team(bot: BotHarness, name: str = TEAM) -> dict[str, Any]:
    await bot.send(f"/team new {name}", ADMIN)
    team = bot.coach.store.one("select * from teams where name = ?", [name])
    for user in (ANNA, BEN):
        await bot.send(f"/join {team['code']}", user)
    return team


def _strong(bot: BotHarness, calls: list[Any]) -> str:
    for data in button_data(calls):
        if data.startswith("rpg:"):
            _, run_id, node, i = data.split(":")
            if guided_order(int(run_id), node)[int(i)] == "strong":
                return data
    raise AssertionError("no guided choice offered")


# ---------------------------------------------------------------- 1. duplicates and cancelling


async def test_an_identical_open_assignment_is_refused_once_cancelled_it_may_be_set_again(
    cbot: BotHarness,
) -> None:
    await _team(cbot)
    due = (today(cbot.coach) + timedelta(days=5)).isoformat()
    first = await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due}", ADMIN)
    assert "Assigned" in texts(first)[0] and _sent_to(first, ANNA) and _sent_to(first, BEN)
    aid = cbot.coach.store.one("select id from assignments")["id"]
    again = await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due}", ADMIN)
    assert len(texts(again)) == 1, "the trainees hear nothing the second time"
    assert "already has this" in texts(again)[0] and f"/assign cancel {aid}" in texts(again)[0]
    assert _count(cbot) == 1
    # A different due date or content is a different assignment.
    later = (today(cbot.coach) + timedelta(days=6)).isoformat()
    assert "Assigned" in texts(await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {later}", ADMIN))[0]
    assert "Assigned" in texts(await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM} {due}", ADMIN))[0]
    # The button flow is refused the same way.
    await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM}", ADMIN)
    calls = await cbot.send(due, ADMIN)
    assert "already has this" in texts(calls)[0] and not _sent_to(calls, ANNA)
    assert cbot.coach.store.session(ADMIN.id) is None
    # Once cancelled, the same assignment may be set again.
    await cbot.send(f"/assign cancel {aid}", ADMIN)
    assert "Assigned" in texts(await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due}", ADMIN))[0]
    assert _count(cbot) == 4 and _count(cbot, "cancelled_at is not null") == 1


async def test_cancel_by_command_stops_reminders_and_summary_and_tells_trainees_once(
    cbot: BotHarness,
) -> None:
    await _team(cbot)
    await cbot.send("/start", MIA)
    await cbot.send(f"/promote {MIA.id}", ADMIN)
    await cbot.send("/team new Beta", MIA)
    due_day = today(cbot.coach) + timedelta(days=4)
    await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM} {due_day.isoformat()}", ADMIN)
    await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due_day.isoformat()}", ADMIN)
    rp_id = cbot.coach.store.one("select id from assignments where kind = 'roleplay'")["id"]
    # Only the team's manager (or an admin) may cancel; a trainee is not a manager at all.
    assert texts(await cbot.send(f"/assign cancel {rp_id}", MIA))[0] == t("en", "not_allowed")
    assert "only managers" in texts(await cbot.send(f"/assign cancel {rp_id}", ANNA))[0]
    assert "no assignment #999" in texts(await cbot.send("/assign cancel 999", ADMIN))[0]
    assert "Usage" in texts(await cbot.send("/assign cancel x", ADMIN))[0]
    assert _count(cbot, "cancelled_at is not null") == 0

    calls = await cbot.send(f"/assign cancel {rp_id}", ADMIN)
    assert "Cancelled" in texts(calls)[0] and "2 members told" in texts(calls)[0]
    for user in (ANNA, BEN):
        (note,) = _sent_to(calls, user)
        assert "Assignment cancelled" in note and "Sample: the owner" in note
    calls = await cbot.send(f"/assign cancel {rp_id}", ADMIN)
    assert "already cancelled" in texts(calls)[0] and not _sent_to(calls, ANNA)

    # Gone from /todo; its old Start button says so; the history row stays.
    todo = texts(await cbot.send("/todo", ANNA))[0]
    assert "Quiz" in todo and "Role-play" not in todo
    progress = texts(await cbot.send("/progress", ANNA))[0]
    assert "Sample: the owner" not in progress, "/progress lists only open assignments"
    assert "cancelled this assignment" in texts(await cbot.press(f"asg:{rp_id}", ANNA))[0]
    row = cbot.coach.store.one("select * from assignments where id = ?", [rp_id])
    assert row["cancelled_by"] == ADMIN.id and row["ref"] == SCENARIO

    # Reminders and the summary come for the quiz only.
    sent = [
        *due_reminders(cbot.coach, _at(cbot, due_day - timedelta(days=1), 9, 30)),
        *due_reminders(cbot.coach, _at(cbot, due_day, 9, 30)),
        *due_reminders(cbot.coach, _at(cbot, due_day + timedelta(days=1), 8)),
    ]
    assert sent and all("Quiz" in r.text and "Role-play" not in r.text for r in sent)
    assert len(_to(sent, ANNA)) == 2 and len(_to(sent, ADMIN)) == 1


async def test_cancel_from_a_button_asks_first_and_an_admin_may_cancel_a_managers_work(
    cbot: BotHarness,
) -> None:
    await cbot.send("/start", MIA)
    await cbot.send(f"/promote {MIA.id}", ADMIN)
    await cbot.send("/team new Beta", MIA)
    code = cbot.coach.store.one("select code from teams where name = 'Beta'")["code"]
    await cbot.send(f"/join {code}", ANNA)
    due = (today(cbot.coach) + timedelta(days=3)).isoformat()
    created = await cbot.send(f"/assign quiz:{PLAYBOOK} Beta {due}", MIA)
    aid = cbot.coach.store.one("select id from assignments")["id"]
    assert f"asx:{aid}" in button_data(created), "the confirmation offers to cancel it"
    # Listed for cancelling, to the manager and to an admin; not to a trainee.
    assert f"asx:{aid}" in button_data(await cbot.send("/assign cancel", MIA))
    assert f"asx:{aid}" in button_data(await cbot.send("/assign cancel", ADMIN))
    assert "only managers" in texts(await cbot.press(f"asx:{aid}:y", ANNA))[0]
    confirm = await cbot.press(f"asx:{aid}", MIA)
    assert "Cancel" in texts(confirm)[0] and {f"asx:{aid}:y", f"asx:{aid}:n"} <= set(button_data(confirm))
    assert "stays" in texts(await cbot.press(f"asx:{aid}:n", MIA))[0]
    assert _count(cbot, "cancelled_at is null") == 1
    calls = await cbot.press(f"asx:{aid}:y", ADMIN)
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1 and "Cancelled" in edits[0]["text"], "the question turns into the answer"
    assert len(_sent_to(calls, ANNA)) == 1
    assert "already cancelled" in texts(await cbot.press(f"asx:{aid}:y", MIA))[0]
    assert "no open assignments" in texts(await cbot.send("/assign cancel", MIA))[0]
    for junk in ("asx:", "asx:x", f"asx:{aid}:z", "asx:99999:y"):
        got = texts(await cbot.press(junk, MIA))
        assert len(got) == 1 and len(got[0]) < 200


async def test_a_cancelled_assignment_leaves_the_team_report(cbot: BotHarness) -> None:
    await _team(cbot)
    due = (today(cbot.coach) + timedelta(days=5)).isoformat()
    await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due}", ADMIN)
    await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM} {due}", ADMIN)
    rp_id = cbot.coach.store.one("select id from assignments where kind = 'roleplay'")["id"]
    await cbot.send(f"/assign cancel {rp_id}", ADMIN)
    report = build_report(
        cbot.coach.store, cbot.coach.lib, cbot.coach.store.one("select id from teams")["id"]
    )
    assert [a.kind for a in report.assignments] == ["quiz"]
    assert all(p.assigned == 1 for p in report.people)


# ---------------------------------------------------------------- 2. self-started runs count


async def test_a_roleplay_the_trainee_starts_themselves_counts_for_their_assignment(cbot: BotHarness) -> None:
    await _team(cbot)
    soon = today(cbot.coach) + timedelta(days=2)
    later = soon + timedelta(days=5)
    await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM} {later.isoformat()}", ADMIN)
    await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM} {soon.isoformat()}", ADMIN)
    first = cbot.coach.store.one("select id from assignments where due_date = ?", [soon.isoformat()])["id"]
    second = cbot.coach.store.one("select id from assignments where due_date = ?", [later.isoformat()])["id"]

    calls = await cbot.send(f"/roleplay {SCENARIO} guided", BEN)
    assert f"This counts for your assignment due {soon.isoformat()} ({TEAM})" in texts(calls)[0]
    await cbot.press(_strong(cbot, calls), BEN)
    run = cbot.coach.store.one("select * from roleplay_runs where user_id = ?", [BEN.id])
    assert run["status"] == "finished" and run["assignment_id"] == first, "the earliest due one"
    assert finished(cbot.coach, first, BEN.id) is not None
    # The next run counts for the next assignment; with none left it is plain practice.
    calls = await cbot.press(f"rps:{SCENARIO}:g", BEN)
    assert f"due {later.isoformat()}" in texts(calls)[0]
    await cbot.press(_strong(cbot, calls), BEN)
    assert finished(cbot.coach, second, BEN.id) is not None
    calls = await cbot.send(f"/roleplay {SCENARIO}", BEN)
    assert "counts for your assignment" not in texts(calls)[0]
    # Anna did nothing: the manager's summary says so.
    summary = _to(due_reminders(cbot.coach, _at(cbot, soon + timedelta(days=1), 8)), ADMIN)
    assert len(summary) == 1 and "1 of 2 finished" in summary[0] and "Anna" in summary[0]


async def test_a_quiz_the_trainee_starts_themselves_is_the_assigned_set_and_counts(cbot: BotHarness) -> None:
    await _team(cbot)
    due = (today(cbot.coach) + timedelta(days=3)).isoformat()
    await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {due}", ADMIN)
    a = cbot.coach.store.one("select * from assignments")
    calls = await cbot.send(f"/quiz {PLAYBOOK}", ANNA)
    assert f"This counts for your assignment due {due}" in texts(calls)[0]
    run = active_run(cbot, ANNA)
    assert run is not None and run["assignment_id"] == a["id"]
    assert run["questions"] == json.loads(a["questions"])
    assert "completes your assignment" in texts(await finish_quiz(cbot, ANNA))[-1]
    assert finished(cbot.coach, a["id"], ANNA.id) is not None
    assert "Done" in texts(await cbot.send("/todo", ANNA))[0]
    # Someone outside the team practises without any link.
    outsider = User(id=3199, first_name="Olu", language_code="en")
    calls = await cbot.send(f"/quiz {PLAYBOOK}", outsider)
    assert "counts for your assignment" not in texts(calls)[0]
    assert active_run(cbot, outsider)["assignment_id"] is None


# ---------------------------------------------------------------- 3. malformed dates


async def test_a_malformed_due_date_gets_the_date_help_not_no_such_team(cbot: BotHarness) -> None:
    await _team(cbot)
    for word in ("25/11/2026", "25.11.2026", "2026/11/25", "下周五", "friday"):
        reply = texts(await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {word}", ADMIN))
        assert len(reply) == 1 and "YYYY-MM-DD" in reply[0] and "None of your teams" not in reply[0], word
    both = texts(await cbot.send(f"/assign quiz:{PLAYBOOK} Nowhere 25/11/2026", ADMIN))[0]
    assert "None of your teams is called \u201cNowhere 25/11/2026\u201d" in both and "YYYY-MM-DD" in both
    plain = texts(await cbot.send(f"/assign quiz:{PLAYBOOK} Nowhere", ADMIN))[0]
    assert "None of your teams" in plain and "YYYY-MM-DD" not in plain
    assert _count(cbot) == 0
    # Day words are dates.
    first = today(cbot.coach)
    await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} tomorrow", ADMIN)
    await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM} 明天", ADMIN)
    await cbot.send(f"/assign roleplay:{SCENARIO} {TEAM}", ADMIN)
    await cbot.send("后天", ADMIN)
    dues = [r["due_date"] for r in cbot.coach.store.query("select due_date from assignments order by id")]
    assert dues == [(first + timedelta(days=n)).isoformat() for n in (1, 1, 2)]


# ---------------------------------------------------------------- 4. honest reminder promises


def test_the_reminder_promise_follows_the_time_of_creation(coaching_settings) -> None:
    from bot.app import build_coach

    coach = build_coach(coaching_settings)
    try:
        due = date(2031, 3, 12)
        at = lambda d, h, m=0: datetime.combine(d, time(h, m), tzinfo=zone(coach))  # noqa: E731
        assert reminder_plan(coach, due, at(due - timedelta(days=3), 15)) == "as.rem_both"
        assert reminder_plan(coach, due, at(due - timedelta(days=1), 8, 59)) == "as.rem_both"
        assert reminder_plan(coach, due, at(due - timedelta(days=1), 9, 1)) == "as.rem_due"
        assert reminder_plan(coach, due, at(due, 8)) == "as.rem_due"
        assert reminder_plan(coach, due, at(due, 9)) == "as.rem_none"
        assert reminder_plan(coach, due, at(due, 9).astimezone(UTC)) == "as.rem_none"
    finally:
        coach.store.close()


async def test_the_confirmation_promises_exactly_the_reminders_that_are_sent(cbot: BotHarness) -> None:
    """Due today, tomorrow and in two days: whatever the hour the test runs at, each window the
    confirmation names is a reminder the trainee then gets, and no other."""
    await _team(cbot)
    first = today(cbot.coach)
    claims = {
        "as.rem_both": {"before", "due"},
        "as.rem_due": {"due"},
        "as.rem_none": set(),
    }
    for n, content in ((0, f"quiz:{PLAYBOOK}"), (1, f"roleplay:{SCENARIO}"), (2, f"quiz:{PLAYBOOK}")):
        day = first + timedelta(days=n)
        text = texts(await cbot.send(f"/assign {content} {TEAM} {day.isoformat()}", ADMIN))[0]
        promised = [key for key in claims if t("en", key, at="09:00") in text]
        assert len(promised) == 1, text
        aid = cbot.coach.store.one("select max(id) as id from assignments")["id"]
        windows = {"before": _at(cbot, day - timedelta(days=1), 9, 30), "due": _at(cbot, day, 9, 30)}
        got = {kind for kind, moment in windows.items() if _reminded(cbot, moment, ANNA, aid)}
        assert got == claims[promised[0]], (n, text)
    assert "the day before" not in texts(await cbot.send("/todo", ANNA))[0]


def _reminded(bot: BotHarness, moment: datetime, user: User, aid: int) -> bool:
    """Whether the reminder job run at `moment` reminds `user` of assignment `aid`."""
    return any(
        r.chat_id == user.id and f"asg:{aid}" in str(r.buttons) for r in due_reminders(bot.coach, moment)
    )


# ---------------------------------------------------------------- 5. wording from the local date


async def test_a_late_day_before_reminder_says_due_today(cbot: BotHarness) -> None:
    await _team(cbot)
    day = today(cbot.coach) + timedelta(days=3)
    await cbot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {day.isoformat()}", ADMIN)
    evening = _to(due_reminders(cbot.coach, _at(cbot, day - timedelta(days=1), 21)), ANNA)
    assert len(evening) == 1 and "due tomorrow" in evening[0]
    # Ben's day-before reminder goes out only after local midnight (the bot was down).
    with cbot.coach.store.tx() as db:
        db.execute("delete from assignment_notices where user_id = ?", [BEN.id])
    late = _to(due_reminders(cbot.coach, _at(cbot, day, 0, 30)), BEN)
    assert len(late) == 1 and "Due today" in late[0] and "tomorrow" not in late[0]


# ---------------------------------------------------------------- 6. content removed


async def test_removed_content_reminds_nobody_and_the_manager_is_told_once(
    coaching_settings, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    bot = await BotHarness.start(replace(coaching_settings, content_dir=content))
    try:
        await _team(bot)
        day = today(bot.coach) + timedelta(days=3)
        await bot.send(f"/assign roleplay:{SCENARIO} {TEAM} {day.isoformat()}", ADMIN)
        await bot.send(f"/assign quiz:{PLAYBOOK} {TEAM} {day.isoformat()}", ADMIN)
        rp_id = bot.coach.store.one("select id from assignments where kind = 'roleplay'")["id"]
        (content / "scenarios" / f"{SCENARIO}.yaml").unlink()
        assert texts(await bot.send("/reload", ADMIN))[0].startswith("Content reloaded")

        told = due_reminders(bot.coach, _at(bot, day - timedelta(days=2), 12))
        assert len(told) == 1 and told[0].chat_id == ADMIN.id
        assert f"#{rp_id}" in told[0].text and "removed from the library" in told[0].text
        assert due_reminders(bot.coach, _at(bot, day - timedelta(days=2), 12, 5)) == []
        for moment in (_at(bot, day - timedelta(days=1), 9, 30), _at(bot, day, 9, 30)):
            sent = due_reminders(bot.coach, moment)
            assert _to(sent, ANNA) and all("Quiz" in x for x in _to(sent, ANNA) + _to(sent, BEN))
        summaries = _to(due_reminders(bot.coach, _at(bot, day + timedelta(days=1), 8)), ADMIN)
        assert len(summaries) == 2 and not any("removed" in s for s in summaries), "told once only"
        assert "Role-play" not in texts(await bot.send("/todo", ANNA))[0]
    finally:
        await bot.stop()


async def test_content_removed_unnoticed_until_the_summary_is_said_in_the_summary(
    coaching_settings, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    bot = await BotHarness.start(replace(coaching_settings, content_dir=content))
    try:
        await _team(bot)
        day = today(bot.coach) + timedelta(days=3)
        await bot.send(f"/assign roleplay:{SCENARIO} {TEAM} {day.isoformat()}", ADMIN)
        (content / "scenarios" / f"{SCENARIO}.yaml").unlink()
        await bot.send("/reload", ADMIN)
        (summary,) = due_reminders(bot.coach, _at(bot, day + timedelta(days=2), 8))
        assert summary.chat_id == ADMIN.id and "0 of 2 finished" in summary.text
        assert "removed from the library" in summary.text
        assert due_reminders(bot.coach, _at(bot, day + timedelta(days=3), 8)) == []
    finally:
        await bot.stop()
