"""Re-ranking search candidates by each card's single closest line.

The index finds candidates by the terms they share with the query; this says how like the
query each candidate's closest customer line or keyword is (rapidfuzz), which is what puts
the right card first when several share words. Scoring every line of every candidate
exactly was most of a look-up's time (a card has ~45 lines per language), so lines are
first screened by a cheap array measure, how many of the query's character pairs a line
holds (each line keeps them as a bit signature), and only each card's `SHORTLIST` most
promising lines are scored with rapidfuzz.

Lines come from the library's compact blocks and are kept prepared only for the most
recently used cards, so a large library costs little memory here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.library import Library

KEYWORD_WEIGHT = 0.9  # a keyword is a weaker witness than a line a customer says
PARTIAL_DISCOUNT = 0.9  # a short query found inside a line counts a little less than a whole match
DAMP_CHARS = 6  # in a long message, lines shorter than this count less (they match anywhere)
SHORTLIST = 2  # lines per card scored exactly
CACHE_CARDS = 256  # cards whose prepared lines are kept (~20 KB each)
SIGNATURE_BITS = 512  # a line's character pairs are marked in this many bits


@dataclass(frozen=True, slots=True)
class _Part:
    """One language's lines of a card (title and customer lines, then keywords), lower-cased,
    laid out in rows of `ROWS` (the last row padded) so a whole search screens them at once."""

    lines: tuple[str, ...]
    marks: np.ndarray  # (rows * ROWS, SIGNATURE_BITS // 64): the bits of each line's character pairs
    facts: np.ndarray  # (rows * ROWS, 4): PAIRS, WEIGHT, DAMPED, PADDING of each line


ROWS = 64  # lines screened as one row: a card has ~45 lines per language
# What the screen needs of each line besides its marks: the pairs it has (at least 1), the
# exact score's weight (1 for a customer line, KEYWORD_WEIGHT for a keyword), the weight
# times the long-message damping of short lines, and 1 for padding.
PAIRS, WEIGHT, DAMPED, PADDING = range(4)


@dataclass(frozen=True, slots=True)
class _Card:
    zh: _Part
    en: _Part

    def parts(self, lang: str) -> tuple[_Part, ...]:
        """The lines a query in `lang` is compared with ("mixed": Chinese with English words)."""
        return (self.zh,) if lang == "zh" else (self.en,) if lang == "en" else (self.zh, self.en)


def _pair_bits(codes: np.ndarray) -> np.ndarray:
    """The signature bit of each pair of adjacent code points. A collision only makes a
    line look a little more promising than it is; rapidfuzz has the last word."""
    return ((codes[:-1] * np.uint32(0x9E3779B1)) ^ codes[1:]) & np.uint32(SIGNATURE_BITS - 1)


def _part(title: str, lines: str, keywords: str) -> _Part:
    customer = [x.lower() for x in (title, *lines.split("\n")) if x.strip()]
    kept = customer + [x.lower() for x in keywords.split("\n") if x.strip()]
    size = max(1, -(-len(kept) // ROWS)) * ROWS
    codes = np.frombuffer("\x00".join(kept).encode("utf-32-le"), dtype=np.uint32)
    inside = (codes[:-1] != 0) & (codes[1:] != 0)  # pairs across two lines do not count
    line_of = np.cumsum(codes == 0)[:-1]
    marks = np.zeros((size, SIGNATURE_BITS), dtype=bool)
    marks[line_of[inside], _pair_bits(codes)[inside]] = True
    facts = np.zeros((size, 4), dtype=np.float32)
    length = np.fromiter(map(len, kept), dtype=np.float64, count=len(kept))
    facts[:, PAIRS] = 1.0
    facts[: len(kept), PAIRS] = np.maximum(length - 1, 1)
    facts[: len(customer), WEIGHT] = 1.0
    facts[len(customer) : len(kept), WEIGHT] = KEYWORD_WEIGHT
    facts[: len(kept), DAMPED] = facts[: len(kept), WEIGHT] * np.minimum(1.0, length / DAMP_CHARS)
    facts[len(kept) :, PADDING] = 1.0
    return _Part(tuple(kept), np.packbits(marks, axis=1, bitorder="little").view(np.uint64), facts)


def _prepare(texts: list[str]) -> _Card:
    """From a card's `lookup_texts` (title, customer lines, keywords, thirty seconds; zh, en)."""
    return _Card(_part(*texts[0:3]), _part(*texts[4:7]))


