"""The Telegram adapter: python-telegram-bot updates -> Coach calls; Replies -> Bot API calls.

`build_application` is the one place every handler is registered, in order. It holds no
business rules: who may do what, what is stored and what is said are the core's.
Updates are handled one at a time (PTB's default), which keeps the store single-writer.
Every Bot API call a reply makes goes through `retrying`, on top of the AIORateLimiter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.html_text import split_message, to_plain
from bot.config import Settings
from bot.core.coach import Coach
from bot.core.reply import Button, Ctx, Reply
from bot.errors import StoreError
from bot.health import HEARTBEAT_EVERY, heartbeat_file
from bot.i18n import LANGS, lang_from_platform, t
from bot.logs import redact
from bot.store.db import EVENT_DELAY_S

log = logging.getLogger(__name__)

T = TypeVar("T")

# bot_data keys
COACH = "coach"
ADMIN_CHAT = "admin_chat"
RETRY_DELAYS = "retry_delays"  # seconds to wait before each retry of a Bot API call
HEARTBEAT = "heartbeat_file"
REPORTED = "reported_errors"  # error signature -> when it was last sent to the admin chat

DEFAULT_RETRY_DELAYS = (1.0, 4.0, 15.0)
MAX_RETRY_DELAY = 60.0  # the ceiling when retrying forever (start-up, set_webhook)
ADMIN_REPORT_EVERY = 600.0  # the same error is reported to the admin chat at most this often (s)
CLOCK = "clock"  # bot_data: a () -> aware datetime for the reminder job (tests control time)
REMINDERS_EVERY = 300  # seconds between checks for due assignment reminders
SCHEDULED_EVERY = 60  # seconds between checks for drill reminders and weekly digests (set per minute)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # no message of ours shows a link preview


def _ctx(update: Update) -> Ctx:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None
    return Ctx(
        user_id=user.id,
        name=user.full_name or "",
        platform_lang=user.language_code,
        private=chat is None or chat.type == ChatType.PRIVATE,
    )


class _Keyboard(InlineKeyboardMarkup):
    """An inline keyboard that turns itself into Bot API data once, not on every send.

    PTB calls `to_dict` for each message that carries a keyboard; for a card's buttons that
    cost more than the rest of the send. Keyboards are immutable, so `_markup` reuses them.
    """

    __slots__ = ("_api",)

    def __init__(self, keyboard: list[list[InlineKeyboardButton]]):
        super().__init__(keyboard)
        self._api = super().to_dict()  # a private name: PTB's frozen objects allow it

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        if not recursive:
            return super().to_dict(recursive=False)
        rows = [[dict(button) for button in row] for row in self._api["inline_keyboard"]]
        return {**self._api, "inline_keyboard": rows}  # a fresh copy, as to_dict promises


@lru_cache(maxsize=512)
def _markup(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The Telegram keyboard for our buttons, built once per distinct set (cards repeat)."""
    if not buttons:
        return None
    return _Keyboard([[_button(b) for b in row] for row in buttons])


def _button(b: Button) -> InlineKeyboardButton:
    if b.url:
        return InlineKeyboardButton(b.label, url=b.url)
    if b.inline_query is not None:
        return InlineKeyboardButton(b.label, switch_inline_query=b.inline_query)
    return InlineKeyboardButton(b.label, callback_data=b.action)


# ---------------------------------------------------------------- talking to Telegram


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that retry_after becomes a timedelta; both are handled
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def retrying(app: Application, call: Callable[[], Awaitable[T]], forever: bool = False) -> T:
    """Make a Bot API call; on a network error or RetryAfter wait (growing back-off) and try again.

    Gives up after the configured delays run out unless `forever`. A BadRequest or
    Forbidden is an answer, not trouble, and is raised at once.
    """
    delays: tuple[float, ...] = tuple(app.bot_data.get(RETRY_DELAYS, DEFAULT_RETRY_DELAYS))
    attempt = 0
    while True:
        try:
            return await call()
        except RetryAfter as exc:
            error: TelegramError = exc
            floor = _retry_after(exc)
        except NetworkError as exc:  # TimedOut included
            if isinstance(exc, BadRequest):
                raise
            error, floor = exc, 0.0
        if attempt >= len(delays) and not forever:
            raise error
        last = delays[-1] if delays else 1.0
        delay = (
            delays[attempt]
            if attempt < len(delays)
            else min(MAX_RETRY_DELAY, last * 2 ** (attempt - len(delays) + 1))  # doubling, capped
        )
        attempt += 1
        wait = max(floor, delay)
        log.warning(
            "Telegram call failed (%s: %s); retry %d in %.1fs", type(error).__name__, error, attempt, wait
        )
        await asyncio.sleep(wait)


def _blocked(coach: Coach, user_id: int) -> bool:
    row = coach.store.user(user_id)
    return bool(row and row["blocked"])


