"""Content -> HTML text for replies. Every content string is escaped here."""

from __future__ import annotations

from html import escape

from bot.content.library import CardEntry, Library
from bot.i18n import t


def e(text: object) -> str:
    return escape(str(text), quote=False)


def card_html(entry: CardEntry, lang: str, full: bool = True) -> str:
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
        lines.append("")
        lines.append(f"<i>{e(t(lang, 'card.source'))}: {e(', '.join(card.source))}</i>")
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
