"""A fake Bot API server on 127.0.0.1 for tests that run the real `coachbot` process.

The process under test gets TELEGRAM_API_BASE_URL pointing here, so every Bot API call
it makes arrives over loopback HTTP exactly as it would reach api.telegram.org (or a
self-hosted Bot API server). Calls are recorded; `hold` makes matching calls hang, which
stands in for "the process is killed while it is sending"; `updates` feeds long polling.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

BOT = {
    "id": 515151,
    "is_bot": True,
    "first_name": "Coachbot",
    "username": "coachbot_e2e_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


def free_port() -> int:
    """A port nobody listens on right now (loopback only)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FakeCall:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    calls: list[FakeCall] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    hold: Callable[[str, dict[str, Any]], bool] | None = None
    port: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _server: HTTPServer | None = None
    _next_id: int = 5000

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> None:
        app = tornado.web.Application(
            [(r"/bot(?P<token>[^/]+)/(?P<method>\w+)", _Handler, {"fake": self})],
            log_function=lambda handler: None,
        )
        self._server = HTTPServer(app)
        sockets = bind_sockets(0, address="127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[FakeCall]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Poll until `predicate()` is truthy; fail the test if it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")

    def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method in ("sendMessage", "editMessageText", "sendDocument"):
            self._next_id += 1
            chat_id = int(params.get("chat_id", 0))
            return {
                "message_id": self._next_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": {"id": BOT["id"], "is_bot": True, "first_name": "Coachbot"},
                "text": params.get("text", ""),
            }
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True


class _Handler(tornado.web.RequestHandler):
    def initialize(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def post(self, token: str, method: str) -> None:
        params = {k: self.get_body_argument(k) for k in self.request.body_arguments}
        if self.request.headers.get("Content-Type", "").startswith("application/json") and self.request.body:
            params.update(json.loads(self.request.body))
        fake = self.fake
        fake.calls.append(FakeCall(method, params))
        if fake.hold is not None and fake.hold(method, params):
            await fake._release.wait()  # hangs: the process is killed while waiting for this answer
            return
        if method == "getUpdates":
            result = await self._updates(params)
        else:
            result = fake.result(method, params)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": True, "result": result}))

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        for _ in range(20):  # a short long-poll
            pending = [u for u in self.fake.updates if u["update_id"] >= offset]
            if pending:
                return pending
            await asyncio.sleep(0.05)
        return []
