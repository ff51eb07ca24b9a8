"""Typed content models: what a playbook, a card, a quiz question and a scenario look like.

The models validate one file's shape (fields, types, both languages, Telegram size limits).
Cross-file rules (unique ids, references that resolve, scenario graphs) live in `library.py`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

#: The seed documents content may cite in `source`.
SEED_FILES = frozenset(
    {
        "000_500e2b9b5b40b361.txt",
        "001_febadc957abcc576.txt",
        "002_1f5922858dc1273d.txt",
        "003_8a6eae21939c0dd8.txt",
        "004_7104017bc8cc4306.txt",
    }
)

#: Telegram-facing size limits the validator enforces on content.
TITLE_MAX = 64  # titles are shown on inline keyboard buttons
OPTION_MAX = 100  # quiz options fit a native quiz poll option
PROMPT_MAX = 300  # quiz prompts fit a native quiz poll question
EXPLANATION_MAX = 1000  # shown under an edited quiz message

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
CardRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}(/[a-z0-9][a-z0-9-]{0,39})?$")]
Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


class Strict(BaseModel):
    """Base: unknown fields are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty")
    return value.strip()


class Text(Strict):
    """A text a user reads, in Simplified Chinese and English."""

    zh: str
    en: str

    _check = field_validator("zh", "en")(classmethod(lambda cls, v: _nonblank(v)))

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def limited(limit: int):
    """A `Text` subclass whose both languages must fit `limit` characters."""

    class Limited(Text):
        @model_validator(mode="after")
        def _fits(self):  # type: ignore[no-untyped-def]
            for lang in LANGS:
                if len(getattr(self, lang)) > limit:
                    raise ValueError(
                        f"{lang} text is {len(getattr(self, lang))} characters; "
                        f"Telegram shows at most {limit} here"
                    )
            return self

    Limited.__name__ = f"Text{limit}"
    return Limited


Title = limited(TITLE_MAX)
OptionText = limited(OPTION_MAX)
PromptText = limited(PROMPT_MAX)
ExplanationText = limited(EXPLANATION_MAX)


class TextList(Strict):
    """Several phrasings in each language (customer lines, keywords, tags, paraphrases)."""

    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    @field_validator("zh", "en")
    @classmethod
    def _strip(cls, values: list[str]) -> list[str]:
        return [_nonblank(v) for v in values]

    def get(self, lang: str) -> list[str]:
        return self.zh if lang == "zh" else self.en

    def all(self) -> list[str]:
        return [*self.zh, *self.en]


class NonEmptyTextList(TextList):
    """A `TextList` that needs at least one entry in each language."""

    @model_validator(mode="after")
    def _both(self):  # type: ignore[no-untyped-def]
        for lang in LANGS:
            if not getattr(self, lang):
                raise ValueError(f"needs at least one {lang} entry")
        return self


Sources = Annotated[list[str], Field(min_length=1)]


def _check_sources(values: list[str]) -> list[str]:
    for value in values:
        if value not in SEED_FILES:
            raise ValueError(f"unknown seed file {value!r}; expected one of {sorted(SEED_FILES)}")
    return values


# ---------------------------------------------------------------- rubric checks


class Check(Strict):
    """One rubric check: a point to cover, a good practice, or a red flag.

    It passes when any of `phrases` (fuzzy) or `patterns` (regex) is found in the answer,
    and, if `also` is given, one of `also` is found too (e.g. a next step *and* a time).
    """

    id: Id
    kind: Literal["must", "good", "red_flag"]
    label: Text
    phrases: TextList = Field(default_factory=TextList)
    patterns: list[str] = Field(default_factory=list)
    also: TextList | None = None
    also_patterns: list[str] = Field(default_factory=list)
    weight: int = Field(default=0, ge=0, le=100)
    #: When it passes, the answer is an *advance* (a concrete commitment), else a continuation.
    advance: bool = False

    @field_validator("patterns", "also_patterns")
    @classmethod
    def _regex(cls, values: list[str]) -> list[str]:
        for value in values:
            error = regex_error(value)
            if error is not None:
                raise ValueError(f"bad regular expression {value!r}: {error}")
        return values

    @model_validator(mode="after")
    def _has_matchers(self):  # type: ignore[no-untyped-def]
        if not (self.phrases.zh or self.phrases.en or self.patterns):
            raise ValueError("a check needs phrases or patterns")
        if self.also is not None and not (self.also.zh or self.also.en) and not self.also_patterns:
            raise ValueError("`also` needs phrases")
        return self

    @property
    def effective_weight(self) -> int:
        """Must-cover points count double by default; a red flag's weight is its penalty."""
        if self.weight:
            return self.weight
        return {"must": 2, "good": 1, "red_flag": 30}[self.kind]


try:  # the first half of `re.compile`, which finds every error but one kind (see below)
    from re._parser import parse as _parse_regex
except ImportError:  # pragma: no cover - a Python without it: compile in full
    _parse_regex = None


@lru_cache(maxsize=4096)
def regex_error(pattern: str) -> str | None:
    """Why `re.compile(pattern)` fails, or None. Compiling hundreds of rubric patterns was
    the largest part of validating content, so only the parse that finds the errors is run:
    `re` checks just one thing after parsing, the width of a look-behind, and a pattern with
    `(?<` in it (every look-behind has) is still compiled. The scorer compiles its own."""
    try:
        if _parse_regex is None or "(?<" in pattern:
            re.compile(pattern)
        else:
            _parse_regex(pattern, 0)
    except re.error as exc:
        return str(exc)
    return None


