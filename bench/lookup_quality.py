"""Lookup quality on the labelled evaluation set: top-1 / top-3 overall, by kind and language.

    python bench/lookup_quality.py [--failures]

The set (tests/data/lookup_eval.yaml) was written from the catalog and content brief
without reading the card texts, so it measures generalisation, not recall of our wording.
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
from bot.core.search import SearchIndex  # noqa: E402

EVAL_FILE = ROOT / "tests" / "data" / "lookup_eval.yaml"


@dataclass(frozen=True)
class Result:
    query: str
    card: str
    kind: str
    got: tuple[str, ...]

    @property
    def top1(self) -> bool:
        return bool(self.got) and self.got[0] == self.card

    @property
    def top3(self) -> bool:
        return self.card in self.got[:3]


def evaluate(index: SearchIndex, path: Path = EVAL_FILE) -> list[Result]:
    queries = yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    return [
        Result(q["q"], q["card"], q["kind"], tuple(h.card_id for h in index.search(q["q"], limit=3)))
        for q in queries
    ]


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
    print(f"{'group':<10} {'n':>4} {'top-1':>7} {'top-3':>7}")
    print(f"{'all':<10} {len(results):>4} {rate(results, 'top1'):>7.1%} {rate(results, 'top3'):>7.1%}")
    for kind, rs in sorted(groups.items()):
        print(f"{kind:<10} {len(rs):>4} {rate(rs, 'top1'):>7.1%} {rate(rs, 'top3'):>7.1%}")
    if args.failures:
        for r in results:
            if not r.top1:
                mark = "3" if r.top3 else "x"
                print(f"[{mark}] {r.query}\n    want {r.card}\n    got  {', '.join(r.got)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
