"""The quiz engine: which questions to ask, in which option order, and whether an answer is right.

Pure functions over immutable content, so the feature module only stores and renders.
"""

from __future__ import annotations

import hashlib
import random
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
