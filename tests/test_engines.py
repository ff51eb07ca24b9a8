"""Pure engines: rubric scoring, message splitting, the search index on a small fixture."""

from __future__ import annotations

import pytest

from bot.channels.html_text import split_message, to_plain, utf16_len
from bot.content.library import load_library
from bot.content.models import Check
from bot.core.scoring import normalize, score_answer
from bot.core.search import _SOUND, _UNKNOWN, _WORD, SearchIndex, fuzzy_pinyin, word_key
from tests.conftest import FIXTURES


def _check(**kw) -> Check:
    base = {"label": {"zh": "标签", "en": "label"}}
    return Check.model_validate({**base, **kw})


ASK = _check(
    id="ask",
    kind="must",
    phrases={"zh": ["最关心什么", "主要用来"], "en": ["what matters most", "what do you use"]},
)
PERKS = _check(
    id="perks", kind="red_flag", phrases={"zh": ["送您充值卡"], "en": ["give you recharge cards"]}, weight=40
)
STEP = _check(
    id="step",
    kind="good",
    advance=True,
    phrases={"zh": ["拜访", "演示"], "en": ["visit", "demo"]},
    also={"zh": ["周三", "下周"], "en": ["wednesday", "next week"]},
)
RUBRIC = [ASK, PERKS, STEP]


def test_covering_everything_scores_100_and_is_an_advance() -> None:
    s = score_answer(RUBRIC, "您最关心什么？下周三我来拜访，给您演示一下。", next_step_due=True)
    assert (s.score, s.passed, s.outcome, s.advance) == (100, True, "strong", True)


def test_typos_still_match_fuzzily() -> None:
    s = score_answer(RUBRIC, "What matters mots to you? Could I visit next wednesday?", next_step_due=True)
    assert [c.passed for c in s.checks] == [True, False, True]


def test_red_flag_costs_its_weight_and_fails_the_answer() -> None:
    s = score_answer(RUBRIC, "您最关心什么？我先送您充值卡。")
    assert s.red_flags and s.score == round(100 * 2 / 3) - 40 and not s.passed


def test_negated_red_flag_does_not_count() -> None:
    for text in (
        "我们不会送您充值卡，但想知道您最关心什么",
        "I won't give you recharge cards, but what matters most to you?",
    ):
        s = score_answer(RUBRIC, text)
        assert not s.red_flags, text
        assert s.checks[0].passed


def test_next_step_without_a_time_is_a_continuation() -> None:
    s = score_answer(RUBRIC, "我找时间来拜访您", next_step_due=True)
    assert s.advance is False
    assert score_answer(RUBRIC, "anything").advance is None  # no verdict where no step is due


def test_outcome_bands() -> None:
    assert score_answer(RUBRIC, "hello").outcome == "weak"
    assert score_answer(RUBRIC, "what matters most to you").outcome == "partial"


def test_scoring_is_deterministic_and_bounded() -> None:
    texts = ["", "送您充值卡" * 50, "😀" * 100, "<b>x</b>", "\x00\u202e"]
    for text in texts:
        a, b = score_answer(RUBRIC, text), score_answer(RUBRIC, text)
        assert a == b and 0 <= a.score <= 100


def test_normalize_keeps_apostrophes_and_folds_width() -> None:
    assert normalize("ＷＯＮ'T， give!") == "won't | give"


# ---------------------------------------------------------------- splitting for Telegram


def test_short_messages_are_not_split() -> None:
    assert split_message("<b>hi</b>") == ["<b>hi</b>"]


