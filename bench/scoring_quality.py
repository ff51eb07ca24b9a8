"""Role-play scoring quality on the labelled replies: pass rates and the good/poor gap.

    python bench/scoring_quality.py [--misses]

The replies (tests/data/roleplay_labelled.yaml) were written from the catalog's scenario
descriptions without reading the rubrics; each is scored as the answer to the opening turn.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import REPO_ROOT  # noqa: E402
from bot.content.library import load_library  # noqa: E402
from bot.core.roleplay import score_opening  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "roleplay_labelled.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--misses", action="store_true", help="list good replies that fail and poor ones that pass"
    )
    parser.add_argument(
        "--file", type=Path, default=LABELLED, help="the labelled file (default: %(default)s)"
    )
    args = parser.parse_args()
    lib = load_library(REPO_ROOT)
    replies = yaml.safe_load(args.file.read_text(encoding="utf-8"))["replies"]
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    misses = []
    for r in replies:
        result = score_opening(lib, r["scenario"], r["reply"])
        by[(r["scenario"], r["label"])].append(result)
        if (r["label"] == "good") != result["passed"] and r["label"] != "borderline":
            misses.append((r, result))
    print(
        f"{'scenario':<26} {'good pass':>9} {'poor fail':>9} {'mean good':>9} {'mean poor':>9} {'gap':>5} {'border':>7}"
    )
    allg, allp = [], []
    for sid in sorted({s for s, _ in by}):
        g, p, b = by[(sid, "good")], by[(sid, "poor")], by[(sid, "borderline")]
        allg += g
        allp += p
        gp = sum(x["passed"] for x in g) / len(g)
        pf = sum(not x["passed"] for x in p) / len(p)
        mg, mp = mean(x["score"] for x in g), mean(x["score"] for x in p)
        mb = mean(x["score"] for x in b) if b else float("nan")
        print(f"{sid:<26} {gp:>9.0%} {pf:>9.0%} {mg:>9.1f} {mp:>9.1f} {mg - mp:>5.1f} {mb:>7.1f}")
    gp = sum(x["passed"] for x in allg) / len(allg)
    pf = sum(not x["passed"] for x in allp) / len(allp)
    mg, mp = mean(x["score"] for x in allg), mean(x["score"] for x in allp)
    print(f"{'all':<26} {gp:>9.0%} {pf:>9.0%} {mg:>9.1f} {mp:>9.1f} {mg - mp:>5.1f}")
    if args.misses:
        for r, result in misses:
            print(f"[{r['label']} {result['score']}] {r['scenario']}: {r['reply']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
