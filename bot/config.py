"""Settings: a frozen dataclass read from the environment (and a `.env` file if present)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_content_dir() -> Path:
    """The repo's content (playbooks/, scenarios/, checks/) next to the package, else the cwd."""
    if (REPO_ROOT / "playbooks").is_dir():
        return REPO_ROOT
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_base_url: str | None = None
    api_file_url: str | None = None
    db_path: Path = Path("coachbot.db")
    admins: frozenset[int] = frozenset()
    content_dir: Path = field(default_factory=default_content_dir)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1:8080"
    admin_chat: int | None = None
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                from dotenv import load_dotenv

                load_dotenv(Path.cwd() / ".env", override=False)
            env = os.environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            token=get("TELEGRAM_BOT_TOKEN"),
            api_base_url=get("TELEGRAM_API_BASE_URL"),
            api_file_url=get("TELEGRAM_API_FILE_URL"),
            db_path=Path(get("COACHBOT_DB") or "coachbot.db"),
            admins=_ids(get("COACHBOT_ADMINS") or "", "COACHBOT_ADMINS"),
            content_dir=Path(get("COACHBOT_CONTENT_DIR") or default_content_dir()),
            webhook_url=get("COACHBOT_WEBHOOK_URL"),
            webhook_secret=get("COACHBOT_WEBHOOK_SECRET"),
            webhook_listen=get("COACHBOT_WEBHOOK_LISTEN") or "127.0.0.1:8080",
            admin_chat=_int(get("COACHBOT_ADMIN_CHAT"), "COACHBOT_ADMIN_CHAT"),
            timezone=get("COACHBOT_TIMEZONE") or "Asia/Shanghai",
        )


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def _ids(raw: str, name: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if part:
            value = _int(part, name)
            assert value is not None
            ids.add(value)
    return frozenset(ids)
