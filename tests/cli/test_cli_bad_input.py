"""Bad specs: each gives one clear finding at the right line, a nonzero exit, and never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .cli_support import BASE_SPEC, TRACEBACK, Run, copy_example, edit, line_of, nemo


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return copy_example(BASE_SPEC, tmp_path)


def solve(spec: Path) -> Run:
    run = nemo("solve", spec.name, cwd=spec.parent)
    assert TRACEBACK not in run.output, run.output
    assert "internal error" not in run.output, run.output
    assert run.returncode == 1, f"exit {run.returncode}\n{run.output}"
    assert "not run" in run.stdout
    return run


def test_front_matter_yaml_error_is_nemo102_on_its_line(spec: Path) -> None:
    edit(spec, "  status: optimal\n", "  status: optimal: yes\n")
    run = solve(spec)
    f = run.finding("NEMO102")
    assert f.severity == "error"
    assert f.path == spec.name
    assert f.line == line_of(spec, "status: optimal: yes")
    assert "YAML" in f.message


def test_unclosed_front_matter_is_nemo102_on_line_1(tmp_path: Path) -> None:
    spec = tmp_path / "open.opt.md"
    spec.write_text("---\nexpect:\n  objective: 1\n\n# Plan\n\nWe decide nothing.\n", encoding="utf-8")
    run = solve(spec)
    f = run.finding("NEMO102")
    assert f.line == 1
    assert "---" in f.message


def test_table_without_caption_referenced_by_model_is_nemo115_naming_the_caption(spec: Path) -> None:
    edit(spec, "Table: plants\n", "")
    run = solve(spec)
    f = run.finding("NEMO115")
    assert f.line == line_of(spec, "I: plants.plant")
    assert "Table:" in f.message
    assert "plants" in f.message


def test_caption_naming_no_table_is_nemo110_on_the_caption(spec: Path) -> None:
    edit(spec, "```model\n", "Table: orphan\n\n```model\n")
    run = solve(spec)
    f = run.finding("NEMO110")
    assert f.line == line_of(spec, "Table: orphan")
    assert f.col == len("Table: ") + 1
    assert "orphan" in f.message


def test_ragged_table_row_is_nemo111_on_that_row(spec: Path) -> None:
    edit(spec, "| plant2 |     0 |       2 |", "| plant2 |     0 |")
    run = solve(spec)
    f = run.finding("NEMO111")
    assert f.line == line_of(spec, "| plant2 |     0 |")
    assert "2 cells" in f.message and "3" in f.message


def test_row_with_extra_cell_is_nemo111_on_that_row(spec: Path) -> None:
    edit(spec, "| windows |                 5 |", "| windows |                 5 | 7 |")
    run = solve(spec)
    f = run.finding("NEMO111")
    assert f.line == line_of(spec, "| windows |                 5 | 7 |")


def test_non_numeric_cell_is_nemo114_at_the_cell(spec: Path) -> None:
    edit(spec, "| plant3 |     3 |       2 |", "| plant3 |     3 |     two |")
    run = solve(spec)
    f = run.finding("NEMO114")
    row = line_of(spec, "| plant3 |     3 |     two |")
    assert f.line == row
    assert f.col == spec.read_text(encoding="utf-8").split("\n")[row - 1].index("two") + 1
    assert "`two`" in f.message


def test_empty_file_is_nemo101(tmp_path: Path) -> None:
    spec = tmp_path / "empty.opt.md"
    spec.write_bytes(b"")
    run = solve(spec)
    f = run.finding("NEMO101")
    assert f.line == 1


def test_whitespace_only_file_is_nemo101(tmp_path: Path) -> None:
    spec = tmp_path / "blank.opt.md"
    spec.write_text("\n   \n\t\n", encoding="utf-8")
    run = solve(spec)
    assert run.finding("NEMO101").line == 1


def test_file_that_is_not_utf8_is_nemo100_at_the_bad_byte(spec: Path) -> None:
    raw = spec.read_bytes()
    assert b"Wyndor Glass Company" in raw
    spec.write_bytes(raw.replace(b"Wyndor Glass Company", "Wyndor Gläss Company".encode("latin-1"), 1))
    run = solve(spec)
    f = run.finding("NEMO100")
    line = line_of_bytes(spec.read_bytes(), b"Wyndor Gl\xe4ss")
    assert f.line == line
    assert f.col == spec.read_bytes().split(b"\n")[line - 1].index(b"\xe4") + 1
    assert "UTF-8" in f.message


def test_ten_megabyte_file_is_nemo100_with_its_size(tmp_path: Path) -> None:
    spec = tmp_path / "huge.opt.md"
    body = b"# Huge\n\n" + b"We decide a lot of things in this plan, over and over again.\n" * 200_000
    spec.write_bytes(body[: 10 * 1024 * 1024])
    run = solve(spec)
    f = run.finding("NEMO100")
    assert f.line == 1
    assert re.search(r"\b10(\.\d+)?\s*Mi?B\b", f.message), f.message


def test_model_block_yaml_error_is_nemo120_on_its_line(spec: Path) -> None:
    edit(spec, "  batches[J]: {lb: 0}", "  batches[J]: lb: 0")
    run = solve(spec)
    f = run.finding("NEMO120")
    assert f.line == line_of(spec, "batches[J]: lb: 0")


def test_unclosed_flow_mapping_in_model_block_is_nemo120_on_the_line_that_opens_it(spec: Path) -> None:
    # PyYAML notices the missing `}` only at the next `:`; the mistake is on the line with the `{`.
    edit(spec, "  batches[J]: {lb: 0}", "  batches[J]: {lb: 0")
    run = solve(spec)
    f = run.finding("NEMO120")
    assert f.line == line_of(spec, "batches[J]: {lb: 0")


def test_expression_syntax_error_is_nemo122_at_the_expression(spec: Path) -> None:
    edit(spec, "<= available[i]\n", "<= <= available[i]\n")
    run = solve(spec)
    f = run.finding("NEMO122")
    line = line_of(spec, "plant_hours[i in I]")
    assert f.line == line
    assert f.col > len("  plant_hours[i in I]: ")
    assert "syntax error" in f.message


def test_expression_syntax_error_does_not_also_warn_its_names_unused(spec: Path) -> None:
    # `usage` and `available` are used, in the expression that has the syntax error; a NEMO129
    # "declared but never used" for them sends the user to the wrong line.
    edit(spec, "<= available[i]\n", "<= <= available[i]\n")
    run = solve(spec)
    run.finding("NEMO122")
    assert run.findings("NEMO129") == [], run.stdout


def test_missing_file_is_nemo100_naming_it(tmp_path: Path) -> None:
    run = solve(tmp_path / "nowhere.opt.md")
    assert "NEMO100" in run.stdout
    assert "nowhere.opt.md" in run.stdout
    assert "does not exist" in run.stdout


def line_of_bytes(raw: bytes, fragment: bytes) -> int:
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)
