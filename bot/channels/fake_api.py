"""A recording stand-in for the Bot API network layer (tests and benchmarks; no token, no network).

It is a real `telegram.request.BaseRequest`: python-telegram-bot serialises every call
exactly as in production, and this records the method and parameters and answers with a
plausible result. It can also enforce Telegram's flood limit (answering 429 with
`retry_after`) and inject failures, so the bot's own rate limiting and retries are tested.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 424242
BOT_USERNAME = "coachbot_test_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


Fault = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]


class RecordingRequest(BaseRequest):
    def __init__(self, rate_per_s: float | None = None, fault: Fault | None = None):
        self.calls: list[Call] = []
        self.rate_per_s = rate_per_s
        self.fault = fault
        self.too_many = 0  # 429 answers given
        self._sent: deque[float] = deque()
        self._message_id = 1000

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    # ------------------------------------------------------------ helpers for tests

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def texts(self) -> list[str]:
        return [
            c.params.get("text", "") for c in self.calls if c.method in ("sendMessage", "editMessageText")
        ]

    def clear(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------ the fake API

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, Any] = {}
        if request_data and request_data.multipart_data:
            files = {k: v for k, v in request_data.multipart_data.items()}
        if self.fault is not None:
            injected = self.fault(api_method, params)
            if injected is not None:
                status, body = injected
                return status, json.dumps(body).encode()
        if self.rate_per_s and api_method in ("sendMessage", "sendDocument", "sendPhoto"):
            now = time.monotonic()
            while self._sent and now - self._sent[0] >= 1.0:
                self._sent.popleft()
            if len(self._sent) >= self.rate_per_s:
                self.too_many += 1
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
                return 429, json.dumps(body).encode()
            self._sent.append(now)
        self.calls.append(Call(api_method, params, files))
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Coachbot",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
            }
        if method == "getUpdates":
            return []
        if method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            self._message_id += 1
            chat_id = params.get("chat_id", 0)
            message: dict[str, Any] = {
                "message_id": params.get("message_id", self._message_id),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if int(chat_id or 0) > 0 else "group"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Coachbot"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if method == "sendDocument":
                message["document"] = {"file_id": "doc", "file_unique_id": "doc"}
            if method == "sendPhoto":
                message["photo"] = [{"file_id": "ph", "file_unique_id": "ph", "width": 1, "height": 1}]
            return message
        if method == "getChat":
            return {"id": params.get("chat_id"), "type": "private"}
        return True
