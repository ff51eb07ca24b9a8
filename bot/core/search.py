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
import mmap
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
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
FUZZ_WEIGHT = 0.45
FUZZ_WEIGHT_LONG = 0.2
LONG_QUERY = 40  # characters; beyond this a message is a ramble, not a quote
COVERAGE_MULT = 3.0  # how fast coverage of the query saturates (1 - e^-kx): more evidence wins ties
RERANK = 10  # candidates re-ranked by line similarity
RERANK_LONG = 5  # for long messages, where line similarity weighs less
TF_BOOST = 0.1  # weight of how many of a card's lines carry a term
LEN_NORM = 0.3  # BM25-style length normalisation of a card's term mass
UNKNOWN_WEIGHT = 0.75  # of the rarest term's idf, for a query term no card has
TYPO_WEIGHT = 0.8  # a misspelt English word counts this much of the word it stands for
TYPO_CUTOFF = 75.0  # how alike (rapidfuzz ratio) a misspelling and a known word must be
WORD_MEMORY = 20_000  # distinct query words whose terms are remembered (a few MB at most)
CHUNK = 256  # cards indexed per batch: bounds the temporary arrays (at most 256: see _Pending)

# Term keys: kind << 24 | payload.
_SOUND, _WORD = 1 << 24, 2 << 24
_UNKNOWN = 3 << 24  # stands for the query's English words that no card uses (no posting has it)
# A term's place in a card, as the low bits of the sort key: each look-up text's field
# (title, customer lines, keywords, thirty seconds) x 2, and the playbook's tags (5) between
# keywords and thirty seconds, so the smallest code of a (term, card) is its strongest class.
_FIELDS = 4  # look-up texts per card and language
_TAG_CODE = 5
_CODE_CLASS = np.array([LINES, 0, LINES, 0, KEYWORDS, TAGS, BODY, 0])
_SAID = 4  # codes up to this one are a card's lines or keywords
_CODE_BITS = 3
_LOCAL_BITS = (CHUNK - 1).bit_length()  # a card's position in its batch
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


_IS_CJK = np.zeros(0x10000, dtype=bool)
_IS_CJK[0x3400:0xA000] = _IS_CJK[0xF900:0xFB00] = True


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
        if _IS_CJK[code]:  # the table stays 0 for anything else: the index build relies on it
            self.table[code] = sid
            self.known[code] = True
        return sid

    def fill(self, codes: np.ndarray) -> None:
        """Learn the Chinese characters among `codes` (below 0x10000) not seen before."""
        new = codes[_IS_CJK.take(codes) & ~self.known.take(codes)]
        for code in _distinct(new).tolist():
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
_LETTERS = _LETTER.tobytes()  # the same, as a `bytes.translate` table


def word_key(word: str) -> int:
    """The first 8 letters of a lowercase ASCII word as one integer (base 37). Longer words
    that share 8 letters share a key, which mostly joins words of one root."""
    key = 0
    for k in range(_KEY_LEN):
        key = key * 37 + (_ALPHABET.index(word[k]) if k < len(word) else 0)
    return key


def _key_words(keys: np.ndarray) -> list[str]:
    """The words (their first 8 letters) that `word_key` gave these keys."""
    digits = keys[:, None] // _DIGIT_VALUES % np.uint64(37)
    text = _ALPHABET_CODES.take(digits).tobytes().decode("ascii")
    return [text[i : i + _KEY_LEN].rstrip() for i in range(0, len(text), _KEY_LEN)]


_DIGIT_VALUES = np.uint64(37) ** np.arange(_KEY_LEN - 1, -1, -1, dtype=np.uint64)
_ALPHABET_CODES = np.frombuffer(_ALPHABET.encode("ascii"), dtype=np.uint8)


