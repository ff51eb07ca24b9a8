"""What the look-up path reuses between updates keeps the answers right.

The store reads without sqlite-utils' savepoints, rendered cards are kept per entry, and
Telegram keyboards are built once per set of buttons: none of it may change an answer,
least of all after a content reload.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from bot.channels.telegram_app import _button, _markup
from bot.config import REPO_ROOT, Settings
from bot.core.reply import Button, rows
from bot.store import Store
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, User, buttons, texts

ADMIN = User(id=ADMIN_ID, first_name="Admin", language_code="en")
TRAINEE = User(id=8802, first_name="T", language_code="en")
OLD_TITLE = "find out which bill they're comparing"
NEW_TITLE = "ask which quote they hold up against ours"


async def test_a_reload_never_serves_a_card_rendered_before_it(settings: Settings, tmp_path: Path) -> None:
    content = tmp_path / "content"
    for folder in ("playbooks", "scenarios", "checks"):
        shutil.copytree(REPO_ROOT / folder, content / folder)
    bot = await BotHarness.start(replace(settings, content_dir=content))
    try:
        first = await bot.send("too expensive", TRAINEE)
        assert OLD_TITLE in texts(first)[-1]
        assert texts(await bot.send("too expensive", TRAINEE))[-1] == texts(first)[-1]  # from the cache
        path = content / "playbooks" / "objection-handling.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(OLD_TITLE, NEW_TITLE, 1), encoding="utf-8")
        assert texts(await bot.send("/reload", ADMIN))[0].startswith("Content reloaded")
        after = await bot.send("too expensive", TRAINEE)
        assert NEW_TITLE in texts(after)[-1] and OLD_TITLE not in texts(after)[-1]
        # The keyboard follows the content too: its share button offers the new title.
        shared = [b["switch_inline_query"] for b in buttons(after) if "switch_inline_query" in b]
        assert len(buttons(after)) == len(buttons(first)) and NEW_TITLE in shared[0]
    finally:
        await bot.stop()


def test_store_reads_give_dicts_and_refuse_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    try:
        store.ensure_user(7, "Ann", "en")
        store.ensure_user(8, "Bo", "zh")
        assert [r["name"] for r in store.query("select name from users order by id")] == ["Ann", "Bo"]
        assert store.one("select name, lang from users where id = ?", [8]) == {"name": "Bo", "lang": "zh"}
        assert store.one("select * from users where id = ?", [9]) is None
        assert store.query("select * from users where id = :u", {"u": 9}) == []
        # A repeated column name is kept apart, as sqlite-utils did.
        assert store.one("select a.id, b.id from users a join users b on b.id = 8 where a.id = 7") == {
            "id": 7,
            "id_2": 8,
        }
        assert store.one("pragma journal_mode") == {"journal_mode": "wal"}
        for write in ("delete from users", "  update users set name = 'x'", "begin"):
            with pytest.raises(ValueError):
                store.query(write)
        assert store.one("select count(*) n from users where name in ('Ann', 'Bo')") == {"n": 2}
    finally:
        store.close()


def test_a_keyboard_is_built_once_and_sent_as_telegram_would() -> None:
    card = rows(
        Button("Thirty seconds", "c30:pb/card"),
        Button("Share", inline_query=""),
        Button("Source", url="https://example.com/a"),
    )
    markup = _markup(card)
    assert markup is _markup(tuple(tuple(row) for row in card))  # equal buttons, the same keyboard
    assert _markup(()) is None
    plain = InlineKeyboardMarkup([[_button(b) for b in row] for row in card])
    assert markup == plain and markup.to_dict() == plain.to_dict()
    # Each send gets its own copy: what one caller changes cannot leak into the next message.
    markup.to_dict()["inline_keyboard"][0][0]["text"] = "changed"
    assert markup.to_dict() == plain.to_dict()
