"""Hostile and odd input, property-based, against the real Application.

Invariants after every update: no unhandled exception; every outgoing message is non-empty,
at most 4096 UTF-16 units and valid HTML for Telegram's parse mode; no reply reveals
another user's data; nobody's role changes. Examples are bounded and derandomized.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.fake_api import Call
from bot.channels.html_text import utf16_len
from bot.config import REPO_ROOT, Settings
from tests.harness import BotHarness, User

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
}
SECRET_NAME = "Zelda-Secret-Name"
SECRET_ANSWER = "zq-private-answer-9731"
VICTIM = User(id=777001, first_name=SECRET_NAME, language_code="en")
ATTACKER = User(id=777002, first_name="Mallory", language_code="en")

ODD = st.sampled_from(
    [
        "\u202e",
        "\u202d",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\u0301",
        "\u0000",
        "👩‍👩‍👧‍👦",
        "🏳️‍🌈",
        "𝕏",
        "<b>",
        "</i>",
        "<a href='javascript:x'>",
        "&amp;",
        "&",
        "<",
        ">",
        "**",
        "__",
        "`",
        "[x](y)",
        "'; drop table users; --",
        "%s%s%n",
        "{lang}",
        "{0}",
        "\n",
        "\t",
        " ",
        "太贵",
        "too expensive",
    ]
)
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(ODD, max_size=30).map("".join),
    st.builds(lambda a, b, n: (a + b) * n, st.text(max_size=5), ODD, st.integers(1, 2000)),
)


class _HTMLCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity &{name};")


def html_problems(text: str) -> list[str]:
    checker = _HTMLCheck()
    checker.feed(text)
    checker.close()
    problems = checker.problems + [f"unclosed <{t}>" for t in checker.stack]
    # A bare "&" that is not an entity, or a "<" that is not a tag, is invalid for Telegram.
    import re

    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        problems.append("bare &")
    if re.search(r"<(?![/a-zA-Z])", text):
        problems.append("bare <")
    return problems


def check_calls(calls: list[Call]) -> None:
    for call in calls:
        if call.method not in ("sendMessage", "editMessageText", "answerInlineQuery", "sendDocument"):
            continue
        bodies = [call.params.get("text") or call.params.get("caption") or ""]
        if call.method == "answerInlineQuery":
            results = call.params["results"]
            results = json.loads(results) if isinstance(results, str) else results
            bodies = [r["input_message_content"]["message_text"] for r in results]
        for body in bodies:
            if call.method == "sendDocument" and not body:
                continue
            assert body.strip(), f"empty {call.method}"
            assert utf16_len(body) <= 4096, f"{call.method} of {utf16_len(body)} units"
            assert not html_problems(body), (html_problems(body), body[:300])
            assert SECRET_NAME not in body and SECRET_ANSWER not in body, "another user's data leaked"
        markup = call.params.get("reply_markup")
        if markup:
            markup = json.loads(markup) if isinstance(markup, str) else markup
            for row in markup["inline_keyboard"]:
                for button in row:
                    assert button["text"].strip()
                    if "callback_data" in button:
                        assert len(button["callback_data"].encode()) <= 64


class Driver:
    """One bot on its own loop, shared by all examples of a test (fast, deterministic)."""

    def __init__(self, db: Path):
        self.loop = asyncio.new_event_loop()
        s = Settings(token="1:T", db_path=db, admins=frozenset({1}), content_dir=REPO_ROOT)
        self.bot: BotHarness = self.loop.run_until_complete(BotHarness.start(s))
        self.errors: list[BaseException] = []

        async def record(update: object, context) -> None:  # type: ignore[no-untyped-def]
            self.errors.append(context.error)

        self.bot.app.add_error_handler(record)
        # The victim has data: a role-play answer that nobody else may ever see.
        self.run(self.bot.press("rps:price-objection-sme:f", VICTIM))
        self.run(self.bot.send(f"My secret reply {SECRET_ANSWER}", VICTIM))

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def roles(self) -> dict[int, str]:
        return {r["id"]: r["role"] for r in self.bot.coach.store.query("select id, role from users")}

    def close(self) -> None:
        self.run(self.bot.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    d = Driver(tmp_path_factory.mktemp("hostile") / "bot.db")
    yield d
    d.close()


PROPS = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _after(driver: Driver, calls: list[Call], roles_before: dict[int, str]) -> None:
    assert not driver.errors, driver.errors
    check_calls(calls)
    roles = driver.roles()
    assert all(roles.get(uid) == role for uid, role in roles_before.items()), "a role changed"
    assert all(role == "trainee" for uid, role in roles.items() if uid != 1)


@PROPS
@given(text=TEXT)
def test_arbitrary_text(driver: Driver, text: str) -> None:
    before = driver.roles()
    calls = driver.run(driver.bot.send(text or " ", ATTACKER))
    _after(driver, calls, before)


@PROPS
@given(
    command=st.sampled_from(
        [
            "start",
            "help",
            "lang",
            "find",
            "card",
            "playbooks",
            "roleplay",
            "cancel",
            "reload",
            "quiz",
            "team",
            "join",
            "assign",
            "report",
            "export",
            "promote",
            "demote",
            "todo",
            "progress",
            "drill",
            "remind",
            "log",
            "mydata",
            "forgetme",
            "leaderboard",
            "timezone",
            "nosuch",
        ]
    ),
    args=st.one_of(
        TEXT,
        st.sampled_from(
            [
                str(VICTIM.id),
                "1",
                "-1",
                "99999999999999999999",
                "objection-handling/price-too-high",
                "a/b/c",
                "new ",
                "zz:x 2020-13-45",
            ]
        ),
    ),
)
def test_commands_with_bad_arguments(driver: Driver, command: str, args: str) -> None:
    before = driver.roles()
    calls = driver.run(driver.bot.send(f"/{command} {args}"[:4000], ATTACKER))
    _after(driver, calls, before)
    assert calls, "every command gets an answer"


@PROPS
@given(
    prefix=st.sampled_from(
        [
            "cd",
            "c30",
            "rel",
            "pr",
            "pb",
            "pbs",
            "go",
            "lang",
            "rpi",
            "rps",
            "rph",
            "rpr",
            "rpg",
            "qzs",
            "qza",
            "qz",
            "tm",
            "as",
            "dr",
            "lg",
            "fm",
            "zz",
            "",
        ]
    ),
    rest=st.one_of(
        st.text(max_size=80),
        st.integers(-(2**70), 2**70).map(str),
        st.sampled_from(
            [
                str(VICTIM.id),
                "1:opening:0",
                "1",
                "price-objection-sme:g",
                "' or 1=1 --",
                "objection-handling/price-too-high",
                "x" * 100,
            ]
        ),
    ),
)
def test_arbitrary_callback_data(driver: Driver, prefix: str, rest: str) -> None:
    before = driver.roles()
    turns_before = driver.bot.coach.store.one("select count(*) n from roleplay_turns")["n"]
    calls = driver.run(driver.bot.press(f"{prefix}:{rest}", ATTACKER))
    _after(driver, calls, before)
    assert calls and calls[0].method == "answerCallbackQuery", "every callback query is answered first"
    victim_turns = driver.bot.coach.store.one(
        "select count(*) n from roleplay_turns t join roleplay_runs r on r.id = t.run_id where r.user_id = ?",
        [VICTIM.id],
    )["n"]
    assert victim_turns == 1, "nobody can answer in someone else's run"
    assert driver.bot.coach.store.one("select count(*) n from roleplay_turns")["n"] >= turns_before


@PROPS
@given(query=TEXT)
def test_arbitrary_inline_queries(driver: Driver, query: str) -> None:
    before = driver.roles()
    calls = driver.run(driver.bot.inline(query[:256], ATTACKER))
    _after(driver, calls, before)


def test_the_html_checker_itself_rejects_bad_markup() -> None:
    assert html_problems("<b>ok</b> &amp; fine") == []
    assert html_problems("<b>open")
    assert html_problems("a & b")
    assert html_problems("<script>x</script>")
    assert html_problems("1 < 2")
