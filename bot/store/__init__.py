"""The Store: SQLite via sqlite-utils, the single source of truth for everything that must last."""

from bot.store.db import Store

__all__ = ["Store"]
