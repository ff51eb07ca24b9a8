"""Lookup quality on the labelled evaluation set: top-1 / top-3 overall, by kind and language.

    python bench/lookup_quality.py [--failures] [--file FILE]

The set (tests/data/lookup_eval.yaml) was written from the catalog and content brief
without reading the card texts, so it measures generalisation, not recall of our wording.
`shown` is what a trainee sees: the right card first and scoring at least MIN_SCORE (below
it the bot says it found nothing). The last line is the off-topic set
(tests/data/lookup_offtopic.yaml): greetings and chat that must get a hint, and other
messages that must open no card.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import REPO_ROOT  # noqa: E402
from bot.content.library import load_library  # noqa: E402
from bot.core.lookup import is_smalltalk  # noqa: E402
from bot.core.search import MIN_SCORE, SearchIndex  # noqa: E402

EVAL_FILE = ROOT / "tests" / "data" / "lookup_eval.yaml"
OFFTOPIC_FILE = ROOT / "tests" / "data" / "lookup_offtopic.yaml"


@dataclass(frozen=True)
class Result:
    query: str
    card: str
    kind: str
    got: tuple[str, ...]
    best: float = 0.0  # the first hit's score

    @property
    def shown(self) -> bool:
        return self.top1 and self.best >= MIN_SCORE

    @property
    def top1(self) -> bool:
        return bool(self.got) and self.got[0] == self.card

    @property
    def top3(self) -> bool:
        return self.card in self.got[:3]


def evaluate(index: SearchIndex, path: Path = EVAL_FILE) -> list[Result]:
    queries = yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    results = []
    for q in queries:
        hits = index.search(q["q"], limit=3)
        got = tuple(h.card_id for h in hits)
        results.append(Result(q["q"], q["card"], q["kind"], got, hits[0].score if hits else 0.0))
    return results


def offtopic(index: SearchIndex, path: Path = OFFTOPIC_FILE) -> list[tuple[str, str, str]]:
    """(query, kind, what the trainee gets: "hint", "card" or "no card") for each off-topic message."""
    out = []
    for q in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]:
        text = " ".join(q["q"].split())
        if is_smalltalk(text):
            got = "hint"
        else:
            hits = index.search(text, limit=1)
            got = "card" if hits and hits[0].score >= MIN_SCORE else "no card"
        out.append((q["q"], q["kind"], got))
    return out


def rate(results: list[Result], attr: str) -> float:
    return sum(getattr(r, attr) for r in results) / max(1, len(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list the queries that miss top-1")
    parser.add_argument(
        "--file", type=Path, default=EVAL_FILE, help="the labelled file (default: %(default)s)"
    )
    args = parser.parse_args()
    index = SearchIndex(load_library(REPO_ROOT))
    results = evaluate(index, args.file)
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        groups[r.kind].append(r)
    print(f"{'group':<10} {'n':>4} {'top-1':>7} {'top-3':>7} {'shown':>7}")
    for kind, rs in [("all", results), *sorted(groups.items())]:
        print(
            f"{kind:<10} {len(rs):>4} {rate(rs, 'top1'):>7.1%} {rate(rs, 'top3'):>7.1%} {rate(rs, 'shown'):>7.1%}"
        )
    if args.failures:
        for r in results:
            if not r.top1:
                mark = "3" if r.top3 else "x"
                print(f"[{mark}] {r.query}\n    want {r.card}\n    got  {', '.join(r.got)}")
    off = offtopic(index)
    chat = [got for _, kind, got in off if kind == "smalltalk"]
    other = [got for _, kind, got in off if kind != "smalltalk"]
    print(
        f"off-topic: {chat.count('hint')} of {len(chat)} greetings and chat get the hint; "
        f"{other.count('card')} of {len(other)} other messages open a card"
    )
    if args.failures:
        for query, kind, got in off:
            if got != ("hint" if kind == "smalltalk" else "no card"):
                print(f"[{kind}] {query!r}: {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
