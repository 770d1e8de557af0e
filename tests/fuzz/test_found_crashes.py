"""Inputs that crashed, hung or misplaced a finding before they were fixed (most found by the fuzz tests
next to this file), kept as plain tests: each must end in findings, quickly, with spans in the text."""

from __future__ import annotations

import time

import pytest

from nemo_lsp.analysis import Analysis

from .fuzz_support import analyze_soundly, model_spec

QUICK = 3.0
"""Seconds any of these may take; the slowest took minutes before its fix."""


def lint(text: str) -> Analysis:
    started = time.perf_counter()
    analysis = analyze_soundly(text)
    assert time.perf_counter() - started < QUICK
    return analysis


def codes(a: Analysis) -> list[str]:
    return [f.code for f in a.findings]


def messages(a: Analysis, code: str) -> list[str]:
    return [f.message for f in a.findings if f.code == code]


# --- the model language ------------------------------------------------------------------------------

def test_a_huge_integer_power_is_a_finding_not_minutes_of_arithmetic() -> None:
    """`9**99999999` was computed as an integer by the index check (4 minutes), then overflowed."""
    a = lint(model_spec("sum(x[f] for f in F) + 9**99999999", "x[f] <= 3"))
    assert any("too large" in m for m in messages(a, "NEMO121")), a.findings


def test_a_huge_power_of_data_is_a_finding() -> None:
    """`cost[f] ** 999999` raised OverflowError (int too large to convert to float)."""
    a = lint(model_spec("sum(cost[f] ** 999999 * x[f] for f in F)", "x[f] <= 3"))
    assert any("too large" in m for m in messages(a, "NEMO121")), a.findings


def test_a_tower_of_powers_is_rejected_by_the_whitelist() -> None:
    a = lint(model_spec("sum(x[f] for f in F) + 10**10**10", "x[f] <= 3"))
    assert "the exponent of `**` must be a number" in messages(a, "NEMO123")


def test_a_negative_number_to_a_fractional_power_is_a_finding() -> None:
    """`(-8) ** 0.5` is complex in Python; comparing it in a constraint raised TypeError."""
    a = lint(model_spec("sum(x[f] for f in F)", "x[f] <= (-8) ** 0.5"))
    assert any("not a real number" in m for m in messages(a, "NEMO121")), a.findings


@pytest.mark.parametrize("constraint", ["x[f] <= f + 1", "x[f] <= -f", "x[f] <= (1 if f < 2 else 0)"],
                         ids=["plus", "minus", "less"])
def test_arithmetic_on_a_set_element_that_is_text_is_a_finding(constraint: str) -> None:
    """`f` is 'bread' here: `'bread' + 1`, `-'bread'`, `'bread' < 2` raised TypeError."""
    a = lint(model_spec("sum(x[f] for f in F)", constraint))
    assert "NEMO121" in codes(a), a.findings


@pytest.mark.parametrize("expr", [
    "-" * 100_000 + "1",                       # MemoryError from CPython's parser
    "not " * 50_000 + "1",                     # MemoryError
    " + ".join(["x[f]"] * 20_000),             # RecursionError during ast construction
    # These parse and were checked; 1000 levels in a filter did hit the recursion limit (below), so
    # expressions deeper than expr.MAX_DEPTH are refused before the checker and evaluator recurse.
    " + ".join(["x[f]"] * 900),
    "x[" * 150 + "f" + "]" * 150,
    "abs(" * 180 + "1" + ")" * 180,
], ids=["minus-100k", "not-50k", "plus-20k", "plus-900", "subscript-150", "abs-180"])
def test_deeply_nested_or_long_expressions_are_findings(expr: str) -> None:
    a = lint(model_spec(expr, "x[f] <= 3"))
    assert {"NEMO122", "NEMO123"} & set(codes(a)), a.findings


def test_an_expression_of_moderate_depth_is_still_checked() -> None:
    a = lint(model_spec("sum(" + " + ".join(["x[f]"] * 40) + " - 1 for f in F)", "x[f] <= 3"))
    assert not any(f.is_error for f in a.findings), a.findings


def test_a_deeply_nested_index_filter_is_a_finding() -> None:
    """A YAML key is at most 1024 characters: 1000 minus signs parse, and the index check recursed past the
    recursion limit (RecursionError)."""
    text = model_spec("sum(x[f] for f in F)", "x[f] <= 3", condition="-" * 1000 + "1")
    a = lint(text)
    assert any("nested more than" in m for m in messages(a, "NEMO123")), a.findings


def test_a_range_of_a_billion_elements_is_a_finding() -> None:
    text = "# t\n\n```model\nsets:\n  T: 1..1000000000\nvars:\n  x[T]: {}\nminimize: sum(x[t] for t in T)\n```\n"
    a = lint(text)
    assert any("would have 1,000,000,000 elements" in m for m in messages(a, "NEMO121")), a.findings


def test_a_range_bound_of_thousands_of_digits_is_a_finding() -> None:
    """int() refuses strings of more than 4300 digits (ValueError)."""
    text = "# t\n\n```model\nsets:\n  T: 1.." + "9" * 5000 + "\nvars:\n  x[T]: {}\nminimize: sum(x[t] for t in T)\n```\n"
    a = lint(text)
    assert any("too large" in m for m in messages(a, "NEMO121")), a.findings


