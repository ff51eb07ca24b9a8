"""Content -> HTML text for replies. Every content string is escaped here."""

from __future__ import annotations

from html import escape

from bot.content.library import CardEntry, Library
from bot.i18n import t


def e(text: object) -> str:
    return escape(str(text), quote=False)


#: Rendered cards: (id of the entry, lang, full) -> (the entry, its HTML). Content never
#: changes while its library lives, and a reload builds new entries; the cache holds each
#: entry it rendered, so that id cannot be reused by another entry while the text is kept.
#: (It also keeps a replaced library's rendered entries alive until it is next cleared.)
_rendered: dict[tuple[int, str, bool], tuple[CardEntry, str]] = {}
RENDERED_MAX = 512  # about 1.5 MB of text; the shipped library's cards in both languages are 108


def card_html(entry: CardEntry, lang: str, full: bool = True) -> str:
    """The card as HTML, rendered once per entry and language (every look-up sends one)."""
    key = (id(entry), lang, full)
    cached = _rendered.get(key)
    if cached is not None and cached[0] is entry:
        return cached[1]
    html = _card_html(entry, lang, full)
    if len(_rendered) >= RENDERED_MAX:
        _rendered.clear()  # old libraries' cards go with the rest; the next look-ups refill it
    _rendered[key] = (entry, html)
    return html


def _card_html(entry: CardEntry, lang: str, full: bool) -> str:
    card, pb = entry.card, entry.playbook
    lines = [f"<b>{e(card.title.get(lang))}</b>  ·  <i>{e(pb.title.get(lang))}</i>"]
    quote = card.customer_lines.get(lang)[0]
    lines.append(f"💬 {e(t(lang, 'card.customer'))}: “{e(quote)}”")
    lines.append("")
    lines.append(f"<b>{e(t(lang, 'card.steps'))}</b>")
    lines += [f"{i}. {e(step.get(lang))}" for i, step in enumerate(card.steps, 1)]
    lines.append("")
    lines.append(f"<b>⏱ {e(t(lang, 'card.thirty'))}</b>")
    lines.append(e(card.thirty_seconds.get(lang)))
    if full:
        lines.append("")
        lines.append(f"<b>🚫 {e(t(lang, 'card.avoid'))}</b>")
        for item in card.avoid:
            lines.append(f"✗ “{e(item.say.get(lang))}” — {e(item.why.get(lang))}")
        lines.append("")
        lines.append(f"<b>💡 {e(t(lang, 'card.principle'))}</b>")
        lines.append(e(card.principle.get(lang)))
    return "\n".join(lines)


def thirty_html(entry: CardEntry, lang: str) -> str:
    return f"<b>⏱ {e(entry.card.title.get(lang))}</b>\n{e(entry.card.thirty_seconds.get(lang))}"


def inline_html(entry: CardEntry, lang: str) -> str:
    """The talk-track as posted into another chat: compact, self-contained."""
    card = entry.card
    lines = [f"<b>{e(card.title.get(lang))}</b>"]
    lines += [f"{i}. {e(step.get(lang))}" for i, step in enumerate(card.steps, 1)]
    lines.append(f"⏱ {e(card.thirty_seconds.get(lang))}")
    return "\n".join(lines)


def card_title(lib: Library, ref: str, lang: str) -> str:
    entry = lib.cards.get(ref)
    return entry.card.title.get(lang) if entry else ref
