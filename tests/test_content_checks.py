"""Shipped rubric checks catch what trainees really type (QA findings), and trainee-facing
text never mentions the internal source material."""

from __future__ import annotations

import re

import pytest

from bot.config import REPO_ROOT
from bot.content.library import Library, iter_texts, load_library
from bot.core.scoring import score_answer

FREE_HANDSETS = [
    "行，那我给您打个八折，再送您几部手机，对方那家就是低价圈人，便宜没好货",
    "再送您几部手机",
    "送您几部手机",
    "免费给您几台新手机",
    "另外再赠几部新手机给您",
    "手机我们白送",
    "要不再送您几部手机",
    "I'll throw in a few phones",
    "How about a few free phones on top?",
    "The handsets are on us.",
    "I can give you free handsets",
]
ABOUT_THE_RIVAL = [
    "对方白送手机是低价圈人，咱们先把账算清楚",
    "他们送手机只是一时的，您最近三个月的账单方便给我看看吗？",
    "对方说签约就送手机，这个我理解",
    "我们不送手机，我们比的是长期成本",
    "与其送您几部手机，不如帮您把账算清楚",
    "They throw in free handsets but lock you in for two years.",
    "They're offering free handsets; what matters to you beyond that?",
    "I won't throw in phones; let's look at your bill.",
]
TIMED_EN = [
    "can I bring the comparison Wednesday 10am?",
    "Could we meet Wed at 10?",
    "I'll come by tomorrow at 3pm with the numbers.",
    "Can I drop by this Thursday morning to go through it?",
    "Shall I come in at 10:30 on Friday?",
]


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library(REPO_ROOT)


def _passed(lib: Library, scenario: str, node: str, check_id: str, reply: str) -> bool:
    rubric = lib.node_rubric(scenario, node)
    check = next(c for c in rubric if c.id == check_id)
    return score_answer([check], reply).checks[0].passed


@pytest.mark.parametrize("reply", FREE_HANDSETS)
@pytest.mark.parametrize(
    ("scenario", "node", "check_id"),
    [
        ("price-objection-sme", "just-cheaper", "sweetener"),
        ("price-objection-sme", "opening", "sweetener"),
        ("gift-phone-tax-bureau", "opening", "match-giveaway"),
    ],
)
def test_offering_free_handsets_is_a_red_flag(
    lib: Library, scenario: str, node: str, check_id: str, reply: str
) -> None:
    assert _passed(lib, scenario, node, check_id, reply)


@pytest.mark.parametrize("reply", ABOUT_THE_RIVAL)
@pytest.mark.parametrize(
    ("scenario", "node", "check_id"),
    [
        ("price-objection-sme", "just-cheaper", "sweetener"),
        ("gift-phone-tax-bureau", "opening", "match-giveaway"),
        ("vip-churn-retention", "opening", "perks"),
    ],
)
def test_talking_about_the_rivals_free_handsets_is_not(
    lib: Library, scenario: str, node: str, check_id: str, reply: str
) -> None:
    assert not _passed(lib, scenario, node, check_id, reply)


def test_the_qa_reply_loses_the_turn_for_the_handsets_too(lib: Library) -> None:
    rubric = lib.node_rubric("price-objection-sme", "just-cheaper")
    result = score_answer(rubric, FREE_HANDSETS[0])
    assert {c.id for c in result.red_flags} >= {"price-cave", "sweetener", "knock-rival"}


@pytest.mark.parametrize("reply", TIMED_EN)
@pytest.mark.parametrize(
    ("scenario", "node", "check_id"),
    [
        ("price-objection-sme", "opening", "offer-next-step"),
        ("price-objection-sme", "decision", "dated-next-step"),
        ("gift-phone-tax-bureau", "opening", "offer-next-step"),
        ("advance-not-continuation", "final-ask", "dated-next-step"),
        ("elevator-pitch-bank-cio", "next-step", "dated-next-step"),
        ("key-person-government", "next-step", "dated-next-step"),
    ],
)
def test_an_english_weekday_and_time_is_a_timed_next_step(
    lib: Library, scenario: str, node: str, check_id: str, reply: str
) -> None:
    assert _passed(lib, scenario, node, check_id, reply)


@pytest.mark.parametrize("reply", TIMED_EN)
def test_the_shared_next_step_check_takes_the_same_forms(lib: Library, reply: str) -> None:
    assert score_answer([lib.checks["concrete-next-step"]], reply).checks[0].passed


@pytest.mark.parametrize("reply", ["Could we meet at 10 people a time?", "Let's meet sometime."])
def test_a_number_or_no_time_is_not_a_time(lib: Library, reply: str) -> None:
    assert not score_answer([lib.checks["concrete-next-step"]], reply).checks[0].passed


def test_trainee_facing_text_never_mentions_the_seeds(lib: Library) -> None:
    leaks = [t for t in iter_texts(lib) if re.search(r"种子|\bseeds?\b", t, re.I)]
    assert not leaks, leaks[:3]
