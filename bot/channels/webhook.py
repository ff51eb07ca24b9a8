"""Webhook mode: a small tornado server in front of the Application's update queue.

Telegram posts each update to the path of COACHBOT_WEBHOOK_URL with the secret token in
a header; a request without the right token is refused before its body is parsed. A
health endpoint answers the reverse proxy and `coachbot health`. The webhook is not
deleted on shutdown, so Telegram keeps the updates that arrive during a restart.
(PTB's own run_webhook has no health endpoint; this follows its customwebhookbot pattern.)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import signal
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from bot.config import Settings
from bot.errors import ConfigError
from bot.health import HEALTH_PATH, parse_listen

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
MAX_BODY = 1 << 20  # updates are a few KB; refuse anything absurd


def webhook_path(url: str) -> str:
    """The route served: the path of the public URL Telegram posts to."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"COACHBOT_WEBHOOK_URL must be a full https:// URL; got {url!r}")
    return parsed.path.rstrip("/") or "/"


def check_secret(secret: str | None) -> str:
    if not secret or not _SECRET_OK.match(secret):
        raise ConfigError(
            "COACHBOT_WEBHOOK_SECRET must be set in webhook mode: 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    return secret


def webhook_config(settings: Settings) -> tuple[str, int, str, str]:
    """(host, port, path, secret) of webhook mode, or a ConfigError naming the setting to fix."""
    host, port = parse_listen(settings.webhook_listen)
    return host, port, webhook_path(settings.webhook_url or ""), check_secret(settings.webhook_secret)


class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, app: Application, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request from %s without the right secret token", self.request.remote_ip)
            self._answer(HTTPStatus.FORBIDDEN, {"ok": False, "error": "forbidden"})
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.app.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("webhook request with a body that is not an update: %s", exc)
            self._answer(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "not an update"})
            return
        await self.app.update_queue.put(update)
        self._answer(HTTPStatus.OK, {"ok": True})

    def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, app: Application) -> None:
        self.app = app

    def get(self) -> None:
        from bot.channels.telegram_app import COACH

        db_ok = True
        try:
            self.app.bot_data[COACH].store.one("select 1 as ok")
        except Exception:  # any failure means unhealthy; the reason goes to the log
            log.exception("health check: the database does not answer")
            db_ok = False
        ok = self.app.running and db_ok
        self.set_status(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "ok": ok,
                    "running": self.app.running,
                    "database": db_ok,
                    "pending_updates": self.app.update_queue.qsize(),
                }
            )
        )


class WebhookServer:
    """The HTTP side of webhook mode; `port` is the bound port (useful when listening on port 0)."""

    def __init__(self, app: Application, settings: Settings):
        self.host, self.port, self.path, secret = webhook_config(settings)
        routes = [
            (HEALTH_PATH, _HealthHandler, {"app": app}),
            (re.escape(self.path) + "/?", _UpdateHandler, {"app": app, "secret": secret}),
        ]
        web_app = tornado.web.Application(routes, log_function=lambda handler: None)
        self._server = HTTPServer(web_app, max_body_size=MAX_BODY, xheaders=True)

    def start(self) -> None:
        try:
            sockets = bind_sockets(self.port, address=self.host)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self.host}:{self.port} (COACHBOT_WEBHOOK_LISTEN): {exc}"
            ) from exc
        self.port = sockets[0].getsockname()[1]
        self._server.add_sockets(sockets)
        log.info("webhook server listening on %s:%s%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


async def serve_webhook(app: Application, settings: Settings, stop: asyncio.Event) -> None:
    """Run the bot in webhook mode until `stop` is set; a clean shutdown on the way out."""
    server = WebhookServer(app, settings)  # config errors surface before anything starts
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        server.start()
        await app.start()
        # Telegram may be unreachable at start-up: keep trying, but let a stop signal win.
        setter = asyncio.create_task(_set_webhook(app, settings))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({setter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if setter.done():
            setter.result()
            await stopping
        else:
            setter.cancel()
    finally:
        await server.stop()
        if app.running:
            await app.stop()
        if app.post_stop:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def _set_webhook(app: Application, settings: Settings) -> None:
    from bot.channels.telegram_app import retrying

    try:
        await retrying(
            app,
            lambda: app.bot.set_webhook(
                settings.webhook_url or "",
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            ),
            forever=True,
        )
    except TelegramError as exc:
        raise ConfigError(f"Telegram refused the webhook {settings.webhook_url}: {exc}") from exc
    log.info("webhook set; serving updates")


def run_webhook(app: Application, settings: Settings) -> int:
    """`coachbot run` with COACHBOT_WEBHOOK_URL set: serve until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve_webhook(app, settings, stop)

    asyncio.run(main())
    return 0
