"""Helpers for the small HTML subset replies use: splitting for Telegram, stripping for terminals."""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at line breaks into parts of at most `limit` UTF-16 units.

    Replies keep every tag within one line, so a split between lines never cuts a tag.
    A single line longer than the limit is cut at a character boundary outside any tag
    (tags are dropped from that line), never inside a surrogate pair.
    """
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        while utf16_len(line) > limit:
            plain = html.escape(html.unescape(_TAG.sub("", line)), quote=False)
            head, line = _cut(plain, limit)
            parts.append(head)
        current = line
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:1]]


def _cut(text: str, limit: int) -> tuple[str, str]:
    """Cut escaped text at most `limit` UTF-16 units in, not inside an entity like &amp;."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            cut = i
            amp = text.rfind("&", max(0, cut - 8), cut)
            if amp != -1 and ";" not in text[amp:cut]:
                cut = amp
            return text[:cut], text[cut:]
    return text, ""


def to_plain(text: str) -> str:
    """HTML subset -> terminal text."""
    text = re.sub(r"<a href=\"([^\"]*)\">(.*?)</a>", r"\2 (\1)", text)
    return html.unescape(_TAG.sub("", text))
