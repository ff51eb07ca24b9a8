"""The faster content loading paths agree with what they replace: PyYAML's own resolver and
constructors for scalars, lines found on demand, and `re.compile` for rubric patterns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.library import content_files
from bot.content.models import regex_error
from bot.content.yamlio import _Loader, load_yaml

ROOT = Path(__file__).resolve().parent.parent


def compile_error(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


REGEX_CASES = [
    r"\b(give|get) you (a |an )?discount",
    "隐藏(收费|费用)",
    "(?<=ab)c",  # fixed-width look-behind: fine
    "(?<=a+)c",  # only compiling finds this one
    "(?<!a|bc)d",
    "(unclosed",
    "a{2,1}",
    "*start",
    "[z-a]",
    r"\p{L}",
    "(?P<x>a)(?P<x>b)",
    "(?L)a",
    "a)",
    "",
]


@pytest.mark.parametrize("pattern", REGEX_CASES)
def test_regex_error_is_re_compiles_verdict(pattern: str) -> None:
    assert regex_error(pattern) == compile_error(pattern)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # "possible nested set", from both
@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab()[]{}?*+|^$\\<=!:P-,1xw.", max_size=12))
def test_regex_error_agrees_with_re_compile_on_any_pattern(pattern: str) -> None:
    assert regex_error(pattern) == compile_error(pattern)


# ------------------------------------------------------------------ YAML


class _Reference(yaml.SafeLoader):
    """PyYAML's pure-Python loader with the same YAML 1.2 booleans: the behaviour to keep."""


_Reference.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def reference(text: str):  # type: ignore[no-untyped-def]
    return yaml.load(text, Loader=_Reference)  # a safe loader


SCALARS = [
    "yes", "no", "on", "off", "y", "true", "False", "TRUE", "1", "0x1f", "0o17", "017", "+3",
    "1_000", "1.5", ".5", "1e3", ".inf", "-.Inf", ".nan", "12:30", "~", "null", "Null", "",
    "2024-01-02", "2024-01-02T10:00:00Z", "'1'", '"yes"', "!!str 123", "你好", "-1", "<<x",
    "!!binary aGVsbG8=", "!!float 1", "!!int '7'", "!!bool true", "!!null ''",
]  # fmt: skip


@pytest.mark.parametrize("scalar", SCALARS)
def test_scalars_load_as_pyyaml_loads_them(scalar: str, tmp_path: Path) -> None:
    text = f"a: {scalar}\nb:\n  - {scalar}\n"
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    doc, problems = load_yaml(path, "x.yaml")
    assert problems == [] and doc is not None
    expected = reference(text)
    assert repr(doc.data) == repr(expected)  # repr: nan == nan, and True is not 1


def test_line_of_points_at_keys_items_and_nearest_ancestor(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b: 1\n  c:\n    - x\n    -\n      d: 2\n1: one\n", encoding="utf-8")
    doc, _ = load_yaml(path, "x.yaml")
    assert doc is not None
    assert doc.line_of(()) == 1
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("a", "c")) == 3
    assert doc.line_of(("a", "c", 0)) == 4
    assert doc.line_of(("a", "c", 1)) == 6  # a block mapping item starts at its first key
    assert doc.line_of(("a", "c", 1, "d")) == 6
    assert doc.line_of(("a", "c", 1, "missing", "deeper")) == 6
    assert doc.line_of(("a", "c", 5)) == 3
    assert doc.line_of((1,)) == 7
    assert doc.line_of(("nope",)) == 1


def test_duplicate_keys_name_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  - k: 1\n    j: 2\n    k: 3\n1: x\ntrue: y\n", encoding="utf-8")
    doc, problems = load_yaml(path, "x.yaml")
    assert doc is None
    assert [str(p) for p in problems] == [
        "x.yaml:4: duplicate key 'k' (first at line 2)",
        "x.yaml:6: duplicate key True (first at line 5)",
    ]


def test_shipped_content_loads_as_pyyaml_loads_it() -> None:
    for _, path in content_files(ROOT):
        text = path.read_text(encoding="utf-8")
        doc, problems = load_yaml(path, path.name)
        assert problems == [] and doc is not None
        assert doc.data == reference(text), path
