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

import heapq
import math
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

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
COVERAGE_MULT = 3.0  # how fast coverage of the query saturates (1 - e^-kx): more evidence wins ties
RERANK = 10  # candidates re-ranked by line similarity
RERANK_LONG = 5  # for long messages, where line similarity weighs less
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
        self.line_groups: list[tuple[tuple[float, tuple[str, ...]], ...]] = []  # per card, by field weight
        # Postings as compact arrays (card index, weight): a per-card dict of every term
        # would cost ~100 bytes an entry, gigabytes on a large library.
        post_ids: dict[str, array[int]] = defaultdict(lambda: array("I"))
        post_w: dict[str, array[float]] = defaultdict(lambda: array("f"))
        sizes: list[float] = []
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
            # A term in many of a card's lines says the card is about it (saturating).
            for term, c in counts.items():
                if c > 1:
                    merged[term] *= 1 + TF_BOOST * math.log(c)
            sizes.append(sum(merged.values()))
            groups: dict[float, list[str]] = defaultdict(list)
            for text, w in fields:
                if w >= W_KEYWORD and len(text) >= 2:
                    groups[w].append(normalize(text))
            self.line_groups.append(tuple((w, tuple(lines)) for w, lines in groups.items()))
            for term, w in merged.items():
                post_ids[term].append(idx)
                post_w[term].append(w)
        n = max(1, len(self.card_ids))
        avg = sum(sizes) / n if sizes else 1.0
        self.norm = [(1 - LEN_NORM) + LEN_NORM * size / avg for size in sizes]
        self.idf = {term: math.log(1 + n / len(ids)) for term, ids in post_ids.items()}
        # Very common terms do not generate candidates (keeps big libraries fast).
        common = max(50, n // 5)
        self.postings = {t: (ids, post_w[t]) for t, ids in post_ids.items() if len(ids) <= common}

    # ------------------------------------------------------------ query

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        query = query[:MAX_QUERY]
        lang = detect_lang(query) or "en"
        q_terms = terms(query)
        if not q_terms:
            return []
        q_mass = sum(self.idf.get(t, 1.0) * w for t, w in q_terms.items()) or 1.0
        overlap: dict[int, float] = defaultdict(float)
        norm = self.norm
        for term, qw in q_terms.items():
            posting = self.postings.get(term)
            if posting is None:
                continue
            weight = self.idf[term] * qw
            for idx, w in zip(*posting, strict=True):
                overlap[idx] += weight * w / norm[idx]
        if not overlap:
            return []
        qn = normalize(query)
        k = RERANK if len(qn) <= LONG_QUERY else RERANK_LONG
        top = heapq.nlargest(k, overlap.items(), key=lambda kv: kv[1])
        hits = []
        for idx, mass in top:
            coverage = mass / q_mass
            fz, matched = self._best_line(qn, idx)
            saturated = 1 - math.exp(-COVERAGE_MULT * coverage)
            fw = FUZZ_WEIGHT if len(qn) <= LONG_QUERY else FUZZ_WEIGHT_LONG
            score = 100 * ((1 - fw) * saturated + fw * fz / 100)
            hits.append(Hit(self.card_ids[idx], score, lang, matched))
        hits.sort(key=lambda h: (-h.score, h.card_id))
        return hits[:limit]

    def _best_line(self, qn: str, idx: int) -> tuple[float, str]:
        """The card line most like the query (one C-level pass per line group).

        A long message is compared by partial matching against lines it could contain; a
        short one by whole-string similarity, with partial matching slightly discounted.
        """
        best, matched = 0.0, ""
        n = len(qn)
        for fw, lines in self.line_groups[idx]:
            if n > LONG_QUERY:
                hit = process.extractOne(qn, lines, scorer=fuzz.partial_ratio, processor=None)
                if hit:
                    damp = min(1.0, len(hit[0]) / 6)
                    s = hit[1] * damp * fw
                    if s > best:
                        best, matched = s, hit[0]
                continue
            whole = process.extractOne(qn, lines, scorer=fuzz.ratio, processor=None)
            part = (
                process.extractOne(qn, lines, scorer=fuzz.partial_ratio, processor=None) if n >= 2 else None
            )
            for text, score in (
                (whole[0], whole[1]) if whole else ("", 0.0),
                (part[0], 0.9 * part[1]) if part else ("", 0.0),
            ):
                if score * fw > best:
                    best, matched = score * fw, text
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


def good_hits(hits: Iterable[Hit]) -> list[Hit]:
    return [h for h in hits if h.score >= MIN_SCORE]
