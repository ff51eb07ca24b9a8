"""Realistic benchmark inputs, built from the shipped content and the labelled test data.

Everything is deterministic (seeded): two runs measure the same work.

- `queries(n)`: trainee look-ups derived from tests/data/lookup_eval.yaml plus variations
  (keyboard typos, near-homophone characters, long rambles, keyword fragments, noise).
- `big_library(n)`: the shipped library plus generated playbooks up to `n` cards, whose
  texts recombine clauses of every shipped text, so term statistics stay realistic.
- `answers(lib, n)`: (scenario, node, reply) role-play answers from the labelled replies.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
from collections import defaultdict
from pathlib import Path

import yaml

from bot.content.library import Library, compact_playbook
from bot.content.models import Playbook

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = ROOT / "tests" / "data" / "lookup_eval.yaml"
LABELLED = ROOT / "tests" / "data" / "roleplay_labelled.yaml"

_CJK = re.compile(r"[\u3400-\u9fff]")
_CLAUSE_SPLIT = re.compile(r"[，。？！；：、,.?!;:()（）“”\"]+")

# Chatty openings and endings trainees wrap around the customer's words.
_ZH_BEFORE = [
    "今天下午去拜访了一家客户，聊了快一个小时，",
    "刚打完电话，心里有点没底。",
    "领导让我明天再去一趟，",
    "跟对接人吃了顿饭，气氛还行，不过最后他说",
    "这个客户我跟了三个月了，一直不温不火，今天",
    "上午开会的时候，办公室主任突然来了一句：",
]
_ZH_AFTER = [
    "我该怎么回？",
    "这种情况一般怎么接比较好？",
    "我当时愣住了，没接上话。",
    "明天还要见他，急！",
    "有没有现成的话术？",
    "",
]
_EN_BEFORE = [
    "Quick one before my next call. ",
    "Met the IT manager at a logistics firm this morning, nice guy, we talked for ages, and then ",
    "So I've been chasing this account for three months and today ",
    "Honestly not sure how to play this. ",
    "My manager asked me to follow up with them again tomorrow, but ",
]
_EN_AFTER = [
    " What do I say?",
    " Any tips on how to answer that?",
    " I froze and didn't know what to say.",
    " Need something before tomorrow's meeting!",
    "",
]
_NOISE = ["？？", "...", "!!", " 🙏", "，急", " pls", "…", "😅"]
_KEYS = "qwertyuiopasdfghjklzxcvbnm"


# ---------------------------------------------------------------- queries


def eval_queries() -> list[str]:
    return [q["q"] for q in yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))["queries"]]


def _readings(chars: list[str]) -> list[str]:
    """Toneless pinyin of each character. Like the bot, never load pypinyin's phrase
    dictionary (single characters do not use it): it would add 45 MB to the memory figure."""
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    from pypinyin import lazy_pinyin

    return lazy_pinyin(chars)


def _homophones(lib: Library) -> dict[str, list[str]]:
    """Toneless pinyin -> the characters with that sound used in the shipped texts."""
    from bot.content.library import iter_texts

    chars = sorted({c for text in iter_texts(lib) for c in text if _CJK.match(c)})
    by: dict[str, list[str]] = defaultdict(list)
    for c, py in zip(chars, _readings(chars), strict=True):
        by[py].append(c)
    return by


def _zh_typo(rng: random.Random, sounds: dict[str, list[str]], text: str) -> str:
    """Swap one or two characters for homophones, like a pinyin IME slip (太贵了 -> 太桂了)."""
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if _CJK.match(c)]
    for i in rng.sample(spots, min(len(spots), rng.choice((1, 1, 2)))):
        same = [c for c in sounds.get(_readings([chars[i]])[0], []) if c != chars[i]]
        if same:
            chars[i] = rng.choice(same)
    return "".join(chars)


def _en_typo(rng: random.Random, text: str) -> str:
    """One or two keyboard slips: a dropped, doubled, swapped or wrong letter."""
    chars = list(text)
    for _ in range(rng.choice((1, 2))):
        spots = [i for i, c in enumerate(chars) if c.isalpha()]
        if len(spots) < 3:
            break
        i = rng.choice(spots[1:-1])
        op = rng.randrange(4)
        if op == 0:
            del chars[i]
        elif op == 1:
            chars.insert(i, chars[i])
        elif op == 2:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = rng.choice(_KEYS)
    return "".join(chars)


def _ramble(rng: random.Random, text: str) -> str:
    if _CJK.search(text):
        return rng.choice(_ZH_BEFORE) + "“" + text + "”" + rng.choice(_ZH_AFTER)
    return rng.choice(_EN_BEFORE) + 'they said "' + text + '".' + rng.choice(_EN_AFTER)


def _fragment(rng: random.Random, text: str) -> str:
    """The few words a hurried trainee types (keyword-style)."""
    if _CJK.search(text):
        run = max(re.findall(r"[\u3400-\u9fff]+", text), key=len)
        size = min(len(run), rng.randint(3, 6))
        start = rng.randint(0, len(run) - size)
        return run[start : start + size]
    words = text.split()
    size = min(len(words), rng.randint(2, 4))
    start = rng.randint(0, len(words) - size)
    return " ".join(words[start : start + size])


def queries(lib: Library, n: int = 1000, seed: int = 7) -> list[str]:
    """`n` mixed zh/en look-ups: every labelled query, then typo, ramble, fragment and noisy variants."""
    rng = random.Random(seed)
    sounds = _homophones(lib)
    base = eval_queries()
    out = list(base[:n])

    def typo(q: str) -> str:
        return _zh_typo(rng, sounds, q) if _CJK.search(q) else _en_typo(rng, q)

    makers = [
        typo,
        lambda q: _ramble(rng, q),
        lambda q: _fragment(rng, q),
        lambda q: q + rng.choice(_NOISE),
        lambda q: _ramble(rng, typo(q)),
    ]
    while len(out) < n:
        out.append(rng.choice(makers)(rng.choice(base)))
    return out


# ---------------------------------------------------------------- the big library


def _clauses(lib: Library) -> dict[str, list[str]]:
    """Every clause of every shipped text, by language: the vocabulary generated cards use."""
    from bot.content.library import iter_texts

    pools: dict[str, set[str]] = {"zh": set(), "en": set()}
    for text in iter_texts(lib):
        for part in _CLAUSE_SPLIT.split(text):
            part = part.strip()
            if _CJK.search(part):
                if 2 <= len(part) <= 24:
                    pools["zh"].add(part)
            elif 2 <= len(part.split()) <= 10:
                pools["en"].add(part)
    return {k: sorted(v) for k, v in pools.items()}


def _line(rng: random.Random, pool: list[str], lang: str, clauses: tuple[int, int] = (1, 2)) -> str:
    parts = rng.sample(pool, rng.randint(*clauses))
    if lang == "zh":
        return "，".join(parts) + rng.choice(("", "？", "。", "！"))
    text = ", ".join(parts)
    return text[0].upper() + text[1:] + rng.choice(("", "?", ".", "!"))


def _title(rng: random.Random, pool: list[str], lang: str, n: int) -> str:
    words = rng.choice(pool)[: 28 if lang == "zh" else 50]
    return f"{words} {n}" if lang == "en" else f"{words}{n}"


def _gen_card(rng: random.Random, pools: dict[str, list[str]], base: dict, n: int) -> dict:
    """A card shaped like `base` (a card's plain data), its texts recombined from the shipped clauses."""
    card = dict(base)
    card["id"] = f"c{n}"
    card["title"] = {lang: _title(rng, pools[lang], lang, n) for lang in ("zh", "en")}
    card["customer_lines"] = {
        lang: [_line(rng, pools[lang], lang) for _ in range(rng.randint(8, 13))] for lang in ("zh", "en")
    }
    card["keywords"] = {
        lang: [rng.choice(pools[lang])[:16] for _ in range(rng.randint(10, 19))] for lang in ("zh", "en")
    }
    long = (5, 8)  # talk-track sentences are longer than what customers say
    card["thirty_seconds"] = {lang: _line(rng, pools[lang], lang, long) for lang in ("zh", "en")}
    card["principle"] = {lang: _line(rng, pools[lang], lang, long) for lang in ("zh", "en")}
    card["steps"] = [
        {lang: _line(rng, pools[lang], lang, long) for lang in ("zh", "en")}
        for _ in range(len(card["steps"]))
    ]
    card["related"] = []
    return card


def big_library(lib: Library, n_cards: int, seed: int = 11, per_playbook: int = 50) -> Library:
    """The shipped library plus generated playbooks, `n_cards` cards in all. Each playbook is
    validated, then compacted as the loader does, so only one playbook's models live at a time."""
    rng = random.Random(seed)
    pools = _clauses(lib)
    bases = [record for _, record in lib.card_records()]
    shipped = list(lib.playbooks.values())
    playbooks = dict(lib.playbooks)
    cards = dict(lib.cards)
    by_playbook = dict(lib.cards_by_playbook)
    k = 0
    while len(cards) < n_cards:
        k += 1
        size = min(per_playbook, n_cards - len(cards))
        home = rng.choice(shipped)
        data = {
            "id": f"gen-{k:04d}",
            "title": {lang: _title(rng, pools[lang], lang, k) for lang in ("zh", "en")},
            "summary": {lang: _line(rng, pools[lang], lang) for lang in ("zh", "en")},
            "tags": home.tags.model_dump(),
            "cards": [_gen_card(rng, pools, rng.choice(bases), i) for i in range(size)],
        }
        pb, entries = compact_playbook(Playbook.model_validate(data))
        playbooks[pb.id] = pb
        by_playbook[pb.id] = entries
        cards.update((entry.id, entry) for entry in entries)
    return dataclasses.replace(lib, playbooks=playbooks, cards=cards, cards_by_playbook=by_playbook)


# ---------------------------------------------------------------- role-play answers


def labelled_replies() -> list[dict]:
    return yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["replies"]


def answers(lib: Library, n: int, seed: int = 5) -> list[tuple[str, str, str]]:
    """`n` (scenario, node, reply): each labelled reply against its scenario's opening turn
    first, then against that scenario's other turns (every turn has its own rubric)."""
    rng = random.Random(seed)
    usable = [r for r in labelled_replies() if r["scenario"] in lib.scenarios]
    out = [(r["scenario"], lib.scenarios[r["scenario"]].start, r["reply"]) for r in usable][:n]
    while len(out) < n:
        r = rng.choice(usable)
        out.append((r["scenario"], rng.choice(list(lib.scenarios[r["scenario"]].nodes)), r["reply"]))
    return out
