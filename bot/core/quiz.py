"""The quiz engine: which questions to ask, in which option order, and whether an answer is right.

Pure functions over immutable content, so the feature module only stores and renders.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.content.models import Question

LETTERS = "ABCDEFGH"  # a question has at most 8 options
RUN_LEN = 10  # questions in a practice run


@dataclass(frozen=True)
class Past:
    """How a trainee did on one question before."""

    answered: int
    wrong: int
    last_wrong: bool


def weight(past: Past | None) -> float:
    """Unseen questions count double, recent and repeated misses more (why: practise what is weak)."""
    if past is None or past.answered == 0:
        return 2.0
    return 1.0 + 3.0 * past.last_wrong + min(past.wrong, 3)


def pick_questions(
    qids: Sequence[str], history: Mapping[str, Past], rng: random.Random, limit: int = RUN_LEN
) -> list[str]:
    """A weighted shuffle (Efraimidis-Spirakis): missed questions tend to come first and be kept."""
    keyed = sorted(qids, key=lambda q: rng.random() ** (1.0 / weight(history.get(q))), reverse=True)
    return keyed[:limit]


def option_order(run_id: int, qid: str, n: int) -> list[int]:
    """A stable shuffle of option positions for one run and question (the answer is not always C)."""
    seed = hashlib.sha256(f"{run_id}:{qid}".encode()).digest()
    return sorted(range(n), key=lambda i: hashlib.sha256(seed + bytes([i])).digest())


def shown_ids(q: Question, run_id: int, qid: str) -> list[str]:
    """Option ids in the order this run shows them (A, B, C...)."""
    return [q.options[i].id for i in option_order(run_id, qid, len(q.options))]


def is_right(q: Question, picked: Sequence[str] | bool) -> bool:
    """Grade a choice answer: option ids picked (in order, for ordering) or true/false."""
    if q.kind == "truefalse":
        return picked is q.answer
    if isinstance(picked, bool):
        return False
    if q.kind == "single":
        return list(picked) == [q.answer]
    if q.kind == "multiple":
        return set(picked) == set(q.answer or ()) and len(set(picked)) == len(picked)
    if q.kind == "order":
        return list(picked) == list(q.answer or ())
    return False


def right_ids(q: Question) -> list[str]:
    """The correct option ids of a choice question (in order for ordering)."""
    if q.kind == "single":
        return [str(q.answer)]
    if q.kind in ("multiple", "order"):
        return [str(a) for a in q.answer or ()]  # type: ignore[union-attr]
    return []


# ---------------------------------------------------------------- typed answers

#: What a trainee types for true or false, in either language (after `_compact`).
_TRUE = frozenset({"对", "對", "是", "对的", "是的", "正确", "true", "t", "yes", "y", "✓", "√", "✅"})
_FALSE = frozenset(
    {"错", "錯", "否", "错了", "不对", "不是", "错误", "false", "f", "no", "n", "✗", "×", "❌"}
)
#: Spacing and separators around letters: "B C A D", "B,C,A,D", "B→C→A→D", "A、C", "(B)".
_SEPARATORS = re.compile(r"[\s,;/|>→、。.:!！()\[\]\-]+")
#: A lead-in before the letter: "选B", "答案是 B", "answer: b".
_LEAD_IN = re.compile(r"^(我选|选|答案是|答案|answer|option)\s*[:：]?\s*")
_LATIN_WORD = re.compile(r"[a-z]{2,}")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _compact(text: str) -> str:
    """NFKC (full-width letters and commas become plain), lower case, lead-in and separators gone."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return _SEPARATORS.sub("", _LEAD_IN.sub("", text))


def read_typed(q: Question, text: str) -> bool | list[int] | None:
    """A typed answer to a button question, or None when the text is not plainly one.

    True/false gives a bool; choice kinds give positions in the shown order (A = 0): one
    letter for single choice, distinct letters for multiple choice, every letter once for
    ordering.
    """
    typed = _compact(text)
    if q.kind == "truefalse":
        return True if typed in _TRUE else False if typed in _FALSE else None
    n = len(q.options)
    letters = LETTERS[:n].lower()
    if q.kind not in ("single", "multiple", "order") or not typed or any(c not in letters for c in typed):
        return None
    picks = [letters.index(c) for c in typed]
    if len(set(picks)) != len(picks):
        return None
    if q.kind == "single":
        return picks if len(picks) == 1 else None
    if q.kind == "multiple":
        return sorted(picks)
    return picks if len(picks) == n else None


def looks_like_lookup(text: str) -> bool:
    """Free text that reads as a customer's words rather than a botched answer.

    Why: while a quiz question waits, "99", "Z" or "BCDE" deserve a nudge back to the
    question, but "they say we are too expensive" or "你们太贵了" is a look-up.
    """
    norm = unicodedata.normalize("NFKC", text).lower()
    if len(_CJK_CHAR.findall(norm)) >= 3:
        return True
    compact = _SEPARATORS.sub("", norm)
    if compact and all(c in LETTERS.lower() for c in compact):
        return False  # only option letters: an answer attempt, however long
    words = _LATIN_WORD.findall(norm)
    return len(words) >= 2 or sum(map(len, words)) >= 6
