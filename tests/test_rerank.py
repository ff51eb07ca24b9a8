"""The re-rank finds each candidate card's closest line, screening lines cheaply first."""

from __future__ import annotations

import types

import pytest
import yaml

from bot.config import REPO_ROOT
from bot.content.library import Library, compact_playbook, load_library
from bot.content.models import Playbook
from bot.core import rerank
from bot.core.rerank import ROWS, LineRanker
from bot.core.search import SearchIndex

OBJECTIONS = "objection-handling"


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library(REPO_ROOT)


def _ranker(lib: Library) -> tuple[LineRanker, list[str]]:
    ids = list(lib.cards)
    return LineRanker(lib, ids), ids


def test_a_quoted_customer_line_is_found_whole_in_either_language(lib: Library) -> None:
    ranker, ids = _ranker(lib)
    ref = ids[0]
    card = lib.cards[ref].card
    for lang in ("zh", "en"):
        line = card.customer_lines.get(lang)[-1].lower()
        others = [i for i in range(1, 10)]
        scores, matched = ranker.best_lines(line, lang, [0, *others], long=False)
        assert matched[0] == line
        assert scores[0] == pytest.approx(100.0)
        assert all(s < 100.0 for s in scores[1:])  # no other card says exactly this


def test_a_mixed_query_is_compared_with_both_languages(lib: Library) -> None:
    ranker, _ = _ranker(lib)
    en_line = ranker.lines(0, "en")[1]
    _, zh_only = ranker.best_lines(en_line, "zh", [0], long=False)
    _, mixed = ranker.best_lines(en_line, "mixed", [0], long=False)
    assert mixed == [en_line]
    assert zh_only != [en_line]


def _playbook_with_many_keywords(extra: int) -> Playbook:
    data = yaml.safe_load((REPO_ROOT / "playbooks" / f"{OBJECTIONS}.yaml").read_text(encoding="utf-8"))
    card = data["cards"][0]
    filler = [f"填充词{i:03d}号" for i in range(extra)]
    card["keywords"]["zh"] = [*filler, "合同还没到期换不了"]
    return Playbook.model_validate(data)


def test_lines_past_the_first_row_are_screened_too() -> None:
    _, entries = compact_playbook(_playbook_with_many_keywords(extra=ROWS + 20))
    fake = types.SimpleNamespace(cards={e.id: e for e in entries})
    ranker = LineRanker(fake, [entries[0].id])  # type: ignore[arg-type]
    assert len(ranker.lines(0, "zh")) > ROWS + 20
    scores, matched = ranker.best_lines("合同还没到期换不了", "zh", [0], long=False)
    assert matched == ["合同还没到期换不了"]
    assert scores[0] == pytest.approx(100 * rerank.KEYWORD_WEIGHT)


def test_the_screen_rarely_misses_the_line_exhaustive_scoring_would_pick(
    lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen only chooses which lines rapidfuzz scores, so a card's score can only be
    lower than scoring every line. Where it matters, for close lines and for the best
    card of a search, it is nearly always the same (the dev look-up set's searches)."""
    index = SearchIndex(lib)
    queries = yaml.safe_load((REPO_ROOT / "tests" / "data" / "lookup_eval.yaml").read_text(encoding="utf-8"))
    calls: list[tuple[str, str, list[int], bool]] = []
    original = LineRanker.best_lines

    def record(self: LineRanker, qn: str, lang: str, cards: list[int], long: bool):  # type: ignore[no-untyped-def]
        calls.append((qn, lang, cards, long))
        return original(self, qn, lang, cards, long)

    monkeypatch.setattr(LineRanker, "best_lines", record)
    for q in queries["queries"]:
        index.search(q["q"])
    monkeypatch.setattr(LineRanker, "best_lines", original)
    screened = [index.ranker.best_lines(*call)[0] for call in calls]
    monkeypatch.setattr(rerank, "SHORTLIST", ROWS)
    exhaustive = [index.ranker.best_lines(*call)[0] for call in calls]
    pairs = [(s, e) for ss, es in zip(screened, exhaustive, strict=True) for s, e in zip(ss, es, strict=True)]
    assert len(pairs) > 1000
    assert all(s <= e + 1e-9 for s, e in pairs)
    close = [(s, e) for s, e in pairs if e >= 70]
    assert sum(abs(s - e) < 1e-6 for s, e in close) / len(close) >= 0.9
    best_same = [
        max(range(len(s)), key=s.__getitem__) == max(range(len(e)), key=e.__getitem__)
        for s, e in zip(screened, exhaustive, strict=True)
    ]
    assert sum(best_same) / len(best_same) >= 0.9
