"""A safe YAML loader that keeps line numbers and rejects duplicate keys.

Booleans follow YAML 1.2 (only true/false), so quiz answers such as `no` or `yes`
stay strings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.errors import Problem

Path_ = tuple[str | int, ...]


# libyaml's parser when PyYAML has it (ten times faster: most of start-up); same nodes and lines.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# Replace YAML 1.1's yes/no/on/off booleans with YAML 1.2's true/false only.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class YamlDoc:
    """A parsed YAML document and the line of every value in it (by path)."""

    def __init__(self, data: Any, lines: dict[Path_, int]):
        self.data = data
        self.lines = lines

    def line_of(self, path: Path_) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def load_yaml(path: Path, display: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse one file. Returns the document, or None and the problems found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, 1, f"cannot read file: {exc}")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(display, line, f"YAML syntax error: {exc.problem or exc}")]
    if node is None:
        return None, [Problem(display, 1, "file is empty")]
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    constructor = _Loader(text)
    data = _build(node, (), lines, problems, display, constructor)
    return (None if problems else YamlDoc(data, lines)), problems


def _build(node, path, lines, problems, display, constructor):  # type: ignore[no-untyped-def]
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | bool):
                problems.append(Problem(display, key_node.start_mark.line + 1, "keys must be plain text"))
                continue
            if key in out:
                problems.append(
                    Problem(
                        display,
                        key_node.start_mark.line + 1,
                        f"duplicate key {key!r} (first at line {lines[(*path, key)]})",
                    )
                )
                continue
            out[key] = _build(value_node, (*path, key), lines, problems, display, constructor)
            lines[(*path, key)] = key_node.start_mark.line + 1  # errors point at the key
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(child, (*path, i), lines, problems, display, constructor)
            for i, child in enumerate(node.value)
        ]
    return constructor.construct_object(node, deep=True)
