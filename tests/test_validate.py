"""`coachbot validate`: every error class is caught and reported as path:line: message."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.content.library import load_library
from bot.errors import ContentError
from tests.conftest import FIXTURES

BROKEN = FIXTURES / "broken"
PB = "playbooks/sample-playbook.yaml"
SC = "scenarios/sample-scenario.yaml"

# (fixture, file, line, words the message must contain)
CASES = [
    ("yaml-syntax", PB, 9, "YAML syntax error"),
    ("duplicate-key", PB, 27, "duplicate key 'principle' (first at line 26)"),
    ("unknown-field", PB, 20, "unknown field 'thirty_second'; did you mean 'thirty_seconds'?"),
    ("unknown-field", PB, 8, "missing field 'thirty_seconds'"),
    ("missing-lang", PB, 32, "missing 'en' text"),
    ("duplicate-id", PB, 1, "duplicate playbook id 'sample-playbook'"),
    ("filename-mismatch", "playbooks/sample.yaml", 1, "differs from its id 'sample-playbook'"),
    (
        "bad-reference",
        PB,
        29,
        "card 'sample-crd-2' does not exist; did you mean 'sample-playbook/sample-card-2'?",
    ),
    ("quiz-card-reference", PB, 73, "card 'no-such-card' does not exist"),
    ("answer-not-option", PB, 46, "answer 'c' is not among the options"),
    ("title-too-long", PB, 9, "Telegram shows at most 64"),
    ("bad-source", PB, 44, "unknown seed file '000_500e2b9b5b40b36.txt'"),
    ("scenario-bad-link", SC, 38, "link 'clse' goes nowhere; did you mean 'close'?"),
    ("scenario-unreachable", SC, 39, "'push-back' cannot be reached from start"),
    ("scenario-cycle", SC, 16, "this path never ends: opening -> push-back -> opening"),
    (
        "unknown-shared-check",
        SC,
        24,
        "shared check 'vague-folow-up' does not exist; did you mean 'vague-follow-up'?",
    ),
]


@pytest.mark.parametrize(("fixture", "file", "line", "words"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_each_error_class_names_file_and_line(fixture: str, file: str, line: int, words: str, capsys) -> None:
    code = main(["validate", str(BROKEN / fixture)])
    err = capsys.readouterr().err
    assert code == 1
    lines = [ln for ln in err.splitlines() if f"{fixture}/{file}:{line}: " in ln]
    assert any(words in ln for ln in lines), err


def test_every_reported_line_has_path_line_message_shape(capsys) -> None:
    for fixture in sorted(p.name for p in BROKEN.iterdir()):
        assert main(["validate", str(BROKEN / fixture)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        problems = err[:-1]  # the last line is the summary
        assert problems, fixture
        assert all(re.match(r"^\S+\.yaml:\d+: .+", ln) for ln in problems), err
        assert "content problem" in err[-1]


def test_valid_fixture_passes_with_one_line_summary(capsys) -> None:
    assert main(["validate", str(FIXTURES / "valid")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("ok: 1 playbooks, 2 cards, 5 quiz questions, 1 scenarios")


def test_docs_examples_are_the_valid_fixture() -> None:
    """docs/content.md stays true: its YAML examples are exactly the fixture that validates."""
    doc = (Path(__file__).parent.parent / "docs" / "content.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    valid = FIXTURES / "valid"
    assert blocks[0] == (valid / PB).read_text(encoding="utf-8")
    assert blocks[1] == (valid / "checks/common.yaml").read_text(encoding="utf-8")
    assert blocks[2] == (valid / SC).read_text(encoding="utf-8")


def test_shipped_content_validates(capsys) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_validating_one_file_resolves_against_shipped_content(capsys) -> None:
    assert main(["validate", "playbooks/objection-handling.yaml"]) == 0


def test_missing_path_is_an_error(capsys) -> None:
    assert main(["validate", "no/such/file.yaml"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_library_refuses_broken_content_as_a_whole() -> None:
    with pytest.raises(ContentError) as info:
        load_library(BROKEN / "scenario-cycle")
    assert all(p.line > 0 for p in info.value.problems)


def _valid_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """The valid fixture with one text replaced in `file`."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", root)
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return root


ORDER_EXPLANATION = '{zh: 先总结再提议。, en: "Sum up, then propose."}'


@pytest.mark.parametrize(
    ("explanation", "lang"),
    [
        ('{zh: 选B，先总结。, en: "Sum up, then propose."}', "zh"),
        ('{zh: B 是第一步。, en: "Sum up, then propose."}', "zh"),
        ('{zh: 总结要点（B）在前。, en: "Sum up, then propose."}', "zh"),
        ('{zh: B总结要点，A提出下一步。, en: "Sum up, then propose."}', "zh"),
        ('{zh: 先总结再提议。, en: "B sum up, A propose a next step."}', "en"),
        ('{zh: 先总结再提议。, en: "Option B comes first."}', "en"),
        ('{zh: 先总结再提议。, en: "Summing up (C) comes first."}', "en"),
        ('{zh: 先总结再提议。, en: "B and A, in that order."}', "en"),
    ],
)
def test_an_explanation_naming_option_letters_is_reported(
    tmp_path: Path, explanation: str, lang: str, capsys
) -> None:
    root = _valid_copy(tmp_path, PB, f"explanation: {ORDER_EXPLANATION}", f"explanation: {explanation}")
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"{PB}:79: the {lang} explanation names an option by letter" in err, err


@pytest.mark.parametrize(
    "explanation",
    [
        '{zh: 先总结再提议，B端客户也一样。, en: "Sum up, then propose."}',
        '{zh: 先总结再提议。, en: "A summary comes first, then a proposal."}',
        '{zh: 先总结再提议。, en: "Sum up first. A proposal without it is Plan B at best."}',
        '{zh: 4G、5G客户都一样。, en: "On 4G, 5G or broadband, sum up first."}',
    ],
)
def test_ordinary_capitals_are_not_option_letters(tmp_path: Path, explanation: str, capsys) -> None:
    root = _valid_copy(tmp_path, PB, f"explanation: {ORDER_EXPLANATION}", f"explanation: {explanation}")
    assert main(["validate", str(root)]) == 0, capsys.readouterr().err


def test_a_space_after_chinese_punctuation_is_reported(tmp_path: Path, capsys) -> None:
    folded = "  zh: >-\n    一家小公司的老板说，\n    你们的套餐比对手贵。\n"
    root = _valid_copy(tmp_path, SC, "  zh: 一家小公司的老板说你们的套餐比对手贵。\n", folded)
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"{SC}:4: a space after Chinese punctuation in zh text" in err, err


def test_english_spaces_and_chinese_without_spaces_pass(tmp_path: Path, capsys) -> None:
    one_line = "  zh: >-\n    一家小公司的老板说，你们的套餐比对手贵。\n"
    root = _valid_copy(tmp_path, SC, "  zh: 一家小公司的老板说你们的套餐比对手贵。\n", one_line)
    assert main(["validate", str(root)]) == 0, capsys.readouterr().err
