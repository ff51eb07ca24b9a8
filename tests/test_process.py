"""The real `coachbot run` process in both modes, against a fake Bot API on 127.0.0.1.

The strongest restart test: the process is killed with SIGKILL after it stored an
answer and while it is sending the reply; a new process on the same database resumes
the role-play at the right node. Only loopback addresses are used.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import REPO_ROOT
from bot.content.library import Library, load_library
from bot.core.roleplay import score_turn
from bot.health import HEALTH_PATH
from bot.i18n import t
from tests.fake_telegram import BOT, FakeTelegram, free_port

TOKEN = "987654:PROCESS-TEST-TOKEN-kept-secret"
SECRET = "hook-secret_42"
USER = {"id": 7001, "is_bot": False, "first_name": "Kai", "language_code": "en"}
_ids = itertools.count(100)


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library(REPO_ROOT)


def message_update(text: str, user: dict[str, Any] = USER) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": user["id"], "type": "private"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_ids), "message": message}


def _env(tmp_path: Path, fake: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "COACHBOT_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        COACHBOT_DB=str(tmp_path / "coachbot.db"),
        COACHBOT_CONTENT_DIR=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def _spawn(env: dict[str, str], cwd: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=cwd, stdout=err, stderr=err
        )


async def _wait_healthy(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if proc.returncode is not None:
                raise AssertionError(f"coachbot exited with {proc.returncode}:\n{log.read_text()}")
            try:
                response = await client.get(f"http://127.0.0.1:{port}{HEALTH_PATH}")
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the health endpoint never answered:\n{log.read_text()}")


async def _post(port: int, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"http://127.0.0.1:{port}/tg/hook", json=update, headers=headers)
        return response.status_code


async def _stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        return await proc.wait()


def _texts(fake: FakeTelegram, since: int = 0) -> list[str]:
    return [c.params.get("text", "") for c in fake.sent("sendMessage", USER["id"])[since:]]


async def test_webhook_process_killed_mid_reply_resumes_without_losing_the_answer(
    tmp_path: Path, lib: Library
) -> None:
    sid = next(iter(lib.scenarios))
    sc = lib.scenarios[sid]
    first_turn = sc.nodes[sc.start]
    answer = first_turn.model_answer.en
    expected_node = first_turn.target(score_turn(lib, sid, sc.start, answer).outcome)

    fake = FakeTelegram()
    fake.start()
    port = free_port()
    env = _env(
        tmp_path,
        fake,
        COACHBOT_WEBHOOK_URL="https://coach.example.com/tg/hook",
        COACHBOT_WEBHOOK_SECRET=SECRET,
        COACHBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    )
    log = tmp_path / "coachbot.log"
    proc = await _spawn(env, tmp_path, log)
    try:
        await _wait_healthy(port, proc, log)
        hook = await fake.wait_for(lambda: fake.sent("setWebhook"))
        assert hook[0].params["url"] == "https://coach.example.com/tg/hook"
        assert hook[0].params["secret_token"] == SECRET

        assert await _post(port, message_update("/start"), secret=None) == 403
        assert await _post(port, message_update("/start"), secret="wrong") == 403
        assert await _post(port, message_update(f"/roleplay {sid}")) == 200
        await fake.wait_for(lambda: any(first_turn.customer.en[:15] in x for x in _texts(fake)))
        assert not any(t("en", "welcome")[:20] in x for x in _texts(fake)), "refused updates were handled"

        # From now on the process hangs on sending to the user: the answer is stored first.
        fake.hold = lambda method, params: str(params.get("chat_id")) == str(USER["id"])
        held = len(fake.sent("sendMessage", USER["id"]))
        assert await _post(port, message_update(answer)) == 200
        await fake.wait_for(lambda: len(fake.sent("sendMessage", USER["id"])) > held)
        proc.kill()  # SIGKILL: no clean-up of any kind
        assert await proc.wait() == -signal.SIGKILL
    finally:
        await _stop(proc)

    db = sqlite3.connect(tmp_path / "coachbot.db")
    run_id, node, status = db.execute("select id, node, status from roleplay_runs").fetchone()
    turns = db.execute("select node, reply from roleplay_turns where run_id = ?", [run_id]).fetchall()
    db.close()
    assert turns == [(sc.start, answer)]
    assert node == expected_node
    assert status == ("active" if expected_node in sc.nodes else "finished")

    # A new process on the same database: the run resumes where it was.
    fake.hold = None
    proc = await _spawn(env, tmp_path, log)
    try:
        await _wait_healthy(port, proc, log)
        before = len(_texts(fake))
        assert await _post(port, message_update("/roleplay")) == 200
        if expected_node in sc.nodes:
            line = sc.nodes[expected_node].customer.en[:15]
            resumed = await fake.wait_for(lambda: [x for x in _texts(fake, before) if line in x])
            assert resumed
            assert await _post(port, message_update(sc.nodes[expected_node].model_answer.en)) == 200
            await fake.wait_for(lambda: _count_turns(tmp_path) == 2)
        assert await _stop(proc) == 0  # SIGTERM: a clean shutdown
    finally:
        await _stop(proc)
        await fake.stop()
    assert TOKEN not in log.read_text(), "the token must never reach the log"
    assert TOKEN.split(":")[1] not in log.read_text()


def _count_turns(tmp_path: Path) -> int:
    db = sqlite3.connect(tmp_path / "coachbot.db")
    try:
        return int(db.execute("select count(*) from roleplay_turns").fetchone()[0])
    finally:
        db.close()


async def test_polling_process_serves_beats_and_stops_cleanly(tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.health import check

    fake = FakeTelegram()
    fake.start()
    env = _env(tmp_path, fake)
    log = tmp_path / "coachbot.log"
    settings = Settings.from_env(env, dotenv=False)
    assert check(settings)[0] is False  # not running yet
    proc = await _spawn(env, tmp_path, log)
    try:
        fake.updates.append(message_update("/start"))
        await fake.wait_for(lambda: _texts(fake))
        assert "Coachbot" in _texts(fake)[0]
        assert fake.sent("deleteWebhook"), "polling clears a webhook left from webhook mode"
        menus = fake.sent("setMyCommands")
        assert {m.params.get("language_code") for m in menus} >= {"zh", "en", None}
        await fake.wait_for(lambda: check(settings)[0])  # the heartbeat is fresh
        assert await _stop(proc) == 0
    finally:
        await _stop(proc)
        await fake.stop()
    assert fake.calls[0].method == "getMe"
    assert BOT["username"]
    assert TOKEN not in log.read_text()
