"""/reload (admin): broken YAML keeps the last good library and reports file:line: message."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from bot.config import REPO_ROOT, Settings
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, User, texts

ADMIN = User(id=ADMIN_ID, first_name="Admin", language_code="en")
TRAINEE = User(id=8801, first_name="T", language_code="en")


async def test_reload_keeps_the_old_library_on_broken_yaml(settings: Settings, tmp_path: Path) -> None:
    content = tmp_path / "content"
    for folder in ("playbooks", "scenarios", "checks"):
        shutil.copytree(REPO_ROOT / folder, content / folder)
    bot = await BotHarness.start(replace(settings, content_dir=content))
    try:
        path = content / "playbooks" / "objection-handling.yaml"
        good = path.read_text(encoding="utf-8")
        path.write_text(good.replace("cards:\n", "cards:\n  - id: [unclosed\n", 1), encoding="utf-8")
        reply = texts(await bot.send("/reload", ADMIN))[0]
        assert "still using the previous content" in reply
        assert "objection-handling.yaml:" in reply and "YAML syntax error" in reply
        # The old library still answers.
        assert "Too expensive" in texts(await bot.send("too expensive", TRAINEE))[-1]
        # A trainee cannot reload.
        assert texts(await bot.send("/reload", TRAINEE))[0].startswith("Sorry, you are not allowed")
        # Fixed: the reload takes, and an edit shows up.
        path.write_text(
            good.replace("客户嫌贵：先问清他比的是哪笔账", "客户嫌贵：先问清比的是哪笔账"), encoding="utf-8"
        )
        assert texts(await bot.send("/reload", ADMIN))[0].startswith("Content reloaded")
        assert (
            bot.coach.lib.cards["objection-handling/price-too-high"].card.title.zh
            == "客户嫌贵：先问清比的是哪笔账"
        )
    finally:
        await bot.stop()
