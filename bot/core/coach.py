"""The Coach: one façade the channel adapters talk to.

Adapters translate their input into `command`, `press` (a button's data), `text` and
`inline` calls with a `Ctx`, and render the `Reply` objects that come back. The Coach
finds the user, picks their language, and routes to the feature that owns the command,
button prefix or in-progress session. Features live in their own modules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.content.library import Library, load_library
from bot.core.limits import COMMAND_BUCKETS, RateLimiter
from bot.core.reply import Ctx, InlineResult, Reply
from bot.core.search import SearchIndex
from bot.errors import ContentError, StoreError
from bot.i18n import lang_from_platform, t
from bot.store import Store

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # characters of a trainee's message that are read


@dataclass(frozen=True)
class Who:
    """The user behind a request, with what the core needs to decide."""

    id: int
    name: str
    lang: str
    lang_chosen: bool
    role: str
    is_admin: bool
    private: bool

    @property
    def is_manager(self) -> bool:
        return self.is_admin or self.role == "manager"


Handler = Callable[[Who, str], list[Reply]]


class Feature:
    """A slice of the product: its commands, its button prefixes, its in-session text."""

    #: session kind this feature owns (free text goes to it while the session is open)
    session_kind: str | None = None
    #: (command, i18n key of its one-line description, audience: all | manager | admin),
    #: in the order /help and the Telegram command menu show them
    help_entries: tuple[tuple[str, str, str], ...] = ()

    def __init__(self, coach: Coach):
        self.coach = coach

    def commands(self) -> dict[str, Handler]:
        return {}

    def actions(self) -> dict[str, Handler]:
        """Button data prefixes (without the colon) -> handler of the rest of the data."""
        return {}

    def on_session_text(self, who: Who, session: dict, text: str) -> list[Reply]:
        raise NotImplementedError

    def on_start_payload(self, who: Who, payload: str) -> list[Reply] | None:
        """Handle a /start deep-link payload this feature owns, or return None."""
        return None

    def scheduled(self, now: datetime) -> list[Reply]:
        """Messages due at `now` (reminders, digests), each with `chat_id`; recorded as sent first."""
        return []


class Coach:
    def __init__(
        self,
        library: Library,
        store: Store,
        admins: frozenset[int] = frozenset(),
        bot_username: str = "coachbot",
        content_dir: Path | None = None,
        timezone: str = "Asia/Shanghai",
    ):
        self.store = store
        self.timezone = timezone  # for users who have not chosen their own (users.tz)
        self.admins = admins
        self.bot_username = bot_username
        self.content_dir = content_dir
        self._swap(library)
        self.limiter = RateLimiter()
        from bot.core.features import build_features

        self.features: list[Feature] = build_features(self)
        self._commands: dict[str, Handler] = {}
        self._actions: dict[str, Handler] = {}
        self._sessions: dict[str, Feature] = {}
        for feature in self.features:
            self._commands.update(feature.commands())
            self._actions.update(feature.actions())
            if feature.session_kind:
                self._sessions[feature.session_kind] = feature

    # ------------------------------------------------------------ content

    def _swap(self, library: Library, index: SearchIndex | None = None) -> None:
        # One assignment swaps library and index together: readers never see a mix.
        self._content = (library, index)

    @property
    def lib(self) -> Library:
        return self._content[0]

    @property
    def index(self) -> SearchIndex:
        """The search index, built on first use (start-up only loads and validates content;
        channels warm it before serving)."""
        library, index = self._content
        if index is None:
            index = SearchIndex(library)
            if self._content[0] is library:
                self._content = (library, index)
        return index

    def reload(self) -> ContentError | None:
        """Load the content again; keep the current library if the new one is invalid."""
        if self.content_dir is None:
            return None
        try:
            library = load_library(self.content_dir)
        except ContentError as exc:
            return exc
        self._swap(library, SearchIndex(library))  # built before the swap: no lookup waits
        return None

    # ------------------------------------------------------------ users

    def who(self, ctx: Ctx) -> Who:
        row = self.store.ensure_user(ctx.user_id, ctx.name[:128], lang_from_platform(ctx.platform_lang))
        return Who(
            id=ctx.user_id,
            name=row["name"] or "",
            lang=row["lang"],
            lang_chosen=bool(row["lang_chosen"]),
            role=row["role"],
            is_admin=ctx.user_id in self.admins,
            private=ctx.private,
        )

    @property
    def command_names(self) -> list[str]:
        return list(self._commands)

    def allow_heavy(self, who: Who) -> bool:
        """Charge one expensive action (report, export, data file) to this user's budget."""
        return self.limiter.allow(who.id, "heavy")

    def visible_commands(self, is_manager: bool, is_admin: bool) -> list[tuple[str, str]]:
        """The (command, help key) pairs a user may use, for /help and set_my_commands."""
        allowed = {"all"} | ({"manager"} if is_manager else set()) | ({"admin"} if is_admin else set())
        return [
            (cmd, key)
            for feature in self.features
            for cmd, key, audience in feature.help_entries
            if audience in allowed and cmd in self._commands
        ]

    # ------------------------------------------------------------ entry points

    def command(self, ctx: Ctx, name: str, args: str = "") -> list[Reply]:
        return self._guard(ctx, lambda who: self._command(who, name.lower(), args.strip()))

    def press(self, ctx: Ctx, data: str) -> list[Reply]:
        return self._guard(ctx, lambda who: self._press(who, data))

    def text(self, ctx: Ctx, text: str) -> list[Reply]:
        return self._guard(ctx, lambda who: self._text(who, text))

    def inline(self, ctx: Ctx, query: str) -> list[InlineResult]:
        from bot.core.lookup import inline_results

        who = self.who(ctx)
        if not self.limiter.allow(who.id, "lookup"):
            return []
        return inline_results(self, who, query)

    def _guard(self, ctx: Ctx, fn: Callable[[Who], list[Reply]]) -> list[Reply]:
        """Run a use-case; a store failure becomes a polite message (nothing half-written)."""
        try:
            who = self.who(ctx)
        except StoreError:
            log.exception("store unavailable")
            return [Reply(t(lang_from_platform(ctx.platform_lang), "busy"))]
        try:
            return fn(who)
        except StoreError:
            log.exception("store write failed for user %s", ctx.user_id)
            return [Reply(t(who.lang, "busy"))]

    def _command(self, who: Who, name: str, args: str) -> list[Reply]:
        handler = self._commands.get(name)
        if handler is None:
            return [Reply(t(who.lang, "unknown_command"))]
        bucket = COMMAND_BUCKETS.get(name)
        if bucket and not self.limiter.allow(who.id, bucket):
            return [Reply(t(who.lang, "rate_limited"))]
        return handler(who, args)

    def _press(self, who: Who, data: str) -> list[Reply]:
        prefix, _, rest = data.partition(":")
        handler = self._actions.get(prefix)
        if handler is None or len(data.encode()) > 64:
            return [Reply(t(who.lang, "stale_button"))]
        return handler(who, rest)

    def _text(self, who: Who, text: str) -> list[Reply]:
        session = self.store.session(who.id)
        if session is not None and session["kind"] in self._sessions:
            return self._sessions[session["kind"]].on_session_text(who, session, text[:MAX_TEXT])
        from bot.core.lookup import lookup

        if not self.limiter.allow(who.id, "lookup"):
            return [Reply(t(who.lang, "rate_limited"))]
        return lookup(self, who, text)

    def scheduled(self, now: datetime) -> list[Reply]:
        """Every feature's messages due at `now`; the channel's clock job sends them."""
        replies: list[Reply] = []
        for feature in self.features:
            try:
                replies += feature.scheduled(now)
            except StoreError:
                log.exception("scheduled messages of %s failed", type(feature).__name__)
        return replies

    def start_payload(self, who: Who, payload: str) -> list[Reply] | None:
        for feature in self.features:
            replies = feature.on_start_payload(who, payload)
            if replies is not None:
                return replies
        return None
