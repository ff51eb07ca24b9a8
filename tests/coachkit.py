"""Shared fixtures and moves for the quiz, team, assignment and report tests.

They run on tests/fixtures/coaching (a small playbook with every quiz kind and a short
scenario), so they hold however the shipped content grows. The helpers answer a quiz the
way a trainee would: they read which question the store says is current and press the
buttons the bot showed for it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.channels.fake_api import Call
from bot.config import Settings
from bot.content.models import Question
from bot.core.quiz import right_ids, shown_ids
from tests.conftest import ADMIN_ID, FIXTURES
from tests.harness import BotHarness, User, button_data

CONTENT = FIXTURES / "coaching"
PLAYBOOK = "sample-playbook"
SCENARIO = "sample-scenario"
#: A typed answer that passes the fixture's text question (a concrete next step, no red flag).
GOOD_TEXT = {
    "en": "Could we arrange a call next week to go through it?",
    "zh": "我们下周约个时间一起过一遍方案？",
}
ADMIN = User(id=ADMIN_ID, first_name="Admin", language_code="en")


@pytest.fixture
def coaching_settings(settings: Settings) -> Settings:
    """The shared test settings, on the small coaching fixture content."""
    return replace(settings, content_dir=CONTENT)


@pytest.fixture
async def cbot(coaching_settings: Settings) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.start(coaching_settings)
    yield harness
    await harness.stop()


def active_run(bot: BotHarness, user: User) -> dict[str, Any] | None:
    run = bot.coach.store.one(
        "select * from quiz_runs where user_id = ? and status = 'active' order by id desc limit 1", [user.id]
    )
    if run:
        run["questions"] = json.loads(run["questions"])
        run["picks"] = json.loads(run["picks"])
    return run


def current(bot: BotHarness, user: User) -> tuple[dict[str, Any], str, Question]:
    run = active_run(bot, user)
    assert run is not None, "no quiz run in progress"
    qid = run["questions"][run["pos"]]
    return run, qid, bot.coach.lib.questions[qid][1]


def _wrong_ids(q: Question, ids: list[str]) -> list[str]:
    right = right_ids(q)
    if q.kind == "single":
        return [next(i for i in ids if i not in right)]
    if q.kind == "multiple":
        return [right[0]] if len(right) > 1 else [next(i for i in ids if i not in right)]
    return list(reversed(right))  # order


async def answer(bot: BotHarness, user: User, right: bool, lang: str = "en") -> list[Call]:
    """Answer the current question rightly or wrongly, pressing only buttons the bot offered."""
    run, qid, q = current(bot, user)
    base = f"qz:{run['id']}:{run['pos']}"
    if q.kind == "truefalse":
        value = q.answer if right else not q.answer
        return await bot.press(f"{base}:{'t' if value else 'f'}", user)
    if q.kind == "text":
        reply = GOOD_TEXT[lang] if right else "ok"
        return await bot.send(reply, user)
    ids = shown_ids(q, run["id"], qid)
    wanted = right_ids(q) if right else _wrong_ids(q, ids)
    calls: list[Call] = []
    for oid in wanted:
        data = f"{base}:o{ids.index(oid)}"
        offered = button_data(calls[-2:]) if calls else None
        if offered is not None:
            assert data in offered, f"{data} was not offered"
        calls += await bot.press(data, user)
    if q.kind == "multiple":
        calls += await bot.press(f"{base}:s", user)
    return calls


async def finish_quiz(bot: BotHarness, user: User, right: bool = True, lang: str = "en") -> list[Call]:
    calls: list[Call] = []
    while active_run(bot, user) is not None:
        calls += await answer(bot, user, right, lang)
    return calls
