"""The library keeps cards compressed: every way of reading a card gives what was validated."""

from __future__ import annotations

import gc
import shutil
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import REPO_ROOT, Settings
from bot.content import library
from bot.content.library import BLOCK_CARDS, Library, load_library
from bot.content.models import Card, Playbook
from tests.harness import BotHarness, User, button_data

TRAINEE = User(id=8811, first_name="T", language_code="en")
OBJECTIONS = "objection-handling"


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library(REPO_ROOT)


def _validated_playbooks() -> dict[str, Playbook]:
    """Every shipped playbook validated straight from its YAML, apart from the library."""
    out = {}
    for path in sorted((REPO_ROOT / "playbooks").glob("*.yaml")):
        pb = Playbook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        out[pb.id] = pb
    return out


def _copy_content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    for folder in ("playbooks", "scenarios", "checks"):
        shutil.copytree(REPO_ROOT / folder, content / folder)
    return content


def test_every_card_round_trips_to_the_validated_model(lib: Library) -> None:
    library._decode.cache_clear()  # decode each card from its block, not from an earlier test
    validated = _validated_playbooks()
    assert list(lib.playbooks) == list(validated)
    for pid, pb in validated.items():
        entries = lib.playbook_cards(pid)
        assert [e.id for e in entries] == [f"{pid}/{c.id}" for c in pb.cards]
        for entry, card in zip(entries, pb.cards, strict=True):
            assert entry.card == card
            assert entry.playbook is lib.playbooks[pid]
            assert lib.cards[entry.id] is entry
    assert list(lib.cards) == [e.id for pid in lib.playbooks for e in lib.playbook_cards(pid)]


def test_card_records_are_the_json_dump_of_every_card_in_order(lib: Library) -> None:
    validated = {f"{pid}/{c.id}": c for pid, pb in _validated_playbooks().items() for c in pb.cards}
    records = list(lib.card_records())
    assert [ref for ref, _ in records] == list(lib.cards) == list(validated)
    for ref, record in records:
        assert record == validated[ref].model_dump(mode="json")
        assert list(record) == list(Card.model_fields)  # same shape, same key order
        assert lib.cards[ref].record() == record


def test_records_are_fresh_data_the_caller_may_change(lib: Library) -> None:
    ref, record = next(lib.card_records())
    record["title"]["en"] = "changed"
    assert lib.cards[ref].record()["title"]["en"] != "changed"
    assert dict(lib.card_records())[ref]["title"]["en"] != "changed"
    assert lib.cards[ref].card.title.en != "changed"


def test_playbooks_and_questions_hold_no_card_models(lib: Library) -> None:
    for pb in lib.playbooks.values():
        assert pb.cards == []
    for pb, _ in lib.questions.values():
        assert pb is lib.playbooks[pb.id]
    library._decode.cache_clear()
    gc.collect()
    cards = [obj for obj in _reachable(lib) if isinstance(obj, Card)]
    assert cards == []


def _reachable(root: object) -> list[Any]:
    """Every object the library's own data reaches (classes, modules and functions excluded)."""
    seen: set[int] = set()
    out: list[Any] = []
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(obj))
        out.append(obj)
        stack += gc.get_referents(obj)
    return out


def test_blocks_hold_a_few_cards_of_one_playbook(lib: Library) -> None:
    for pid in lib.playbooks:
        blocks: dict[int, list[str]] = {}
        for entry in lib.playbook_cards(pid):
            blocks.setdefault(id(entry._block), []).append(entry.id)
        assert all(len(refs) <= BLOCK_CARDS for refs in blocks.values())
    data = _validated_playbooks()[OBJECTIONS].model_dump()
    shipped = data["cards"]
    data["cards"] = [{**shipped[i % len(shipped)], "id": f"c{i}", "related": []} for i in range(40)]
    big = Playbook.model_validate(data)
    slim, entries = library.compact_playbook(big)
    assert slim.cards == [] and [e.id for e in entries] == [f"{OBJECTIONS}/c{i}" for i in range(40)]
    sizes = {id(e._block): sum(x._block is e._block for x in entries) for e in entries}
    assert list(sizes.values()) == [14, 14, 12]  # near-even blocks: never a tiny last one
    assert [e.card.id for e in entries] == [f"c{i}" for i in range(40)]


async def test_browse_and_related_list_the_cards_in_file_order(settings: Settings, tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    path = content / "playbooks" / f"{OBJECTIONS}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    order = [c["id"] for c in data["cards"]]
    lonely = order[3]  # a card without `related`: its buttons are the playbook's other cards
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {lonely}")
    at = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("related:"))
    path.write_text("".join(lines[:at] + lines[at + 1 :]), encoding="utf-8")

    bot = await BotHarness.start(replace(settings, content_dir=content))
    try:
        listing = button_data(await bot.press(f"pb:{OBJECTIONS}", TRAINEE))
        assert listing == [*(f"cd:{OBJECTIONS}/{cid}" for cid in order), "pbs:"]
        related = button_data(await bot.press(f"rel:{OBJECTIONS}/{lonely}", TRAINEE))
        others = [f"cd:{OBJECTIONS}/{cid}" for cid in order if cid != lonely]
        assert related == [*others, f"cd:{OBJECTIONS}/{lonely}"]
    finally:
        await bot.stop()


def test_a_reload_reads_the_new_text_not_a_cached_card(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    path = content / "playbooks" / f"{OBJECTIONS}.yaml"
    ref = f"{OBJECTIONS}/price-too-high"
    old_lib = load_library(content)
    old_title = old_lib.cards[ref].card.title.zh  # now decoded and cached
    assert old_title in path.read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace(old_title, "客户嫌贵：重新加载"), "utf-8")

    new_lib = load_library(content)
    assert new_lib.cards[ref].card.title.zh == "客户嫌贵：重新加载"
    assert dict(new_lib.card_records())[ref]["title"]["zh"] == "客户嫌贵：重新加载"
    assert new_lib.cards[ref].record()["title"]["zh"] == "客户嫌贵：重新加载"
    assert old_lib.cards[ref].card.title.zh == old_title  # the old library is unchanged
    assert new_lib.cards[ref] != old_lib.cards[ref]


def test_the_generated_big_library_is_compact_and_complete(lib: Library) -> None:
    from bench.data import big_library

    big = big_library(lib, 180, per_playbook=40)
    assert len(big.cards) == 180
    assert list(big.cards) == [e.id for pid in big.playbooks for e in big.playbook_cards(pid)]
    assert all(pb.cards == [] for pb in big.playbooks.values())
    for ref, record in big.card_records():
        assert Card.model_validate(record).model_dump(mode="json") == record
        assert big.cards[ref].card.model_dump(mode="json") == record
