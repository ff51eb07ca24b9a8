"""Load a content directory into one immutable, fully validated `Library`.

A content directory holds `playbooks/*.yaml`, `scenarios/*.yaml` and `checks/*.yaml`.
Every problem found is reported as `path:line: message`; a library with any problem is
never returned, so the bot keeps running on its last good one.
"""

from __future__ import annotations

import json
import re
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.content.models import (
    Card,
    Check,
    CheckFile,
    CheckUse,
    Playbook,
    Question,
    Scenario,
)
from bot.content.yamlio import YamlDoc, load_yaml
from bot.errors import ContentError, Problem

KINDS = ("checks", "playbooks", "scenarios")
#: "<playbook-id>/<card-id>" must fit Telegram's 64-byte button data with a short prefix.
CARD_REF_MAX = 58
_MODELS: dict[str, type[BaseModel]] = {"checks": CheckFile, "playbooks": Playbook, "scenarios": Scenario}


def _all_fields(model: type[BaseModel], seen: set[str] | None = None) -> set[str]:
    """Every field name reachable from `model`, for "did you mean" hints."""
    names: set[str] = set()
    stack: list[Any] = [model]
    visited: set[int] = set()
    while stack:
        tp = stack.pop()
        if id(tp) in visited:
            continue
        visited.add(id(tp))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for name, info in tp.model_fields.items():
                names.add(name)
                stack.append(info.annotation)
        for arg in getattr(tp, "__args__", ()) or ():
            stack.append(arg)
        for meta in getattr(tp, "__metadata__", ()) or ():
            stack.append(meta)
        origin = getattr(tp, "__origin__", None)
        if origin is not None:
            stack.append(origin)
    return names


_FIELD_NAMES = set().union(*(_all_fields(m) for m in _MODELS.values()))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    near = get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


# ---------------------------------------------------------------- compact cards
#
# Cards are most of a library's memory: as pydantic models a card costs ~15 KB for ~4 KB of
# text, so a 10,000-card library would need ~150 MB. After validation each playbook's cards
# are kept as zlib-compressed JSON in blocks of a few cards (cards of one playbook share words,
# so a block compresses better than single cards), and a card is decoded back to its `Card`
# model when used, through a small LRU cache. Content never changes: a reload builds new blocks.

BLOCK_CARDS = 16  # cards per compressed block: ~20 MB for 10,000 cards; larger blocks cost more per decode
ZLIB_LEVEL = 6
CARD_CACHE = 256  # decoded `Card` models kept (~15 KB each); a browse list needs at most one playbook's


#: The texts a card is looked up by, per language: title, customer lines (one per line),
#: keywords (one per line), 30-second version.
LOOKUP_FIELDS = ("title", "customer_lines", "keywords", "thirty_seconds")
LOOKUP_SEP = "\x00"


def lookup_texts(card: Card) -> list[str]:
    """A card's `LOOKUP_FIELDS` as 8 texts: zh, then en."""
    out = []
    for lang in ("zh", "en"):
        for name in LOOKUP_FIELDS:
            text = getattr(card, name).get(lang)
            out.append("\n".join(text) if isinstance(text, list) else text)
    return [t.replace(LOOKUP_SEP, " ") for t in out]


def _lookup_record(texts: list[str]) -> dict[str, Any]:
    """A card's `LOOKUP_FIELDS` as JSON data, from its 8 `lookup_texts`."""
    n, out = len(LOOKUP_FIELDS), {}
    for i, name in enumerate(LOOKUP_FIELDS):
        zh, en = texts[i], texts[n + i]
        if name in _LOOKUP_LISTS:
            zh, en = zh.split("\n"), en.split("\n")
        out[name] = {"zh": zh, "en": en}
    return out


_LOOKUP_LISTS = ("customer_lines", "keywords")  # joined by "\n" in `lookup_texts`
_CARD_FIELDS = tuple(Card.model_fields)


