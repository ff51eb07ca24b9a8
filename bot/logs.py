"""Logging for the long-running bot: one line per record on stderr, secrets never written.

The bot token is part of every Bot API URL, and httpx, tracebacks and error messages can
all carry URLs. Rather than trusting every logger to stay quiet, the one formatter replaces
the token (and the webhook secret) wherever it appears in the finished line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<redacted>"
# Chatty at INFO: httpx logs every request URL (with the token), apscheduler every job run.
QUIET = ("httpx", "httpcore", "apscheduler", "tornado.access")


class RedactingFormatter(logging.Formatter):
    """A Formatter that blanks out the given secrets in the formatted text, tracebacks included."""

    def __init__(self, secrets: Iterable[str | None], fmt: str = FORMAT):
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def setup_logging(secrets: Iterable[str | None], level: int = logging.INFO) -> None:
    """Log to stderr (journald / `docker logs` collect it) through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
