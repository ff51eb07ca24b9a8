"""Drive the real python-telegram-bot Application with Update objects, no network, no token.

`BotHarness` builds the bot exactly as production does (`build_application`), with a
`RecordingRequest` in place of the network and a real SQLite file, and turns test actions
into the JSON updates Telegram would send.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_coach
from bot.channels.fake_api import Call, RecordingRequest
from bot.channels.telegram_app import build_application
from bot.config import Settings
from bot.core.coach import Coach

_ids = itertools.count(1)


@dataclass
class User:
    id: int
    first_name: str = "Trainee"
    language_code: str | None = "zh"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class BotHarness:
    app: Application
    api: RecordingRequest
    coach: Coach
    settings: Settings

    @classmethod
    async def start(cls, settings: Settings, api: RecordingRequest | None = None) -> BotHarness:
        api = api or RecordingRequest()
        coach = build_coach(settings)
        app = build_application(settings, coach, request=api)
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        return cls(app, api, coach, settings)

    async def stop(self) -> None:
        await self.app.shutdown()
        self.coach.store.close()

    # ------------------------------------------------------------ sending updates

    async def process(self, data: dict[str, Any]) -> list[Call]:
        before = len(self.api.calls)
        update = Update.de_json(data, self.app.bot)
        await self.app.process_update(update)
        return self.api.calls[before:]

    async def send(
        self, text: str, user: User, chat_id: int | None = None, chat_type: str = "private"
    ) -> list[Call]:
        chat_id = chat_id if chat_id is not None else user.id
        message: dict[str, Any] = {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {
                "id": chat_id,
                "type": chat_type,
                **({"title": "Team chat"} if chat_type != "private" else {}),
            },
            "from": user.as_json(),
            "text": text,
        }
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])})
        at = text.find("@" + (self.app.bot.username or ""))
        if at >= 0 and self.app.bot.username:
            entities.append({"type": "mention", "offset": at, "length": len(self.app.bot.username or "") + 1})
        if entities:
            message["entities"] = entities
        return await self.process({"update_id": next(_ids), "message": message})

    async def press(
        self, data: str, user: User, message_text: str = "…", chat_id: int | None = None
    ) -> list[Call]:
        chat_id = chat_id if chat_id is not None else user.id
        return await self.process(
            {
                "update_id": next(_ids),
                "callback_query": {
                    "id": str(next(_ids)),
                    "from": user.as_json(),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": next(_ids),
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"},
                        "from": {"id": 424242, "is_bot": True, "first_name": "Coachbot"},
                        "text": message_text,
                    },
                },
            }
        )

    async def inline(self, query: str, user: User) -> list[Call]:
        return await self.process(
            {
                "update_id": next(_ids),
                "inline_query": {"id": str(next(_ids)), "from": user.as_json(), "query": query, "offset": ""},
            }
        )


def texts(calls: list[Call]) -> list[str]:
    return [c.params.get("text", "") for c in calls if c.method in ("sendMessage", "editMessageText")]


def buttons(calls: list[Call]) -> list[dict[str, Any]]:
    """Every inline keyboard button in these calls, flattened."""
    import json

    out = []
    for c in calls:
        markup = c.params.get("reply_markup")
        if not markup:
            continue
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in markup.get("inline_keyboard", []):
            out.extend(row)
    return out


def button_data(calls: list[Call]) -> list[str]:
    return [b["callback_data"] for b in buttons(calls) if "callback_data" in b]
