"""Shared fixtures: settings on a temp SQLite file, the shipped content, and a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, Settings
from tests.harness import BotHarness, User

FIXTURES = Path(__file__).parent / "fixtures"
ADMIN_ID = 1


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        token="123456:TEST-TOKEN",
        db_path=tmp_path / "coachbot.db",
        admins=frozenset({ADMIN_ID}),
        content_dir=REPO_ROOT,
    )


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.start(settings)
    yield harness
    await harness.stop()


@pytest.fixture
def zh_user() -> User:
    return User(id=1001, first_name="小张", language_code="zh-hans")


@pytest.fixture
def en_user() -> User:
    return User(id=1002, first_name="Alex", language_code="en")
