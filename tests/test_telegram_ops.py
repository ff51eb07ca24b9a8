"""Production behaviour of the Telegram adapter, on the real Application.

Webhook server (secret, health), retries on network errors and flood limits, blocked
users, the error handler and admin reports, command menus per language and scope,
`coachbot health`, and a restart mid-role-play on the same database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from telegram.error import NetworkError
from telegram.ext import CallbackContext, CommandHandler

from bot.channels.fake_api import RecordingRequest
from bot.channels.telegram_app import RETRY_DELAYS, build_application, publish_commands, send_replies
from bot.channels.webhook import SECRET_HEADER, WebhookServer, serve_webhook
from bot.cli import main
from bot.config import REPO_ROOT, Settings
from bot.core.coach import Coach
from bot.core.render import e
from bot.core.reply import Reply
from bot.core.roleplay import score_turn
from bot.errors import ConfigError
from bot.health import HEALTH_PATH, STALE_AFTER, check, heartbeat_file, parse_listen
from bot.i18n import LANGS, t
from bot.logs import REDACTED, RedactingFormatter, setup_logging
from bot.store import Store
from tests.conftest import ADMIN_ID
from tests.fake_telegram import free_port
from tests.harness import BotHarness, User, texts

module_loop = pytest.mark.asyncio(loop_scope="module")  # share the module's bot (built once)

TOKEN = "123456:OPS-TEST-TOKEN"
ADMIN_CHAT = -100999
SECRET = "ops_secret-1"


@pytest.fixture(scope="module")
def shared_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        token=TOKEN,
        db_path=tmp_path_factory.mktemp("ops") / "coachbot.db",
        admins=frozenset({ADMIN_ID}),
        content_dir=REPO_ROOT,
        admin_chat=ADMIN_CHAT,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(shared_settings: Settings) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.start(shared_settings)
    harness.app.bot_data[RETRY_DELAYS] = (0.0, 0.0, 0.0)  # retry at once: the tests count, not wait
    yield harness
    await harness.stop()


_uid = iter(range(50_000, 60_000))


def new_user(lang: str = "en") -> User:
    return User(id=next(_uid), first_name="Ops", language_code=lang)


def failing(
    times: int, status: int, body: dict[str, Any], chat_id: int | None = None, method: str = "sendMessage"
) -> Any:
    """A fault for RecordingRequest: the first `times` calls of `method` (to chat_id) fail."""
    state = {"left": times, "failed": 0}

    def fault(called: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if called != method or (chat_id is not None and str(params.get("chat_id")) != str(chat_id)):
            return None
        if state["left"] == 0:
            return None
        state["left"] -= 1
        state["failed"] += 1
        return status, body

    fault.state = state  # type: ignore[attr-defined]
    return fault


BAD_GATEWAY = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
BLOCKED = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


def sent_to(calls: list[Any], chat_id: int) -> list[str]:
    return [c["text"] for c in calls if c.method == "sendMessage" and str(c["chat_id"]) == str(chat_id)]


# ---------------------------------------------------------------- retries and flood limits


@module_loop
async def test_network_errors_are_retried_then_the_reply_arrives(bot: BotHarness) -> None:
    user = new_user()
    bot.api.fault = failing(2, 502, BAD_GATEWAY, user.id)
    try:
        calls = await bot.send("/help", user)
    finally:
        fault, bot.api.fault = bot.api.fault, None
    assert fault.state["failed"] == 2
    assert len(sent_to(calls, user.id)) == 1
    assert t("en", "help.title") in sent_to(calls, user.id)[0]


@module_loop
async def test_when_retries_run_out_the_admin_chat_hears_of_it(bot: BotHarness) -> None:
    user = new_user()
    bot.api.fault = failing(100, 502, BAD_GATEWAY, user.id)
    try:
        calls = await bot.send("/help", user)
    finally:
        bot.api.fault = None
    assert sent_to(calls, user.id) == []
    report = sent_to(calls, ADMIN_CHAT)
    assert report and "NetworkError" in report[0] and f"user {user.id}" in report[0]


@module_loop
async def test_a_broadcast_over_the_flood_limit_arrives_whole(bot: BotHarness) -> None:
    """The fake API enforces 30 messages/s with 429 + retry_after; every notification still arrives."""
    users = [new_user() for _ in range(36)]
    for u in users:
        bot.coach.store.ensure_user(u.id, "x", "en")
    api = bot.api
    api.rate_per_s = 30
    before = len(api.calls)
    try:
        replies = [Reply(f"note {u.id}", chat_id=u.id) for u in users]
        await send_replies(CallbackContext(bot.app), users[0].id, replies)
    finally:
        api.rate_per_s = None
    delivered = {int(c["chat_id"]) for c in api.calls[before:] if c.method == "sendMessage"}
    assert delivered == {u.id for u in users}


# ---------------------------------------------------------------- blocked users


@module_loop
async def test_a_user_who_blocked_the_bot_is_marked_and_skipped(bot: BotHarness) -> None:
    asker, blocker = new_user(), new_user("zh")
    await bot.send("/start", blocker)
    assert bot.coach.store.user(blocker.id)["blocked"] == 0
    context = CallbackContext(bot.app)

    bot.api.fault = failing(100, 403, BLOCKED, blocker.id)
    try:
        await send_replies(context, asker.id, [Reply("done"), Reply("you have a task", chat_id=blocker.id)])
    finally:
        bot.api.fault = None
    assert bot.coach.store.user(blocker.id)["blocked"] == 1

    before = len(bot.api.calls)
    await send_replies(context, asker.id, [Reply("done again"), Reply("another task", chat_id=blocker.id)])
    calls = bot.api.calls[before:]
    assert sent_to(calls, asker.id) == ["done again"]
    assert sent_to(calls, blocker.id) == [], "blocked users are skipped, not retried"


@module_loop
async def test_block_and_unblock_updates_are_remembered(bot: BotHarness) -> None:
    user = new_user()
    await bot.send("/start", user)

    me = {"id": 424242, "is_bot": True, "first_name": "Coachbot"}

    def member(status: str) -> dict[str, Any]:
        return {"status": status, "user": me, **({"until_date": 0} if status == "kicked" else {})}

    def member_update(old: str, new: str) -> dict[str, Any]:
        return {
            "update_id": next(_uid),
            "my_chat_member": {
                "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
                "from": user.as_json(),
                "date": 1,
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        }

    await bot.process(member_update("member", "kicked"))
    assert bot.coach.store.user(user.id)["blocked"] == 1
    await bot.process(member_update("kicked", "member"))
    assert bot.coach.store.user(user.id)["blocked"] == 0


# ---------------------------------------------------------------- the error handler


async def _boom(update: Any, context: Any) -> None:
    raise ZeroDivisionError("a bug somewhere in handling")


@module_loop
@pytest.mark.parametrize("lang", LANGS)
async def test_an_unexpected_error_is_told_logged_and_reported_once(
    bot: BotHarness, lang: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user(lang)
    await bot.send("/start", user)
    bot.app.bot_data.pop("reported_errors", None)
    failing_handler = CommandHandler("boom", _boom)  # stands for a bug anywhere in a handler
    bot.app.add_handler(failing_handler, group=-1)
    try:
        with caplog.at_level(logging.ERROR):
            first = await bot.send("/boom secret words", user)
            second = await bot.send("/boom secret words", user)
    finally:
        bot.app.remove_handler(failing_handler, group=-1)
    assert t(lang, "error") in sent_to(first, user.id)
    assert t(lang, "error") in sent_to(second, user.id)
    report = sent_to(first, ADMIN_CHAT)
    assert len(report) == 1 and "ZeroDivisionError: a bug somewhere in handling" in report[0]
    assert f"message from user {user.id} in chat {user.id} (/boom)" in report[0]
    assert "secret words" not in report[0], "the user's words stay out of the report"
    assert sent_to(second, ADMIN_CHAT) == [], "the same failure is reported once"
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records), "traceback"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@module_loop
async def test_errors_outside_updates_polling_hiccups_stay_in_the_log(bot: BotHarness) -> None:
    bot.app.bot_data.pop("reported_errors", None)
    before = len(bot.api.calls)
    await bot.app.process_error(None, NetworkError("connection reset"))
    assert sent_to(bot.api.calls[before:], ADMIN_CHAT) == [], "PTB retries polling by itself"
    await bot.app.process_error(None, RuntimeError("a job broke"))
    report = sent_to(bot.api.calls[before:], ADMIN_CHAT)
    assert len(report) == 1 and "RuntimeError: a job broke" in report[0] and "outside any update" in report[0]


def test_the_token_never_reaches_the_log() -> None:
    formatter = RedactingFormatter([TOKEN, None])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "httpx", logging.ERROR, __file__, 1, "url %s", (f"/bot{TOKEN}/getMe",), (type(exc), exc, None)
        )
    out = formatter.format(record)
    assert TOKEN not in out and out.count(REDACTED) == 2

    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("httpx").level)
    try:
        setup_logging([TOKEN])
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING  # it logs URLs
        assert isinstance(root.handlers[0].formatter, RedactingFormatter)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(saved[2])


# ---------------------------------------------------------------- command menus


def _menus(calls: list[Any]) -> dict[tuple[str, int | None, str | None], list[str]]:
    out = {}
    for c in calls:
        if c.method != "setMyCommands":
            continue
        scope = c.get("scope") or {"type": "default"}
        scope = json.loads(scope) if isinstance(scope, str) else scope
        commands = c["commands"]
        commands = json.loads(commands) if isinstance(commands, str) else commands
        out[(scope["type"], scope.get("chat_id"), c.get("language_code"))] = [x["command"] for x in commands]
    return out


@module_loop
async def test_command_menus_per_language_and_per_scope(bot: BotHarness) -> None:
    coach = bot.coach
    manager = new_user("zh")
    await bot.send("/start", manager)
    coach.store.set_role(manager.id, "manager")
    await bot.send("/start", User(id=ADMIN_ID, language_code="en"))
    before = len(bot.api.calls)
    await publish_commands(bot.app)
    menus = _menus(bot.api.calls[before:])

    everyone = [c for c, _ in coach.visible_commands(False, False)]
    for code in (*LANGS, None):
        assert menus[("default", None, code)] == everyone
    zh = next(c for c in bot.api.calls[before:] if c.get("language_code") == "zh")
    commands = json.loads(zh["commands"]) if isinstance(zh["commands"], str) else zh["commands"]
    assert commands[0]["description"] == t("zh", coach.visible_commands(False, False)[0][1])
    for uid, is_manager, is_admin in ((manager.id, True, False), (ADMIN_ID, False, True)):
        own = [c for c, _ in coach.visible_commands(is_manager, is_admin)]
        for code in (*LANGS, None):
            if own == everyone:
                assert ("chat", uid, code) not in menus
            else:
                assert menus[("chat", uid, code)] == own


# ---------------------------------------------------------------- webhook mode


def webhook_settings(base: Settings, port: int = 0) -> Settings:
    return replace(
        base,
        webhook_url="https://coach.example.com/tg/hook",
        webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
    )


def update_json(user: User, text: str) -> dict[str, Any]:
    return {
        "update_id": next(_uid),
        "message": {
            "message_id": next(_uid),
            "date": 1,
            "chat": {"id": user.id, "type": "private"},
            "from": user.as_json(),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def _eventually(predicate: Any, what: str) -> None:
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never happened: {what}")


@module_loop
async def test_webhook_server_checks_the_secret_and_answers_health(
    bot: BotHarness, shared_settings: Settings
) -> None:
    server = WebhookServer(bot.app, webhook_settings(shared_settings))
    server.start()
    await bot.app.start()
    user = new_user()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with httpx.AsyncClient() as client:
            before = len(bot.api.calls)
            no_secret = await client.post(f"{base}/tg/hook", json=update_json(user, "/help"))
            wrong = await client.post(
                f"{base}/tg/hook", json=update_json(user, "/help"), headers={SECRET_HEADER: "nope"}
            )
            assert (no_secret.status_code, wrong.status_code) == (403, 403)
            junk = await client.post(f"{base}/tg/hook", content=b"{not json", headers={SECRET_HEADER: SECRET})
            assert junk.status_code == 400
            good = await client.post(
                f"{base}/tg/hook", json=update_json(user, "/help"), headers={SECRET_HEADER: SECRET}
            )
            assert good.status_code == 200
            await _eventually(lambda: sent_to(bot.api.calls[before:], user.id), "the reply to /help")
            assert len(sent_to(bot.api.calls[before:], user.id)) == 1, "refused requests were not handled"
            health = await client.get(f"{base}{HEALTH_PATH}")
            assert health.status_code == 200 and health.json()["ok"] is True
    finally:
        await server.stop()
        await bot.app.stop()


@module_loop
async def test_serve_webhook_sets_the_webhook_serves_and_stops(
    bot: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    settings = webhook_settings(replace(bot.settings, db_path=tmp_path / "hook.db"), port)
    coach = Coach(bot.coach.lib, Store(settings.db_path), admins=settings.admins)
    api = RecordingRequest(fault=failing(3, 502, BAD_GATEWAY, method="setWebhook"))
    app = build_application(settings, coach, request=api)
    app.bot_data[RETRY_DELAYS] = (0.0,)  # Telegram unreachable at first: set_webhook keeps trying
    stop = asyncio.Event()
    task = asyncio.create_task(serve_webhook(app, settings, stop))
    user = new_user("zh")
    monkeypatch.setenv("COACHBOT_WEBHOOK_URL", settings.webhook_url or "")
    monkeypatch.setenv("COACHBOT_WEBHOOK_LISTEN", settings.webhook_listen)
    try:
        await _eventually(lambda: api.of("setWebhook"), "setWebhook")
        assert api.fault.state["failed"] == 3  # type: ignore[union-attr]
        hook = api.of("setWebhook")[0]
        assert hook["url"] == settings.webhook_url and hook["secret_token"] == SECRET
        assert await asyncio.to_thread(main, ["health"]) == 0  # the server runs on this loop
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{port}/tg/hook",
                json=update_json(user, "/start"),
                headers={SECRET_HEADER: SECRET},
            )
        assert response.status_code == 200
        await _eventually(lambda: sent_to(api.calls, user.id), "the welcome")
        assert sent_to(api.calls, user.id)[0] == t("zh", "welcome")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        coach.store.close()
    assert not app.running
    assert not api.of("deleteWebhook"), "the webhook stays set so Telegram keeps updates during a restart"
    assert main(["health"]) == 1


def test_webhook_settings_are_checked_before_anything_starts(shared_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="COACHBOT_WEBHOOK_SECRET"):
        WebhookServer(None, replace(webhook_settings(shared_settings), webhook_secret=None))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="COACHBOT_WEBHOOK_SECRET"):
        WebhookServer(None, replace(webhook_settings(shared_settings), webhook_secret="has space"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="COACHBOT_WEBHOOK_URL"):
        WebhookServer(None, replace(webhook_settings(shared_settings), webhook_url="coach.example.com/hook"))  # type: ignore[arg-type]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = webhook_settings(shared_settings, taken.getsockname()[1])
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
            WebhookServer(None, busy).start()  # type: ignore[arg-type]
    for bad in ("8080", "host:", "host:port", "127.0.0.1:70000"):
        with pytest.raises(ConfigError, match="COACHBOT_WEBHOOK_LISTEN"):
            parse_listen(bad)
    assert parse_listen("[::1]:8443") == ("::1", 8443)
    assert parse_listen("0.0.0.0:8080") == ("0.0.0.0", 8080)


def test_run_in_webhook_mode_without_a_secret_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    for key in [k for k in os.environ if k.startswith(("COACHBOT_", "TELEGRAM_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("COACHBOT_WEBHOOK_URL", "https://coach.example.com/tg/hook")
    assert main(["run"]) == 2
    assert "COACHBOT_WEBHOOK_SECRET must be set" in capsys.readouterr().err
    assert not (tmp_path / "coachbot.db").exists(), "refused before opening anything"


def test_health_command_in_polling_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    db = tmp_path / "coachbot.db"
    for key in [k for k in os.environ if k.startswith(("COACHBOT_", "TELEGRAM_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("COACHBOT_DB", str(db))
    monkeypatch.chdir(tmp_path)
    assert main(["health"]) == 1
    assert "no heartbeat" in capsys.readouterr().err
    beat = heartbeat_file(Settings(db_path=db))
    beat.touch()
    assert main(["health"]) == 0
    old = beat.stat().st_mtime - STALE_AFTER - 5
    os.utime(beat, (old, old))
    assert main(["health"]) == 1
    assert check(Settings(db_path=db))[0] is False


# ---------------------------------------------------------------- restart safety


async def answer_current_question(bot: BotHarness, user: User) -> int:
    """Answer the user's current quiz question whatever its kind, as taps or a typed answer."""
    run = bot.coach.store.one("select * from quiz_runs where user_id = ? and status = 'active'", [user.id])
    assert run is not None
    qid = json.loads(run["questions"])[run["pos"]]
    question = bot.coach.lib.questions[qid][1]
    data = f"qz:{run['id']}:{run['pos']}"
    presses = {
        "truefalse": [f"{data}:t"],
        "single": [f"{data}:o0"],
        "multiple": [f"{data}:o0", f"{data}:s"],
        "order": [f"{data}:o{i}" for i in range(len(question.options))],
    }
    if question.kind == "text":
        await bot.send("I would ask what matters most to them and propose a next step.", user)
    for data in presses.get(question.kind, []):
        await bot.press(data, user)
    return int(run["id"])


