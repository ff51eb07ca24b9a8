"""The small exception hierarchy of Coachbot."""

from __future__ import annotations

from dataclasses import dataclass


class CoachbotError(Exception):
    """Base class for errors Coachbot raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One content problem, printed as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(CoachbotError):
    """Content failed validation; `problems` lists every `path:line: message`."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(CoachbotError):
    """A setting is missing or malformed."""


class StoreError(CoachbotError):
    """The database could not complete a write; nothing was half-written."""
