"""Quizzes: every question kind over the real Application, stored before each reply, resumable."""

from __future__ import annotations

import random

import pytest

from bot.config import REPO_ROOT
from bot.content.library import load_library
from bot.core.quiz import Past, is_right, option_order, pick_questions, right_ids, shown_ids
from bot.core.quiz_feature import QuizFeature
from tests.coachkit import PLAYBOOK, active_run, answer, cbot, coaching_settings, current, finish_quiz
from tests.harness import BotHarness, User, button_data, texts

__all__ = ["cbot", "coaching_settings"]  # fixtures used below

EN = User(id=2001, first_name="Alex", language_code="en")
ZH = User(id=2002, first_name="小王", language_code="zh-hans")


# ---------------------------------------------------------------- the pure engine


def test_practice_order_is_weighted_to_past_misses() -> None:
    qids = [f"pb/q{i}" for i in range(5)]
    history = {"pb/q3": Past(answered=4, wrong=3, last_wrong=True)}
    history |= {q: Past(4, 0, False) for q in qids if q != "pb/q3"}
    firsts = [pick_questions(qids, history, random.Random(seed))[0] for seed in range(300)]
    # Uniform would put q3 first 20% of the time; its weight (7 vs 1) makes it the usual first.
    assert firsts.count("pb/q3") > 150
    assert all(sorted(pick_questions(qids, {}, random.Random(s))) == qids for s in range(5))
    assert len(pick_questions(qids * 3, {}, random.Random(1), limit=4)) == 4


def test_option_order_is_a_stable_permutation() -> None:
    order = option_order(7, "pb/q", 5)
    assert sorted(order) == list(range(5)) and order == option_order(7, "pb/q", 5)
    assert len({tuple(option_order(run, "pb/q", 5)) for run in range(20)}) > 1


def test_grading_every_kind(cbot: BotHarness) -> None:
    questions = {q.kind: q for pb, q in cbot.coach.lib.questions.values()}
    single, multiple, order, tf = (questions[k] for k in ("single", "multiple", "order", "truefalse"))
    assert is_right(single, right_ids(single)) and not is_right(single, ["a"])
    assert (
        is_right(multiple, ["c", "a"])
        and not is_right(multiple, ["a"])
        and not is_right(multiple, ["a", "a"])
    )
    assert is_right(order, ["sum", "ask"]) and not is_right(order, ["ask", "sum"])
    assert is_right(tf, False) and not is_right(tf, True) and not is_right(single, True)


def test_every_shipped_question_grades_its_own_answer_and_fits_telegram() -> None:
    lib = load_library(REPO_ROOT)
    assert lib.questions, "shipped playbooks have quizzes"
    for qid, (_pb, q) in lib.questions.items():
        if q.kind in ("single", "multiple", "order"):
            assert is_right(q, right_ids(q)), qid
            assert len(f"qz:{10**9}:99:o{len(q.options) - 1}".encode()) <= 64
        if q.kind == "truefalse":
            assert is_right(q, bool(q.answer)), qid
        assert len(f"qzs:{_pb.id}".encode()) <= 64


# ---------------------------------------------------------------- in Telegram


async def test_quiz_lists_playbooks_and_starts_from_button_or_id(cbot: BotHarness) -> None:
    calls = await cbot.send("/quiz", EN)
    assert f"qzs:{PLAYBOOK}" in button_data(calls) and "Quizzes" in texts(calls)[0]
    zh = texts(await cbot.send("/quiz no-such-thing", ZH))[0]
    assert "没有这本手册的测验" in zh
    calls = await cbot.press(f"qzs:{PLAYBOOK}", EN)
    assert "5 questions" in texts(calls)[0]
    assert active_run(cbot, EN) is not None


