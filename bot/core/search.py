"""Talk-track lookup: from a trainee's messy words (zh, en, mixed, typos) to the right cards.

Two stages keep it both tolerant and fast on large libraries:

1. An inverted index over every card's title, customer lines, keywords, playbook tags and
   (weakly) its talk-track. Chinese is indexed by pairs of syllables (tone-less, with the
   usual accent merges), so a pinyin-keyboard slip such as 太桂了 meets 太贵了; English by
   word stem. English typos are handled when asking: a word the library does not know is
   replaced by the nearest words it does (rapidfuzz). The index is built with array
   operations over whole batches of cards, never a Python step per character or word, so
   ten thousand cards index in well under a second and a posting costs a few bytes.
2. rapidfuzz re-ranks the best candidates by how well the query matches the card's single
   closest line in the query's language (partial matching copes with long, rambling
   messages that quote the customer).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.library import LOOKUP_SEP, Library
from bot.core.pinyin import fuzzy_pinyin
from bot.core.rerank import LineRanker
from bot.i18n import detect_lang

MAX_QUERY = 500  # characters read from a query; the rest of a long message is ignored
MIN_SCORE = 45.0  # below this, a hit is noise: say so and offer playbooks instead
CLOSE_GAP = 6.0  # hits within this of the best are "close" and shown as a list

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

# Field classes, strongest first: what a card is found by, and how much each says. A
# card's steps, principle and phrases to avoid are what the trainee says, not what the
# customer says: indexing them (half a card's text) found nothing the rest did not.
LINES, KEYWORDS, TAGS, BODY = range(4)
CLASS_WEIGHT = np.array([1.0, 0.9, 0.35, 0.3])
_CLASSES = len(CLASS_WEIGHT)
FUZZ_WEIGHT = 0.45
FUZZ_WEIGHT_LONG = 0.2
LONG_QUERY = 40  # characters; beyond this a message is a ramble, not a quote
COVERAGE_MULT = 3.0  # how fast coverage of the query saturates (1 - e^-kx): more evidence wins ties
RERANK = 10  # candidates re-ranked by line similarity
RERANK_LONG = 5  # for long messages, where line similarity weighs less
TF_BOOST = 0.1  # weight of how many of a card's lines carry a term
LEN_NORM = 0.3  # BM25-style length normalisation of a card's term mass
TYPO_WEIGHT = 0.8  # a misspelt English word counts this much of the word it stands for
TYPO_CUTOFF = 75.0  # how alike (rapidfuzz ratio) a misspelling and a known word must be
WORD_MEMORY = 50_000  # distinct query words whose terms are remembered
CHUNK = 256  # cards indexed per batch: bounds the temporary arrays

# Term keys: kind << 24 | payload. Postings sort as term << 30 | card << 8 | weight.
_SOUND, _WORD = 1 << 24, 2 << 24
_CARD_BITS = 22
_KEY_LEN = 8  # an English word is keyed by its first 8 letters (base 37)

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD_RE = re.compile(r"[a-z0-9]+")
_SEP = LOOKUP_SEP  # joins a batch's segments: card texts never contain it


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


# ---------------------------------------------------------------- sounds


class _Sounds:
    """Chinese character -> syllable id (1-4095; 0 = not a Chinese character).

    Homophones share an id, so syllable pairs are the terms Chinese is indexed by. The
    table fills in as characters are first seen, in the index build and in queries alike.
    """

    def __init__(self) -> None:
        self.table = np.zeros(0x10000, dtype=np.uint16)
        self.known = np.zeros(0x10000, dtype=bool)
        self.syllables: dict[str, int] = {}

    def _id(self, code: int) -> int:
        syl = fuzzy_pinyin(chr(code))
        sid = self.syllables.get(syl)
        if sid is None:
            sid = self.syllables[syl] = 1 + len(self.syllables) % 4095
        self.table[code] = sid
        self.known[code] = True
        return sid

    def fill(self, codes: np.ndarray) -> None:
        seen = np.zeros(0x10000, dtype=bool)
        seen[codes] = True
        for code in np.flatnonzero(seen & ~self.known).tolist():
            self._id(code)

    def of(self, char: str) -> int:
        code = ord(char)
        return int(self.table[code]) if self.known[code] else self._id(code)


SOUNDS = _Sounds()


# ---------------------------------------------------------------- English words

_LETTER = np.zeros(256, dtype=np.uint8)
_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789"
for _i, _c in enumerate(_ALPHABET):
    _LETTER[ord(_c)] = _LETTER[ord(_c.upper())] = _i
_LETTER[ord(" ")] = 0


def word_key(word: str) -> int:
    """The first 8 letters of a lowercase ASCII word as one integer (base 37). Longer words
    that share 8 letters share a key, which mostly joins words of one root."""
    key = 0
    for k in range(_KEY_LEN):
        key = key * 37 + (_ALPHABET.index(word[k]) if k < len(word) else 0)
    return key


def _key_word(key: int) -> str:
    letters = []
    for _ in range(_KEY_LEN):
        key, digit = divmod(key, 37)
        letters.append(_ALPHABET[digit])
    return "".join(reversed(letters)).rstrip()


def _word_keys(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(key, segment) of every word of 2+ letters in `_SEP`-separated text (any case)."""
    raw = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)
    val = _LETTER[raw]
    edge = np.diff((val > 0).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    long_enough = ends - starts >= 2
    starts, lens = starts[long_enough], (ends - starts)[long_enough]
    padded = np.concatenate([val, np.zeros(_KEY_LEN, dtype=np.uint8)])
    letters = np.lib.stride_tricks.sliding_window_view(padded, _KEY_LEN)[starts]
    letters[np.arange(_KEY_LEN) >= lens[:, None]] = 0  # the word ends: the rest is padding
    keys = np.zeros(len(starts), dtype=np.uint64)
    for k in range(_KEY_LEN):
        keys *= np.uint64(37)
        keys += letters[:, k]
    return keys, np.searchsorted(np.flatnonzero(raw == 0), starts)


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


def _segments(texts: list[str], tags: dict[str, str]) -> Iterator[str]:
    """A card's indexed text (its `lookup_texts`) as segments, zh then en, one per field class."""
    for lang, (title, lines, keywords, thirty) in (("zh", texts[:4]), ("en", texts[4:])):
        yield f"{title}\n{lines}"
        yield keywords
        yield tags[lang]
        yield thirty


class SearchIndex:
    """Built once per Library; searching is read-only and thread-safe."""

    def __init__(self, lib: Library):
        self.lib = lib
        self.card_ids: list[str] = []
        self.word_ids: dict[int, int] = {}  # word key -> stem id (-1: a stop word)
        self.stem_ids: dict[str, int] = {}
        self._word_terms: dict[str, tuple[tuple[int, float], ...]] = {}  # see _terms_of_word
        tags = {
            pid: {
                lang: "\n".join([pb.title.get(lang), *pb.tags.get(lang)]).replace(_SEP, " ")
                for lang in ("zh", "en")
            }
            for pid, pb in lib.playbooks.items()
        }
        batch: list[str] = []
        pairs: list[np.ndarray] = []
        for ref, texts in lib.card_lookup_texts():
            self.card_ids.append(ref)
            batch += _segments(texts, tags[ref.split("/", 1)[0]])
            if len(batch) >= CHUNK * 2 * _CLASSES:
                pairs.append(self._index_batch(batch, len(self.card_ids) - len(batch) // (2 * _CLASSES)))
                batch = []
        if batch:
            pairs.append(self._index_batch(batch, len(self.card_ids) - len(batch) // (2 * _CLASSES)))
        self.vocab = list(self.stem_ids)
        self._postings(pairs)
        self.ranker = LineRanker(lib, self.card_ids)

    # ------------------------------------------------------------ build

    def _index_batch(self, segments: list[str], first: int) -> np.ndarray:
        """Sorted (term, card, weight) keys of a batch of cards, each (term, card) once."""
        per_card = 2 * _CLASSES
        zh_parts = [s for i, s in enumerate(segments) if i % per_card < _CLASSES]
        en_parts = [s for i, s in enumerate(segments) if i % per_card >= _CLASSES]
        zh, en = _SEP.join(zh_parts), _SEP.join(en_parts)
        found = [self._sound_pairs(zh), self._words(en)]  # English inside Chinese lines added nothing
        terms = np.concatenate([t for t, _ in found])
        segment = np.concatenate([s for _, s in found]).astype(np.uint64)
        card = np.uint64(first) + segment // np.uint64(_CLASSES)
        keys = (terms << np.uint64(_CARD_BITS + 3)) | (card << np.uint64(3)) | (segment % np.uint64(_CLASSES))
        keys.sort()
        cls = (keys & np.uint64(7)).astype(np.intp)
        pair = keys >> np.uint64(3)
        starts = np.flatnonzero(np.concatenate([[len(pair) > 0], pair[1:] != pair[:-1]]))
        count = np.add.reduceat((cls <= KEYWORDS).astype(np.int32), starts) if len(starts) else cls[:0]
        weight = CLASS_WEIGHT[cls[starts]] * (1 + TF_BOOST * np.log(np.maximum(count, 1)))
        quantised = np.clip(np.rint(weight * 100), 1, 255).astype(np.uint64)
        return (pair[starts] << np.uint64(8)) | quantised

    def _sound_pairs(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term, segment) of every pair of adjacent Chinese syllables."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        cjk = ((codes >= 0x3400) & (codes <= 0x9FFF)) | ((codes >= 0xF900) & (codes <= 0xFAFF))
        SOUNDS.fill(codes[cjk])
        sound = np.zeros(len(codes), dtype=np.uint64)
        sound[cjk] = SOUNDS.table[codes[cjk]]
        at = np.flatnonzero((sound[:-1] != 0) & (sound[1:] != 0))
        terms = np.uint64(_SOUND) | (sound[at] << np.uint64(12)) | sound[at + 1]
        return terms, np.searchsorted(np.flatnonzero(codes == 0), at)

    def _words(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term, segment) of every English word that is not a stop word."""
        keys, segment = _word_keys(text)
        both = np.sort((keys << np.uint64(16)) | segment.astype(np.uint64))
        key = both >> np.uint64(16)
        starts = np.flatnonzero(np.concatenate([[len(key) > 0], key[1:] != key[:-1]]))
        distinct = key[starts].tolist()
        known = map(self.word_ids.get, distinct)  # C-level; only new words take the slow path
        ids = np.array(
            [self._word_id(k) if i is None else i for k, i in zip(distinct, known, strict=True)],
            dtype=np.int64,
        )
        word = np.repeat(ids, np.diff(np.append(starts, len(key))))
        keep = word >= 0
        return np.uint64(_WORD) | word[keep].astype(np.uint64), (both & np.uint64(0xFFFF))[keep]

    def _word_id(self, key: int) -> int:
        wid = self.word_ids.get(key)
        if wid is None:
            word = _key_word(key)
            wid = -1 if word in _STOP else self.stem_ids.setdefault(_stem(word), len(self.stem_ids))
            self.word_ids[key] = wid
        return wid

    def _postings(self, batches: list[np.ndarray]) -> None:
        """Term-major postings (compressed sparse rows) from the batches' keys. One scratch
        array at a time: on a large library the keys are tens of megabytes."""
        pairs = np.concatenate(batches) if batches else np.zeros(0, dtype=np.uint64)
        batches.clear()
        pairs.sort()
        n = max(1, len(self.card_ids))
        scratch = pairs >> np.uint64(_CARD_BITS + 8)  # the term
        starts = np.flatnonzero(np.concatenate([[len(pairs) > 0], scratch[1:] != scratch[:-1]]))
        self.term_keys = scratch[starts]
        df = np.diff(np.append(starts, len(pairs)))
        self.idf = np.log1p(n / np.maximum(df, 1))
        np.right_shift(pairs, np.uint64(8), out=scratch)
        np.bitwise_and(scratch, np.uint64((1 << _CARD_BITS) - 1), out=scratch)
        card = scratch.astype(np.uint32)
        np.bitwise_and(pairs, np.uint64(0xFF), out=scratch)
        weight = scratch.astype(np.uint8)
        del pairs, scratch
        sizes = np.bincount(card, weights=weight, minlength=n) / 100
        self.inv_norm = 1 / ((1 - LEN_NORM) + LEN_NORM * sizes / (sizes.mean() or 1.0)) / 100
        # Very common terms do not generate candidates (keeps big libraries fast).
        common = df > max(50, n // 5)
        keep = np.repeat(~common, df)
        self.offsets = np.concatenate([[0], np.cumsum(np.where(common, 0, df))])
        self.post_card = card[keep].astype(np.uint16 if n <= 0xFFFF else np.uint32)
        self.post_weight = weight[keep]

    # ------------------------------------------------------------ query

    def query_terms(self, text: str) -> dict[int, float]:
        """The weighted term keys of a (normalised) query."""
        out: dict[int, float] = {}
        for run in _CJK_RUN.findall(text):
            ids = [SOUNDS.of(c) for c in run]
            for a, b in pairwise(ids):
                out[_SOUND | a << 12 | b] = 1.0
        for word in _WORD_RE.findall(text):
            terms = self._word_terms.get(word)
            if terms is None:
                terms = self._terms_of_word(word)
            for key, weight in terms:
                out[key] = max(out.get(key, 0.0), weight)
        return out

    def _terms_of_word(self, word: str) -> tuple[tuple[int, float], ...]:
        """An English query word's terms: its own stem's, or a misspelling's nearest known
        words'. Remembered: people ask with the same words over and over."""
        terms: tuple[tuple[int, float], ...] = ()
        if len(word) >= 2 and word not in _STOP:
            wid = self.word_ids.get(word_key(word))
            if wid is None:
                wid = self.stem_ids.get(_stem(word))
            if wid is not None:
                terms = ((_WORD | wid, 1.0),) if wid >= 0 else ()
            elif len(word) >= 4:
                near = process.extract(
                    _stem(word), self.vocab, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=2
                )
                terms = tuple((_WORD | sid, TYPO_WEIGHT * similarity / 100) for _, similarity, sid in near)
        if len(self._word_terms) >= WORD_MEMORY:
            self._word_terms.clear()
        self._word_terms[word] = terms
        return terms

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        query = query[:MAX_QUERY]
        lang = detect_lang(query) or "en"
        qn = normalize(query)
        q_terms = self.query_terms(qn)
        qn = query.lower()  # compared with card lines as written (not NFKC-folded)
        if not q_terms or not len(self.term_keys):
            return []
        keys = np.fromiter(q_terms, dtype=np.uint64, count=len(q_terms))
        q_weight = np.fromiter(q_terms.values(), dtype=np.float64, count=len(q_terms))
        at = np.minimum(np.searchsorted(self.term_keys, keys), len(self.term_keys) - 1)
        found = self.term_keys[at] == keys
        idf = np.where(found, self.idf[at], 1.0)
        q_mass = float((idf * q_weight).sum()) or 1.0
        lo, hi = self.offsets[at[found]], self.offsets[at[found] + 1]
        if not (hi > lo).any():
            return []
        spans = [slice(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        cards = np.concatenate([self.post_card[s] for s in spans])
        per_term = (idf * q_weight)[found][hi > lo]
        weights = np.concatenate([self.post_weight[s] for s in spans]) * np.repeat(
            per_term, hi[hi > lo] - lo[hi > lo]
        )
        overlap = np.bincount(cards, weights=weights, minlength=len(self.card_ids)) * self.inv_norm
        k = RERANK if len(qn) <= LONG_QUERY else RERANK_LONG
        top = np.flatnonzero(overlap)
        if len(top) > k:
            top = top[np.argpartition(overlap[top], -k)[-k:]]
        long = len(qn) > LONG_QUERY
        fw = FUZZ_WEIGHT_LONG if long else FUZZ_WEIGHT
        candidates = top.tolist()
        mixed = lang == "zh" and _WORD_RE.search(qn) is not None
        fz, matched = self.ranker.best_lines(qn, "mixed" if mixed else lang, candidates, long)
        hits = []
        for idx, f, m in zip(candidates, fz, matched, strict=True):
            saturated = 1 - math.exp(-COVERAGE_MULT * overlap[idx] / q_mass)
            score = 100 * ((1 - fw) * saturated + fw * f / 100)
            hits.append(Hit(self.card_ids[idx], score, lang, m))
        hits.sort(key=lambda h: (-h.score, h.card_id))
        return hits[:limit]

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