def test_long_messages_split_at_lines_within_the_limit() -> None:
    text = "\n".join(f"<b>{i}</b> " + "字" * 50 for i in range(200))
    parts = split_message(text)
    assert len(parts) > 1 and all(utf16_len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


def test_a_single_huge_line_is_cut_outside_surrogate_pairs_and_entities() -> None:
    text = "😀&amp;" * 3000
    parts = split_message(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    for p in parts:
        p.encode("utf-16-le")  # no lone surrogate
        assert not p.endswith("&amp") and not p.endswith("&")


def test_to_plain_strips_tags_and_unescapes() -> None:
    assert to_plain('<b>A &amp; B</b> <a href="https://x">link</a>') == "A & B link (https://x)"


# ---------------------------------------------------------------- search


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_library(FIXTURES / "valid"))


def test_search_finds_cards_in_both_languages(index: SearchIndex) -> None:
    assert index.search("你们太贵了")[0].card_id == "sample-playbook/sample-card"
    assert index.search("we'll think it over")[0].card_id == "sample-playbook/sample-card-2"
    assert index.search("你们太贵了")[0].lang == "zh" and index.search("too expensive")[0].lang == "en"


def test_near_homophone_typo_still_finds_the_card(index: SearchIndex) -> None:
    assert fuzzy_pinyin("桂") == fuzzy_pinyin("贵")
    assert index.search("你们太桂了")[0].card_id == "sample-playbook/sample-card"


def test_english_typo_still_finds_the_card(index: SearchIndex) -> None:
    assert index.search("youre too expensiv")[0].card_id == "sample-playbook/sample-card"


def test_nothing_searchable_returns_nothing(index: SearchIndex) -> None:
    assert index.search("") == [] and index.search("😀😀") == [] and index.search("   ") == []


def test_query_terms_are_syllable_pairs_and_known_words(index: SearchIndex) -> None:
    got = index.query_terms("太贵 expensive")
    assert sum(1 for k in got if k & _SOUND) == 1  # 太贵: one pair of syllables
    assert got == index.query_terms("太桂 expensive")  # a homophone typo gives the same terms
    word = index.word_ids[word_key("expensive")]
    assert got[_WORD | word] == 1.0


def test_unknown_english_word_stands_for_its_nearest_known_words(index: SearchIndex) -> None:
    word = index.word_ids[word_key("expensive")]
    typo = index.query_terms("expensiev")
    assert 0 < typo[_WORD | word] < 1.0
    # The part of a misspelling its neighbours do not explain, and a word no card has, are
    # marked as unknown: they weigh in the query's mass but find no card.
    assert typo[_UNKNOWN] == pytest.approx(1.0 - typo[_WORD | word])
    assert index.query_terms("zzzzqqqq") == {_UNKNOWN: 1.0}
    assert index.search("zzzzqqqq") == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("gift cards aren't something I can offer", False),
        ("给您个人是不合适的", False),
        ("我不会绕过您直接找行长", False),
        ("我们不送充值卡，但是可以谈需求", False),
        ("recharge cards won't help your bureau, but", False),
        ("I'll get you recharge cards, no problem", True),
        ("充值卡没问题，马上办", True),
        ("好的，送您充值卡", True),
        ("Recharge cards? Sure, we can do that", True),
    ],
)
def test_refusals_around_a_red_flag_phrase(text: str, flagged: bool) -> None:
    perks = _check(
        id="perks",
        kind="red_flag",
        phrases={"zh": ["给您个人", "充值卡", "直接找行长"], "en": ["gift cards", "recharge cards"]},
    )
    assert bool(score_answer([ASK, perks], text).red_flags) is flagged


@pytest.mark.parametrize(
    ("answer", "matches"),
    [
        ("没有预酸", True),  # homophone typo (pinyin IME)
        ("我们没有欲算", True),
        ("您最关心的是甚么", True),
        ("哪位领导", False),  # one different-sounding character changes the meaning
        ("下周二下午给您", False),
        ("演示一下", False),
    ],
)
def test_chinese_phrases_tolerate_homophones_not_other_characters(answer: str, matches: bool) -> None:
    check = _check(
        id="c",
        kind="must",
        phrases={
            "zh": ["每位领导", "私下给您", "表示一下", "没有预算", "最关心的是什么"],
            "en": ["unused phrase"],
        },
    )
    assert score_answer([check], answer).checks[0].passed is matches


@pytest.mark.parametrize(
    ("answer", "matches"),
    [
        ("我们不送手机", False),  # a fuzzy match may not flip the phrase's polarity
        ("we can offer that", False),
        ("I can't ofer that", True),  # a typo keeps polarity
        ("second billing", False),  # English matches cover whole words
        ("one single bill", False),
        ("what matters mots to you", True),
    ],
)
def test_fuzzy_matches_keep_polarity_and_whole_words(answer: str, matches: bool) -> None:
    check = _check(
        id="c",
        kind="must",
        phrases={"zh": ["我们也送手机"], "en": ["one bill", "can't offer", "what matters most"]},
    )
    assert score_answer([check], answer).checks[0].passed is matches


@pytest.mark.parametrize(
    "text",
    ["价格我们不降。充值卡送您两张。", "We won't cut the price. I'll give you recharge cards though."],
)
def test_a_negation_does_not_reach_into_the_next_clause(text: str) -> None:
    perks = _check(
        id="perks", kind="red_flag", phrases={"zh": ["充值卡送您"], "en": ["give you recharge cards"]}
    )
    assert score_answer([ASK, perks], text).red_flags


@pytest.mark.parametrize("text", ["要不我给您送充值卡", "能不能这样：送您充值卡", "不过充值卡送您几张"])
def test_words_with_bu_that_do_not_negate(text: str) -> None:
    perks = _check(
        id="perks", kind="red_flag", phrases={"zh": ["充值卡", "送您充值卡"], "en": ["recharge cards"]}
    )
    assert score_answer([ASK, perks], text).red_flags


def test_a_passed_answer_never_takes_the_weak_branch() -> None:
    assert score_answer(RUBRIC, "what matters most to you", pass_mark=30).outcome == "partial"
