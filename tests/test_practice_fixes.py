"""Trainee practice flows QA found broken: typed quiz answers, one "due" figure, a text
question's instruction once, off-topic role-play replies, and the terminal chat's buttons
and restart. Driven through the real Telegram Application or the real Coach's console."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from bot.app import build_coach
from bot.channels.console import Console, run_console
from bot.config import Settings
from bot.content.library import load_library
from bot.core.quiz import LETTERS, right_ids, shown_ids
from bot.store import Store
from tests.coachkit import (
    CONTENT,
    GOOD_TEXT,
    PLAYBOOK,
    SCENARIO,
    active_run,
    answer,
    cbot,
    coaching_settings,
    current,
    finish_quiz,
)
from tests.harness import BotHarness, User, button_data, texts

__all__ = ["cbot", "coaching_settings"]  # fixtures used below

EN = User(id=4001, first_name="Alex", language_code="en")
ZH = User(id=4002, first_name="小王", language_code="zh-hans")
TRUE_FALSE = {"en": ("T", "false"), "zh": ("对", "错")}


def _typed(bot: BotHarness, user: User, lang: str) -> str:
    """The right answer to the current button question, typed the way a trainee might."""
    run, qid, q = current(bot, user)
    if q.kind == "truefalse":
        yes, no = TRUE_FALSE[lang]
        return yes if q.answer else no
    ids = shown_ids(q, run["id"], qid)
    letters = [LETTERS[ids.index(oid)] for oid in right_ids(q)]
    if q.kind == "single":
        return letters[0].lower()
    if q.kind == "multiple":
        return ("、" if lang == "zh" else ", ").join(reversed(letters))
    return ("" if lang == "zh" else " ").join(letters)  # order: "BA" or "B A"


async def _reach(bot: BotHarness, user: User, kind: str, lang: str) -> None:
    """Answer (with the buttons offered) until the current question is of `kind`."""
    while current(bot, user)[2].kind != kind:
        await answer(bot, user, right=True, lang=lang)


# ---------------------------------------------------------------- 1. typed quiz answers


async def test_typed_answers_to_button_questions_are_graded_and_stored_first(cbot: BotHarness) -> None:
    for user, lang, right_word in ((EN, "en", "Right!"), (ZH, "zh", "答对了")):
        await cbot.send(f"/quiz {PLAYBOOK}", user)
        kinds = set()
        for _ in range(len(cbot.coach.lib.playbooks[PLAYBOOK].quiz)):
            if (run := active_run(cbot, user)) is None:
                break
            _, qid, q = current(cbot, user)
            if q.kind == "text":
                await cbot.send(GOOD_TEXT[lang], user)
                continue
            kinds.add(q.kind)
            calls = await cbot.send(_typed(cbot, user, lang), user)
            stored = cbot.coach.store.query(
                "select * from quiz_answers where run_id = ? order by id", [run["id"]]
            )
            assert len(stored) == run["pos"] + 1, "a typed answer is stored before the reply"
            assert stored[-1]["question"] == qid and stored[-1]["correct"] == 1, (q.kind, stored[-1])
            if q.kind == "single":
                assert stored[-1]["answer"] == q.answer, "stored as the option id, like a tap"
            assert right_word in texts(calls)[0], texts(calls)
        assert active_run(cbot, user) is None and kinds == {"single", "multiple", "order", "truefalse"}


async def test_text_that_is_not_an_answer_gets_a_nudge_and_the_question_again(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", EN)
    await _reach(cbot, EN, "single", "en")
    run, _, q = current(cbot, EN)
    assert len(q.options) == 2
    for junk in ("99", "Z", "C", "AB", "对", "ok"):
        calls = await cbot.send(junk, EN)
        assert "type the letter (A–B)" in texts(calls)[0], (junk, texts(calls))
        assert q.prompt.en in texts(calls)[1] and f"qz:{run['id']}:{run['pos']}:o0" in button_data(calls)
    assert active_run(cbot, EN)["pos"] == run["pos"]
    stored = cbot.coach.store.one("select count(*) as n from quiz_answers where run_id = ?", [run["id"]])
    assert stored["n"] == run["pos"], "nothing stored for a non-answer"

    await cbot.send(f"/quiz {PLAYBOOK}", ZH)
    await _reach(cbot, ZH, "order", "zh")
    calls = await cbot.send("B", ZH)  # half an order is not an answer
    assert "全部 2 个字母" in texts(calls)[0] and current(cbot, ZH)[2].kind == "order"


async def test_true_false_nudge_is_in_the_users_language(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", ZH)
    await _reach(cbot, ZH, "truefalse", "zh")
    calls = await cbot.send("嗯", ZH)
    assert "直接打“对”或“错”" in texts(calls)[0] and current(cbot, ZH)[2].kind == "truefalse"
    calls = await cbot.send("不对", ZH)
    assert "答对了" in texts(calls)[0], "the fixture's statement is false"


async def test_customer_words_during_a_quiz_are_a_lookup_with_a_note_and_find_works(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", EN)
    await _reach(cbot, EN, "single", "en")
    run, _, _ = current(cbot, EN)
    where = f"question {run['pos'] + 1}/{len(run['questions'])}"
    card = cbot.coach.lib.cards[f"{PLAYBOOK}/sample-card"].card
    for words in ("they say we are too expensive", "/find too expensive"):
        joined = "\n".join(texts(await cbot.send(words, EN)))
        assert card.title.en in joined, (words, joined)
        assert ("Your quiz is still on" in joined) == (not words.startswith("/")), words
        assert where in joined or words.startswith("/")
    calls = await cbot.send("你们太贵了", ZH)
    assert texts(calls) and "测验还在进行" not in texts(calls)[-1], "no quiz, no note"
    await cbot.send(f"/quiz {PLAYBOOK}", ZH)
    await _reach(cbot, ZH, "multiple", "zh")
    joined = "\n".join(texts(await cbot.send("你们太贵了", ZH)))
    assert card.title.zh in joined and "测验还在进行" in joined
    assert active_run(cbot, EN)["pos"] == run["pos"], "a look-up answers nothing"


# ---------------------------------------------------------------- 3. a text question's instruction


async def test_a_text_question_shows_its_instruction_once(cbot: BotHarness) -> None:
    for user, lang, words in (
        (EN, "en", "Type your answer in your own words"),
        (ZH, "zh", "用自己的话打字回答"),
    ):
        await cbot.send(f"/quiz {PLAYBOOK}", user)
        await _reach(cbot, user, "text", lang)
        question = texts(await cbot.send("/quiz", user))[-1]  # shows the current question again
        assert question.count(words) == 1, question


# ---------------------------------------------------------------- 2. one "due" figure


async def test_progress_and_drill_count_the_same_reviews_due_after_a_quiz(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", EN)
    await finish_quiz(cbot, EN, right=False)  # every item comes back in 1 minute (Again)
    progress = texts(await cbot.send("/progress", EN))[0]
    drill = texts(await cbot.send("/drill", EN))[0]
    shown = re.search(r"Reviews due: <b>(\d+)</b>", progress)
    assert shown is not None, progress
    due = re.search(r"(\d+) due", drill)
    assert due is not None, drill
    assert int(shown.group(1)) == int(due.group(1)) == 5


# ---------------------------------------------------------------- 4. off-topic role-play replies


async def test_an_off_topic_roleplay_reply_is_called_so_and_the_customer_line_shown(cbot: BotHarness) -> None:
    sc = cbot.coach.lib.scenarios[SCENARIO]
    opening = sc.nodes[sc.start].customer
    await cbot.send(f"/roleplay {SCENARIO}", ZH)
    calls = await cbot.send("今天天气不错，中午吃什么好呢", ZH)
    feedback = texts(calls)[0]
    assert "没有回应客户" in feedback and opening.zh in feedback and "得分 0/100" in feedback
    turn = cbot.coach.store.one("select * from roleplay_turns order by id desc limit 1")
    assert turn["score"] == 0 and turn["reply"] == "今天天气不错，中午吃什么好呢", "still scored and stored"

    await cbot.send(f"/roleplay {SCENARIO}", EN)
    feedback = texts(await cbot.send("OK, let's keep in touch then", EN))[0]
    assert "🚩" in feedback and "didn't answer" not in feedback, "a red flag hit is not off-topic"
    await cbot.send(f"/roleplay {SCENARIO}", EN)
    feedback = texts(await cbot.send("Which quote are you comparing with?", EN))[0]
    assert "didn't answer" not in feedback


# ---------------------------------------------------------------- 5. the terminal chat


def test_console_buttons_stay_pressable_after_a_reply_without_buttons(
    coaching_settings: Settings, tmp_path: Path
) -> None:
    coach = build_coach(coaching_settings)
    out = io.StringIO()
    chat = Console(coach, 4010, "en", out, tmp_path)
    try:
        chat.handle("/lang en")  # the menu: [1] is Playbooks
        chat.handle("/timezone")  # a reply with no buttons
        mark = len(out.getvalue())
        chat.handle("1")
        assert "pick one" in out.getvalue()[mark:], out.getvalue()[mark:]
        chat.handle(f"/quiz {PLAYBOOK}")
        run = coach.store.one("select * from quiz_runs where user_id = 4010 and status = 'active'")
        first = coach.lib.questions[json.loads(run["questions"])[0]][1]
        if first.kind == "text":
            chat.handle(GOOD_TEXT["en"])
        chat.handle("99")  # a nudge and the question again: its buttons are the current ones
        chat.handle("/remind")  # no buttons
        before = _answered(coach.store, run["id"])
        chat.handle("1")  # still presses the question's first button
        assert _answered(coach.store, run["id"]) > before or _ticked(coach.store, run["id"])
    finally:
        coach.store.close()


def _answered(store: Store, run_id: int) -> int:
    return int(store.one("select count(*) as n from quiz_answers where run_id = ?", [run_id])["n"])


def _ticked(store: Store, run_id: int) -> bool:
    """An option of the current question is ticked or put in order (not yet an answer)."""
    return bool(json.loads(store.one("select picks from quiz_runs where id = ?", [run_id])["picks"]))


def _launch(settings: Settings, lines: list[str], user: int = 4020) -> str:
    out = io.StringIO()
    run_console(settings, user_id=user, lang="en", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    return out.getvalue()


def test_console_launch_picks_up_a_quiz_or_roleplay_left_in_progress(coaching_settings: Settings) -> None:
    first = _launch(coaching_settings, [f"/quiz {PLAYBOOK}", "quit"])
    assert "Coachbot" in first  # nothing in progress: the welcome
    again = _launch(coaching_settings, ["1", "quit"])
    head = again.split("\n\n")[0]
    assert "Picking up your quiz" in head and "Coachbot" not in again.split("Picking up")[0]
    store = Store(coaching_settings.db_path)
    run = store.one("select * from quiz_runs where user_id = 4020")
    try:
        pressed = _answered(store, run["id"]) == 1 or _ticked(store, run["id"])
        assert pressed, "the resumed question's buttons (or, for a text question, typing) work at once"
    finally:
        store.close()

    _launch(coaching_settings, [f"/roleplay {SCENARIO}", "quit"], user=4021)
    again = _launch(coaching_settings, ["quit"], user=4021)
    sc = load_library(CONTENT).scenarios[SCENARIO]
    assert again.startswith("Picking up your role-play") and sc.nodes[sc.start].customer.en in again