async def send_replies(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    replies: list[Reply],
    edit_message: Message | None = None,
) -> None:
    """Render Replies: long texts split below 4096, edits where asked, files as documents.

    A reply for another chat (a notification) is skipped when that user has blocked the
    bot, and its failure never stops the replies to the person who asked.
    """
    coach: Coach = context.application.bot_data[COACH]
    for reply in replies:
        target = reply.chat_id or chat_id
        notify = target != chat_id
        if notify and _blocked(coach, target):
            log.info("not notifying %s: they blocked the bot", target)
            continue
        try:
            await _send_one(context.application, context.bot, target, reply, None if notify else edit_message)
        except Forbidden:
            # The user blocked the bot (or it left the group): remember, so broadcasts skip them.
            coach.store.set_blocked(target, True)
            log.info("chat %s has blocked the bot", target)
        except TelegramError as exc:
            if not notify:
                raise
            log.warning("could not notify chat %s: %s", target, exc)


async def _send_one(app: Application, bot: Bot, target: int, reply: Reply, edit: Message | None) -> None:
    markup = _markup(reply.buttons)
    if reply.file is not None:
        document = partial(
            bot.send_document,
            target,
            document=reply.file.data,
            filename=reply.file.name,
            caption=reply.file.caption[:1024] or None,
            parse_mode=ParseMode.HTML,
        )
        await retrying(app, document)
        if not reply.text:
            return
    parts = split_message(reply.text)
    if reply.edit and edit is not None and len(parts) == 1:
        try:
            await retrying(
                app, partial(edit.edit_text, parts[0], parse_mode=ParseMode.HTML, reply_markup=markup)
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("edit failed (%s); sending instead", exc)
    for i, part in enumerate(parts):
        await _send_text(app, bot, target, part, markup if i == len(parts) - 1 else None)


async def _send_text(
    app: Application, bot: Bot, target: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    send = partial(bot.send_message, target, reply_markup=markup, link_preview_options=NO_PREVIEW)
    try:
        await retrying(app, partial(send, text, parse_mode=ParseMode.HTML))
    except BadRequest as exc:
        if "parse" not in str(exc).lower():
            raise
        # Our HTML should always parse; if it does not, the user still gets the words.
        log.error("Telegram could not parse a reply's HTML (%s); sending it as plain text", exc)
        await retrying(app, partial(send, to_plain(text)))


# ---------------------------------------------------------------- handlers


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or update.effective_user is None or not message.text:
        return
    coach: Coach = context.application.bot_data[COACH]
    head, _, args = message.text.partition(" ")
    name = head[1:].split("@")[0]
    replies = coach.command(_ctx(update), name, args)
    await send_replies(context, message.chat_id, replies)


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or update.effective_user is None or message.text is None:
        return
    coach: Coach = context.application.bot_data[COACH]
    replies = coach.text(_ctx(update), message.text)
    await send_replies(context, message.chat_id, replies)


async def on_group_mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups the bot answers only when mentioned: the rest of the message is a lookup."""
    message = update.effective_message
    if message is None or update.effective_user is None or not message.text:
        return
    username = f"@{context.bot.username}".lower()
    if username not in message.text.lower():
        return
    query = message.text.replace(f"@{context.bot.username}", " ").strip()
    coach: Coach = context.application.bot_data[COACH]
    replies = coach.command(_ctx(update), "find", query)
    await send_replies(context, message.chat_id, replies)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    coach: Coach = context.application.bot_data[COACH]
    try:
        await query.answer()  # every callback query is answered, first
    except TelegramError as exc:
        # After a restart a press may be too old to answer; still do what was asked.
        log.info("could not answer a callback query: %s", exc)
    message = query.message if isinstance(query.message, Message) else None
    replies = coach.press(_ctx(update), query.data or "")
    chat_id = message.chat_id if message else query.from_user.id
    await send_replies(context, chat_id, replies, edit_message=message)


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    coach: Coach = context.application.bot_data[COACH]
    results = coach.inline(_ctx(update), query.query)
    articles = [
        InlineQueryResultArticle(
            id=r.id,
            title=r.title,
            description=r.description,
            input_message_content=InputTextMessageContent(
                split_message(r.text)[0], parse_mode=ParseMode.HTML, disable_web_page_preview=True
            ),
        )
        for r in results
    ]
    await query.answer(articles, cache_time=30, is_personal=True)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user blocked or unblocked the bot in their private chat: remember it for broadcasts."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    coach: Coach = context.application.bot_data[COACH]
    blocked = change.new_chat_member.status == ChatMemberStatus.BANNED
    coach.store.set_blocked(change.chat.id, blocked)
    log.info("user %s has %s the bot", change.chat.id, "blocked" if blocked else "unblocked")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback, tell the user briefly in their language, report to the admin chat.

    It never raises: a failure here would only hide the original error.
    """
    error = context.error
    try:
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest) and update is None:
            # Polling hiccups: PTB keeps retrying by itself; a warning is enough.
            log.warning("network trouble talking to Telegram: %s", error)
            return
        log.error("error while handling an update", exc_info=error)
        if isinstance(update, Update) and not isinstance(error, Forbidden):
            await _tell_user(update, context)
        await _report(context.application, update, error)
    except Exception:
        log.exception("the error handler itself failed")


async def _tell_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    lang = lang_from_platform(user.language_code if user else None)
    coach: Coach | None = context.application.bot_data.get(COACH)
    if coach is not None and user is not None:
        try:
            row = coach.store.user(user.id)
            lang = row["lang"] if row else lang
        except Exception:  # the store may be the very thing that failed
            log.warning("could not read the user's language for the error message")
    try:
        await context.bot.send_message(chat.id, t(lang, "error"))
    except TelegramError:
        log.warning("could not tell the user about the error")


def admin_report(update: object, error: BaseException | None, token: str) -> str:
    """A short plain-text report: what failed and for whom, without the user's message text."""
    lines = ["⚠️ Coachbot error", f"{type(error).__name__}: {error}"[:300]]
    if isinstance(update, Update):
        kind = next(
            (
                k
                for k in ("message", "callback_query", "inline_query", "my_chat_member")
                if getattr(update, k)
            ),
            "update",
        )
        user = update.effective_user
        where = f"{kind} from user {user.id if user else '?'}"
        if update.effective_chat is not None:
            where += f" in chat {update.effective_chat.id}"
        message = update.message
        if message is not None and message.text and message.text.startswith("/"):
            where += f" ({message.text.split()[0][:40]})"
        if update.callback_query is not None:
            where += f" (button {(update.callback_query.data or '')[:64]})"
        lines.append(where)
    elif update is None:
        lines.append("outside any update (a job or the network)")
    return redact("\n".join(lines), [token])


async def _report(app: Application, update: object, error: BaseException | None) -> None:
    admin_chat = app.bot_data.get(ADMIN_CHAT)
    if not admin_chat:
        return
    signature = f"{type(error).__name__}: {error}"[:200]
    reported: dict[str, float] = app.bot_data.setdefault(REPORTED, {})
    now = time.monotonic()
    if now - reported.get(signature, -math.inf) < ADMIN_REPORT_EVERY:
        return  # the same failure again: the log has it, the admin chat already knows
    reported[signature] = now
    try:
        await app.bot.send_message(admin_chat, admin_report(update, error, app.bot.token))
    except TelegramError:
        log.warning("could not report the error to the admin chat")


# ---------------------------------------------------------------- building


def build_application(
    settings: Settings,
    coach: Coach,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
) -> Application:
    """The bot, fully wired. Pass a `request` (e.g. RecordingRequest) to run without the network."""
    builder = ApplicationBuilder().token(settings.token or "0:offline")
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url)
    if settings.api_file_url:
        builder = builder.base_file_url(settings.api_file_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        # Keeps broadcasts and reminders under Telegram's limits; retries on RetryAfter.
        # One message per 1/29 s, never a burst: the default bucket (30 per second) lets 30
        # through at once and then 30 a second more, which Telegram's 30/s window answers with 429s.
        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=3)
        )
    builder = builder.post_init(_post_init)
    app = builder.build()
    app.bot_data[COACH] = coach
    app.bot_data[ADMIN_CHAT] = settings.admin_chat
    app.bot_data[RETRY_DELAYS] = DEFAULT_RETRY_DELAYS
    app.bot_data[HEARTBEAT] = heartbeat_file(settings)

    # Order matters: commands before text; private free text before group mentions.
    # Only new messages count: an edited message is not a second answer.
    new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(coach.command_names, on_command, filters=new))
    # Unknown commands get a polite answer in private; in groups they may be another bot's.
    app.add_handler(MessageHandler(new & filters.COMMAND & filters.ChatType.PRIVATE, on_command))
    app.add_handler(MessageHandler(new & filters.TEXT & filters.ChatType.PRIVATE, on_private_text))
    app.add_handler(
        MessageHandler(
            new & filters.TEXT & filters.ChatType.GROUPS & filters.Entity("mention"), on_group_mention
        )
    )
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)
    if app.job_queue is not None:  # reminders are decided from the store each run: a restart loses none
        app.job_queue.run_repeating(on_due_reminders, REMINDERS_EVERY, first=60, name="due-reminders")
        app.job_queue.run_repeating(on_scheduled, SCHEDULED_EVERY, first=30, name="scheduled")
        app.job_queue.run_repeating(on_flush_events, EVENT_DELAY_S, first=EVENT_DELAY_S, name="flush-events")
    return app


