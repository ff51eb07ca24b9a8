"""The authorization matrix: every command x {stranger, trainee, trainee of another team,
manager of another team, manager, admin}, allowed or refused with a clear message.

Each row gets a fresh world (teams Alpha and Beta, one trainee each, an open assignment),
so a command that changes state cannot colour the next row. Button kinds that carry ids
are covered by tests/test_authz.py (the issue-5 table) and tests/test_hostile.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.i18n import STRINGS
from tests.coachkit import ADMIN, PLAYBOOK, cbot, coaching_settings
from tests.harness import BotHarness, User, texts

__all__ = ["cbot", "coaching_settings"]

STRANGER = User(id=6001, first_name="Sam", language_code="en")
TRAINEE = User(id=6002, first_name="小王", language_code="zh")
TRAINEE_B = User(id=6003, first_name="Bo", language_code="en")
MANAGER_B = User(id=6004, first_name="Bea", language_code="en")
MANAGER = User(id=6005, first_name="马经理", language_code="zh")
ROLES = {
    "stranger": STRANGER,
    "trainee": TRAINEE,
    "trainee_b": TRAINEE_B,
    "manager_b": MANAGER_B,
    "manager": MANAGER,
    "admin": ADMIN,
}
ALL = frozenset(ROLES)
MANAGERS = frozenset({"manager_b", "manager", "admin"})
ALPHA_MANAGERS = frozenset({"manager", "admin"})
ADMINS = frozenset({"admin"})
DUE = (date.today() + timedelta(days=20)).isoformat()

# command (with {alpha_code} {trainee} {stranger} {manager_b} filled in) -> who may do it
MATRIX: list[tuple[str, frozenset[str]]] = [
    ("/start", ALL),
    ("/help", ALL),
    ("/lang en", ALL),
    ("/find too expensive", ALL),
    ("/card sample-playbook/sample-card", ALL),
    ("/playbooks", ALL),
    ("/roleplay", ALL),
    ("/quiz", ALL),
    ("/cancel", ALL),
    ("/todo", ALL),
    ("/join {alpha_code}", ALL),
    ("/progress", ALL),
    ("/drill", ALL),
    ("/remind 08:30", ALL),
    ("/timezone Asia/Shanghai", ALL),
    ("/leaderboard", ALL),
    ("/log", ALL),
    ("/mydata", ALL),
    ("/forgetme", ALL),
    ("/team", ALL),  # a trainee sees the teams they belong to; a manager, the teams they run
    ("/team new Gamma", MANAGERS),
    ("/team remove Alpha {trainee}", ALPHA_MANAGERS),
    (f"/assign quiz:{PLAYBOOK} Alpha {DUE}", ALPHA_MANAGERS),
    ("/report Alpha", ALPHA_MANAGERS),
    ("/report Alpha {trainee}", ALPHA_MANAGERS),
    ("/export Alpha", ALPHA_MANAGERS),
    ("/promote {stranger}", ADMINS),
    ("/demote {manager_b}", ADMINS),
    ("/reload", ADMINS),
]
REFUSAL_KEYS = ("not_allowed", "role.managers_only", "role.admins_only", "team.unknown")


def _refusal_prefixes(lang: str) -> list[str]:
    return [STRINGS[key][lang].split("{")[0] for key in REFUSAL_KEYS]


async def _world(bot: BotHarness) -> dict[str, Any]:
    for user in ROLES.values():
        await bot.send("/start", user)
    await bot.send(f"/promote {MANAGER.id}", ADMIN)
    await bot.send(f"/promote {MANAGER_B.id}", ADMIN)
    await bot.send("/team new Alpha", MANAGER)
    await bot.send("/team new Beta", MANAGER_B)
    store = bot.coach.store
    alpha = store.one("select * from teams where name = 'Alpha'")
    beta = store.one("select * from teams where name = 'Beta'")
    await bot.send(f"/join {alpha['code']}", TRAINEE)
    await bot.send(f"/join {beta['code']}", TRAINEE_B)
    return {
        "alpha_code": alpha["code"],
        "trainee": TRAINEE.id,
        "stranger": STRANGER.id,
        "manager_b": MANAGER_B.id,
    }


def _roles(bot: BotHarness) -> dict[int, str]:
    return {r["id"]: r["role"] for r in bot.coach.store.query("select id, role from users")}


@pytest.mark.parametrize(("command", "allowed"), MATRIX, ids=[c for c, _ in MATRIX])
async def test_authorization_matrix(cbot: BotHarness, command: str, allowed: frozenset[str]) -> None:
    ids = await _world(cbot)
    text = command.format(**ids)
    wrong = []
    for role, user in ROLES.items():
        roles_before = _roles(cbot)
        calls = await cbot.send(text, user)
        got = texts(calls)
        lang = "zh" if (user.language_code or "").startswith("zh") else "en"
        lang = cbot.coach.store.user(user.id)["lang"] if cbot.coach.store.user(user.id) else lang
        refused = bool(got) and any(got[0].startswith(p) for p in _refusal_prefixes(lang))
        files = [c for c in calls if c.method == "sendDocument"]
        if not got and not files:
            wrong.append((role, "no answer at all"))
        elif (role in allowed) == refused:
            wrong.append((role, "refused" if refused else "allowed", (got or ["<file>"])[0][:80]))
        if refused:
            assert len(got[0]) <= 200, "refusals are short"
            assert not files, "a refusal sends no file"
            assert _roles(cbot) == roles_before, "a refused request changed a role"
        elif not command.startswith(("/promote", "/demote")):
            assert _roles(cbot) == roles_before, f"{text} changed a role"
    assert not wrong, wrong