def test_a_parameter_over_a_huge_product_of_sets_is_a_finding() -> None:
    text = ("# t\n\n```model\nsets:\n  T: 1..5000\nparams:\n  p[T, T]: 1\nvars:\n  x[T]: {}\n"
            "minimize: sum(p[t, t] * x[t] for t in T)\n```\n")
    a = lint(text)
    assert any("25,000,000 values" in m for m in messages(a, "NEMO121")), a.findings


def test_a_variable_over_a_large_product_is_checked_without_building_it() -> None:
    """Index checks tested membership in the full product of the variable's sets (here 10^8 keys)."""
    text = ("# t\n\n```model\nsets:\n  T: 1..10000\nvars:\n  x[T, T]: {}\nminimize: x[1, 1] + x[10000, 10000]\n"
            "constraints:\n  c: x[1, 10001] >= 0\n```\n")
    a = lint(text)
    assert any("outside T x T" in m for m in messages(a, "NEMO126")), a.findings


def test_a_numeric_constraint_written_in_exponent_notation_keeps_its_span() -> None:
    """`c1: 1e9` was read as the text `1000000000.0`, so its finding ran past the end of the line."""
    text = model_spec("sum(x[f] for f in F)", "x[f] <= 3").replace('"x[f] <= 3"', "1e9")
    a = lint(text)
    (f,) = [f for f in a.findings if f.code == "NEMO131"]
    assert a.spec.lines[f.span.line][f.span.col:f.span.end_col] == "1e9"


# --- YAML, JSON and tables -------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "# t\n\n```model\nsets: " + "[" * 20_000 + "\n```\n",
    "# t\n\n```model\nsets: " + "{a: " * 5_000 + "\n```\n",
    "---\na: " + "[" * 20_000 + "\n---\n# t\n",
    "---\na: " + "{a: " * 5_000 + "\n---\n# t\n",
    "---\na:\n" + "".join("  " * i + "- \n" for i in range(1, 400)) + "---\n# t\n",  # refused past 50 levels
], ids=["model-flow-list", "model-flow-map", "front-flow-list", "front-flow-map", "front-block-list"])
def test_deeply_nested_yaml_is_a_finding(text: str) -> None:
    a = lint(text)
    assert {"NEMO102", "NEMO120"} & set(codes(a)), a.findings


def test_yaml_error_at_the_end_of_the_text_points_inside_it() -> None:
    """PyYAML reports `<stream end>` one column past the last character."""
    a = lint("---\nagent: [\n---")
    (f,) = [f for f in a.findings if f.code == "NEMO102"]
    assert f.span.line == 1 and f.span.end_col <= len("agent: [")


def test_a_yaml_integer_of_thousands_of_digits_is_a_finding() -> None:
    a = lint("---\ntime_limit: " + "9" * 5000 + "\n---\n# t\n")
    assert "NEMO104" in codes(a), a.findings


def test_an_impossible_yaml_date_is_text() -> None:
    a = lint("---\ntitle: 2024-13-45\n---\nHello.\n")
    assert not any(f.is_error for f in a.findings), a.findings


@pytest.mark.parametrize("body, why", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('[{"a": ' + "9" * 5000 + "}]", "digits"),
], ids=["deep", "long-integer"])
def test_unreadable_json_blocks_are_findings(body: str, why: str) -> None:
    a = lint(f"# t\n\n```json t\n{body}\n```\n")
    assert any(why in m for m in messages(a, "NEMO113")), a.findings


def test_json_error_at_the_end_of_a_line_points_inside_it() -> None:
    a = lint("```json foods\n\n")
    assert "NEMO113" in codes(a)


def test_a_table_cell_of_thousands_of_digits_is_a_number() -> None:
    """int() refused the cell (ValueError): it reads as a very large number, like `1e999`."""
    text = ("# t\n\n| food | cost |\n|---|---|\n| bread | " + "9" * 5000 + " |\n\nTable: foods\n\n"
            "```model\nsets:\n  F: foods.food\nparams:\n  cost[F]: foods.cost\nvars:\n  x[F]: {}\n"
            "minimize: sum(cost[f] * x[f] for f in F)\n```\n")
    a = lint(text)
    assert a.data is not None and a.data.params["cost"][("bread",)] == float("inf")


@pytest.mark.parametrize("brk", ["\x85", "\u2028", "\u2029"], ids=["NEL", "LS", "PS"])
def test_characters_that_only_yaml_takes_for_line_breaks_keep_spans_on_their_lines(brk: str) -> None:
    """YAML 1.1 breaks lines at NEL, LS and PS; the spec and LSP do not, so PyYAML's line numbers ran
    ahead of the file's and findings landed past the end of their lines (found by the deep profile)."""
    front = lint(f"---\nexpect:\n  objective: 15\n{brk}0  source: x\n---\n# t\n")
    assert front.findings
    model = lint(model_spec("sum(x[f] for f in F)", "x[f] <= 3").replace("params:", f"{brk}0params:", 1))
    assert model.findings