def _word_keys(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(key, segment) of every word of 2+ letters in `_SEP`-separated UTF-8 text (any case;
    any other character, ASCII or not, ends a word)."""
    val = np.frombuffer(b"\0" + text.translate(_LETTERS) + bytes(_KEY_LEN), dtype=np.uint8)
    letter = val > 0
    edges = np.flatnonzero(letter[1:] != letter[:-1]) + 1  # where words start and end, in turn
    starts, lens = edges[0::2], edges[1::2] - edges[0::2]
    long_enough = lens >= 2
    starts, lens = starts[long_enough], lens[long_enough]
    # the 8 bytes from each place as one number (an overlapping view), then each word's
    # first letters as 8 columns of bytes: gathering one number a word is the fast way
    eights = np.ndarray((len(val) - _KEY_LEN + 1,), dtype="<u8", buffer=val, strides=(1,))
    words = eights[starts]
    np.bitwise_and(words, _FIRST_BYTES.take(np.minimum(lens, _KEY_LEN)), out=words)  # the rest is padding
    letters = words.view(np.uint8).reshape(-1, _KEY_LEN)
    keys = letters[:, 0].astype(np.uint64)
    for k in range(1, _KEY_LEN):  # column by column: no temporary array of 8 numbers a word
        keys *= np.uint64(37)
        keys += letters[:, k]
    return keys, _segment_of(starts, np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == 0) + 1)


_FIRST_BYTES = np.array([(1 << 8 * n) - 1 for n in range(_KEY_LEN)] + [2**64 - 1], dtype="<u8")


def _segment_of(places: np.ndarray, seps: np.ndarray) -> np.ndarray:
    """For sorted places in a text, how many separators (at sorted `seps`) come before each."""
    before = np.bincount(np.searchsorted(places, seps), minlength=len(places) + 1)[: len(places)]
    return np.cumsum(before, dtype=np.uint16)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: `np.unique` without its import of numpy.ma (half a megabyte)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _tag_keys(terms: np.ndarray, group: np.ndarray, card_group: np.ndarray) -> np.ndarray:
    """Sort keys of the terms of each playbook's tags (`group`: which of the batch's
    playbooks) for each of the batch's cards of that playbook."""
    pairs = _distinct((terms << np.uint64(_LOCAL_BITS)) | group.astype(np.uint64))
    group = (pairs & np.uint64(CHUNK - 1)).astype(np.intp)
    size = np.bincount(card_group, minlength=int(group.max(initial=-1)) + 1)
    member = np.argsort(card_group, kind="stable").astype(np.uint64)  # the cards, playbook by playbook
    reps = size[group]
    at = np.repeat(np.cumsum(size)[group] - np.cumsum(reps), reps) + np.arange(reps.sum())
    term = np.repeat(pairs >> np.uint64(_LOCAL_BITS), reps)
    keys = term << np.uint64(_LOCAL_BITS + _CODE_BITS)
    keys |= member[at] << np.uint64(_CODE_BITS)
    return keys | np.uint64(_TAG_CODE)


def _quantised(code: np.ndarray, count: np.ndarray) -> np.ndarray:
    """A posting's weight x100 in a byte, from its strongest code and how many of the
    card's lines and keywords say the term."""
    weight = CLASS_WEIGHT[_CODE_CLASS[code]] * (1 + TF_BOOST * np.log(np.maximum(count, 1)))
    return np.clip(np.rint(weight * 100), 1, 255).astype(np.uint8)


_COUNTS = 64  # weights of counts below this are looked up, not computed
_WEIGHTS = _quantised(np.repeat(np.arange(8), _COUNTS), np.tile(np.arange(_COUNTS, dtype=np.int32), 8))


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


class _WordIds:
    """Word key -> stem id during the index build, for a whole batch of words at once: a
    hash table of the words seen so far. A word not in it (new, or its slot taken) is
    resolved one by one, in key order, so new words get ids in the same order every time."""

    BITS = 16
    EMPTY = np.uint64(2**64 - 1)  # no word's key (37**8 < 2**42)
    MULT = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, resolve: Callable[[np.ndarray], np.ndarray]):
        self.keys = np.full(1 << self.BITS, self.EMPTY, dtype=np.uint64)
        self.ids = np.zeros(1 << self.BITS, dtype=np.int32)
        self.resolve = resolve

    def slot(self, keys: np.ndarray) -> np.ndarray:
        hashed = keys * self.MULT
        hashed >>= np.uint64(64 - self.BITS)
        return hashed.view(np.int64)  # below 2**BITS: the same number

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        slot = self.slot(keys)
        ids = self.ids.take(slot)
        miss = self.keys.take(slot) != keys
        if miss.any():
            missed = keys[miss]
            distinct = _distinct(missed)
            found = self.resolve(distinct)
            ids[miss] = found[np.searchsorted(distinct, missed)]
            slots = self.slot(distinct).tolist()
            for key, wid, slot in zip(distinct.tolist(), found.tolist(), slots, strict=True):
                if self.keys[slot] == self.EMPTY:  # the first word for a slot keeps it
                    self.keys[slot], self.ids[slot] = key, wid
        return ids


