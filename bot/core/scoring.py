"""Deterministic, visible rubric scoring of a trainee's free-text answer.

Each check passes when one of its phrasings is found in the answer, fuzzily (rapidfuzz
partial matching tolerates typos and small variations, in zh and en), or one of its regex
patterns matches. Red flags that are negated right before the match ("我们不会送充值卡",
"I won't give you recharge cards") do not count against the trainee.

Score: the weighted share of must/good checks passed (0-100), minus each red flag's
penalty, clamped to 0-100. Passed: score >= pass mark and no red flag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from bot.content.models import Check
from bot.core.pinyin import sound_key

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOISE = re.compile(r"[^\w'|\u3400-\u9fff\uf900-\ufaff]+")
#: Clause and sentence breaks. Normalizing keeps them as "|" so a negation in one clause
#: never reaches a phrase in the next ("价格我们不降。充值卡送您两张。").
_CLAUSE = re.compile(r"[。，,.!?！？；;:：、\n|]+")
_NEGATION_ZH = ("不", "没", "别", "无法", "拒绝", "绝不", "而不是", "与其")
#: Words with 不/没/别 that do not negate ("要不给您打个八折" is an offer, not a refusal).
_NOT_NEGATION_ZH = re.compile(
    "要不|能不能|可不可以|是不是|行不行|好不好|不过|不管|不错|不少|不好意思|不然|别误会|别客气|没问题|没事"
)
_NEGATION_EN = re.compile(
    r"\b(not|no|never|won't|wont|can't|cant|cannot|don't|dont|wouldn't|shouldn't|instead of|rather than|without)\b[\w' ]{0,20}$"
)
# A refusal that follows the phrase: "充值卡是不合适的", "gift cards aren't something I can offer".
_REFUSAL_AFTER_ZH = (
    "不合适",
    "不合规",
    "不可以",
    "不行",
    "不能",
    "不允许",
    "违规",
    "给不了",
    "做不到",
    "没法",
    "不会",
    "不送",
    "不给",
)
_REFUSAL_AFTER_EN = re.compile(
    r"^\W*[\w' ]{0,12}\b(aren't|isn't|is not|are not|not something|not possible|not allowed|not appropriate|"
    r"can't|cannot|won't|we don't|i don't)\b"
)

STRONG_MARK = 75
WEAK_BELOW = 35


def normalize(text: str) -> str:
    """NFKC, lower case, clause breaks to " | ", other punctuation to spaces."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return _NOISE.sub(" ", _CLAUSE.sub(" | ", text)).strip(" |")


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class CheckResult:
    id: str
    kind: str
    passed: bool
    weight: int
    evidence: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "passed": self.passed, "weight": self.weight}


@dataclass(frozen=True)
class Score:
    score: int
    passed: bool
    outcome: str  # strong | partial | weak
    checks: tuple[CheckResult, ...]
    advance: bool | None  # None when no next step was due

    @property
    def red_flags(self) -> list[CheckResult]:
        return [c for c in self.checks if c.kind == "red_flag" and c.passed]

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "score": self.score,
            "passed": self.passed,
            "outcome": self.outcome,
            "checks": [c.as_dict() for c in self.checks],
        }
        if self.advance is not None:
            data["verdict"] = "advance" if self.advance else "continuation"
        return data


@lru_cache(maxsize=20000)
def _phrase(raw: str) -> tuple[str, bool]:
    return normalize(raw), is_cjk(raw)


@lru_cache(maxsize=4096)
def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compiled once: the rubrics hold more patterns than `re`'s own cache (512) keeps."""
    return re.compile(pattern, flags)


def _threshold(phrase: str, cjk: bool) -> float:
    n = len(phrase)
    if cjk:  # compared by sound: homophones are free; one other syllable may differ from 7 on
        return 100 if n <= 6 else 85
    return 100 if n <= 4 else 87 if n <= 9 else 85


