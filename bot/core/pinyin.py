"""Chinese characters by sound, for tolerance of pinyin-IME typos (太桂了 for 太贵了).

`sound_key` maps every CJK character to one private-use character that stands for its
tone-less, accent-merged syllable, and leaves other characters alone, so a string keeps
its length and positions while homophones become equal.
"""

from __future__ import annotations

import os
import unicodedata
from functools import cache, lru_cache

_PRIVATE_BASE = 0xF0000  # Supplementary Private Use Area-A: never in real input
_codes: dict[str, str] = {}


@cache
def _table() -> dict[int, str]:
    # Only the per-character table is used. pypinyin's documented switch skips parsing its
    # phrase dictionary, which would add about half a second to start-up and 45 MB of memory.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    from pypinyin.pinyin_dict import pinyin_dict

    return pinyin_dict


@lru_cache(maxsize=65536)
def fuzzy_pinyin(char: str) -> str:
    """Tone-less pinyin with the usual southern-accent merges (zh=z, ch=c, sh=s, ing=in, eng=en, l=n)."""
    raw = _table().get(ord(char))
    if not raw:
        return char
    syl = "".join(c for c in unicodedata.normalize("NFKD", raw.split(",")[0]) if c.isascii())
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syl.startswith(a):
            syl = b + syl[2:]
    if syl.startswith("l"):
        syl = "n" + syl[1:]
    if syl.endswith("ng") and len(syl) >= 3 and syl[-3] in "ie":
        syl = syl[:-1]
    return syl


def _code(char: str) -> str:
    syl = fuzzy_pinyin(char)
    if syl == char:
        return char
    code = _codes.get(syl)
    if code is None:
        code = _codes[syl] = chr(_PRIVATE_BASE + len(_codes))
    return code


@lru_cache(maxsize=4096)
def sound_key(text: str) -> str:
    return "".join(_code(c) if "\u3400" <= c <= "\u9fff" else c for c in text)