class _Block:
    """Up to `BLOCK_CARDS` cards of one playbook as one compressed JSON array, and where each
    card's JSON object starts and ends in it. Compared and hashed by identity (cache keys).

    A card's `LOOKUP_FIELDS` are stored once, in `lookup` (what the search index reads): they
    are about 40% of a card's compressed size. They stay in the card's JSON as well only if
    `lookup_texts` would not give them back exactly (a line with a newline in it, an empty line)."""

    __slots__ = ("blob", "lookup", "lookup_spans", "spans")

    def __init__(self, cards: list[Card]):
        per_card = [lookup_texts(card) for card in cards]
        parts = [
            card.model_dump_json(exclude=set(LOOKUP_FIELDS) if _restores(card, texts) else None).encode()
            for card, texts in zip(cards, per_card, strict=True)
        ]
        spans, at = [], 1
        for part in parts:
            spans += [at, at + len(part)]
            at += len(part) + 1
        self.blob = zlib.compress(b"[" + b",".join(parts) + b"]", ZLIB_LEVEL)
        self.spans = array("I", spans)
        # What a card is looked up by, apart: the search index reads only this, and
        # inflating and parsing every card's whole JSON would be most of its build time.
        # UTF-8, every text ended by LOOKUP_SEP; all cards' zh texts, then all cards' en
        # texts, so a run of cards' texts in one language is one slice (`lookup_spans`).
        n = len(LOOKUP_FIELDS)
        parts = [
            "".join(text + LOOKUP_SEP for text in texts[half : half + n]).encode()
            for half in (0, n)
            for texts in per_card
        ]
        self.lookup = zlib.compress(b"".join(parts), 1)
        self.lookup_spans = array("I", accumulate(map(len, parts), initial=0))

    def lookup_texts(self) -> list[str]:
        """`LOOKUP_FIELDS` texts of every card of the block, card after card (zh, then en)."""
        texts = zlib.decompress(self.lookup).decode().split(LOOKUP_SEP)
        n, half = len(LOOKUP_FIELDS), len(self.lookup_spans) // 2 * len(LOOKUP_FIELDS)
        return [t for i in range(0, half, n) for t in texts[i : i + n] + texts[half + i : half + i + n]]

    def lookup_slices(self, data: bytes, start: int, stop: int) -> tuple[bytes, bytes]:
        """The zh and the en look-up texts of cards `start:stop` from the inflated `lookup`."""
        spans, half = self.lookup_spans, len(self.lookup_spans) // 2
        return data[spans[start] : spans[stop]], data[spans[half + start] : spans[half + stop]]

    def records(self) -> list[dict[str, Any]]:
        """Every card of the block as plain JSON data, in order (no models built). Not
        through `_inflate`'s cache: reading every block would only evict the useful ones."""
        texts, n = self.lookup_texts(), 2 * len(LOOKUP_FIELDS)
        return [
            _complete(record, texts[i * n : i * n + n])
            for i, record in enumerate(json.loads(zlib.decompress(self.blob)))
        ]

    def record(self, index: int) -> dict[str, Any]:
        """One card as plain JSON data, fresh: the caller may change it."""
        record = json.loads(_inflate(self)[self.spans[2 * index] : self.spans[2 * index + 1]])
        n = 2 * len(LOOKUP_FIELDS)
        return _complete(record, _block_lookup(self)[n * index : n * index + n])


def _restores(card: Card, texts: list[str]) -> bool:
    """Whether the card's `LOOKUP_FIELDS` come back exactly from its `lookup_texts`."""
    return _lookup_record(texts) == card.model_dump(mode="json", include=set(LOOKUP_FIELDS))


