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
    def resolve(self, kind, value, implicit):  # type: ignore[no-untyped-def]
        """PyYAML's `Resolver.resolve` for a loader without path resolvers, with the implicit
        resolvers looked up once per first character (it runs for every scalar)."""
        if kind is yaml.ScalarNode and implicit[0]:
            for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
                if regexp.match(value):
                    return tag
        return _DEFAULT_TAGS[kind]

    def descend_resolver(self, current_node, current_index):  # type: ignore[no-untyped-def]
        pass  # no path resolvers: nothing to track

    def ascend_resolver(self):  # type: ignore[no-untyped-def]
        pass


# Replace YAML 1.1's yes/no/on/off booleans with YAML 1.2's true/false only.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
assert not _Loader.yaml_path_resolvers, "resolve() above assumes no path resolvers"
_STR = _Loader.DEFAULT_SCALAR_TAG
_DEFAULT_TAGS = {
    yaml.ScalarNode: _STR,
    yaml.SequenceNode: _Loader.DEFAULT_SEQUENCE_TAG,
    yaml.MappingNode: _Loader.DEFAULT_MAPPING_TAG,
}
#: first character of a plain scalar ("" when empty) -> the implicit resolvers to try, in
#: PyYAML's order: those registered for that character, then the wildcard ones.
_WILDCARD = tuple(_Loader.yaml_implicit_resolvers.get(None, ()))
_IMPLICIT = {
    first: (*resolvers, *_WILDCARD)
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    if first is not None
}


class YamlDoc:
    """A parsed YAML document. Only problem messages need lines, so they are not recorded
    while loading: `line_of` composes the text again (once) and walks its nodes."""

    def __init__(self, data: Any, text: str):
        self.data = data
        self._text = text
        self._nodes: tuple[yaml.Node, _Loader] | None = None

    def line_of(self, path: Path_) -> int:
        """The line of `path` (a mapping value's is its key's), or of its nearest ancestor."""
        if self._nodes is None:
            self._nodes = yaml.compose(self._text, Loader=_Loader), _Loader(self._text)
        node, constructor = self._nodes
        line = node.start_mark.line + 1
        for part in path:
            found = _child(node, part, constructor)
            if found is None:
                break
            line, node = found
        return line


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
    problems: list[Problem] = []
    data = _build(node, problems, display, _Loader(text))
    return (None if problems else YamlDoc(data, text)), problems


def _build(node: yaml.Node, problems: list[Problem], display: str, constructor: _Loader) -> Any:
    if type(node) is yaml.ScalarNode:
        return _scalar(node, constructor)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(key_node, constructor)
            if key is _NOT_A_KEY:
                problems.append(Problem(display, key_node.start_mark.line + 1, "keys must be plain text"))
                continue
            if key in out:
                first, _ = _child(node, key, constructor)  # type: ignore[misc]
                problems.append(
                    Problem(
                        display,
                        key_node.start_mark.line + 1,
                        f"duplicate key {key!r} (first at line {first})",
                    )
                )
                continue
            out[key] = _build(value_node, problems, display, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, problems, display, constructor) for child in node.value]
    return constructor.construct_object(node, deep=True)


def _scalar(node: yaml.ScalarNode, constructor: _Loader) -> Any:
    """A scalar's value. Text (nearly every scalar) is the node's own value, which is what
    PyYAML's str constructor returns; other tags go through PyYAML's constructors."""
    if node.tag == _STR:
        return node.value
    return constructor.construct_object(node, deep=True)


_NOT_A_KEY = object()


def _key(node: yaml.Node, constructor: _Loader) -> Any:
    """A mapping key, or `_NOT_A_KEY` when it is not plain text, a number or a boolean."""
    key = (
        _scalar(node, constructor)
        if type(node) is yaml.ScalarNode
        else constructor.construct_object(node, deep=True)
    )
    return key if isinstance(key, str | int | bool) else _NOT_A_KEY


def _child(node: yaml.Node, part: Any, constructor: _Loader) -> tuple[int, yaml.Node] | None:
    """The line and node of `part` below `node` as `_build` keeps it (a mapping's first key
    equal to `part`, whose line is the key's; a list's item), or None."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = _key(key_node, constructor)
            if key is not _NOT_A_KEY and key == part:
                return key_node.start_mark.line + 1, value_node
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part].start_mark.line + 1, node.value[part]
    return None
