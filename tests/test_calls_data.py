"""Real-call logging and its tally, /mydata and /forgetme, and the operators' export and backup."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.core.calls import call_outcomes
from bot.core.reply import Ctx
from bot.store import Store
from tests.harness import BotHarness, User, button_data, texts
from tests.test_progress import PLAYBOOK, PRICE_CARD, SCENARIO, miss_one_question, play_roleplay

STALE = {"这个按钮已经失效了，请重新打开。", "That button has expired; please open it again."}


async def _team(bot: BotHarness, name: str, *members: User) -> int:
    await bot.send(f"/team new {name}", User(id=1, language_code="en"))
    team = bot.coach.store.one("select id, code from teams where name = ?", [name])
    assert team is not None
    for user in members:
        await bot.send(f"/join {team['code']}", user)
    return int(team["id"])


async def _log(bot: BotHarness, user: User, words: str, outcome: str) -> list[str]:
    """/log <words>, pick the price card among those found, press the outcome; the last texts."""
    assert f"lgc:{PRICE_CARD}" in button_data(await bot.send(f"/log {words}", user))
    chosen = await bot.press(f"lgc:{PRICE_CARD}", user)
    data = [d for d in button_data(chosen) if d.endswith(f":{outcome}")]
    return texts(await bot.press(data[0], user))


# ---------------------------------------------------------------- /log


@pytest.mark.parametrize(
    ("lang", "words", "saved"), [("zh", "太贵了", "已记录"), ("en", "too expensive", "Logged")]
)
async def test_log_a_call_with_a_note_and_see_it_per_card(
    bot: BotHarness, lang: str, words: str, saved: str
) -> None:
    user = User(id=4100 + len(lang), first_name="Lee", language_code=lang)
    other = User(id=4200 + len(lang), language_code=lang)
    team_id = await _team(bot, f"Team {lang}", user)
    calls = await bot.send(f"/log {words}", user)
    assert f"lgc:{PRICE_CARD}" in button_data(calls)
    chosen = await bot.press(f"lgc:{PRICE_CARD}", user)
    assert [d.rsplit(":", 1)[1] for d in button_data(chosen)] == ["a", "c", "w", "l"]
    log_id = int(button_data(chosen)[0].split(":")[1])
    assert texts(await bot.press(f"lgo:{log_id}:w", other))[0] in STALE  # not theirs
    done = await bot.press(f"lgo:{log_id}:w", user)
    assert saved in texts(done)[0] and button_data(done) == [f"lgn:{log_id}"]
    assert texts(await bot.press(f"lgo:{log_id}:a", user))[0] in STALE  # already logged
    await bot.send("约了周三带账单来对比" if lang == "zh" else "Booked a bill review on Wednesday", user)
    row = bot.coach.store.one("select * from call_logs where id = ?", [log_id])
    assert row is not None and row["outcome"] == "won" and row["note"]
    assert bot.coach.store.session(user.id) is None

    await _log(bot, other, words, "l")  # a second trainee, outside the team
    assert texts(await bot.press(f"lgn:{log_id}", other))[0] in STALE
    everyone = {r["card"]: r for r in call_outcomes(bot.coach.store, None)}
    assert everyone[PRICE_CARD]["uses"] == 2
    assert (everyone[PRICE_CARD]["won"], everyone[PRICE_CARD]["lost"]) == (1, 1)
    team = call_outcomes(bot.coach.store, team_id)
    assert [(r["card"], r["uses"], r["won"], r["lost"]) for r in team] == [(PRICE_CARD, 1, 1, 0)]
    assert call_outcomes(bot.coach.store, 999) == []
    report = "\n".join(texts(await bot.send(f"/report Team {lang}", User(id=1, language_code="en"))))
    assert "Cards on real calls" in report and "used 1× (advanced 0 · continued 0 · won 1 · lost 0)" in report
    assert bot.coach.lib.cards[PRICE_CARD].card.title.en in report.replace("&quot;", '"')


async def test_log_from_recent_views_skip_and_bad_input(
    bot: BotHarness, en_user: User, zh_user: User
) -> None:
    assert "/log" in texts(await bot.send("/log", en_user))[0]  # nothing opened yet: how to search
    assert "No card matches" in texts(await bot.send("/log xqzv", en_user))[0]
    await bot.send(f"/card {PRICE_CARD}", en_user)
    assert button_data(await bot.send("/log", en_user)) == [f"lgc:{PRICE_CARD}"]
    assert texts(await bot.press("lgc:nope/nothing", en_user))[0] in STALE
    assert texts(await bot.press("lgo:abc:w", en_user))[0] in STALE
    chosen = await bot.press(f"lgc:{PRICE_CARD}", en_user)
    log_id = button_data(chosen)[0].split(":")[1]
    assert texts(await bot.press(f"lgo:{log_id}:x", en_user))[0] in STALE
    await bot.press(f"lgo:{log_id}:c", en_user)
    assert "no note" in texts(await bot.press(f"lgn:{log_id}", en_user))[0]
    # A note prompt left open for long does not swallow the next look-up.
    await _log(bot, en_user, "too expensive", "a")
    with bot.coach.store.tx() as db:
        db.execute(
            "update sessions set updated_at = '2000-01-01T00:00:00.000000Z' where user_id = ?", [en_user.id]
        )
    assert "Note saved" not in texts(await bot.send("too expensive", en_user))[-1]
    last = bot.coach.store.one(
        "select kind, text from events where user_id = ? order by id desc limit 1", [en_user.id]
    )
    assert last is not None and (last["kind"], last["text"]) in (("view", None), ("search", "too expensive"))
    assert bot.coach.store.session(en_user.id) is None
    assert [
        r["note"] for r in bot.coach.store.query("select note from call_logs where user_id = ?", [en_user.id])
    ] == [
        None,
        None,
    ]
    # In a group the outcome is saved without a note prompt (notes are typed in private).
    group = Ctx(user_id=en_user.id, platform_lang="en", private=False)
    chosen = bot.coach.press(group, f"lgc:{PRICE_CARD}")
    outcome = chosen[0].buttons[0][1].action or ""
    assert "Logged" in bot.coach.press(group, outcome)[0].text
    assert bot.coach.store.session(en_user.id) is None
    # During a role-play the outcome is saved without asking for a note (its answers stay answers).
    await bot.send(f"/roleplay {SCENARIO}", zh_user)
    await _log(bot, zh_user, "太贵了", "a")
    assert bot.coach.store.session(zh_user.id)["kind"] == "roleplay"  # type: ignore[index]
    assert "没找到" in texts(await bot.send("/log " + "字" * 5000, zh_user))[0]


# ---------------------------------------------------------------- /mydata and /forgetme


def _values(db: sqlite3.Connection, uid: int) -> list[tuple[str, str]]:
    """Every (table, column) holding this user id anywhere in the database."""
    found = []
    tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        for col in [r[1] for r in db.execute(f"pragma table_info([{table}])")]:
            if db.execute(f"select 1 from [{table}] where [{col}] = ? limit 1", [uid]).fetchone():
                found.append((table, col))
    return found


async def test_mydata_and_forgetme_leave_nothing_of_the_trainee(
    bot: BotHarness, settings: Settings, en_user: User
) -> None:
    me = User(id=777001, first_name="Mia", language_code="zh")
    await _team(bot, "Owls", me, en_user)
    await bot.send(f"/card {PRICE_CARD}", me)
    await bot.send(f"/card {PRICE_CARD}", en_user)
    await miss_one_question(bot, me, "zh")
    await bot.send("/drill", me)
    item = bot.coach.store.one("select * from review_items where user_id = ?", [me.id])
    await bot.press(f"drr:{item['id']}:{item['reps']}:3", me)  # type: ignore[index]
    await play_roleplay(bot, me, SCENARIO)
    await bot.send(f"/roleplay {SCENARIO}", me)  # an open session too
    await _log(bot, me, "太贵了", "w")
    await bot.send("/remind 08:00 Asia/Shanghai", me)
    await bot.send("/leaderboard off", me)
    store = bot.coach.store
    run_ids = [r["id"] for r in store.query("select id from roleplay_runs where user_id = ?", [me.id])]
    quiz_ids = [r["id"] for r in store.query("select id from quiz_runs where user_id = ?", [me.id])]
    item_ids = [r["id"] for r in store.query("select id from review_items where user_id = ?", [me.id])]

    # /mydata: a JSON file of everything, only in private.
    assert "私聊" in texts(await bot.send("/mydata", me, chat_id=-100, chat_type="group"))[0]
    sent = (await bot.send("/mydata", me))[-1]
    assert sent.method == "sendDocument"
    name, raw, _mime = sent.files["document"]
    assert name == f"coachbot-mydata-{me.id}.json"
    data = json.loads(raw)
    mine = data["tables"]
    for table in ("users", "events", "roleplay_runs", "roleplay_turns", "quiz_answers", "review_items"):
        assert mine[table], table
    for table in ("review_logs", "call_logs", "team_members", "sessions", "user_prefs", "quiz_runs"):
        assert mine[table], table
    assert all(r["user_id"] == me.id for r in mine["events"])

    # /forgetme: a confirm button that only works for its user, only for a while, only in private.
    assert "私聊" in texts(await bot.send("/forgetme", me, chat_id=-100, chat_type="group"))[0]
    ask = await bot.send("/forgetme", me)
    confirm = button_data(ask)[0]
    assert confirm.startswith(f"fgt:{me.id}:") and button_data(ask)[1] == "fgn:"
    assert "没有权限" in texts(await bot.press(confirm, User(id=4300, language_code="zh")))[0]
    assert "not allowed" in texts(await bot.press(f"fgt:{me.id}:{int(time.time())}", en_user))[0]
    old = f"fgt:{me.id}:{int(time.time()) - 3600}"
    assert texts(await bot.press(old, me))[0] in STALE
    assert "什么都没删" in texts(await bot.press("fgn:", me))[0]
    assert store.user(me.id) is not None
    gone = texts(await bot.press(confirm, me))[0]
    assert "已删除" in gone

    db = sqlite3.connect(settings.db_path)
    assert _values(db, me.id) == []
    for table, ids in (("roleplay_turns", run_ids), ("quiz_answers", quiz_ids), ("review_logs", item_ids)):
        column = {"roleplay_turns": "run_id", "quiz_answers": "run_id", "review_logs": "item_id"}[table]
        marks = ",".join("?" * len(ids))
        assert db.execute(f"select count(*) from {table} where {column} in ({marks})", ids).fetchone()[0] == 0
    # Someone else's records stay.
    assert db.execute("select count(*) from events where user_id = ?", [en_user.id]).fetchone()[0] > 0
    assert db.execute("select count(*) from team_members where user_id = ?", [en_user.id]).fetchone()[0] == 1
    db.close()


# ---------------------------------------------------------------- export and backup


async def test_backup_while_the_store_is_open_and_export(
    bot: BotHarness,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = User(id=4400, first_name="王五", language_code="zh")
    await bot.send(f"/card {PRICE_CARD}", user)
    await miss_one_question(bot, user, "zh")
    await _log(bot, user, "太贵了", "a")
    await bot.send("/progress", user)
    monkeypatch.setenv("COACHBOT_DB", str(settings.db_path))
    monkeypatch.setenv("COACHBOT_CONTENT_DIR", str(settings.content_dir))
    monkeypatch.chdir(tmp_path)

    # The bot's Store is open (and WAL holds recent writes): the backup still has everything.
    target = tmp_path / "backups" / "coachbot-copy.db"
    assert main(["backup", str(target)]) == 0
    assert not (tmp_path / "backups" / "coachbot-copy.db.part").exists()
    copy = sqlite3.connect(target)
    live = bot.coach.store.db.conn
    for table in ("events", "quiz_answers", "review_items", "call_logs", "users"):
        assert (
            copy.execute(f"select count(*) from {table}").fetchone()
            == live.execute(f"select count(*) from {table}").fetchone()
        )
    assert copy.execute("pragma journal_mode").fetchone()[0] == "delete"
    copy.close()
    await bot.send("/progress", user)  # the bot goes on writing
    assert Store(target).one("select count(*) as n from users")["n"] >= 1  # type: ignore[index]

    assert main(["export", "--format", "json", "--output", str(tmp_path / "all.json")]) == 0
    exported = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    person = next(u for u in exported["users"] if u["user_id"] == user.id)
    assert person["name"] == "王五" and person["review_items"] == 2
    assert set(person["playbooks"]) == set(bot.coach.lib.playbooks)
    assert person["playbooks"][PLAYBOOK]["quiz_pct"] == 0
    assert exported["call_outcomes"][0]["card"] == PRICE_CARD
    capsys.readouterr()
    assert main(["export"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    mine = [r for r in rows if r["user_id"] == str(user.id)]
    assert len(mine) == len(bot.coach.lib.playbooks) and mine[0]["name"] == "王五"

    monkeypatch.setenv("COACHBOT_DB", str(tmp_path / "missing.db"))
    assert main(["backup", str(tmp_path / "x.db")]) == 2
    assert main(["export"]) == 2
    assert "no database" in capsys.readouterr().err
    monkeypatch.setenv("COACHBOT_DB", str(settings.db_path))
    assert main(["backup", str(settings.db_path)]) == 2