async def on_flush_events(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Write buffered look-up events when the bot is quiet (a busy bot writes them as it goes)."""
    coach: Coach = context.application.bot_data[COACH]
    try:
        coach.store.flush_events()
    except StoreError as exc:
        log.warning("could not save look-up events yet: %s", exc)


async def on_due_reminders(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Send the assignment reminders and summaries the core says are due (it records them as sent)."""
    from datetime import UTC, datetime

    from bot.core.assignments import due_reminders

    coach: Coach = context.application.bot_data[COACH]
    clock = context.application.bot_data.get(CLOCK) or (lambda: datetime.now(UTC))
    await send_replies(context, 0, due_reminders(coach, clock()))


async def on_scheduled(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Send what the features' `scheduled` use-cases say is due (drill reminders, weekly digests)."""
    from datetime import UTC, datetime

    coach: Coach = context.application.bot_data[COACH]
    clock = context.application.bot_data.get(CLOCK) or (lambda: datetime.now(UTC))
    await send_replies(context, 0, coach.scheduled(clock()))


async def _post_init(app: Application) -> None:
    coach: Coach = app.bot_data[COACH]
    _ = coach.index  # build the search index before the first update is served
    if app.bot.username:
        coach.bot_username = app.bot.username
    await publish_commands(app)
    if app.job_queue is not None:
        # One beat as soon as the scheduler starts (an interval job added before the scheduler
        # runs skips its first beat; a one-off without a misfire limit does not), then regular ones.
        app.job_queue.run_once(_heartbeat, 0, name="heartbeat", job_kwargs={"misfire_grace_time": None})
        app.job_queue.run_repeating(_heartbeat, HEARTBEAT_EVERY, first=HEARTBEAT_EVERY, name="heartbeat")


async def _heartbeat(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Prove the bot is alive for `coachbot health`: the database answers, then touch the file."""
    coach: Coach = context.application.bot_data[COACH]
    coach.store.one("select 1 as ok")
    context.application.bot_data[HEARTBEAT].touch()


def _menu(coach: Coach, lang: str, is_manager: bool, is_admin: bool) -> list[BotCommand]:
    return [BotCommand(c, t(lang, key)[:256]) for c, key in coach.visible_commands(is_manager, is_admin)]


def _staff(coach: Coach) -> list[tuple[int, str, bool, bool]]:
    """(user id, language, is manager, is admin) of every manager and admin the store knows."""
    import json

    rows = coach.store.query(
        "select id, lang, role from users where blocked = 0 "
        "and (role = 'manager' or id in (select value from json_each(?))) order by id",
        [json.dumps(sorted(coach.admins))],
    )
    return [(r["id"], r["lang"], r["role"] == "manager", r["id"] in coach.admins) for r in rows]


async def publish_commands(app: Application) -> None:
    """The command menu: everyone's per language (zh, en; en when the client is neither),
    and for each manager and admin their own chat's menu with the commands only they have."""
    coach: Coach = app.bot_data[COACH]
    everyone = {lang: _menu(coach, lang, False, False) for lang in LANGS}
    menus: list[tuple[list[BotCommand], Any, str | None]] = [
        (everyone[lang], BotCommandScopeDefault(), lang) for lang in LANGS
    ]
    menus.append((everyone["en"], BotCommandScopeDefault(), None))
    for user_id, lang, is_manager, is_admin in _staff(coach):
        own = {code: _menu(coach, code, is_manager, is_admin) for code in LANGS}
        if own == everyone:
            continue
        scope = BotCommandScopeChat(user_id)
        menus += [(own[code], scope, code) for code in LANGS]
        menus.append((own.get(lang, own["en"]), scope, None))
    for commands, scope, code in menus:
        try:
            await retrying(app, partial(app.bot.set_my_commands, commands, scope=scope, language_code=code))
        except TelegramError as exc:
            log.warning("could not publish the %s command menu (%s): %s", code or "default", scope.type, exc)


def run_telegram(settings: Settings) -> int:
    """`coachbot run`: long polling, or webhook mode when COACHBOT_WEBHOOK_URL is set."""
    from bot.app import build_coach
    from bot.errors import ConfigError
    from bot.logs import setup_logging

    if not settings.token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather and set it in the environment "
            "or a .env file, or run `coachbot chat` for the terminal chat."
        )
    if settings.webhook_url:
        from bot.channels.webhook import webhook_config

        webhook_config(settings)  # a bad webhook setting fails now, not after loading content
    setup_logging([settings.token, settings.webhook_secret])
    coach = build_coach(settings)
    app = build_application(settings, coach)
    try:
        if settings.webhook_url:
            from bot.channels.webhook import run_webhook

            return run_webhook(app, settings)
        log.info("long polling for updates")
        # bootstrap_retries=-1: if Telegram is unreachable at start-up, keep trying.
        app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
        return 0
    finally:
        coach.store.close()