def _complete(record: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """A card's stored JSON data with its `LOOKUP_FIELDS` put back, in the model's field order."""
    if LOOKUP_FIELDS[0] in record:  # stored whole
        return record
    record |= _lookup_record(texts)
    return {name: record[name] for name in _CARD_FIELDS}


@lru_cache(maxsize=4)
def _inflate(block: _Block) -> bytes:
    """The block's JSON; kept for the few last blocks, as a browse list reads a whole playbook."""
    return zlib.decompress(block.blob)


@lru_cache(maxsize=8)
def _block_lookup(block: _Block) -> list[str]:
    return block.lookup_texts()


@lru_cache(maxsize=CARD_CACHE)
def _decode(block: _Block, index: int) -> Card:
    return Card.model_validate(block.record(index))


@dataclass(frozen=True, slots=True)
class CardEntry:
    """A card with the playbook it belongs to. The card itself is stored compressed;
    `card` decodes it (cached), `record()` gives its plain data without a model."""

    playbook: Playbook
    id: str  # "<playbook-id>/<card-id>"
    _block: _Block = field(repr=False)  # compared by identity: same library, same card
    _index: int = field(repr=False)

    @property
    def card(self) -> Card:
        return _decode(self._block, self._index)

    def record(self) -> dict[str, Any]:
        """The card as plain JSON data (`card.model_dump(mode="json")`), never cached: the
        caller may change it."""
        return self._block.record(self._index)

    def lookup_texts(self) -> list[str]:
        """The card's `lookup_texts` (8 texts, zh then en), from its block's look-up texts
        (the last few blocks' are kept: candidates of one search often share a block)."""
        n = 2 * len(LOOKUP_FIELDS)
        return _block_lookup(self._block)[n * self._index : n * self._index + n]


def compact_playbook(pb: Playbook) -> tuple[Playbook, tuple[CardEntry, ...]]:
    """A validated playbook as kept in a `Library`: the playbook without its card models
    (they would all stay alive through it), and its cards as compact entries, in order."""
    slim = pb.model_copy(update={"cards": []})
    entries: list[CardEntry] = []
    n_blocks = max(1, -(-len(pb.cards) // BLOCK_CARDS))
    size = max(1, -(-len(pb.cards) // n_blocks))  # even blocks: no small last one
    for start in range(0, len(pb.cards), size):
        chunk = pb.cards[start : start + size]
        block = _Block(chunk)
        entries += [CardEntry(slim, f"{pb.id}/{card.id}", block, i) for i, card in enumerate(chunk)]
    return slim, tuple(entries)


@dataclass(frozen=True)
class Library:
    """All content, validated as a whole. Never mutated; reload builds a new one.

    `playbooks` hold no cards (`pb.cards` is empty): a playbook's cards, in file order, are
    `playbook_cards(pb.id)`, and every card by its "<playbook>/<card>" ref is in `cards`."""

    playbooks: dict[str, Playbook]
    scenarios: dict[str, Scenario]
    checks: dict[str, Check]
    cards: dict[str, CardEntry]
    cards_by_playbook: dict[str, tuple[CardEntry, ...]]
    questions: dict[str, tuple[Playbook, Question]]
    rubrics: dict[str, tuple[Check, ...]]
    scenarios_for_card: dict[str, tuple[str, ...]]
    files: tuple[str, ...] = field(default=())

    def card(self, ref: str) -> CardEntry | None:
        return self.cards.get(ref)

    def playbook_cards(self, pb_id: str) -> tuple[CardEntry, ...]:
        """The playbook's cards in file order (none for an unknown playbook)."""
        return self.cards_by_playbook.get(pb_id, ())

    def card_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(ref, the card as plain JSON data, as `card.model_dump(mode="json")`) for every
        card in `cards` order. Each block is inflated and parsed once, and no model is
        built. (The search index reads the lighter `lookup_batches`.)"""
        block, records = None, []
        for ref, entry in self.cards.items():
            if entry._block is not block:
                block = entry._block
                records = block.records()
            yield ref, records[entry._index]

    def lookup_batches(self, size: int) -> Iterator[tuple[list[str], bytes, bytes]]:
        """(refs, zh, en) for every `size` cards in `cards` order (the last batch may be
        smaller): the cards' `lookup_texts` in one language, card after card, as UTF-8 with
        each text ended by `LOOKUP_SEP`. What the search index reads: each block is inflated
        once and its texts are sliced, never decoded or split."""
        refs: list[str] = []
        runs: list[tuple[bytes, bytes]] = []  # (zh, en) of runs of consecutive cards of one block
        block, data, start, stop = None, b"", 0, 0
        for ref, entry in self.cards.items():
            if entry._block is not block or entry._index != stop:
                if block is not None and stop > start:
                    runs.append(block.lookup_slices(data, start, stop))
                if entry._block is not block:
                    block, data = entry._block, zlib.decompress(entry._block.lookup)
                start = stop = entry._index
            refs.append(ref)
            stop += 1
            if len(refs) == size:
                runs.append(entry._block.lookup_slices(data, start, stop))
                yield refs, b"".join(r[0] for r in runs), b"".join(r[1] for r in runs)
                refs, runs, start = [], [], stop
        if refs and block is not None:
            runs.append(block.lookup_slices(data, start, stop))
            yield refs, b"".join(r[0] for r in runs), b"".join(r[1] for r in runs)

    def node_rubric(self, scenario_id: str, node_id: str) -> tuple[Check, ...]:
        return self.rubrics[f"rp:{scenario_id}/{node_id}"]

    def question_rubric(self, qid: str) -> tuple[Check, ...]:
        return self.rubrics[f"qz:{qid}"]

    def summary(self) -> str:
        n_cards = len(self.cards)
        n_q = len(self.questions)
        return (
            f"{len(self.playbooks)} playbooks, {n_cards} cards, {n_q} quiz questions, "
            f"{len(self.scenarios)} scenarios, {len(self.checks)} shared checks"
        )


# ---------------------------------------------------------------- loading


@dataclass
class _Parsed:
    kind: str
    path: Path
    display: str
    doc: YamlDoc
    model: Any


def content_files(root: Path) -> list[tuple[str, Path]]:
    """The (kind, path) of every content file below a content directory."""
    found = []
    for kind in KINDS:
        folder = root / kind
        if folder.is_dir():
            found += [(kind, p) for p in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))]
    return found


def _kind_of(path: Path, data: Any) -> str | None:
    if path.parent.name in KINDS:
        return path.parent.name
    if isinstance(data, dict):
        if "cards" in data:
            return "playbooks"
        if "nodes" in data:
            return "scenarios"
        if "checks" in data:
            return "checks"
    return None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _pydantic_problems(exc: ValidationError, doc: YamlDoc, display: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = _data_path(doc.data, err["loc"])
        etype = err["type"]
        if etype == "extra_forbidden":
            name = str(loc[-1])
            msg = f"unknown field {name!r}{did_you_mean(name, _FIELD_NAMES)}"
        elif etype == "missing":
            name = str(err["loc"][-1])
            msg = f"missing field {name!r}"
            if name in ("zh", "en"):
                msg = f"missing {name!r} text: every text a user reads needs zh and en"
            loc = loc[:-1] if loc and loc[-1] == err["loc"][-1] else loc
        else:
            where = ".".join(str(p) for p in loc)
            msg = err["msg"].removeprefix("Value error, ")
            if etype == "string_pattern_mismatch":
                msg = "ids use lowercase letters, digits and '-' (at most 40 characters)"
            msg = f"{where}: {msg}" if where else msg
        problems.append(Problem(display, doc.line_of(loc), msg))
    return problems


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Keep only the parts of a pydantic error location that exist in the YAML data."""
    path: list[Any] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in ("check", "use"):
            path.append(part)  # a missing or unknown key: keep it for the message
            node = None
    return tuple(path)


def parse_files(files: list[tuple[str | None, Path]]) -> tuple[list[_Parsed], list[Problem], set[str]]:
    """Parse and shape-check each file. Also returns the stems of files that failed, so
    references into them are not reported twice."""
    parsed: list[_Parsed] = []
    problems: list[Problem] = []
    failed: set[str] = set()
    for kind, path in files:
        display = _display(path)
        doc, errs = load_yaml(path, display)
        if doc is None:
            problems += errs
            failed.add(f"{path.parent.name}/{path.stem}")
            continue
        kind = kind or _kind_of(path, doc.data)
        if kind is None:
            problems.append(Problem(display, 1, "not a playbook, scenario or checks file"))
            continue
        if not isinstance(doc.data, dict):
            problems.append(Problem(display, 1, f"a {kind[:-1]} file is a mapping of fields"))
            continue
        try:
            model = _MODELS[kind].model_validate(doc.data)
        except ValidationError as exc:
            problems += _pydantic_problems(exc, doc, display)
            failed.add(f"{path.parent.name}/{path.stem}")
            continue
        parsed.append(_Parsed(kind, path, display, doc, model))
    return parsed, problems, failed


def load_library(root: Path) -> Library:
    """Load and validate a whole content directory; raise `ContentError` on any problem."""
    files = content_files(root)
    if not files:
        raise ContentError([Problem(str(root), 1, "no playbooks/, scenarios/ or checks/ YAML found")])
    return build_library([(k, p) for k, p in files])


def build_library(files: list[tuple[str | None, Path]]) -> Library:
    parsed, problems, failed = parse_files(files)
    lib, more = _link(parsed, failed)
    problems += more
    if problems or lib is None:
        raise ContentError(problems)
    return lib


# ---------------------------------------------------------------- cross-file checks


def _link(parsed: list[_Parsed], failed: set[str]) -> tuple[Library | None, list[Problem]]:
    problems: list[Problem] = []

    def problem(p: _Parsed, path: tuple[Any, ...], msg: str) -> None:
        problems.append(Problem(p.display, p.doc.line_of(path), msg))

    checks: dict[str, Check] = {}
    check_home: dict[str, str] = {}
    playbooks: dict[str, Playbook] = {}
    scenarios: dict[str, Scenario] = {}
    homes: dict[tuple[str, str], _Parsed] = {}

    for p in parsed:
        problems += _zh_spacing_problems(p)
        if p.kind == "checks":
            for i, chk in enumerate(p.model.checks):
                if chk.id in checks:
                    problem(
                        p,
                        ("checks", i, "id"),
                        f"duplicate check id {chk.id!r} (also in {check_home[chk.id]})",
                    )
                checks[chk.id] = chk
                check_home[chk.id] = p.display
            continue
        model = p.model
        if p.path.stem != model.id:
            problem(
                p,
                ("id",),
                f"file name {p.path.name!r} differs from its id {model.id!r}; name it {model.id}.yaml",
            )
        table = playbooks if p.kind == "playbooks" else scenarios
        if model.id in table:
            problem(
                p,
                ("id",),
                f"duplicate {p.kind[:-1]} id {model.id!r} (also in {homes[(p.kind, model.id)].display})",
            )
            continue
        table[model.id] = model
        homes[(p.kind, model.id)] = p

    cards: dict[str, None] = {}  # every card ref, in order
    for pb in playbooks.values():
        seen: dict[str, int] = {}
        for i, card in enumerate(pb.cards):
            if card.id in seen:
                problem(homes[("playbooks", pb.id)], ("cards", i, "id"), f"duplicate card id {card.id!r}")
            seen[card.id] = i
            ref = f"{pb.id}/{card.id}"
            if len(ref) > CARD_REF_MAX:
                problem(
                    homes[("playbooks", pb.id)],
                    ("cards", i, "id"),
                    f"card id {ref!r} is {len(ref)} characters; buttons carry at most {CARD_REF_MAX}",
                )
            cards[ref] = None

    def resolve_card(p: _Parsed, path: tuple[Any, ...], ref: str, home_pb: str | None) -> str | None:
        full = ref if "/" in ref or home_pb is None else f"{home_pb}/{ref}"
        if full in cards:
            return full
        if f"playbooks/{full.split('/')[0]}" in failed:
            return None  # its playbook failed to load; that error is already reported
        problem(p, path, f"card {ref!r} does not exist{did_you_mean(full, cards)}")
        return None

    rubrics: dict[str, tuple[Check, ...]] = {}

    def resolve_rubric(p: _Parsed, path: tuple[Any, ...], items: list[Any]) -> tuple[Check, ...]:
        out: list[Check] = []
        ids: set[str] = set()
        for i, item in enumerate(items):
            if isinstance(item, CheckUse):
                base = checks.get(item.use)
                if base is None and any(f.startswith("checks/") for f in failed):
                    continue
                if base is None:
                    problem(
                        p,
                        (*path, i, "use"),
                        f"shared check {item.use!r} does not exist{did_you_mean(item.use, checks)}",
                    )
                    continue
                item = base if item.weight is None else base.model_copy(update={"weight": item.weight})
            if item.id in ids:
                problem(p, (*path, i), f"check {item.id!r} appears twice in this rubric")
            ids.add(item.id)
            out.append(item)
        if out and not any(c.kind != "red_flag" for c in out):
            problem(p, path, "a rubric needs at least one must or good check")
        return tuple(out)

    questions: dict[str, tuple[Playbook, Question]] = {}
    for pb in playbooks.values():
        p = homes[("playbooks", pb.id)]
        for i, card in enumerate(pb.cards):
            for j, ref in enumerate(card.related):
                full = resolve_card(p, ("cards", i, "related", j), ref, pb.id)
                if full == f"{pb.id}/{card.id}":
                    problem(p, ("cards", i, "related", j), "a card cannot be related to itself")
        for i, q in enumerate(pb.quiz):
            qid = f"{pb.id}/{q.id}"
            if qid in questions:
                problem(p, ("quiz", i, "id"), f"duplicate question id {q.id!r}")
            questions[qid] = (pb, q)
            resolve_card(p, ("quiz", i, "card"), q.card, pb.id)
            problems += _letter_problems(p, i, q)
            if q.kind == "text":
                rubrics[f"qz:{qid}"] = resolve_rubric(p, ("quiz", i, "rubric"), list(q.rubric))

    for sc in scenarios.values():
        p = homes[("scenarios", sc.id)]
        for j, ref in enumerate(sc.cards):
            resolve_card(p, ("cards", j), ref, None)
        for node_id, turn in sc.nodes.items():
            rubric = resolve_rubric(p, ("nodes", node_id, "rubric"), list(turn.rubric))
            rubrics[f"rp:{sc.id}/{node_id}"] = rubric
            if turn.next_step_due and rubric and not any(c.advance for c in rubric):
                problem(
                    p,
                    ("nodes", node_id, "next_step_due"),
                    "a turn where a next step is due needs a check with `advance: true`",
                )
        problems += _graph_problems(sc, p)

    scenarios_for_card: dict[str, list[str]] = {}
    for sc in scenarios.values():
        for ref in sc.cards:
            scenarios_for_card.setdefault(ref, []).append(sc.id)

    if problems:
        return None, problems
    slim, entries = _compact(playbooks)
    return (
        Library(
            playbooks=slim,
            scenarios=scenarios,
            checks=checks,
            cards={entry.id: entry for pb_entries in entries.values() for entry in pb_entries},
            cards_by_playbook=entries,
            questions={qid: (slim[pb.id], q) for qid, (pb, q) in questions.items()},
            rubrics=rubrics,
            scenarios_for_card={k: tuple(v) for k, v in scenarios_for_card.items()},
            files=tuple(p.display for p in parsed),
        ),
        [],
    )


def _compact(
    playbooks: dict[str, Playbook],
) -> tuple[dict[str, Playbook], dict[str, tuple[CardEntry, ...]]]:
    """Every validated playbook without its card models, and its cards as compact entries."""
    slim: dict[str, Playbook] = {}
    entries: dict[str, tuple[CardEntry, ...]] = {}
    for pid, pb in playbooks.items():
        slim[pid], entries[pid] = compact_playbook(pb)
    return slim, entries


def _graph_problems(sc: Scenario, p: _Parsed) -> list[Problem]:
    """Every link resolves, every node is reachable, and every path ends (no cycles)."""
    problems: list[Problem] = []
    targets = set(sc.nodes) | set(sc.endings)
    for name in set(sc.nodes) & set(sc.endings):
        problems.append(
            Problem(p.display, p.doc.line_of(("endings", name)), f"{name!r} is both a node and an ending")
        )
    if sc.start not in sc.nodes:
        problems.append(
            Problem(
                p.display,
                p.doc.line_of(("start",)),
                f"start node {sc.start!r} does not exist{did_you_mean(sc.start, sc.nodes)}",
            )
        )
        return problems
    for node_id, turn in sc.nodes.items():
        for outcome, target in turn.next.items():
            if target not in targets:
                problems.append(
                    Problem(
                        p.display,
                        p.doc.line_of(("nodes", node_id, "next", outcome)),
                        f"link {target!r} goes nowhere{did_you_mean(target, targets)}",
                    )
                )
    if problems:
        return problems

    # Depth-first walk from the start: colours find cycles, the visited set finds the unreachable.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def walk(node: str, trail: list[str]) -> None:
        if node in sc.endings or cycle:
            state[node] = 2
            return
        if state.get(node) == 1:
            cycle.extend([*trail[trail.index(node) :], node])
            return
        if state.get(node) == 2:
            return
        state[node] = 1
        for target in dict.fromkeys(sc.nodes[node].next.values()):
            walk(target, [*trail, node])
        state[node] = 2

    walk(sc.start, [])
    if cycle:
        problems.append(
            Problem(
                p.display,
                p.doc.line_of(("nodes", cycle[0])),
                "this path never ends: " + " -> ".join(cycle),
            )
        )
    for name in [*sc.nodes, *sc.endings]:
        if name not in state:
            section = "nodes" if name in sc.nodes else "endings"
            problems.append(
                Problem(p.display, p.doc.line_of((section, name)), f"{name!r} cannot be reached from start")
            )
    return problems


#: A folded (`>-`) line break turns into an ASCII space: "贵了两成多。 你要" reads as a typo.
_ZH_PUNCT_SPACE = re.compile(r"[，。？！；：、] ")
#: Options are shuffled and lettered at run time, so an explanation may not name them by letter:
#: "选A", "B 是", "A和C", "(C)", "option B", "B and D", "A, C".
_LETTERS = "A-H"
_LETTER_REF = {
    "zh": re.compile(
        rf"(?:选项|选|答案是?|答案为)\s*[{_LETTERS}](?![A-Za-z])|[（(][{_LETTERS}][)）]"
        rf"|(?<![A-Za-z0-9])[{_LETTERS}]\s*(?:是|为|和|与|或|、|，|对|错|正确|不对|项)"
    ),
    "en": re.compile(
        rf"\b(?i:options?|answers?|choices?)\s+[{_LETTERS}]\b|[（(][{_LETTERS}][)）]"
        rf"|(?<![Pp]lan )\b[{_LETTERS}]\s+(?:is|are|and|or)\b|\b[{_LETTERS}]\s*[,→>]\s*[{_LETTERS}]\b"
    ),
}


def _zh_spacing_problems(p: _Parsed) -> list[Problem]:
    """A space right after Chinese punctuation in any zh text (usually a folded line break)."""
    # Content loads at every start and /reload: pydantic's JSON (compiled) is scanned first, so
    # the walk that finds the lines runs only for a file that has the problem somewhere.
    if not _ZH_PUNCT_SPACE.search(p.model.model_dump_json()):
        return []
    found: dict[int, str] = {}
    for path, text in _zh_strings(p.model.model_dump(), ()):
        m = _ZH_PUNCT_SPACE.search(text)
        if m:
            snippet = text[max(0, m.start() - 6) : m.end() + 4]
            found.setdefault(p.doc.line_of(path), snippet)
    return [
        Problem(
            p.display,
            line,
            f"a space after Chinese punctuation in zh text ({snippet!r}); "
            "in a folded (>-) block every line break is a space: keep zh text on one line",
        )
        for line, snippet in found.items()
    ]


def _zh_strings(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "zh" and isinstance(item, str):
                yield (*path, key), item
            elif key == "zh" and isinstance(item, list):
                yield from (((*path, key, i), s) for i, s in enumerate(item) if isinstance(s, str))
            else:
                yield from _zh_strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _zh_strings(item, (*path, i))


def _letter_problems(p: _Parsed, index: int, q: Question) -> list[Problem]:
    """An explanation of a choice or ordering question that names options by their letter."""
    if q.kind not in ("single", "multiple", "order"):
        return []
    problems = []
    for lang in ("zh", "en"):
        hit = _letter_ref(q.explanation.get(lang), lang, [o.text.get(lang) for o in q.options])
        if hit:
            problems.append(
                Problem(
                    p.display,
                    p.doc.line_of(("quiz", index, "explanation", lang)),
                    f"the {lang} explanation names an option by letter ({hit!r}); options are "
                    "shuffled and lettered at run time: name the option itself",
                )
            )
    return problems


def _letter_ref(text: str, lang: str, options: list[str]) -> str | None:
    """The first letter reference in `text`: a letter shape, or a letter before an option's text
    ("A acquisition", "D衰退"). A bare "A" before an English consonant is the article."""
    m = _LETTER_REF[lang].search(text)
    if m:
        return m.group(0)
    for option in options:
        if lang == "zh":
            head, rx = option[:2], r"(?<![A-Za-z0-9])([{}])[.):：、]?\s*{}"
        else:
            head, rx = re.split(r"[^\w-]", option, maxsplit=1)[0], r"\b([{}])[.):]?\s+(?i:{})\b"
        if len(head.strip()) < 2 or head.lower() in ("the", "an"):
            continue
        rx = rx.format(_LETTERS, re.escape(head))
        for m in re.finditer(rx, text):
            if lang == "en" and m.group(1) == "A" and head[0].lower() not in "aeiou":
                continue
            return m.group(0)
    return None


def iter_texts(lib: Library) -> Iterator[str]:
    """Every user-facing string in the library (used by tests of size limits)."""
    for pb in lib.playbooks.values():
        data = pb.model_dump()
        data["cards"] = [entry.record() for entry in lib.playbook_cards(pb.id)]
        yield from _strings(data)
    for sc in lib.scenarios.values():
        yield from _strings(sc.model_dump())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
