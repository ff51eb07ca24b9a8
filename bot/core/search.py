"""Talk-track lookup: from a trainee's messy words (zh, en, mixed, typos) to the right cards.

Two stages keep it both tolerant and fast on large libraries:

1. An inverted index over terms of every card's title, customer lines, keywords and
   playbook tags: Chinese character bigrams, tone-less "fuzzy" pinyin bigrams (so a
   near-homophone typo such as 太桂了 still meets 太贵了), English word stems and character
   trigrams (so "expensiv" still meets "expensive"). IDF-weighted overlap picks candidates.
2. rapidfuzz re-ranks the candidates by how well the query and the card's best line match
   (partial matching copes with long, rambling messages that quote the customer).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.content.library import Library
from bot.core.pinyin import fuzzy_pinyin
from bot.i18n import detect_lang

MAX_QUERY = 500  # characters read from a query; the rest of a long message is ignored
MIN_SCORE = 45.0  # below this, a hit is noise: say so and offer playbooks instead
CLOSE_GAP = 6.0  # hits within this of the best are "close" and shown as a list

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "for",
        "is",
        "are",
        "was",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "they",
        "them",
        "their",
        "we",
        "our",
        "us",
        "you",
        "your",
        "i",
        "me",
        "my",
        "he",
        "she",
        "his",
        "her",
        "him",
        "with",
        "as",
        "by",
        "from",
        "but",
        "so",
        "if",
        "do",
        "does",
        "did",
        "not",
        "no",
        "just",
        "very",
        "really",
        "can",
        "could",
        "would",
        "will",
        "should",
        "has",
        "have",
        "had",
        "what",
        "how",
        "why",
        "when",
        "who",
        "which",
        "there",
        "here",
        "about",
        "than",
        "then",
        "said",
        "says",
        "say",
        "customer",
        "client",
    ]
)
_ZH_STOP = frozenset("的了吗呢吧啊呀么是在我你他她们这那就都也还说".replace("", " ").split())

# Field weights: what a card is found by.
W_TITLE, W_LINE, W_KEYWORD, W_TAG, W_BODY = 1.0, 1.0, 0.9, 0.35, 0.3
W_DEEP = 0.2  # steps, principle, avoid
FUZZ_WEIGHT = 0.45
FUZZ_WEIGHT_LONG = 0.2
LONG_QUERY = 40  # characters; beyond this a message is a ramble, not a quote
COVERAGE_MULT = 3.0
SOFT = True
TF_BOOST = 0.1  # weight of how many of a card's lines carry a term
LEN_NORM = 0.3  # BM25-style length normalisation of a card's term mass
# Term-type weights: how much a shared term says.
T_BIGRAM, T_PINYIN, T_UNI, T_WORD, T_TRI = 1.0, 0.8, 0.25, 1.0, 0.3


# ---------------------------------------------------------------- text -> terms


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def terms(text: str) -> dict[str, float]:
    """The weighted terms of a text (max weight per term)."""
    text = normalize(text)
    out: dict[str, float] = {}

    def add(term: str, weight: float) -> None:
        if out.get(term, 0.0) < weight:
            out[term] = weight

    for run in _CJK_RUN.findall(text):
        pys = [fuzzy_pinyin(c) for c in run]
        for i, ch in enumerate(run):
            if ch not in _ZH_STOP:
                add("u:" + ch, T_UNI)
            if i + 1 < len(run):
                add("b:" + run[i : i + 2], T_BIGRAM)
                add("p:" + pys[i] + "|" + pys[i + 1], T_PINYIN)
    for word in _WORD.findall(text):
        if word in _STOP or len(word) < 2:
            continue
        stem = _stem(word)
        add("w:" + stem, T_WORD)
        if len(stem) >= 4:
            padded = f"^{stem}$"
            for i in range(len(padded) - 2):
                add("t:" + padded[i : i + 3], T_TRI)
    return out


# ---------------------------------------------------------------- the index


@dataclass(frozen=True)
class Hit:
    card_id: str
    score: float  # 0-100, higher is better
    lang: str  # the query's language (zh or en)
    matched: str  # the card text that matched best

    def as_dict(self, lib: Library, lang: str | None = None) -> dict[str, object]:
        entry = lib.cards[self.card_id]
        use = lang or self.lang
        return {
            "id": self.card_id,
            "score": round(self.score, 1),
            "title": entry.card.title.get(use),
            "playbook": entry.playbook.id,
            "matched": self.matched,
        }


class SearchIndex:
    """Built once per Library; searching is read-only and thread-safe."""

    def __init__(self, lib: Library):
        self.lib = lib
        self.card_ids: list[str] = list(lib.cards)
        self.texts: list[list[tuple[str, float]]] = []  # per card: (text, field weight)
        self.card_terms: list[dict[str, float]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for idx, cid in enumerate(self.card_ids):
            entry = lib.cards[cid]
            card, pb = entry.card, entry.playbook
            fields: list[tuple[str, float]] = []
            fields += [(card.title.zh, W_TITLE), (card.title.en, W_TITLE)]
            fields += [(line, W_LINE) for line in card.customer_lines.all()]
            fields += [(kw, W_KEYWORD) for kw in card.keywords.all()]
            fields += [(tag, W_TAG) for tag in pb.tags.all()]
            fields += [(pb.title.zh, W_TAG), (pb.title.en, W_TAG)]
            fields += [(card.thirty_seconds.zh, W_BODY), (card.thirty_seconds.en, W_BODY)]
            if W_DEEP:
                deep = [*card.steps, card.principle, *(a.say for a in card.avoid)]
                fields += [(x.zh, W_DEEP) for x in deep] + [(x.en, W_DEEP) for x in deep]
            merged: dict[str, float] = {}
            counts: dict[str, int] = defaultdict(int)
            for text, fw in fields:
                for term, tw in terms(text).items():
                    w = tw * fw
                    counts[term] += fw >= W_KEYWORD
                    if merged.get(term, 0.0) < w:
                        merged[term] = w
            if TF_BOOST:
                # A term in many of a card's lines says the card is about it (saturating).
                for term, c in counts.items():
                    if c > 1:
                        merged[term] *= 1 + TF_BOOST * math.log(c)
            self.card_terms.append(merged)
            self.texts.append([(normalize(t), w) for t, w in fields if w >= W_KEYWORD])
            for term in merged:
                postings[term].append(idx)
        n = max(1, len(self.card_ids))
        sizes = [sum(ct.values()) for ct in self.card_terms]
        avg = sum(sizes) / n if sizes else 1.0
        self.norm = [(1 - LEN_NORM) + LEN_NORM * size / avg for size in sizes]
        self.idf = {term: math.log(1 + n / len(ids)) for term, ids in postings.items()}
        # Very common terms still score, but do not generate candidates (keeps big libraries fast).
        common = max(50, n // 5)
        self.postings = {t: ids for t, ids in postings.items() if len(ids) <= common}

    # ------------------------------------------------------------ query

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        query = query[:MAX_QUERY]
        lang = detect_lang(query) or "en"
        q_terms = terms(query)
        if not q_terms:
            return []
        q_mass = sum(self.idf.get(t, 1.0) * w for t, w in q_terms.items()) or 1.0
        overlap: dict[int, float] = defaultdict(float)
        for term, qw in q_terms.items():
            ids = self.postings.get(term)
            if not ids:
                continue
            weight = self.idf[term] * qw
            for idx in ids:
                overlap[idx] += weight * self.card_terms[idx][term] / self.norm[idx]
        if not overlap:
            return []
        top = sorted(overlap.items(), key=lambda kv: kv[1], reverse=True)[:30]
        qn = normalize(query)
        hits = []
        for idx, mass in top:
            coverage = mass / q_mass
            fz, matched = self._best_line(qn, idx)
            saturated = (
                1 - math.exp(-COVERAGE_MULT * coverage) if SOFT else min(1.0, coverage * COVERAGE_MULT)
            )
            fw = FUZZ_WEIGHT if len(qn) <= LONG_QUERY else FUZZ_WEIGHT_LONG
            score = 100 * ((1 - fw) * saturated + fw * fz / 100)
            hits.append(Hit(self.card_ids[idx], score, lang, matched))
        hits.sort(key=lambda h: (-h.score, h.card_id))
        return hits[:limit]

    def _best_line(self, qn: str, idx: int) -> tuple[float, str]:
        # Speed without changing a score: partial matching (the costly part) is skipped when
        # even a perfect match could not beat the best line so far, and otherwise given that
        # bar as rapidfuzz's score_cutoff, below which it may stop early and answer 0.
        best, matched = 0.0, ""
        n = len(qn)
        for text, fw in self.texts[idx]:
            size = len(text)
            if size < 2:
                continue
            if n > 2 * size:
                damp = min(1.0, size / 6)  # a two-character match in a long message says little
                if 100 * damp * fw <= best:
                    continue
                s = fuzz.partial_ratio(text, qn, score_cutoff=_bar(best, damp * fw)) * damp
            else:
                s = fuzz.ratio(qn, text)  # = Indel normalized similarity x 100
                if n >= 2 and 90 * fw > best:
                    s = max(s, 0.9 * fuzz.partial_ratio(qn, text, score_cutoff=_bar(best, 0.9 * fw)))
            s *= fw
            if s > best:
                best, matched = s, text
        return best, matched

    def nearest_playbooks(self, query: str, n: int = 3) -> list[str]:
        """Playbooks whose cards come closest, for a query with no good match."""
        best: dict[str, float] = {}
        for hit in self.search(query, limit=30):
            pb = hit.card_id.split("/")[0]
            best[pb] = max(best.get(pb, 0.0), hit.score)
        ranked = sorted(best, key=lambda p: -best[p])
        rest = [p for p in self.lib.playbooks if p not in best]
        return (ranked + rest)[:n]


def _bar(best: float, scale: float) -> float:
    """The lowest raw fuzz score that could still beat `best` once scaled (with a hair of slack)."""
    return max(0.0, best / scale - 1e-6)


def good_hits(hits: Iterable[Hit]) -> list[Hit]:
    return [h for h in hits if h.score >= MIN_SCORE]