class CheckUse(Strict):
    """A reference to a shared check in `checks/*.yaml`, optionally re-weighted."""

    use: Id
    weight: int | None = Field(default=None, ge=0, le=100)


def _rubric_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "use" if "use" in value else "check"
    return "use" if isinstance(value, CheckUse) else "check"


RubricItem = Annotated[
    Annotated[Check, Tag("check")] | Annotated[CheckUse, Tag("use")],
    Discriminator(_rubric_tag),
]


class CheckFile(Strict):
    """`checks/<name>.yaml`: checks shared by several rubrics."""

    checks: list[Check] = Field(min_length=1)


# ---------------------------------------------------------------- playbooks


class Avoid(Strict):
    say: Text
    why: Text


class Card(Strict):
    id: Id
    title: Title  # type: ignore[valid-type]
    customer_lines: NonEmptyTextList
    keywords: TextList = Field(default_factory=TextList)
    steps: list[Text] = Field(min_length=2, max_length=5)
    thirty_seconds: Text
    avoid: list[Avoid] = Field(min_length=1)
    principle: Text
    related: list[CardRef] = Field(default_factory=list)
    source: Sources

    _sources = field_validator("source")(classmethod(lambda cls, v: _check_sources(v)))


class Option(Strict):
    id: Id
    text: OptionText  # type: ignore[valid-type]


QuestionKind = Literal["single", "multiple", "truefalse", "order", "text"]


class Question(Strict):
    """A quiz question. `answer` depends on `kind`:

    single: one option id; multiple: a list of option ids; truefalse: true or false;
    order: every option id in the right order; text: none (scored with `rubric`).
    """

    id: Id
    kind: QuestionKind
    card: CardRef
    prompt: PromptText  # type: ignore[valid-type]
    options: list[Option] = Field(default_factory=list, max_length=8)
    answer: str | bool | list[str] | None = None
    rubric: list[RubricItem] = Field(default_factory=list)
    model_answer: Text | None = None
    pass_mark: int = Field(default=60, ge=1, le=100)
    explanation: ExplanationText  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _answer_fits_kind(self):  # type: ignore[no-untyped-def]
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError("option ids repeat")
        kind, answer = self.kind, self.answer
        if kind in ("single", "multiple", "order") and len(ids) < 2:
            raise ValueError(f"a {kind} question needs at least 2 options")
        if kind == "single":
            if not isinstance(answer, str):
                raise ValueError("a single-choice answer is one option id")
            _known(answer, ids)
        elif kind == "multiple":
            if not isinstance(answer, list) or not answer:
                raise ValueError("a multiple-choice answer is a list of option ids")
            for a in answer:
                _known(a, ids)
        elif kind == "order":
            if not isinstance(answer, list) or sorted(answer) != sorted(ids):
                raise ValueError("an ordering answer lists every option id once, in order")
        elif kind == "truefalse":
            if not isinstance(answer, bool):
                raise ValueError("a true/false answer is `true` or `false`")
            if self.options:
                raise ValueError("a true/false question has no options")
        elif kind == "text":
            if not self.rubric or self.model_answer is None:
                raise ValueError("a text question needs `rubric` and `model_answer`")
            if answer is not None:
                raise ValueError("a text question has no `answer`; it is scored with `rubric`")
        return self


def _known(option_id: str, ids: list[str]) -> None:
    if option_id not in ids:
        from difflib import get_close_matches

        near = get_close_matches(option_id, ids, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; options are {ids}"
        raise ValueError(f"answer {option_id!r} is not among the options{hint}")


class Playbook(Strict):
    id: Id
    title: Title  # type: ignore[valid-type]
    summary: Text
    tags: TextList = Field(default_factory=TextList)
    cards: list[Card] = Field(min_length=1)
    quiz: list[Question] = Field(default_factory=list)


# ---------------------------------------------------------------- scenarios

Outcome = Literal["strong", "partial", "weak"]


class Guided(Strict):
    """A candidate reply offered as a button in guided mode, and why it is good or not."""

    text: Text
    why: Text


class Turn(Strict):
    """A customer turn: what the customer says, how the answer is scored, where it leads."""

    customer: Text
    hint: Text
    rubric: list[RubricItem] = Field(min_length=1)
    model_answer: Text
    next_step_due: bool = False
    pass_mark: int = Field(default=60, ge=1, le=100)
    guided: dict[Outcome, Guided]
    next: dict[Literal["strong", "partial", "weak", "default"], Id]

    @model_validator(mode="after")
    def _complete(self):  # type: ignore[no-untyped-def]
        missing = {"strong", "partial", "weak"} - set(self.guided)
        if missing:
            raise ValueError(f"guided needs strong, partial and weak; missing {sorted(missing)}")
        if "default" not in self.next and {"strong", "partial", "weak"} - set(self.next):
            raise ValueError("next needs strong, partial and weak, or a default")
        return self

    def target(self, outcome: str) -> str:
        return self.next.get(outcome) or self.next["default"]  # type: ignore[index]


class Ending(Strict):
    """An explicit ending: the customer's last line and how the meeting went."""

    outcome: Literal["success", "partial", "failure"]
    customer: Text
    debrief: Text


class Scenario(Strict):
    id: Id
    title: Title  # type: ignore[valid-type]
    summary: Text
    persona: Text
    goal: Text
    cards: list[CardRef] = Field(min_length=1)
    source: Sources
    start: Id
    nodes: dict[Id, Turn] = Field(min_length=1)
    endings: dict[Id, Ending] = Field(min_length=1)

    _sources = field_validator("source")(classmethod(lambda cls, v: _check_sources(v)))
