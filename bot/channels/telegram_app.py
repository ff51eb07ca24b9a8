"""The Telegram adapter: python-telegram-bot updates -> Coach calls; Replies -> Bot API calls.

`build_application` is the one place every handler is registered, in order. It holds no
business rules: who may do what, what is stored and what is said are the core's.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.html_text import split_message
from bot.config import Settings
from bot.core.coach import Coach
from bot.core.reply import Button, Ctx, Reply
from bot.i18n import lang_from_platform, t

log = logging.getLogger(__name__)

COACH = "coach"


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


def _markup(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    keyboard = []
    for row in buttons:
        out = []
        for b in row:
            if b.url:
                out.append(InlineKeyboardButton(b.label, url=b.url))
            elif b.inline_query is not None:
                out.append(InlineKeyboardButton(b.label, switch_inline_query=b.inline_query))
            else:
                out.append(InlineKeyboardButton(b.label, callback_data=b.action))
        keyboard.append(out)
    return InlineKeyboardMarkup(keyboard)


async def send_replies(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    replies: list[Reply],
    edit_message: Message | None = None,
) -> None:
    """Render Replies: long texts split below 4096, edits where asked, files as documents."""
    coach: Coach = context.application.bot_data[COACH]
    for reply in replies:
        target = reply.chat_id or chat_id
        markup = _markup(reply.buttons)
        try:
            if reply.file is not None:
                await context.bot.send_document(
                    target,
                    document=reply.file.data,
                    filename=reply.file.name,
                    caption=reply.file.caption[:1024] or None,
                    parse_mode=ParseMode.HTML,
                )
                if not reply.text:
                    continue
            parts = split_message(reply.text)
            if reply.edit and edit_message is not None and len(parts) == 1:
                try:
                    await edit_message.edit_text(parts[0], parse_mode=ParseMode.HTML, reply_markup=markup)
                    continue
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        continue
                    log.info("edit failed (%s); sending instead", exc)
            for i, part in enumerate(parts):
                await context.bot.send_message(
                    target,
                    part,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if i == len(parts) - 1 else None,
                    disable_web_page_preview=True,
                )
        except Forbidden:
            # The user blocked the bot: remember, so broadcasts skip them.
            coach.store.set_blocked(target, True)
            log.info("user %s has blocked the bot", target)


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
    await query.answer()  # every callback query is answered, first
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


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback, tell the user briefly in their language, report to the admin chat."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        lang = lang_from_platform(user.language_code if user else None)
        coach: Coach | None = context.application.bot_data.get(COACH)
        if coach is not None and user is not None:
            row = coach.store.user(user.id)
            lang = row["lang"] if row else lang
        try:
            await context.bot.send_message(update.effective_chat.id, t(lang, "error"))
        except TelegramError:
            log.warning("could not tell the user about the error")
    admin_chat = context.application.bot_data.get("admin_chat")
    if admin_chat:
        try:
            await context.bot.send_message(
                admin_chat, f"⚠️ Coachbot error: {type(context.error).__name__}: {str(context.error)[:300]}"
            )
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
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    builder = builder.post_init(_post_init)
    app = builder.build()
    app.bot_data[COACH] = coach
    app.bot_data["admin_chat"] = settings.admin_chat

    # Order matters: commands before text; private free text before group mentions.
    command_names = coach.command_names
    app.add_handler(CommandHandler(command_names, on_command))
    app.add_handler(MessageHandler(filters.COMMAND, on_command))  # unknown commands get a polite answer
    app.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, on_private_text))
    app.add_handler(
        MessageHandler(filters.TEXT & filters.ChatType.GROUPS & filters.Entity("mention"), on_group_mention)
    )
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_error_handler(on_error)
    return app


async def _post_init(app: Application) -> None:
    coach: Coach = app.bot_data[COACH]
    if app.bot.username:
        coach.bot_username = app.bot.username
    await publish_commands(app)


async def publish_commands(app: Application) -> None:
    """set_my_commands per language (zh, en)."""
    coach: Coach = app.bot_data[COACH]
    for lang in ("zh", "en"):
        cmds = [BotCommand(c, t(lang, key)[:256]) for c, key in coach.visible_commands(False, False)]
        try:
            await app.bot.set_my_commands(cmds, language_code=lang)
            if lang == "en":
                await app.bot.set_my_commands(cmds)
        except TelegramError as exc:
            log.warning("could not publish commands: %s", exc)


def run_telegram(settings: Settings) -> int:
    """`coachbot run`: long polling (the webhook mode is chosen by COACHBOT_WEBHOOK_URL)."""
    from bot.app import build_coach
    from bot.errors import ConfigError

    if not settings.token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather and set it in the environment "
            "or a .env file, or run `coachbot chat` for the terminal chat."
        )
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its URLs contain the token
    coach = build_coach(settings)
    app = build_application(settings, coach)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
