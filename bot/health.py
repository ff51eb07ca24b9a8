"""Is the running bot alive? Answers for Docker's HEALTHCHECK, systemd and monitoring.

In webhook mode the bot serves a health endpoint; `coachbot health` asks it. In polling
mode there is no server, so the bot touches a heartbeat file next to the database every
HEARTBEAT_EVERY seconds (after checking the database answers) and `coachbot health`
checks that file is fresh.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.config import Settings
from bot.errors import ConfigError

HEALTH_PATH = "/healthz"
HEARTBEAT_EVERY = 30  # seconds between heartbeats
STALE_AFTER = 120  # a heartbeat older than this means the bot is stuck or gone


def heartbeat_file(settings: Settings) -> Path:
    return settings.db_path.with_name(settings.db_path.name + "-alive")  # beside -wal and -shm


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:8080`) -> (host, port); a clear ConfigError otherwise."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"COACHBOT_WEBHOOK_LISTEN must be host:port, e.g. 127.0.0.1:8080; got {value!r}")
    return host, int(port)


def health_url(settings: Settings) -> str:
    """Where the local health endpoint answers (a wildcard listen address is reached on loopback)."""
    host, port = parse_listen(settings.webhook_listen)
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{HEALTH_PATH}"


def check(settings: Settings, now: float | None = None) -> tuple[bool, str]:
    """(healthy, one-line reason)."""
    if settings.webhook_url:
        return _check_endpoint(health_url(settings))
    path = heartbeat_file(settings)
    try:
        age = (now if now is not None else time.time()) - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"no heartbeat at {path}: is the bot running (polling mode)?"
    if age > STALE_AFTER:
        return False, f"heartbeat {path} is {age:.0f}s old (limit {STALE_AFTER}s)"
    return True, f"ok: polling, heartbeat {age:.0f}s old"


def _check_endpoint(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read() or b"{}")
            return bool(body.get("ok")), f"ok: webhook, {url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{url} did not answer: {exc}"
