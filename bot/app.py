"""Wiring shared by every channel: settings -> validated content + store -> Coach."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.content.library import load_library
from bot.core.coach import Coach
from bot.store import Store

log = logging.getLogger(__name__)


def build_coach(settings: Settings, bot_username: str = "coachbot") -> Coach:
    """Load and validate all content (raises ContentError: the bot refuses to start) and open the store."""
    library = load_library(settings.content_dir)
    store = Store(settings.db_path)
    log.info("content: %s; database: %s", library.summary(), settings.db_path)
    return Coach(
        library,
        store,
        admins=settings.admins,
        bot_username=bot_username,
        content_dir=settings.content_dir,
        timezone=settings.timezone,
    )
