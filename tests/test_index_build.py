"""The search index reads the blocks' look-up texts in batches; what it builds does not
depend on how the cards fall into blocks and batches, and a card whose look-up texts would
not give its fields back exactly is stored whole."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bot.config import REPO_ROOT
from bot.content import library
from bot.content.library import LOOKUP_FIELDS, LOOKUP_SEP, Library, compact_playbook, load_library
from bot.content.models import Playbook
from bot.core import search
from bot.core.search import SearchIndex


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library(REPO_ROOT)


def _shuffled(lib: Library, seed: int) -> Library:
    """The same cards in another order: runs of a block's cards are cut and reordered."""
    refs = list(lib.cards)
    random.Random(seed).shuffle(refs)
    return replace(lib, cards={ref: lib.cards[ref] for ref in refs})


@pytest.mark.parametrize("size", [1, 7, 256])
def test_lookup_batches_give_each_cards_lookup_texts_in_order(lib: Library, size: int) -> None:
    shuffled = _shuffled(lib, seed=size)
    got_refs, got_texts = [], []
    for refs, zh, en in shuffled.lookup_batches(size):
        assert 0 < len(refs) <= size
        n = len(LOOKUP_FIELDS)
        zh_texts, en_texts = zh.decode().split(LOOKUP_SEP)[:-1], en.decode().split(LOOKUP_SEP)[:-1]
        assert len(zh_texts) == len(en_texts) == n * len(refs)
        got_refs += refs
        got_texts += [zh_texts[i : i + n] + en_texts[i : i + n] for i in range(0, len(zh_texts), n)]
    assert got_refs == list(shuffled.cards)
    assert got_texts == [entry.lookup_texts() for entry in shuffled.cards.values()]


def _postings_by_card(index: SearchIndex) -> dict[str, set[tuple[object, int]]]:
    """Every card's (term, weight) postings, whatever the order of cards and word ids."""
    out: dict[str, set[tuple[object, int]]] = {ref: set() for ref in index.card_ids}
    for t, key in enumerate(index.term_keys.tolist()):
        term = index.vocab[key & 0xFFFFFF] if key >> 24 == 2 else key  # a word: its stem
        lo, hi = index.offsets[t], index.offsets[t + 1]
        cards, weights = index.post_card[lo:hi].tolist(), index.post_weight[lo:hi].tolist()
        for card, weight in zip(cards, weights, strict=True):
            out[index.card_ids[card]].add((term, weight))
    return out


def test_the_index_does_not_depend_on_card_order_or_batch_size(
    lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = SearchIndex(lib)
    monkeypatch.setattr(search, "CHUNK", 16)  # many batches, with playbooks split across them
    other = SearchIndex(_shuffled(lib, seed=3))
    assert set(other.card_ids) == set(plain.card_ids)
    assert len(other.term_keys) == len(plain.term_keys)
    assert _postings_by_card(other) == _postings_by_card(plain)
    by_ref = dict(zip(plain.card_ids, plain.inv_norm.tolist(), strict=True))
    assert dict(zip(other.card_ids, other.inv_norm.tolist(), strict=True)) == pytest.approx(by_ref)


def test_every_card_is_found_by_its_playbooks_tags(lib: Library) -> None:
    index = SearchIndex(lib)  # tags are read once per batch, for all of a playbook's cards in it
    postings = _postings_by_card(index)
    posted = {term for terms in postings.values() for term, _ in terms}  # very common terms are not
    for pid, pb in lib.playbooks.items():
        words = {w[:8] for tag in pb.tags.en for w in search._WORD_RE.findall(tag.lower())}  # as keyed
        stems = {search._stem(w) for w in words if w not in search._STOP} & posted
        assert stems, pid
        for entry in lib.playbook_cards(pid):
            assert stems <= {term for term, _ in postings[entry.id]}, entry.id


def test_a_card_whose_lookup_texts_lose_something_is_stored_whole(lib: Library) -> None:
    pb = lib.playbooks["objection-handling"]
    record = lib.playbook_cards(pb.id)[0].record()
    record["customer_lines"]["en"] = ["two\nlines", "third"]  # a newline would split the line
    record["keywords"] = {"zh": [], "en": []}  # no keywords: not the same as one empty one
    odd = Playbook.model_validate({**pb.model_dump(mode="json"), "cards": [record]})
    _, (entry,) = compact_playbook(odd)
    library._decode.cache_clear()
    assert entry.record() == record
    assert entry.card.model_dump(mode="json") == record
    assert entry.lookup_texts()[5] == "two\nlines\nthird"


def test_the_postings_store_grows_past_its_first_room(lib: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = SearchIndex(lib)
    monkeypatch.setattr(search._Pending, "TERMS", 1)
    monkeypatch.setattr(search._Pending, "POSTINGS", 1)
    small = SearchIndex(lib)
    for name in ("term_keys", "offsets", "idf", "post_card", "post_weight", "inv_norm"):
        assert (getattr(small, name) == getattr(plain, name)).all(), name
