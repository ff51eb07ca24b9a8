"""What the core returns: channel-neutral replies that adapters render.

`Reply.text` uses a small HTML subset (<b>, <i>, <code>, <a href>) that Telegram's HTML
parse mode understands and the terminal strips; every dynamic string in it is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    label: str
    action: str | None = None  # callback data, short and prefixed ("cd:", "rp:", ...)
    url: str | None = None
    inline_query: str | None = None  # opens inline mode in the current chat with this query


@dataclass(frozen=True)
class OutFile:
    name: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    file: OutFile | None = None
    edit: bool = False  # replace the message whose button was pressed, instead of sending anew
    chat_id: int | None = None  # another chat to send to (notifications); None = this chat


@dataclass(frozen=True)
class InlineResult:
    id: str
    title: str
    description: str
    text: str  # HTML, posted into the chat when chosen


@dataclass(frozen=True)
class Ctx:
    """Who is talking, as the core needs it (no Telegram types)."""

    user_id: int
    name: str = ""
    platform_lang: str | None = None  # e.g. Telegram's language_code
    private: bool = True


def rows(*buttons: Button | None, per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    """Lay out buttons `per_row` to a row, skipping None."""
    kept = [b for b in buttons if b is not None]
    return tuple(tuple(kept[i : i + per_row]) for i in range(0, len(kept), per_row))
