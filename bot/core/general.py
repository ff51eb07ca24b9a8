"""Start, help, language, the main menu, and /cancel of whatever is in progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.coach import Feature
from bot.core.render import e
from bot.core.reply import Button, Reply, rows
from bot.i18n import LANGS, t

if TYPE_CHECKING:
    from bot.core.coach import Who

MENU = [
    ("playbooks", "menu.browse"),
    ("roleplay", "menu.roleplay"),
    ("quiz", "menu.quiz"),
    ("progress", "menu.progress"),
]


class GeneralFeature(Feature):
    help_entries = (
        ("start", "cmd.start", "all"),
        ("help", "cmd.help", "all"),
        ("lang", "cmd.lang", "all"),
        ("cancel", "cmd.cancel", "all"),
        ("reload", "cmd.reload", "admin"),
    )

    def commands(self):  # type: ignore[no-untyped-def]
        return {
            "start": self.start,
            "help": self.help,
            "lang": self.lang,
            "cancel": self.cancel,
            "reload": self.reload,
        }

    def actions(self):  # type: ignore[no-untyped-def]
        return {"lang": self.press_lang, "go": self.press_go}

    def menu(self, who: Who) -> tuple[tuple[Button, ...], ...]:
        known = self.coach.command_names
        buttons = [Button(t(who.lang, key), f"go:{cmd}") for cmd, key in MENU if cmd in known]
        buttons.append(Button(t(who.lang, "menu.help"), "go:help"))
        other = "en" if who.lang == "zh" else "zh"
        buttons.append(Button(t(who.lang, "menu.lang"), f"lang:{other}"))
        return rows(*buttons, per_row=2)

    def start(self, who: Who, args: str) -> list[Reply]:
        payload = args.strip().split()[0] if args.strip() else ""
        if payload:
            replies = self.coach.start_payload(who, payload[:64])
            if replies is not None:
                return replies
        return [Reply(t(who.lang, "welcome"), self.menu(who))]

    def help(self, who: Who, args: str = "") -> list[Reply]:
        lines = [t(who.lang, "help.title")]
        for cmd, key in self.coach.visible_commands(who.is_manager, who.is_admin):
            lines.append(f"/{cmd} — {e(t(who.lang, key))}")
        lines.append("")
        lines.append("• " + e(t(who.lang, "help.lookup")))
        lines.append("• " + e(t(who.lang, "help.inline", bot=self.coach.bot_username)))
        return [Reply("\n".join(lines), self.menu(who))]

    def lang(self, who: Who, args: str) -> list[Reply]:
        choice = args.strip().lower()[:5]
        if not choice:
            choice = "en" if who.lang == "zh" else "zh"
        if choice.startswith("zh") or choice in ("中文", "cn"):
            choice = "zh"
        if choice not in LANGS:
            return [Reply(t(who.lang, "lang.usage"))]
        self.coach.store.set_lang(who.id, choice)
        return [Reply(t(choice, "lang.set"), self.menu(_with_lang(who, choice)))]

    def press_lang(self, who: Who, code: str) -> list[Reply]:
        return self.lang(who, code if code in LANGS else "")

    def press_go(self, who: Who, command: str) -> list[Reply]:
        if command not in self.coach.command_names:
            return [Reply(t(who.lang, "stale_button"))]
        return self.coach._command(who, command, "")

    def reload(self, who: Who, args: str = "") -> list[Reply]:
        """Admin: load the content again; a broken file keeps the current library."""
        if not who.is_admin:
            return [Reply(t(who.lang, "not_allowed"))]
        error = self.coach.reload()
        if error is None:
            return [Reply(t(who.lang, "reload.ok", summary=e(self.coach.lib.summary())))]
        lines = [str(p) for p in error.problems[:20]]
        if len(error.problems) > 20:
            lines.append(f"… (+{len(error.problems) - 20})")
        return [Reply(t(who.lang, "reload.failed", problems=e("\n".join(lines))))]

    def cancel(self, who: Who, args: str = "") -> list[Reply]:
        session = self.coach.store.session(who.id)
        feature = self.coach._sessions.get(session["kind"]) if session else None
        if feature is None:
            return [Reply(t(who.lang, "cancel.none"))]
        return feature.cancel(who, session)  # type: ignore[attr-defined]


def _with_lang(who: Who, lang: str) -> Who:
    from dataclasses import replace

    return replace(who, lang=lang, lang_chosen=True)
