"""The spine end to end: Telegram and terminal chat over the same core, store, start-up rules."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_coach
from bot.channels.console import run_console
from bot.cli import main
from bot.config import REPO_ROOT, Settings
from bot.errors import ConfigError, ContentError
from bot.store import Store
from tests.conftest import FIXTURES
from tests.harness import BotHarness, User, button_data, texts

PRICE_CARD = "objection-handling/price-too-high"


def _card_title(bot: BotHarness, ref: str, lang: str) -> str:
    return bot.coach.lib.cards[ref].card.title.get(lang)


async def test_start_welcomes_in_the_users_telegram_language(
    bot: BotHarness, zh_user: User, en_user: User
) -> None:
    zh = texts(await bot.send("/start", zh_user))
    en = texts(await bot.send("/start", en_user))
    assert "销售教练" in zh[0] and "Coachbot" in en[0]
    calls = await bot.send("/start", en_user)
    assert "go:playbooks" in button_data(calls) and "lang:zh" in button_data(calls)


@pytest.mark.parametrize(
    ("text", "user_lang", "lang"),
    [
        ("客户说太贵了", "zh", "zh"),
        ("too expensive", "en", "en"),
        ("too expensive", "zh", "en"),
        ("客户说太贵了", "en", "zh"),
    ],
)
async def test_price_objection_opens_the_price_card_in_the_query_language(
    bot: BotHarness, text: str, user_lang: str, lang: str
) -> None:
    user = User(id=2000 + len(text), language_code=user_lang)
    calls = await bot.send(text, user)
    sent = texts(calls)
    assert sent, "the bot must answer"
    assert _card_title(bot, PRICE_CARD, lang) in sent[-1]
    steps = bot.coach.lib.cards[PRICE_CARD].card.steps
    assert steps[0].get(lang)[:20] in sent[-1]
    assert f"c30:{PRICE_CARD}" in button_data(calls)
    assert all(c.params.get("parse_mode") == "HTML" for c in calls if c.method == "sendMessage")


async def test_lang_command_switches_and_is_remembered(bot: BotHarness, zh_user: User) -> None:
    assert "English" in texts(await bot.send("/lang en", zh_user))[0]
    # Chosen language wins over the query's language from now on.
    sent = texts(await bot.send("客户说太贵了", zh_user))
    assert _card_title(bot, PRICE_CARD, "en") in sent[-1]
    assert bot.coach.store.user(zh_user.id)["lang"] == "en"
    assert "中文" in texts(await bot.send("/lang zh", zh_user))[0]
    assert "用法" in texts(await bot.send("/lang klingon", zh_user))[0]


async def test_lang_button_switches(bot: BotHarness, en_user: User) -> None:
    calls = await bot.press("lang:zh", en_user)
    assert calls[0].method == "answerCallbackQuery"
    assert "中文" in texts(calls)[0]


async def test_help_lists_commands_in_the_users_language(
    bot: BotHarness, zh_user: User, en_user: User
) -> None:
    zh = texts(await bot.send("/help", zh_user))[0]
    en = texts(await bot.send("/help", en_user))[0]
    for cmd in ("/find", "/card", "/playbooks", "/roleplay", "/lang"):
        assert cmd in zh and cmd in en
    assert "查话术" in zh and "Look up" in en


async def test_card_view_buttons_and_card_command(bot: BotHarness, en_user: User) -> None:
    calls = await bot.send(f"/card {PRICE_CARD}", en_user)
    data = button_data(calls)
    assert {f"c30:{PRICE_CARD}", f"rel:{PRICE_CARD}", f"pr:{PRICE_CARD}", "pb:objection-handling"} <= set(
        data
    )
    thirty = texts(await bot.press(f"c30:{PRICE_CARD}", en_user))[0]
    assert bot.coach.lib.cards[PRICE_CARD].card.thirty_seconds.en[:30] in thirty.replace("&#x27;", "'")


async def test_searches_and_views_are_recorded(bot: BotHarness, en_user: User) -> None:
    await bot.send("too expensive", en_user)
    rows = bot.coach.store.query("select kind, ref, text, lang from events where user_id = ?", [en_user.id])
    assert {"kind": "search", "ref": PRICE_CARD, "text": "too expensive", "lang": "en"} in rows
    assert any(r["kind"] == "view" and r["ref"] == PRICE_CARD for r in rows)


async def test_unknown_command_gets_a_polite_answer(bot: BotHarness, zh_user: User) -> None:
    assert "不认识" in texts(await bot.send("/frobnicate", zh_user))[0]


async def test_group_chat_answers_commands_not_every_message(bot: BotHarness, en_user: User) -> None:
    assert texts(await bot.send("too expensive", en_user, chat_id=-500, chat_type="group")) == []
    found = texts(await bot.send("/find too expensive", en_user, chat_id=-500, chat_type="group"))
    assert _card_title(bot, PRICE_CARD, "en") in found[-1]


async def test_inline_mode_lists_cards_with_postable_talk_track(bot: BotHarness, en_user: User) -> None:
    calls = await bot.inline("too expensive", en_user)
    answer = next(c for c in calls if c.method == "answerInlineQuery")
    results = answer["results"]
    results = json.loads(results) if isinstance(results, str) else results
    assert results[0]["id"] == PRICE_CARD.replace("/", ":")
    assert results[0]["input_message_content"]["parse_mode"] == "HTML"
    assert _card_title(bot, PRICE_CARD, "en") in results[0]["input_message_content"]["message_text"]


# ---------------------------------------------------------------- terminal chat


def _console(settings: Settings, lines: list[str], lang: str = "zh") -> str:
    out = io.StringIO()
    run_console(settings, user_id=7, lang=lang, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    return out.getvalue()


def test_terminal_chat_looks_up_in_both_languages(settings: Settings) -> None:
    coach = build_coach(settings)
    zh_title = coach.lib.cards[PRICE_CARD].card.title.zh
    en_title = coach.lib.cards[PRICE_CARD].card.title.en
    coach.store.close()
    out = _console(settings, ["客户说太贵了", "too expensive", "quit"])
    assert "销售教练" in out  # the welcome
    assert zh_title in out and en_title in out
    assert "<b>" not in out  # HTML is rendered as plain text


def test_terminal_chat_presses_buttons_by_number(settings: Settings) -> None:
    out = _console(settings, ["/lang en", "1"], lang="en")
    # After /lang en the menu's first button is Playbooks; pressing it lists playbooks.
    assert "Playbooks" in out and "pick one" in out


def test_terminal_chat_shares_the_store(settings: Settings) -> None:
    _console(settings, ["too expensive"])
    store = Store(settings.db_path)
    assert store.one("select count(*) n from events where user_id = 7 and kind = 'search'")["n"] == 1
    store.close()


# ---------------------------------------------------------------- start-up rules and CLI


def test_bot_refuses_to_start_on_invalid_content(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(FIXTURES / "broken" / "scenario-cycle", broken)
    settings = Settings(db_path=tmp_path / "x.db", content_dir=broken)
    with pytest.raises(ContentError) as info:
        build_coach(settings)
    assert "never ends" in str(info.value)


def test_run_without_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().err


def test_settings_from_environment() -> None:
    s = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "1:x",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "COACHBOT_DB": "/data/c.db",
            "COACHBOT_ADMINS": "11, 22",
            "COACHBOT_CONTENT_DIR": "/content",
        }
    )
    assert s.token == "1:x" and s.api_base_url == "http://127.0.0.1:8081/bot"
    assert s.db_path == Path("/data/c.db") and s.admins == frozenset({11, 22})
    assert s.content_dir == Path("/content")
    with pytest.raises(ConfigError):
        Settings.from_env({"COACHBOT_ADMINS": "alice"})


def test_api_base_urls_reach_the_application_builder(settings: Settings) -> None:
    from dataclasses import replace

    from bot.channels.telegram_app import build_application

    custom = replace(
        settings, api_base_url="http://127.0.0.1:8081/bot", api_file_url="http://127.0.0.1:8081/file/bot"
    )
    coach = build_coach(custom)
    app = build_application(custom, coach)
    assert app.bot.base_url.startswith("http://127.0.0.1:8081/bot")
    assert app.bot.base_file_url.startswith("http://127.0.0.1:8081/file/bot")
    coach.store.close()


def test_python_dash_m_bot_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Store(path).close()
    store = Store(path)  # a second open applies nothing twice
    names = [r["name"] for r in store.query("select name from _sqlite_migrations order by rowid")]
    assert names == sorted(set(names), key=names.index) and names[0] == "m001_users_and_events"
    assert store.one("pragma journal_mode")["journal_mode"] == "wal"
    store.close()