async def test_a_full_run_in_english_every_kind_edits_in_place_and_ends_with_score(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", EN)
    seen_kinds = set()
    edits = 0
    while (run := active_run(cbot, EN)) is not None:
        _, _, q = current(cbot, EN)
        seen_kinds.add(q.kind)
        right = q.kind != "single"  # miss the single-choice one on purpose
        calls = await answer(cbot, EN, right)
        edits += sum(1 for c in calls if c.method == "editMessageText")
        verdict = [x for x in texts(calls) if "Right!" in x or "Not quite" in x or "score" in x]
        assert verdict, texts(calls)
        assert q.explanation.en in "\n".join(texts(calls))
        stored = cbot.coach.store.query("select * from quiz_answers where run_id = ?", [run["id"]])
        assert len(stored) == run["pos"] + 1, "every answer is stored before the reply"
    assert seen_kinds == {"single", "multiple", "truefalse", "order", "text"}
    assert edits >= 4, "choice answers edit the question message in place"
    end = texts(calls)[-1]
    assert "Quiz done" in end and "4 of 5 right" in end and "Cards to review" in end
    assert "cd:sample-playbook/sample-card" in button_data(calls) and f"qzs:{PLAYBOOK}" in button_data(calls)
    row = cbot.coach.store.one("select * from quiz_runs where user_id = ?", [EN.id])
    assert row["status"] == "finished" and row["correct"] == 4 and row["answered"] == 5
    assert cbot.coach.store.session(EN.id) is None


async def test_a_run_in_chinese_and_wrong_answers_show_the_right_one(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", ZH)
    all_texts = []
    while active_run(cbot, ZH) is not None:
        all_texts += texts(await answer(cbot, ZH, right=False, lang="zh"))
    joined = "\n".join(all_texts)
    assert "不对。正确答案" in joined and "测验完成" in joined and "答对 0/5 题" in joined
    assert "建议复习这些卡片" in joined


async def test_multiple_choice_toggles_are_stored_and_survive_a_restart(coaching_settings) -> None:
    bot = await BotHarness.start(coaching_settings)
    try:
        await bot.send(f"/quiz {PLAYBOOK}", EN)
        while current(bot, EN)[2].kind != "multiple":
            await answer(bot, EN, right=True)
        run, qid, q = current(bot, EN)
        ids = shown_ids(q, run["id"], qid)
        base = f"qz:{run['id']}:{run['pos']}"
        first = ids.index(right_ids(q)[0])
        calls = await bot.press(f"{base}:o{first}", EN)
        assert calls[-1].method == "editMessageText" and "☑" in calls[-1]["text"]
        assert active_run(bot, EN)["picks"] == [first]
    finally:
        await bot.stop()
    bot = await BotHarness.start(coaching_settings)  # restart: a new Application on the same database
    try:
        calls = await bot.send("/quiz", EN)
        assert "Picking up your quiz" in texts(calls)[0] and "☑" in texts(calls)[1]
        await bot.press(f"{base}:o{ids.index(right_ids(q)[1])}", EN)
        calls = await bot.press(f"{base}:s", EN)
        assert "Right!" in texts(calls)[0]
    finally:
        await bot.stop()


async def test_ordering_picks_in_turn_and_can_start_over(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", ZH)
    while current(cbot, ZH)[2].kind != "order":
        await answer(cbot, ZH, right=True, lang="zh")
    run, qid, q = current(cbot, ZH)
    ids = shown_ids(q, run["id"], qid)
    base = f"qz:{run['id']}:{run['pos']}"
    wrong_first = ids.index(right_ids(q)[-1])
    calls = await cbot.press(f"{base}:o{wrong_first}", ZH)
    assert "你的顺序" in calls[-1]["text"] and f"{base}:r" in button_data(calls)
    assert f"{base}:o{wrong_first}" not in button_data(calls), "a picked item is not offered again"
    await cbot.press(f"{base}:r", ZH)
    assert active_run(cbot, ZH)["picks"] == []
    for oid in right_ids(q):
        calls = await cbot.press(f"{base}:o{ids.index(oid)}", ZH)
    assert "答对了" in texts(calls)[0]


async def test_typed_answer_is_scored_with_the_rubric_and_other_text_is_a_lookup(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", EN)
    while current(cbot, EN)[2].kind != "text":
        _, _, q = current(cbot, EN)
        # While a button question waits, typed words are still a talk-track look-up.
        if q.kind == "single":
            calls = await cbot.send("they say we are too expensive", EN)
            assert not any("score" in x for x in texts(calls))
            assert current(cbot, EN)[2].kind == "single"
        await answer(cbot, EN, right=True)
    calls = await cbot.send("Let's keep in touch", EN)
    joined = "\n".join(texts(calls))
    assert "Not yet" in joined and "Model answer" in joined and "🚩" in joined


async def test_stale_and_foreign_quiz_buttons_are_refused(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", EN)
    run, _, _ = current(cbot, EN)
    other = User(id=2099, language_code="zh")
    assert "没有权限" in texts(await cbot.press(f"qz:{run['id']}:0:t", other))[0]
    await answer(cbot, EN, right=True)
    assert "expired" in texts(await cbot.press(f"qz:{run['id']}:0:o0", EN))[0]
    for junk in ("qz:", "qz:x:y:z", f"qz:{run['id']}:1:o99", "qz:999999:0:t", "qzs:nope", "qz:1:2:3:4"):
        reply = texts(await cbot.press(junk, EN))
        assert reply and ("expired" in reply[0] or "not allowed" in reply[0])
    assert len(cbot.coach.store.query("select * from quiz_answers")) == 1


async def test_cancel_ends_the_quiz_and_keeps_the_answers(cbot: BotHarness) -> None:
    await cbot.send(f"/quiz {PLAYBOOK}", ZH)
    await answer(cbot, ZH, right=True, lang="zh")
    assert "已结束这次测验" in texts(await cbot.send("/cancel", ZH))[0]
    assert active_run(cbot, ZH) is None
    assert cbot.coach.store.one("select count(*) as n from quiz_answers")["n"] == 1


async def test_card_practise_button_offers_and_starts_the_playbook_quiz(cbot: BotHarness) -> None:
    calls = await cbot.press(f"pr:{PLAYBOOK}/sample-card", EN)
    assert f"qzs:{PLAYBOOK}" in button_data(calls)
    await cbot.press(f"qzs:{PLAYBOOK}", EN)
    assert active_run(cbot, EN) is not None


async def test_quiz_runs_only_in_private_chat(cbot: BotHarness) -> None:
    calls = await cbot.send("/quiz", EN, chat_id=-100, chat_type="group")
    assert "private chat" in texts(calls)[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_practice_comes_back_to_what_was_missed(cbot: BotHarness, lang: str) -> None:
    quiz = next(f for f in cbot.coach.features if isinstance(f, QuizFeature))
    quiz.rng = random.Random(7)  # a fixed seed: the weighting is tested, not luck
    user = User(id=2100 + len(lang), language_code=lang)
    await cbot.send(f"/quiz {PLAYBOOK}", user)
    missed = current(cbot, user)[1]
    await answer(cbot, user, right=False, lang=lang)
    await finish_quiz(cbot, user, right=True, lang=lang)
    firsts = [quiz.practice_set(user.id, PLAYBOOK)[0] for _ in range(100)]
    # The missed question (weight 5 against 1 for each other) leads far more often than 1 in 5.
    assert firsts.count(missed) >= 40
    await cbot.send(f"/quiz {PLAYBOOK}", user)
    assert active_run(cbot, user)["questions"][0] in {
        f"{PLAYBOOK}/{q.id}" for q in cbot.coach.lib.playbooks[PLAYBOOK].quiz
    }
