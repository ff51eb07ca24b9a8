"""Every authorization rule, one table: who tries what, and the short refusal they get in their language.

Trainees cannot promote, assign, report or export and see only their own work; a manager sees
only their own teams (admins all); button data is looked up and checked against the presser.
Nothing a refused request names changes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.i18n import STRINGS
from tests.coachkit import ADMIN, PLAYBOOK, answer, cbot, coaching_settings
from tests.harness import BotHarness, User, texts

__all__ = ["cbot", "coaching_settings"]

MGR_A = User(id=4001, first_name="李经理", language_code="zh")
MGR_B = User(id=4002, first_name="Beth", language_code="en")
T1 = User(id=4101, first_name="Tom", language_code="en")
T2 = User(id=4102, first_name="小丽", language_code="zh")
ACTORS = {"T1": T1, "T2": T2, "MGR_A": MGR_A, "MGR_B": MGR_B, "ADMIN": ADMIN}
DUE = (date.today() + timedelta(days=30)).isoformat()  # well inside the bot's window

# (actor, "send" | "press", text with {alpha} {beta} {alpha_code} {quiz_a} {quiz_b} {run} filled in, i18n key)
CASES = [
    # trainees: no roles, no teams, no assignments, no reports, no exports
    ("T1", "send", "/promote 4102", "role.admins_only"),
    ("T2", "send", "/demote 4001", "role.admins_only"),
    ("T1", "send", "/team new Mine", "role.managers_only"),
    ("T2", "send", "/team remove Alpha 4101", "role.managers_only"),
    ("T1", "send", f"/assign quiz:{PLAYBOOK} Alpha {DUE}", "role.managers_only"),
    ("T2", "send", "/assign", "role.managers_only"),
    ("T1", "send", "/report", "role.managers_only"),
    ("T1", "send", "/report Alpha", "role.managers_only"),
    ("T2", "send", "/report Alpha 4101", "role.managers_only"),
    ("T1", "send", "/export", "role.managers_only"),
    ("T2", "send", "/export Alpha", "role.managers_only"),
    ("T1", "press", "rep:{alpha}", "role.managers_only"),
    ("T1", "press", "exp:{alpha}", "role.managers_only"),
    ("T2", "press", "exp:all", "role.managers_only"),
    ("T1", "press", "tm:{alpha}", "role.managers_only"),
    ("T1", "press", "tmr:{alpha}:4101", "role.managers_only"),
    ("T2", "press", "asn:k:quiz", "role.managers_only"),
    # trainees act only on their own teams' assignments and their own runs
    ("T1", "press", "asg:{quiz_b}", "not_allowed"),
    ("T2", "press", "asg:{quiz_a}", "not_allowed"),
    ("T2", "press", "qz:{run}:0:t", "not_allowed"),
    ("T2", "press", "qz:{run}:0:o0", "not_allowed"),
    ("T1", "press", "asg:999999", "stale_button"),
    # a manager sees only their own teams, by name, by code, or by id in a button
    ("MGR_B", "send", "/report Alpha", "team.unknown"),
    ("MGR_B", "send", "/report {alpha_code}", "team.unknown"),
    ("MGR_B", "send", "/report Alpha 4101", "team.unknown"),
    ("MGR_B", "send", "/export Alpha", "team.unknown"),
    ("MGR_B", "send", f"/assign quiz:{PLAYBOOK} Alpha {DUE}", "team.unknown"),
    ("MGR_B", "send", "/team remove Alpha 4101", "team.unknown"),
    ("MGR_A", "send", "/report Beta", "team.unknown"),
    ("MGR_B", "press", "rep:{alpha}", "not_allowed"),
    ("MGR_A", "press", "exp:{beta}", "not_allowed"),
    ("MGR_B", "press", "exp:all", "not_allowed"),
    ("MGR_B", "press", "tm:{alpha}", "not_allowed"),
    ("MGR_A", "press", "tmr:{beta}:4102", "not_allowed"),
    ("MGR_B", "press", "asg:{quiz_a}", "not_allowed"),
    ("MGR_B", "press", "rep:x", "not_allowed"),
    ("MGR_B", "press", "asn:t:{alpha}", "stale_button"),
    # managers are not admins
    ("MGR_A", "send", "/promote 4101", "role.admins_only"),
    ("MGR_B", "send", "/demote 4001", "role.admins_only"),
    # managers keep reports out of group chats
    ("MGR_A", "group", "/report Alpha", "role.private"),
    ("MGR_A", "group", "/export Alpha", "role.private"),
    ("MGR_A", "group", "/team", "role.private"),
    ("ADMIN", "group", "/assign", "role.private"),
]


async def _world(bot: BotHarness) -> dict[str, Any]:
    for user in (MGR_A, MGR_B, T1, T2):
        await bot.send("/start", user)
    await bot.send(f"/promote {MGR_A.id}", ADMIN)
    await bot.send(f"/promote {MGR_B.id}", ADMIN)
    await bot.send("/team new Alpha", MGR_A)
    await bot.send("/team new Beta", MGR_B)
    store = bot.coach.store
    alpha = store.one("select * from teams where name = 'Alpha'")
    beta = store.one("select * from teams where name = 'Beta'")
    await bot.send(f"/join {alpha['code']}", T1)
    await bot.send(f"/join {beta['code']}", T2)
    await bot.send(f"/assign quiz:{PLAYBOOK} Alpha {DUE}", MGR_A)
    await bot.send(f"/assign quiz:{PLAYBOOK} Beta {DUE}", MGR_B)
    quiz_a = store.one("select id from assignments where team_id = ?", [alpha["id"]])["id"]
    quiz_b = store.one("select id from assignments where team_id = ?", [beta["id"]])["id"]
    await bot.press(f"asg:{quiz_a}", T1)
    run = store.one("select id from quiz_runs where user_id = ?", [T1.id])["id"]
    return {
        "alpha": alpha["id"],
        "beta": beta["id"],
        "alpha_code": alpha["code"],
        "quiz_a": quiz_a,
        "quiz_b": quiz_b,
        "run": run,
    }


def _snapshot(bot: BotHarness) -> tuple[Any, ...]:
    q = bot.coach.store.query
    return (
        q("select id, role from users order by id"),
        q("select * from teams order by id"),
        q("select * from team_members order by team_id, user_id"),
        q("select id, team_id from assignments order by id"),
        q("select id, user_id, pos, picks, status from quiz_runs order by id"),
        q("select count(*) as n from quiz_answers"),
    )


def _prefix(key: str, lang: str) -> str:
    """The fixed start of a refusal (before any {value})."""
    return STRINGS[key][lang].split("{")[0]


async def test_every_authorization_rule(cbot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    ids = await _world(cbot)
    # MGR_B has an open assignment flow, so a foreign team id in its button is judged, not just stale.
    await cbot.send(f"/assign quiz:{PLAYBOOK}", MGR_B)
    before = _snapshot(cbot)
    failures = []
    for actor, how, raw, key in CASES:
        user = ACTORS[actor]
        text = raw.format(**ids)
        if how == "press":
            calls = await cbot.press(text, user)
        else:
            chat = {"chat_id": -100, "chat_type": "group"} if how == "group" else {}
            calls = await cbot.send(text, user, **chat)
        got = texts(calls)
        lang = "zh" if user.language_code and user.language_code.startswith("zh") else "en"
        if len(got) != 1 or not got[0].startswith(_prefix(key, lang)) or len(got[0]) > 200:
            failures.append((actor, text, key, got))
        assert not any(c.method == "sendDocument" for c in calls), (actor, text)
    assert not failures, failures
    assert _snapshot(cbot) == before, "no refused request changed anything"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_what_each_role_may_see(cbot: BotHarness) -> None:
    ids = await _world(cbot)
    # Trainees see their own teams' work only.
    t1 = texts(await cbot.send("/todo", T1))[0]
    t2 = texts(await cbot.send("/todo", T2))[0]
    assert "Alpha" in t1 and "Beta" not in t1 and "Beta" in t2 and "Alpha" not in t2
    # Managers list and report their own teams only; admins see all.
    assert "Beta" not in texts(await cbot.send("/team", MGR_A))[0]
    assert "李经理" not in texts(await cbot.send("/report Beta", MGR_B))[0]
    admin_teams = texts(await cbot.send("/team", ADMIN))[0]
    assert "Alpha" in admin_teams and "Beta" in admin_teams
    assert "Tom (4101)" in texts(await cbot.send(f"/report {ids['alpha_code']}", ADMIN))[0]
    calls = await cbot.press("exp:all", ADMIN)
    assert [c.method for c in calls if c.method == "sendDocument"] == ["sendDocument"]
    # A manager's own export has only their team's people.
    await answer(cbot, T1, right=True)
    await cbot.press(f"asg:{ids['quiz_b']}", T2)
    await answer(cbot, T2, right=True, lang="zh")
    calls = await cbot.send("/export", MGR_A)
    data = next(c for c in calls if c.method == "sendDocument").files["document"][1].decode("utf-8-sig")
    assert "Tom" in data and "小丽" not in data


@pytest.mark.parametrize(
    "junk", ["rep:", "exp:", "tm:-1", "tmr:1", "tmr:x:y", "asg:", "asg:x:g", "asn:", "qz:1"]
)
async def test_malformed_button_data_is_answered_politely(
    cbot: BotHarness, junk: str, caplog: pytest.LogCaptureFixture
) -> None:
    for user in (ADMIN, T2):
        got = texts(await cbot.press(junk, user))
        assert len(got) == 1 and len(got[0]) < 200
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