@module_loop
async def test_restart_after_a_failed_reply_keeps_the_answer_and_resumes(
    settings: Settings, zh_user: User, en_user: User
) -> None:
    first = await BotHarness.start(settings)
    first.app.bot_data[RETRY_DELAYS] = ()
    lib = first.coach.lib
    sid = next(iter(lib.scenarios))
    sc = lib.scenarios[sid]
    await first.press(f"rps:{sid}:f", zh_user)
    answer = sc.nodes[sc.start].model_answer.zh
    expected = sc.nodes[sc.start].target(score_turn(lib, sid, sc.start, answer).outcome)
    pid = next(p for p, pb in lib.playbooks.items() if len(pb.quiz) >= 2)
    await first.send(f"/quiz {pid}", en_user)
    jobs_before = sorted(j.name for j in first.app.job_queue.jobs())  # type: ignore[union-attr]

    # The answers are stored, then every send to these users fails: the process "dies" replying.
    dead = {str(zh_user.id), str(en_user.id)}
    first.api.fault = lambda method, params: (
        (502, BAD_GATEWAY) if str(params.get("chat_id")) in dead else None
    )
    calls = await first.send(answer, zh_user)
    quiz_run = await answer_current_question(first, en_user)
    assert sent_to(calls, zh_user.id) == [], "nothing reached the user"
    await first.stop()

    db = sqlite3.connect(settings.db_path)
    run_id, node = db.execute("select id, node from roleplay_runs where user_id = ?", [zh_user.id]).fetchone()
    stored = db.execute("select node, reply from roleplay_turns where run_id = ?", [run_id]).fetchall()
    quiz_pos, quiz_answers = db.execute(
        "select pos, (select count(*) from quiz_answers where run_id = quiz_runs.id) from quiz_runs where id = ?",
        [quiz_run],
    ).fetchone()
    db.close()
    assert stored == [(sc.start, answer)] and node == expected
    assert (quiz_pos, quiz_answers) == (1, 1)

    second = await BotHarness.start(settings)  # a new Application and Coach on the same file
    try:
        assert sorted(j.name for j in second.app.job_queue.jobs()) == jobs_before  # type: ignore[union-attr]
        quiz = texts(await second.send("/quiz", en_user))
        assert quiz[0] == t("en", "qz.resume", title=e(lib.playbooks[pid].title.en))
        assert quiz[1].startswith("📝 <b>2/")
        await answer_current_question(second, en_user)
        assert (
            second.coach.store.one("select count(*) n from quiz_answers where run_id = ?", [quiz_run])["n"]
            == 2
        )
        if expected not in sc.nodes:
            return  # the first answer ended the role-play; it is stored and finished
        resumed = texts(await second.send("/roleplay", zh_user))
        assert resumed[0] == t("zh", "rp.resume", title=e(sc.title.zh))
        assert e(sc.nodes[expected].customer.zh)[:20] in resumed[1]
        await second.send(sc.nodes[expected].model_answer.zh, zh_user)
        nodes = [
            r["node"]
            for r in second.coach.store.query(
                "select node from roleplay_turns where run_id = ? order by id", [run_id]
            )
        ]
        assert nodes == [sc.start, expected]
    finally:
        await second.stop()
