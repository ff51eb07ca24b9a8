"""Progress, FSRS drills, reminders, weekly digests and the leaderboard, through the real bot."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from fsrs import Rating, Scheduler
from telegram.ext import CallbackContext

from bot.channels.console import run_console
from bot.channels.telegram_app import CLOCK, on_scheduled
from bot.config import Settings
from bot.core.drill_feature import daily_drill_reminders
from bot.core.progress_feature import weekly_digests
from bot.core.quiz import right_ids, shown_ids
from bot.core.review import parse_ts, to_card
from bot.core.roleplay_feature import guided_order
from tests.harness import BotHarness, User, button_data, buttons, texts

PRICE_CARD = "objection-handling/price-too-high"
PLAYBOOK = "objection-handling"
SCENARIO = "price-objection-sme"  # uses the price card


def _mastery(bot: BotHarness, text: str, lang: str) -> int:
    """The score on the /progress line of the objection-handling playbook."""
    title = bot.coach.lib.playbooks[PLAYBOOK].title.get(lang)
    for line in text.split("\n"):
        if title in line.replace("&quot;", '"'):
            return int(re.search(r"</code>\s*(\d+)", line).group(1))  # type: ignore[union-attr]
    raise AssertionError(f"no mastery line for {title!r} in {text!r}")


async def take_quiz(bot: BotHarness, user: User, pid: str, lang: str) -> None:
    """Answer every question of a quiz run right, by pressing the buttons a trainee would."""
    await bot.send(f"/quiz {pid}", user)
    store, lib = bot.coach.store, bot.coach.lib
    while True:
        run = store.one("select * from quiz_runs where user_id = ? order by id desc limit 1", [user.id])
        assert run is not None
        if run["status"] != "active":
            return
        qid = json.loads(run["questions"])[run["pos"]]
        q = lib.questions[qid][1]
        data = f"qz:{run['id']}:{run['pos']}"
        if q.kind == "truefalse":
            await bot.press(f"{data}:{'t' if q.answer else 'f'}", user)
        elif q.kind == "text":
            await bot.send(q.model_answer.get(lang), user)  # type: ignore[union-attr]
        else:
            ids = shown_ids(q, run["id"], qid)
            for oid in right_ids(q):
                await bot.press(f"{data}:o{ids.index(oid)}", user)
            if q.kind == "multiple":
                await bot.press(f"{data}:s", user)


async def miss_one_question(bot: BotHarness, user: User, lang: str) -> str:
    """Start a quiz, answer its first question wrong, and stop; the question id."""
    await bot.send(f"/quiz {PLAYBOOK}", user)
    run = bot.coach.store.one("select * from quiz_runs where user_id = ? order by id desc limit 1", [user.id])
    assert run is not None
    qid = json.loads(run["questions"])[0]
    q = bot.coach.lib.questions[qid][1]
    data = f"qz:{run['id']}:0"
    if q.kind == "truefalse":
        await bot.press(f"{data}:{'f' if q.answer else 't'}", user)
    elif q.kind == "text":
        await bot.send("ok", user)
    else:
        ids = shown_ids(q, run["id"], qid)
        right = right_ids(q)
        wrong = list(reversed(right)) if q.kind == "order" else [next(i for i in ids if i not in right)]
        for oid in wrong:
            await bot.press(f"{data}:o{ids.index(oid)}", user)
        if q.kind == "multiple":
            await bot.press(f"{data}:s", user)
    await bot.send("/cancel", user)
    return qid


async def play_roleplay(bot: BotHarness, user: User, sid: str) -> None:
    """A guided role-play, always picking the strong reply."""
    await bot.press(f"rps:{sid}:g", user)
    while True:
        run = bot.coach.store.one(
            "select * from roleplay_runs where user_id = ? order by id desc limit 1", [user.id]
        )
        assert run is not None
        if run["status"] != "active":
            return
        pick = guided_order(run["id"], run["node"]).index("strong")
        await bot.press(f"rpg:{run['id']}:{run['node']}:{pick}", user)


# ---------------------------------------------------------------- /progress


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_progress_rises_after_a_quiz_and_a_roleplay(bot: BotHarness, lang: str) -> None:
    user = User(id=3100 + len(lang), language_code=lang)
    first = texts(await bot.send("/progress", user))[0]
    assert ("我的进度" if lang == "zh" else "Your progress") in first
    assert _mastery(bot, first, lang) == 0
    assert ("还没有连续天数" if lang == "zh" else "No streak yet") in first

    await take_quiz(bot, user, PLAYBOOK, lang)
    after_quiz = texts(await bot.send("/progress", user))[0]
    quiz_score = _mastery(bot, after_quiz, lang)
    assert quiz_score > 0
    assert (
        "📝" in after_quiz
        and ("连续学习 <b>1</b> 天" if lang == "zh" else "Active days in a row: <b>1</b>") in after_quiz
    )

    await play_roleplay(bot, user, SCENARIO)
    after_rp = texts(await bot.send("/progress", user))[0]
    assert _mastery(bot, after_rp, lang) > quiz_score
    assert "🎭 " + bot.coach.lib.scenarios[SCENARIO].title.get(lang) in after_rp
    # Every question answered is now a review item; right answers (Good) come back in 10 minutes.
    answered = bot.coach.store.query(
        "select distinct question from quiz_answers where user_id = ?", [user.id]
    )
    items = bot.coach.store.query(
        "select ref from review_items where user_id = ? and kind = 'question'", [user.id]
    )
    assert sorted(r["ref"] for r in items) == sorted(r["question"] for r in answered)
    assert ("10 分钟后" if lang == "zh" else "in 10 min") in texts(await bot.send("/drill", user))[0]


async def test_progress_lists_open_assignments_and_works_in_the_terminal(
    bot: BotHarness, settings: Settings, en_user: User
) -> None:
    admin = User(id=1, language_code="en")
    await bot.send("/team new Harbour", admin)
    code = bot.coach.store.one("select code from teams where name = 'Harbour'")["code"]  # type: ignore[index]
    await bot.send(f"/join {code}", en_user)
    team_id = bot.coach.store.one("select id from teams where name = 'Harbour'")["id"]  # type: ignore[index]
    with bot.coach.store.tx() as db:
        db.execute(
            "insert into assignments (team_id, kind, ref, due_date, created_by, created_at) "
            "values (?, 'roleplay', ?, '2000-01-01', 1, '2000-01-01')",
            [team_id, SCENARIO],
        )
    text = texts(await bot.send("/progress", en_user))[0]
    assert "Open assignments" in text and "overdue" in text
    assert bot.coach.lib.scenarios[SCENARIO].title.en in text
    out = io.StringIO()
    lines = [f"/card {PRICE_CARD}", "/drill", "1", "3", "/progress"]
    run_console(settings, user_id=77, lang="zh", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    shown = out.getvalue()
    assert "今日复习" in shown and "✓ 记得" in shown and "我的进度" in shown


# ---------------------------------------------------------------- /drill


@pytest.mark.parametrize(("lang", "good", "show"), [("zh", "记得", "看答案"), ("en", "Good", "Show")])
async def test_drill_ratings_move_the_due_date_as_fsrs_says(
    bot: BotHarness, lang: str, good: str, show: str
) -> None:
    user = User(id=3200 + len(lang), language_code=lang)
    store = bot.coach.store
    assert ("还没有要复习" if lang == "zh" else "Nothing to review yet") in texts(
        await bot.send("/drill", user)
    )[0]
    await bot.send(f"/card {PRICE_CARD}", user)
    calls = await bot.send("/drill", user)
    item = store.one("select * from review_items where user_id = ?", [user.id])
    assert item is not None and item["ref"] == PRICE_CARD
    line = bot.coach.lib.cards[PRICE_CARD].card.customer_lines.get(lang)[0]
    assert line[:10] in texts(calls)[0]
    assert button_data(calls) == [f"drs:{item['id']}:0"]

    shown = await bot.press(f"drs:{item['id']}:0", user)
    step = bot.coach.lib.cards[PRICE_CARD].card.steps[0].get(lang)
    assert shown[-1].method == "editMessageText" and step[:12] in texts(shown)[0]
    assert button_data(shown) == [f"drr:{item['id']}:0:{r}" for r in (1, 2, 3, 4)]
    assert any(b["text"].startswith(good) for b in buttons(shown))

    fsrs = Scheduler(enable_fuzzing=False)
    for reps, rating in ((0, Rating.Again), (1, Rating.Good), (2, Rating.Easy)):
        before = store.one("select * from review_items where id = ?", [item["id"]])
        assert before is not None
        await bot.press(f"drr:{item['id']}:{reps}:{int(rating)}", user)
        after = store.one("select * from review_items where id = ?", [item["id"]])
        assert after is not None and after["reps"] == reps + 1
        expected, _ = fsrs.review_card(to_card(before), rating, parse_ts(after["last_review"]))
        assert parse_ts(after["due"]) == expected.due
        assert after["stability"] == pytest.approx(expected.stability)
        assert after["state"] == int(expected.state)
        if rating == Rating.Again:
            # Due again in a minute: it comes back in the same sitting.
            assert button_data(await bot.send("/drill", user)) == [f"drs:{item['id']}:1"]
    logs = store.query("select rating from review_logs where item_id = ? order by id", [item["id"]])
    assert [r["rating"] for r in logs] == [1, 3, 4]
    assert parse_ts(after["due"]) - parse_ts(after["last_review"]) >= timedelta(days=1)  # Easy: days away


async def test_drill_buttons_are_never_trusted(bot: BotHarness, zh_user: User, en_user: User) -> None:
    await bot.send(f"/card {PRICE_CARD}", zh_user)
    await bot.send("/drill", zh_user)
    item = bot.coach.store.one("select * from review_items where user_id = ?", [zh_user.id])
    assert item is not None
    assert "✓ 记得" in texts(await bot.press(f"drr:{item['id']}:0:3", zh_user))[0]
    stale = [
        (f"drr:{item['id']}:0:3", zh_user),  # already rated: a double tap
        (f"drr:{item['id']}:1:9", zh_user),  # no such rating
        (f"drr:{item['id']}:1:3", en_user),  # someone else's item
        ("drr:abc", zh_user),
        ("drs:99999:0", zh_user),
    ]
    for data, who in stale:
        sent = texts(await bot.press(data, who))
        assert sent == ["这个按钮已经失效了，请重新打开。"] or sent == [
            "That button has expired; please open it again."
        ]
    assert bot.coach.store.one("select reps from review_items where id = ?", [item["id"]])["reps"] == 1  # type: ignore[index]


# ---------------------------------------------------------------- reminders and time zones


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_remind_and_timezone_commands(bot: BotHarness, lang: str) -> None:
    user = User(id=3300 + len(lang), language_code=lang)
    say = lambda text: bot.send(text, user)  # noqa: E731
    assert ("已关闭" if lang == "zh" else "is off") in texts(await say("/remind"))[0]
    assert "08:30" in texts(await say("/remind 8:30"))[0]
    assert "Asia/Shanghai" in texts(await say("/remind"))[0]
    assert "Europe/Berlin" in texts(await say("/remind 07:15 europe/berlin"))[0]
    assert bot.coach.store.user(user.id)["tz"] == "Europe/Berlin"  # type: ignore[index]
    for bad in ("/remind 25:00", "/remind soon", "/remind 8:30 a b"):
        assert "/remind" in texts(await say(bad))[0]
    assert "Mars/Base" in texts(await say("/remind 08:00 Mars/Base"))[0]
    assert "Asia/Tokyo" in texts(await say("/timezone asia/tokyo"))[0]
    assert "../../etc" in texts(await say("/timezone ../../etc/passwd"))[0]
    assert "Asia/Tokyo" in texts(await say("/timezone"))[0]
    assert texts(await say("/remind off")) == texts(await say("/remind"))
    assert (
        bot.coach.store.one("select remind_at from user_prefs where user_id = ?", [user.id])["remind_at"]
        is None
    )  # type: ignore[index]


async def test_reminder_is_sent_once_a_day_and_only_when_something_is_due(
    bot: BotHarness, zh_user: User, en_user: User
) -> None:
    idle = User(id=3400, language_code="en")
    later = User(id=3401, language_code="en")  # only an item rated Easy: due in days
    coach = bot.coach
    await bot.send(f"/card {PRICE_CARD}", zh_user)
    await bot.send(f"/card {PRICE_CARD}", later)
    await bot.send("/drill", later)
    item = coach.store.one("select id from review_items where user_id = ?", [later.id])
    await bot.press(f"drr:{item['id']}:0:4", later)  # type: ignore[index]
    for user in (zh_user, idle, later):
        await bot.send("/remind 08:30 UTC", user)
    tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(8, 29), UTC)

    assert daily_drill_reminders(coach, tomorrow) == []
    sent = daily_drill_reminders(coach, tomorrow + timedelta(minutes=2))
    assert [(r.chat_id, r.buttons[0][0].action) for r in sent] == [(zh_user.id, "go:drill")]
    assert "该复习了" in sent[0].text
    assert daily_drill_reminders(coach, tomorrow + timedelta(hours=3)) == []
    # Next day, still due: once more. Through the Telegram job, on a controlled clock.
    bot.app.bot_data[CLOCK] = lambda: tomorrow + timedelta(days=1, minutes=5)
    bot.api.clear()
    await on_scheduled(CallbackContext(bot.app))
    nudges = [c for c in bot.api.of("sendMessage") if "⏰" in c["text"]]
    assert [c["chat_id"] for c in nudges] == [zh_user.id]
    bot.api.clear()
    await on_scheduled(CallbackContext(bot.app))
    assert not [c for c in bot.api.of("sendMessage") if "⏰" in c["text"]]


async def test_weekly_digest_once_a_week_says_what_improved(bot: BotHarness, en_user: User) -> None:
    coach = bot.coach
    idle = User(id=3500, language_code="zh")
    await bot.send("/start", idle)
    await bot.send(f"/card {PRICE_CARD}", en_user)
    await bot.send("/timezone UTC", en_user)
    today = datetime.now(UTC).date()
    monday = datetime.combine(today + timedelta(days=7 - today.weekday()), time(9, 5), UTC)

    assert weekly_digests(coach, monday - timedelta(minutes=10)) == []  # 08:55: not yet
    first = weekly_digests(coach, monday)
    assert [r.chat_id for r in first] == [en_user.id]  # the idle user has nothing to say
    assert "Your week" in first[0].text and "reviews due now" in first[0].text
    assert weekly_digests(coach, monday + timedelta(hours=5)) == []

    await take_quiz(bot, en_user, PLAYBOOK, "en")
    second = weekly_digests(coach, monday + timedelta(days=7))
    title = coach.lib.playbooks[PLAYBOOK].title.en
    assert "Improved" in second[0].text and title in second[0].text.replace("&quot;", '"')


# ---------------------------------------------------------------- leaderboard


async def test_leaderboard_ranks_the_team_and_respects_opt_out(
    bot: BotHarness, zh_user: User, en_user: User
) -> None:
    admin = User(id=1, first_name="Boss", language_code="en")
    outsider = User(id=3600, first_name="Other", language_code="en")
    assert "/join" in texts(await bot.send("/leaderboard", en_user))[0]
    await bot.send("/team new Sharks", admin)
    code = bot.coach.store.one("select code from teams")["code"]  # type: ignore[index]
    for user in (zh_user, en_user):
        await bot.send(f"/join {code}", user)
    await bot.send(f"/card {PRICE_CARD}", en_user)
    await bot.send("/drill", en_user)
    item = bot.coach.store.one("select id from review_items where user_id = ?", [en_user.id])
    await bot.press(f"drr:{item['id']}:0:3", en_user)  # type: ignore[index]
    await take_quiz(bot, outsider, PLAYBOOK, "en")  # not in the team: not on its board

    board = texts(await bot.send("/leaderboard", zh_user))[0]
    assert "Sharks" in board and "🥇 Alex — 1 分" in board and "Other" not in board
    assert "Sharks" in texts(await bot.send("/leaderboard", admin))[0]  # the team's owner sees it
    assert "off the leaderboard" in texts(await bot.send("/leaderboard off", en_user))[0]
    hidden = texts(await bot.send("/leaderboard", zh_user))[0]
    assert "Alex" not in hidden and "还没有人上榜" in hidden
    assert "/leaderboard on" in texts(await bot.send("/leaderboard", en_user))[0]
    assert "用法" in texts(await bot.send("/leaderboard maybe", zh_user))[0]
    await bot.send("/leaderboard on", en_user)
    assert "Alex (you)" in texts(await bot.send("/leaderboard", en_user))[0]


async def test_help_lists_the_progress_commands_in_both_languages(
    bot: BotHarness, zh_user: User, en_user: User
) -> None:
    zh = texts(await bot.send("/help", zh_user))[0]
    en = texts(await bot.send("/help", en_user))[0]
    for cmd in ("/progress", "/drill", "/remind", "/log", "/mydata", "/forgetme", "/leaderboard"):
        assert cmd in zh and cmd in en
    assert "我的进度" in zh and "My progress" in en


@pytest.mark.parametrize(("lang", "answer"), [("zh", "答案"), ("en", "Answer")])
async def test_a_missed_quiz_question_is_asked_again_in_the_drill(
    bot: BotHarness, lang: str, answer: str
) -> None:
    user = User(id=3250 + len(lang), language_code=lang)
    qid = await miss_one_question(bot, user, lang)
    q = bot.coach.lib.questions[qid][1]
    front = texts(await bot.send("/drill", user))[0]  # review items are built from the answers now
    item = bot.coach.store.one("select * from review_items where user_id = ?", [user.id])
    assert item is not None and item["ref"] == qid and item["reps"] == 1  # the wrong answer was an Again
    assert "📝" in front and q.prompt.get(lang)[:15] in front.replace("&quot;", '"')
    back = texts(await bot.press(f"drs:{item['id']}:1", user))[0]
    assert answer in back and q.explanation.get(lang)[:15] in back.replace("&quot;", '"')
