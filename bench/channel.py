"""Telegram-side figures through the real python-telegram-bot `Application`, no network.

- `updates_per_s`: text look-ups fed to `process_update` of the bot built by
  `build_application` over a real Coach and SQLite file (every store write on), with the
  recording request layer in place of the network.
- `echo_updates_per_s`: the same updates, the same request layer and the same loop, through
  a bare PTB Application whose one handler replies with the text: the framework's ceiling.
- `fanout`: a reminder to many trainees sent the way the bot sends them (`send_replies` with
  a Reply per trainee) through the AIORateLimiter against a fake Bot API enforcing 30/s.

Both throughput runs leave the rate limiter off: it caps any bot at Telegram's 30 messages
a second, which would measure the limiter, not the bot. The fan-out measures it on purpose.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import build_coach
from bot.channels.fake_api import RecordingRequest
from bot.channels.telegram_app import build_application, send_replies
from bot.config import Settings
from bot.core.reply import Reply

FIRST_USER = 10_000_000
USERS = 200  # distinct trainees writing in the throughput runs


def text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """The JSON Telegram sends for a private text message."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000 + update_id,
            "chat": {"id": user_id, "type": "private", "first_name": "Trainee"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Trainee", "language_code": "zh"},
            "text": text,
        },
    }


def updates(texts: list[str], n: int) -> list[dict[str, Any]]:
    return [text_update(i + 1, FIRST_USER + i % USERS, texts[i % len(texts)]) for i in range(n)]


async def _throughput(app: Application, data: list[dict[str, Any]], api: RecordingRequest) -> float:
    """Updates per second through `process_update`; every one must have been answered."""
    await app.initialize()
    try:
        warm = max(1, len(data) // 20)  # first contact creates users and fills caches
        for item in data[:warm]:
            await app.process_update(Update.de_json(item, app.bot))
        before = len(api.of("sendMessage"))
        start = time.perf_counter()
        for item in data:
            await app.process_update(Update.de_json(item, app.bot))
        elapsed = time.perf_counter() - start
        answered = len(api.of("sendMessage")) - before
        if answered < len(data):
            raise RuntimeError(f"only {answered} of {len(data)} updates were answered")
        return len(data) / elapsed
    finally:
        await app.shutdown()


async def bot_updates_per_s(settings: Settings, data: list[dict[str, Any]]) -> float:
    coach = build_coach(settings)
    api = RecordingRequest()
    try:
        app = build_application(settings, coach, request=api, rate_limit=False)
        return await _throughput(app, data, api)
    finally:
        coach.store.close()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def echo_updates_per_s(data: list[dict[str, Any]]) -> float:
    api = RecordingRequest()
    app = ApplicationBuilder().token("123456:BENCH").request(api).get_updates_request(api).build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return await _throughput(app, data, api)


async def fanout(settings: Settings, n: int) -> tuple[float, int]:
    """(seconds, 429 answers) to remind `n` trainees through the rate limiter at 30/s."""
    coach = build_coach(settings)
    api = RecordingRequest(rate_per_s=30)
    app = build_application(settings, coach, request=api)
    try:
        trainees = [FIRST_USER + i for i in range(n)]
        for uid in trainees:
            coach.store.ensure_user(uid, f"Trainee {uid}", "zh")
        replies = [
            Reply(f"⏰ Reminder {i}: 3 drills are due today.", chat_id=uid) for i, uid in enumerate(trainees)
        ]
        await app.initialize()
        context = CallbackContext(app)
        start = time.perf_counter()
        await send_replies(context, 0, replies)
        elapsed = time.perf_counter() - start
        sent = len(api.of("sendMessage"))
        if sent != n:
            raise RuntimeError(f"fan-out delivered {sent} of {n} reminders")
        return elapsed, api.too_many
    finally:
        await app.shutdown()
        coach.store.close()
