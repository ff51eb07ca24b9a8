"""End to end on the real Application: every command and button path, both languages, private and group.

One bot is built for the module (content loading is the slow part); every test talks as
fresh users so nothing leaks between tests. Ids come from the shipped library, so the
walks grow with the content. Other features add their own e2e tests here.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.app import build_coach
from bot.channels.fake_api import BOT_USERNAME, RecordingRequest
from bot.channels.telegram_app import build_application
from bot.config import REPO_ROOT, Settings
from bot.core.general import MENU
from bot.core.render import e
from bot.i18n import LANGS, t
from tests.harness import BotHarness, User, button_data, buttons, texts

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMINS = {"zh": 1, "en": 2}  # one admin per language: a user's language is fixed at first contact
GROUP = -100200300
_uid = itertools.count(70_000)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotHarness]:
    settings = Settings(
        token="123456:E2E-TOKEN",
        db_path=tmp_path_factory.mktemp("e2e") / "coachbot.db",
        admins=frozenset(ADMINS.values()),
        content_dir=REPO_ROOT,
    )
    # Built as BotHarness.start does, minus the rate limiter: it would pace these walks at
    # 30 calls/s and prove nothing new (tests/test_telegram_ops.py tests it).
    api = RecordingRequest()
    coach = build_coach(settings)
    app = build_application(settings, coach, request=api, rate_limit=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    harness = BotHarness(app, api, coach, settings)
    yield harness
    await harness.stop()


@pytest.fixture(params=LANGS)
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def person(lang: str) -> User:
    return User(id=next(_uid), first_name="小王" if lang == "zh" else "Robin", language_code=lang)


def other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def sent(calls: list[Any]) -> list[Any]:
    return [c for c in calls if c.method in ("sendMessage", "editMessageText")]


def switch_queries(calls: list[Any]) -> list[str]:
    return [b["switch_inline_query"] for b in buttons(calls) if "switch_inline_query" in b]


def not_stale(calls: list[Any], lang: str) -> bool:
    out = texts(calls)
    return bool(out) and t(lang, "stale_button") not in out and t(lang, "error") not in out


# ---------------------------------------------------------------- start, help, language


async def test_start_says_what_the_bot_is_in_two_lines_and_shows_the_menu(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    calls = await bot.send("/start", user)
    assert texts(calls) == [t(lang, "welcome")]
    assert len(t(lang, "welcome").splitlines()) == 2
    data = button_data(calls)
    expected = [f"go:{cmd}" for cmd, _ in MENU if cmd in bot.coach.command_names]
    assert data == [*expected, "go:help", f"lang:{other(lang)}"]
    for action in [*expected, "go:help"]:
        assert not_stale(await bot.press(action, user), lang), action


@pytest.mark.parametrize("role", ["trainee", "manager", "admin"])
async def test_help_lists_exactly_what_this_user_can_do(bot: BotHarness, lang: str, role: str) -> None:
    user = User(id=ADMINS[lang], language_code=lang) if role == "admin" else person(lang)
    await bot.send("/start", user)
    if role == "manager":
        bot.coach.store.set_role(user.id, "manager")
    help_text = texts(await bot.send("/help", user))[0]
    listed = re.findall(r"^/(\w+) — (.*)$", help_text, re.M)
    expected = bot.coach.visible_commands(role != "trainee", role == "admin")
    assert listed == [(cmd, e(t(lang, key))) for cmd, key in expected]
    audience = {cmd: aud for f in bot.coach.features for cmd, _, aud in f.help_entries}
    shown = {cmd for cmd, _ in listed}
    assert shown <= set(bot.coach.command_names)
    allowed = (
        {"all", "manager", "admin"}
        if role == "admin"
        else {"all", "manager"}
        if role == "manager"
        else {"all"}
    )
    assert {audience[c] for c in shown} <= allowed
    assert {c for c, a in audience.items() if a in allowed and c in bot.coach.command_names} == shown


async def test_language_switches_by_command_and_by_button(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    assert texts(await bot.send(f"/lang {other(lang)}", user)) == [t(other(lang), "lang.set")]
    assert texts(await bot.press(f"lang:{lang}", user)) == [t(lang, "lang.set")]
    assert texts(await bot.send("/lang xx", user)) == [t(lang, "lang.usage")]
    assert bot.coach.store.user(user.id)["lang"] == lang


# ---------------------------------------------------------------- look-up, cards, browsing, sharing


def _card_actions(ref: str) -> set[str]:
    return {f"c30:{ref}", f"rel:{ref}", f"pr:{ref}"}


async def test_lookup_by_text_by_find_and_by_card(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    lib = bot.coach.lib
    ref, entry = next(iter(lib.cards.items()))
    line = entry.card.customer_lines.get(lang)[0]
    for calls in (await bot.send(line, user), await bot.send(f"/find {line}", user)):
        data = button_data(calls)
        assert any(d.startswith("cd:") or d.startswith("c30:") for d in data), texts(calls)
    calls = await bot.send(f"/card {ref}", user)
    assert e(entry.card.title.get(lang)) in texts(calls)[0]
    assert _card_actions(ref) <= set(button_data(calls))
    assert texts(await bot.send("/card", user)) == [t(lang, "card.usage")]
    assert texts(await bot.send("/card no/such-card", user)) == [t(lang, "card.unknown", ref="no/such-card")]
    assert texts(await bot.send("/find", user)) == [t(lang, "lookup.empty")]


async def test_browse_every_playbook_and_card_and_back(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    lib = bot.coach.lib
    listing = await bot.send("/playbooks", user)
    assert button_data(listing) == [f"pb:{pid}" for pid in lib.playbooks]
    for pid, pb in lib.playbooks.items():
        opened = await bot.press(f"pb:{pid}", user)
        assert e(pb.title.get(lang)) in texts(opened)[0]
        assert button_data(opened) == [*(f"cd:{c.id}" for c in lib.playbook_cards(pid)), "pbs:"]
        for card in [c.card for c in lib.playbook_cards(pid)]:
            ref = f"{pid}/{card.id}"
            shown = await bot.press(f"cd:{ref}", user)
            assert [c.method for c in sent(shown)] == ["editMessageText"], "a card opens in place"
            assert e(card.title.get(lang)) in texts(shown)[0]
            assert _card_actions(ref) | {f"pb:{pid}"} <= set(button_data(shown))
            assert switch_queries(shown) == [card.title.get(lang)]
            thirty = await bot.press(f"c30:{ref}", user)
            assert e(card.thirty_seconds.get(lang)) in texts(thirty)[0]
            assert button_data(thirty) == [f"cd:{ref}"]
            related = button_data(await bot.press(f"rel:{ref}", user))
            assert related[-1] == f"cd:{ref}" and len(related) >= 2
            assert all(d[3:] in lib.cards for d in related)
            practise = await bot.press(f"pr:{ref}", user)
            scenarios = lib.scenarios_for_card.get(ref, ())
            assert {f"rpi:{sid}" for sid in scenarios} <= set(button_data(practise))
            assert not_stale(practise, lang)
        back = await bot.press("pbs:", user)
        assert button_data(back) == [f"pb:{p}" for p in lib.playbooks]


async def test_share_button_posts_the_card_through_inline_mode(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    lib = bot.coach.lib
    for pb in lib.playbooks.values():
        first = lib.playbook_cards(pb.id)[0]
        ref = first.id
        query = switch_queries(await bot.press(f"cd:{ref}", user))[0]
        answer = [c for c in await bot.inline(query, user) if c.method == "answerInlineQuery"]
        results = answer[0]["results"]
        results = json.loads(results) if isinstance(results, str) else results
        assert ref.replace("/", ":") in [r["id"] for r in results], query
        posted = next(r for r in results if r["id"] == ref.replace("/", ":"))["input_message_content"]
        assert posted["parse_mode"] == "HTML" and e(first.card.title.get(lang)) in posted["message_text"]
    empty = next(c for c in await bot.inline("", user) if c.method == "answerInlineQuery")
    results = json.loads(empty["results"]) if isinstance(empty["results"], str) else empty["results"]
    assert len(results) == min(10, len(lib.playbooks))


# ---------------------------------------------------------------- deep links


def deep_link_ok(payload: str) -> bool:
    """What Telegram accepts after ?start=: up to 64 of A-Z a-z 0-9 _ -."""
    return re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload) is not None


async def test_every_card_and_scenario_deep_link_opens_it(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    lib = bot.coach.lib
    for ref, entry in lib.cards.items():
        payload = "c_" + ref.replace("/", "_")
        assert deep_link_ok(payload), payload
        assert e(entry.card.title.get(lang)) in texts(await bot.send(f"/start {payload}", user))[0]
    for sid, sc in lib.scenarios.items():
        payload = f"r_{sid}"
        assert deep_link_ok(payload), payload
        calls = await bot.send(f"/start {payload}", user)
        assert e(sc.title.get(lang)) in texts(calls)[0]
        assert {f"rps:{sid}:f", f"rps:{sid}:g"} <= set(button_data(calls))
    assert texts(await bot.send("/start c_nope_nope", user)) == [t(lang, "card.unknown", ref="nope/nope")]
    assert texts(await bot.send("/start r_nope", user)) == [t(lang, "rp.unknown", id="nope")]
    assert texts(await bot.send("/start zz_whatever", user)) == [t(lang, "welcome")]


@pytest.mark.parametrize("prefix", ["q_", "j_"])
async def test_quiz_and_team_deep_links_answer(bot: BotHarness, lang: str, prefix: str) -> None:
    user = person(lang)
    who = bot.coach.who(bot_ctx(user))
    pid = next((p for p, pb in bot.coach.lib.playbooks.items() if pb.quiz), "x")
    payload = f"{prefix}{pid}" if prefix == "q_" else f"{prefix}nosuchcode"
    assert bot.coach.start_payload(who, payload) is not None, f"no feature claims {prefix} deep links"
    assert deep_link_ok(payload)
    out = texts(await bot.send(f"/start {payload}", user))
    assert out and t(lang, "welcome") not in out and t(lang, "error") not in out


def bot_ctx(user: User) -> Any:
    from bot.core.reply import Ctx

    return Ctx(user_id=user.id, name=user.first_name, platform_lang=user.language_code)


# ---------------------------------------------------------------- role-play


def _run(bot: BotHarness, user: User) -> dict[str, Any]:
    run = bot.coach.store.one(
        "select * from roleplay_runs where user_id = ? order by id desc limit 1", [user.id]
    )
    assert run is not None
    return run


async def test_every_scenario_from_list_to_ending_in_free_mode(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    lib = bot.coach.lib
    for sid, sc in lib.scenarios.items():
        listing = await bot.send("/roleplay", user)
        assert {f"rpi:{s}" for s in lib.scenarios} <= set(button_data(listing))
        intro = await bot.press(f"rpi:{sid}", user)
        assert e(sc.persona.get(lang)) in texts(intro)[0]
        started = await bot.press(f"rps:{sid}:f", user)
        run = _run(bot, user)
        assert run["node"] == sc.start and run["status"] == "active"
        assert e(sc.nodes[sc.start].customer.get(lang)) in texts(started)[-1]
        assert {f"rph:{run['id']}", f"rpr:{run['id']}"} <= set(button_data(started))
        hint = await bot.press(f"rph:{run['id']}", user)
        assert e(sc.nodes[sc.start].hint.get(lang)) in texts(hint)[0]
        rubric = await bot.press(f"rpr:{run['id']}", user)
        assert e(t(lang, "rp.rubric")) in texts(rubric)[0]
        calls: list[Any] = []
        for _ in range(len(sc.nodes) + 1):
            run = _run(bot, user)
            if run["status"] != "active":
                break
            calls = await bot.send(sc.nodes[run["node"]].model_answer.get(lang), user)
            assert e(t(lang, "rp.model")) in texts(calls)[0]
        run = _run(bot, user)
        assert run["status"] == "finished" and run["ending"] in sc.endings
        turns = bot.coach.store.query("select * from roleplay_turns where run_id = ?", [run["id"]])
        assert turns and all(x["reply"] for x in turns), "every answer is stored"
        ending = texts(calls)[-1]
        assert e(sc.endings[run["ending"]].debrief.get(lang)) in ending
        assert f"rpi:{sid}" in button_data(calls)
        assert texts(await bot.press(f"rph:{run['id']}", user)) == [t(lang, "stale_button")]


async def test_every_scenario_in_guided_mode(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    for sid, sc in bot.coach.lib.scenarios.items():
        calls = await bot.press(f"rps:{sid}:g", user)
        for _ in range(len(sc.nodes) + 1):
            run = _run(bot, user)
            if run["status"] != "active":
                break
            choices = [d for d in button_data(calls) if d.startswith("rpg:")]
            assert choices == [f"rpg:{run['id']}:{run['node']}:{i}" for i in range(3)]
            calls = await bot.press(choices[0], user)
            assert not_stale(calls, lang)
        run = _run(bot, user)
        assert run["status"] == "finished" and run["guided"] == 1
        stored = bot.coach.store.query(
            "select guided_choice from roleplay_turns where run_id = ?", [run["id"]]
        )
        assert stored and all(x["guided_choice"] in ("strong", "partial", "weak") for x in stored)


async def test_cancel_ends_a_run_and_old_buttons_go_stale(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    sid = next(iter(bot.coach.lib.scenarios))
    await bot.press(f"rps:{sid}:f", user)
    run = _run(bot, user)
    assert texts(await bot.send("/cancel", user)) == [t(lang, "rp.cancelled")]
    assert _run(bot, user)["status"] == "cancelled"
    assert texts(await bot.send("/cancel", user)) == [t(lang, "cancel.none")]
    assert texts(await bot.press(f"rph:{run['id']}", user)) == [t(lang, "stale_button")]
    assert texts(await bot.press(f"rpg:{run['id']}:{run['node']}:0", user)) == [t(lang, "stale_button")]


async def test_foreign_and_junk_buttons_are_refused(bot: BotHarness, lang: str) -> None:
    owner, stranger = person(lang), person(lang)
    sid = next(iter(bot.coach.lib.scenarios))
    await bot.press(f"rps:{sid}:f", owner)
    run = _run(bot, owner)
    for data in (
        f"rph:{run['id']}",
        f"rpr:{run['id']}",
        f"rpg:{run['id']}:{run['node']}:1",
        "zz:1",
        "rph:x",
        "pb:" + "x" * 70,
    ):
        assert texts(await bot.press(data, stranger)) == [t(lang, "stale_button")], data
    assert _run(bot, owner)["status"] == "active"


# ---------------------------------------------------------------- groups and edits


def group_message(user: User, text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "update_id": next(_uid),
        "message": {
            "message_id": next(_uid),
            "date": int(time.time()),
            "chat": {"id": GROUP, "type": "supergroup", "title": "Sales team"},
            "from": user.as_json(),
            "text": text,
            "entities": entities,
        },
    }


async def test_in_a_group_the_bot_answers_commands_and_mentions_only(bot: BotHarness, lang: str) -> None:
    user = person(lang)
    entry = next(iter(bot.coach.lib.cards.values()))
    line = entry.card.customer_lines.get(lang)[0]

    assert await bot.send(line, user, chat_id=GROUP, chat_type="supergroup") == [], (
        "plain talk is not for the bot"
    )
    assert await bot.send("/frobnicate", user, chat_id=GROUP, chat_type="supergroup") == []
    assert await bot.send("/start@some_other_bot", user, chat_id=GROUP, chat_type="supergroup") == []

    help_calls = await bot.send(f"/help@{BOT_USERNAME}", user, chat_id=GROUP, chat_type="supergroup")
    assert texts(help_calls)[0].startswith(t(lang, "help.title"))
    assert all(str(c["chat_id"]) == str(GROUP) for c in sent(help_calls))

    found = await bot.send(f"/find@{BOT_USERNAME} {line}", user, chat_id=GROUP, chat_type="supergroup")
    assert texts(found) and any(d.startswith(("cd:", "c30:")) for d in button_data(found))

    mention = f"@{BOT_USERNAME}"
    update = group_message(
        user, f"{mention} {line}", [{"type": "mention", "offset": 0, "length": len(mention)}]
    )
    answered = await bot.process(update)
    assert texts(answered) and all(str(c["chat_id"]) == str(GROUP) for c in sent(answered))

    pressed = await bot.press("pbs:", user, chat_id=GROUP)
    assert not_stale(pressed, lang)


async def test_private_unknown_commands_get_an_answer_and_edits_are_ignored(
    bot: BotHarness, lang: str
) -> None:
    user = person(lang)
    assert texts(await bot.send("/frobnicate", user)) == [t(lang, "unknown_command")]
    edited = {
        "update_id": next(_uid),
        "edited_message": {
            "message_id": next(_uid),
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": {"id": user.id, "type": "private"},
            "from": user.as_json(),
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    assert await bot.process(edited) == [], "an edited message is not a new request (nor a second answer)"
