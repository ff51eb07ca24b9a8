"""Shared fixtures: settings on a temp SQLite file, the shipped content, and a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, Settings
from tests.harness import BotHarness, User

FIXTURES = Path(__file__).parent / "fixtures"
ADMIN_ID = 1


@pytest.fixture(autouse=True, scope="session")
def _share_the_shipped_library() -> Iterator[None]:
    """Build the shipped Library and its SearchIndex once per test session.

    Both are immutable, so every Coach can share them; only the shipped content directory
    is memoised (fixture directories and reload tests still load from disk each time).
    """
    import bot.app
    import bot.core.coach

    real_load, real_index = bot.app.load_library, bot.core.coach.SearchIndex
    libraries: dict[Path, object] = {}
    indexes: dict[int, object] = {}

    def load(path: Path):  # type: ignore[no-untyped-def]
        if Path(path).resolve() != REPO_ROOT.resolve():
            return real_load(path)
        if path not in libraries:
            libraries[path] = real_load(path)
        return libraries[path]

    def index(library):  # type: ignore[no-untyped-def]
        if library not in libraries.values():
            return real_index(library)
        if id(library) not in indexes:
            indexes[id(library)] = real_index(library)
        return indexes[id(library)]

    bot.app.load_library = load  # type: ignore[assignment]
    bot.core.coach.SearchIndex = index  # type: ignore[assignment,misc]
    yield
    bot.app.load_library, bot.core.coach.SearchIndex = real_load, real_index  # type: ignore[misc]


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