def find(phrase_raw: str, answer: str) -> tuple[int, int] | None:
    """Where `phrase_raw` occurs in the normalized `answer` (fuzzily), or None.

    A fuzzy match must keep the phrase's polarity ("can offer" is not "can't offer",
    我们也送 is not 我们不送), and an English one must cover whole words
    ("one bill" is not inside "second billing").
    """
    phrase, cjk = _phrase(phrase_raw)
    if not phrase:
        return None
    if not cjk and len(phrase) <= 4:
        m = _rx(rf"(?<!\w){re.escape(phrase)}(?!\w)").search(answer)
        return (m.start(), m.end()) if m else None
    if phrase in answer:
        i = answer.index(phrase)
        return i, i + len(phrase)
    key_phrase, key_answer = (sound_key(phrase), sound_key(answer)) if cjk else (phrase, answer)
    if cjk and key_phrase in key_answer:
        # Chinese typing errors are homophones from the pinyin IME: compare by sound.
        i = key_answer.index(key_phrase)
        span = (i, i + len(key_phrase))
    else:
        need = _threshold(phrase, cjk)
        if need >= 100 or len(answer) < len(phrase) * 0.6:
            return None
        al = fuzz.partial_ratio_alignment(key_phrase, key_answer, score_cutoff=need)
        if al is None:
            return None
        span = (al.dest_start, al.dest_end)
        if not cjk:
            span = _whole_words(answer, *span)
            if fuzz.ratio(phrase, answer[span[0] : span[1]]) < need:
                return None
    if _has_negation(phrase) != _has_negation(answer[span[0] : span[1]]):
        return None
    return span


_NEGATION_TOKEN = re.compile(r"[不没別别无]|\b(not|no|never|cannot)\b|n't")


def _has_negation(text: str) -> bool:
    return bool(_NEGATION_TOKEN.search(text))


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return start, end


def _negated(answer: str, start: int, end: int | None = None) -> bool:
    """Is the match at answer[start:end] refused or negated in its own clause?"""
    before = _CLAUSE.split(answer[max(0, start - 28) : start])[-1].rstrip()
    if _NEGATION_EN.search(before):
        return True
    clause = _NOT_NEGATION_ZH.sub("", before[-8:]) if is_cjk(before[-8:]) else ""
    if any(neg in clause for neg in _NEGATION_ZH):
        return True
    if end is None:
        return False
    after = _CLAUSE.split(answer[end : end + 40])[0]
    if _REFUSAL_AFTER_EN.search(after):
        return True
    zh_after = _NOT_NEGATION_ZH.sub("", after.lstrip()[:12])
    return any(neg in zh_after for neg in _REFUSAL_AFTER_ZH)


def _matches(phrases: Sequence[str], patterns: Sequence[str], answer: str, raw: str, red: bool) -> str:
    for phrase in phrases:
        hit = find(phrase, answer)
        if hit and not (red and _negated(answer, hit[0], hit[1])):
            return answer[hit[0] : hit[1]]
    for pattern in patterns:
        m = _rx(pattern, re.IGNORECASE).search(raw)
        if m and not (red and _negated(raw.lower(), m.start(), m.end())):
            return m.group(0)
    return ""


def run_check(check: Check, answer_norm: str, answer_raw: str) -> CheckResult:
    red = check.kind == "red_flag"
    evidence = _matches(check.phrases.all(), check.patterns, answer_norm, answer_raw, red)
    if evidence and check.also is not None:
        second = _matches(check.also.all(), check.also_patterns, answer_norm, answer_raw, red)
        evidence = f"{evidence} … {second}" if second else ""
    return CheckResult(check.id, check.kind, bool(evidence), check.effective_weight, evidence)


def score_answer(
    checks: Sequence[Check], answer: str, pass_mark: int = 60, next_step_due: bool = False
) -> Score:
    """Score one answer against a rubric. Pure and deterministic."""
    norm = normalize(answer)
    results = tuple(run_check(c, norm, answer) for c in checks)
    positive = [r for r in results if r.kind != "red_flag"]
    total = sum(r.weight for r in positive) or 1
    earned = sum(r.weight for r in positive if r.passed)
    penalty = sum(r.weight for r in results if r.kind == "red_flag" and r.passed)
    score = max(0, min(100, round(100 * earned / total) - penalty))
    red = penalty > 0
    passed = score >= pass_mark and not red
    if passed and score >= max(STRONG_MARK, pass_mark):
        outcome = "strong"
    elif passed:
        outcome = "partial"  # a passed answer never takes the weak branch
    elif score < WEAK_BELOW or red:
        outcome = "weak"
    else:
        outcome = "partial"
    advance = None
    if next_step_due:
        advance = any(r.passed for r, c in zip(results, checks, strict=True) if c.advance)
    return Score(score, passed, outcome, results, advance)