class LineRanker:
    """For candidate cards (by their position in `card_ids`): the closest line and how close."""

    def __init__(self, lib: Library, card_ids: list[str]):
        self._entries = [lib.cards[ref] for ref in card_ids]
        self._card = lru_cache(maxsize=CACHE_CARDS)(self._load)

    def _load(self, idx: int) -> _Card:
        return _prepare(self._entries[idx].lookup_texts())

    def lines(self, idx: int, lang: str) -> tuple[str, ...]:
        """A card's lines as a query in `lang` is compared with them."""
        return tuple(line for part in self._card(idx).parts(lang) for line in part.lines)

    def best_lines(self, qn: str, lang: str, cards: list[int], long: bool) -> tuple[list[float], list[str]]:
        """For each card, how like the query (lower-cased) its closest line is (0-100), and that line.

        A long message is compared by partial matching against lines it could contain; a
        short one by whole-string similarity, partial matching slightly discounted.
        """
        owned = [(c, part) for c, idx in enumerate(cards) for part in self._card(idx).parts(lang)]
        rows = [(c, part, r) for c, part in owned for r in range(0, len(part.facts), ROWS)]
        facts = np.concatenate([part.facts for _, part in owned])
        marks = np.concatenate([part.marks for _, part in owned])
        chosen = self._shortlist(qn, marks, facts, long)
        chosen = chosen[facts[chosen, PADDING] == 0]
        scores, matched = [0.0] * len(cards), [""] * len(cards)
        if not len(chosen):
            return scores, matched
        picks = [(rows[at // ROWS], at % ROWS) for at in chosen.tolist()]
        texts = [part.lines[r + i] for (_, part, r), i in picks]
        partial = process.cdist([qn], texts, scorer=fuzz.partial_ratio, dtype=np.float32)[0]
        if long:
            best = partial * facts[chosen, DAMPED]
        else:
            whole = process.cdist([qn], texts, scorer=fuzz.ratio, dtype=np.float32)[0]
            best = np.maximum(whole, PARTIAL_DISCOUNT * partial) * facts[chosen, WEIGHT]
        for ((c, _, _), _), text, value in zip(picks, texts, best.tolist(), strict=True):
            if value > scores[c] or not matched[c]:
                scores[c], matched[c] = value, text
        return scores, matched

    @staticmethod
    def _shortlist(qn: str, marks: np.ndarray, facts: np.ndarray, long: bool) -> np.ndarray:
        """Each row's `SHORTLIST` most promising lines (as positions in `facts`): those holding
        the largest share of the query's character pairs, weighed as the exact score weighs."""
        query = np.frombuffer(qn.encode("utf-32-le"), dtype=np.uint32)
        wanted = np.zeros(SIGNATURE_BITS, dtype=bool)
        wanted[_pair_bits(query)] = True
        found = np.bitwise_count(marks & np.packbits(wanted, bitorder="little").view(np.uint64)).sum(axis=1)
        mine, theirs = max(len(query) - 1, 1), facts[:, PAIRS]
        partial = np.minimum(1.0, found / np.minimum(mine, theirs))
        if long:
            promise = partial * facts[:, DAMPED]
        else:
            promise = np.maximum(2 * found / (mine + theirs), PARTIAL_DISCOUNT * partial) * facts[:, WEIGHT]
        by_row = (promise - facts[:, PADDING]).reshape(-1, ROWS)
        keep = min(SHORTLIST, ROWS)
        best = np.argpartition(-by_row, keep - 1, axis=1)[:, :keep]
        return (best + np.arange(0, len(promise), ROWS)[:, None]).ravel()