class _Growing:
    """An array appended to batch after batch, in an anonymous memory map of its own: a page
    costs memory only once written, and the whole map goes back to the system when closed.
    On the heap, these arrays would lie among the batches' temporary arrays and keep the
    heap from shrinking (and numpy would ask for huge pages for a large one)."""

    def __init__(self, dtype: type, room: int):
        self.dtype = np.dtype(dtype)
        self.map = mmap.mmap(-1, max(room, 4096) * self.dtype.itemsize)
        self.size = 0

    def add(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end * self.dtype.itemsize > len(self.map):  # rare: the room is generous
            grown = mmap.mmap(-1, 2 * max(end * self.dtype.itemsize, len(self.map)))
            grown[: self.size * self.dtype.itemsize] = self.map[: self.size * self.dtype.itemsize]
            self.map.close()
            self.map = grown
        offset = self.size * self.dtype.itemsize
        np.frombuffer(self.map, self.dtype, count=len(values), offset=offset)[:] = values
        self.size = end

    def values(self) -> np.ndarray:
        """The array so far (a view: `close` only once no view is left)."""
        return np.frombuffer(self.map, self.dtype, count=self.size)

    def close(self) -> None:
        self.map.close()


class _Pending:
    """Every batch's postings until all batches are read; per batch, term-major: its sorted
    distinct terms with how many of its cards have each (less one), then per posting the
    card (its place in the batch) and weight. A byte holds both place and count: CHUNK <= 256."""

    TERMS, POSTINGS = 200, 600  # room per card, in address space (cards have used ~50-150 and ~350)

    def __init__(self, cards: int) -> None:
        self.terms = _Growing(np.uint32, self.TERMS * cards)
        self.counts = _Growing(np.uint8, self.TERMS * cards)  # cards with the term, less one
        self.cards = _Growing(np.uint8, self.POSTINGS * cards)
        self.weights = _Growing(np.uint8, self.POSTINGS * cards)  # quantised (x100)
        self.sizes = np.zeros(cards)  # per card, the sum of its postings' weights
        self.batches: list[tuple[int, int]] = []  # per batch: how many terms, how many postings

    def add(self, terms: np.ndarray, counts: np.ndarray, cards: np.ndarray, weights: np.ndarray) -> None:
        """A batch's distinct terms and how many of its cards have each, and its postings."""
        first = len(self.batches) * CHUNK
        self.terms.add(terms)
        self.counts.add(counts - 1)
        self.cards.add(cards)
        self.weights.add(weights)
        sizes = self.sizes[first : first + CHUNK]
        sizes += np.bincount(cards, weights=weights, minlength=CHUNK)[: len(sizes)]
        self.batches.append((len(terms), len(cards)))

    def spans(self) -> Iterator[tuple[int, slice, slice]]:
        """(first card, its terms, its postings) of each batch."""
        t = p = 0
        for b, (n_terms, n_postings) in enumerate(self.batches):
            yield b * CHUNK, slice(t, t + n_terms), slice(p, p + n_postings)
            t, p = t + n_terms, p + n_postings


class SearchIndex:
    """Built once per Library; searching is read-only and thread-safe."""

    def __init__(self, lib: Library):
        self.lib = lib
        self.card_ids: list[str] = []
        self.word_ids: dict[int, int] = {}  # word key -> stem id (-1: a stop word)
        self.stem_ids: dict[str, int] = {}
        self._word_terms: dict[str, tuple[tuple[int, float], ...]] = {}  # see _terms_of_word
        tags = {
            pid: tuple(
                ("\n".join([pb.title.get(lang), *pb.tags.get(lang)]).replace(_SEP, " ") + _SEP).encode()
                for lang in ("zh", "en")
            )
            for pid, pb in lib.playbooks.items()
        }
        pending = _Pending(len(lib.cards))
        words = _WordIds(self._word_id_of)
        for refs, zh, en in lib.lookup_batches(CHUNK):
            terms, segment = self._terms(refs, zh, en, tags, words)
            self._index_batch(refs, terms, segment, pending)
            self.card_ids += refs
        del words  # its tables are not needed any more
        self.vocab = list(self.stem_ids)
        self._postings(pending)
        self.ranker = LineRanker(lib, self.card_ids)

    # ------------------------------------------------------------ build

    def _terms(
        self, refs: list[str], zh: bytes, en: bytes, tags: dict[str, tuple[bytes, bytes]], words: _WordIds
    ) -> tuple[np.ndarray, np.ndarray]:
        """(term, segment) of every term of a batch of cards. Segments are the cards'
        look-up texts in order (`_FIELDS` per card), then the tags of each of the batch's
        playbooks in order of first appearance (read once per batch, not once per card)."""
        playbooks = dict.fromkeys(ref.split("/", 1)[0] for ref in refs)
        zh += b"".join(tags[pid][0] for pid in playbooks)
        en += b"".join(tags[pid][1] for pid in playbooks)
        # English words inside Chinese texts are not indexed: indexing them found nothing more
        found = [self._sound_pairs(zh.decode()), self._words(en, words)]
        return np.concatenate([t for t, _ in found]), np.concatenate([s for _, s in found])

    def _index_batch(self, refs: list[str], terms: np.ndarray, segment: np.ndarray, into: _Pending) -> None:
        """Each (term, card) of a batch of cards once, weighted by the strongest field class
        it is in and how often lines and keywords say it. A playbook's tags are given to
        each of its cards."""
        n = len(refs)
        playbook = [ref.split("/", 1)[0] for ref in refs]
        group_of = {pid: g for g, pid in enumerate(dict.fromkeys(playbook))}
        own = segment < n * _FIELDS
        card_group = np.fromiter(map(group_of.__getitem__, playbook), dtype=np.intp, count=n)
        tagged = _tag_keys(terms[~own], segment[~own] - n * _FIELDS, card_group)
        keys = np.empty(np.count_nonzero(own) + len(tagged), dtype=np.uint64)
        mine = keys[: len(keys) - len(tagged)]
        # (segment = card x _FIELDS + field) << 1 is card << _CODE_BITS | field x 2
        np.left_shift(terms[own], np.uint64(_LOCAL_BITS + _CODE_BITS), out=mine, dtype=np.uint64)
        mine |= segment[own].astype(np.uint64) << np.uint64(1)
        keys[len(mine) :] = tagged
        del mine, tagged, own
        keys.sort()
        code = (keys & np.uint64(7)).astype(np.uint8)
        keys >>= np.uint64(_CODE_BITS)  # term << _LOCAL_BITS | card
        starts = np.flatnonzero(np.concatenate([[len(keys) > 0], keys[1:] != keys[:-1]]))
        said = np.cumsum(code <= _SAID, dtype=np.int32)
        count = np.diff(said[np.append(starts[1:], len(keys)) - 1], prepend=0) if len(keys) else said
        code = code[starts]
        weight = _WEIGHTS[code.astype(np.intp) * _COUNTS + np.minimum(count, _COUNTS - 1)]
        if len(count) and count.max() >= _COUNTS:
            weight = _quantised(code.astype(np.intp), count)
        pair = keys[starts]
        del keys, starts, said, code
        card = (pair & np.uint64(CHUNK - 1)).astype(np.uint8)
        term = (pair >> np.uint64(_LOCAL_BITS)).astype(np.uint32)
        term_starts = np.flatnonzero(np.concatenate([[len(term) > 0], term[1:] != term[:-1]]))
        counts = np.diff(np.append(term_starts, len(term)))
        into.add(term[term_starts], counts, card, weight)

    def _sound_pairs(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term, segment) of every pair of adjacent Chinese syllables."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        small = np.minimum(codes, 0xFFFF)  # beyond: not Chinese, like 0xFFFF
        SOUNDS.fill(small)
        sound = SOUNDS.table.take(small)  # 0 for what is not Chinese
        del small
        voiced = sound != 0
        at = np.flatnonzero(voiced[:-1] & voiced[1:])
        terms = sound[at].astype(np.uint32) << np.uint32(12)
        terms |= sound[at + 1]
        terms |= np.uint32(_SOUND)
        return terms, _segment_of(at, np.flatnonzero(codes == 0))

    def _words(self, text: bytes, words: _WordIds) -> tuple[np.ndarray, np.ndarray]:
        """(term, segment) of every English word that is not a stop word."""
        keys, segment = _word_keys(text)
        word = words(keys)
        keep = word >= 0
        return np.uint32(_WORD) | word[keep].astype(np.uint32), segment[keep]

    def _word_id_of(self, keys: np.ndarray) -> np.ndarray:
        """The stem id (-1: a stop word) of each word key, in order; a new word gets the next id."""
        ids = []
        for key, word in zip(keys.tolist(), _key_words(keys), strict=True):
            wid = self.word_ids.get(key)
            if wid is None:
                wid = -1 if word in _STOP else self.stem_ids.setdefault(_stem(word), len(self.stem_ids))
                self.word_ids[key] = wid
            ids.append(wid)
        return np.array(ids, dtype=np.int32)

    def _postings(self, pending: _Pending) -> None:
        """Term-major postings (compressed sparse rows): each batch's postings are placed at
        once where its terms' postings go; no array of every posting's key is built, nor any
        sort of all postings. Weights are placed, then cards, each store closed as soon as
        it is placed, so that few arrays are held at once."""
        n = max(1, len(self.card_ids))
        terms, counts = pending.terms.values(), pending.counts.values()
        keys = _distinct(terms)
        place = np.empty(len(terms), dtype=np.uint16 if len(keys) <= 0x10000 else np.uint32)  # in `keys`
        df = np.zeros(len(keys), dtype=np.int64)
        for _, ts, _ in pending.spans():
            place[ts] = np.searchsorted(keys, terms[ts])
            df[place[ts]] += counts[ts].astype(np.int64) + 1  # a batch has each term once
        del terms
        pending.terms.close()
        self.term_keys = keys.astype(np.uint64)
        self.idf = np.log1p(n / np.maximum(df, 1))
        # A query term no card has says the query is (partly) about something else: it
        # weighs in the query's mass nearly as much as the rarest term a card does have.
        self.unknown_idf = float(np.log1p(n)) * UNKNOWN_WEIGHT
        sizes = np.zeros(n)
        sizes[: len(self.card_ids)] = pending.sizes
        sizes /= 100
        self.inv_norm = 1 / ((1 - LEN_NORM) + LEN_NORM * sizes / (sizes.mean() or 1.0)) / 100
        # Very common terms do not generate candidates (keeps big libraries fast).
        common = df > max(50, n // 5)
        self.offsets = np.concatenate([[0], np.cumsum(np.where(common, 0, df))])
        self.post_weight = self._place(pending, place, common, pending.weights, np.uint8)
        card_type = np.uint16 if n <= 0xFFFF else np.uint32
        self.post_card = self._place(pending, place, common, pending.cards, card_type)
        del counts
        pending.counts.close()

    def _place(
        self, pending: _Pending, place: np.ndarray, common: np.ndarray, store: _Growing, dtype: type
    ) -> np.ndarray:
        """One field of every pending posting, term-major (a card: its place in the index),
        and `store` closed."""
        out = np.empty(self.offsets[-1], dtype=dtype)
        fill = self.offsets[:-1].copy()  # where each term's next postings go
        counts, values = pending.counts.values(), store.values()
        for first, ts, ps in pending.spans():
            term = place[ts].astype(np.intp)
            count = counts[ts].astype(np.int64) + 1
            pos = np.repeat(fill[term] - (np.cumsum(count) - count), count) + np.arange(ps.stop - ps.start)
            keep = np.repeat(~common[term], count)
            kept = values[ps][keep]
            out[pos[keep]] = kept + np.uint32(first) if store is pending.cards else kept
            fill[term] += count
        del values
        store.close()
        return out

    # ------------------------------------------------------------ query

    def query_terms(self, text: str) -> dict[int, float]:
        """The weighted term keys of a (normalised) query."""
        out: dict[int, float] = {}
        for run in _CJK_RUN.findall(text):
            ids = [SOUNDS.of(c) for c in run]
            for a, b in pairwise(ids):
                out[_SOUND | a << 12 | b] = 1.0
        unknown = 0.0
        for word in _WORD_RE.findall(text):
            terms = self._word_terms.get(word)
            if terms is None:
                terms = self._terms_of_word(word)
            for key, weight in terms:
                out[key] = max(out.get(key, 0.0), weight)
            if len(word) >= 2 and word not in _STOP and not word.isdigit():
                unknown += 1.0 - max((w for _, w in terms), default=0.0)
        if unknown > 0:
            out[_UNKNOWN] = unknown
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
        idf = np.where(found, self.idf[at], self.unknown_idf)
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
