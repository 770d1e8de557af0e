"""Fuzzing the model language: random expressions from its grammar, whitelisted and hostile.

Expressions are placed where a model may hold them (the objective, a constraint, a variable's bound,
an index filter) in an otherwise valid spec. Nothing may be evaluated (no eval/exec/compile beyond an
AST, no file appears), every input ends in findings, and pathological inputs (huge powers, deep
nesting, long operator chains) end in findings quickly instead of hanging or hitting the recursion
limit.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemo_lsp.model.expr import parse_expr

from .fuzz_support import analyze_soundly, cases, deep_nesting, expressions, model_spec, nothing_evaluated

SLOW = 2.0
"""Seconds one pathological input may take to lint (it takes milliseconds; this is a hang detector)."""


@pytest.fixture(autouse=True, scope="module")
def _in_scratch_dir(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    """Run in an empty folder: a hostile expression that managed to run would leave PWNED here."""
    here = os.getcwd()
    scratch = tmp_path_factory.mktemp("fuzz-model")
    os.chdir(scratch)
    yield scratch
    os.chdir(here)
    assert not (scratch / "PWNED").exists(), "a model expression was executed"


@cases(1500)
@given(expressions())
def test_parse_expr_never_raises_or_evaluates(text: str) -> None:
    with nothing_evaluated():
        expr, problems = parse_expr(text, 3, 5)
    assert (expr is None) == bool(problems)
    for p in problems:
        assert p.span is not None and p.span.line == 3 and p.span.col >= 5
    assert not Path("PWNED").exists()


@cases(1500)
@given(expressions(), expressions(), st.one_of(st.none(), expressions(6)), st.one_of(st.none(), expressions(6)),
       st.booleans())
def test_expressions_in_a_model_end_in_findings(objective: str, constraint: str, bound: str | None,
                                                condition: str | None, plain: bool) -> None:
    text = model_spec(objective, constraint, bound, condition, plain=plain)
    analyze_soundly(text)
    assert not Path("PWNED").exists()


@cases(200)
@given(deep_nesting(), st.sampled_from(["objective", "constraint", "bound", "condition"]))
def test_deep_and_long_expressions_end_in_findings_quickly(expr: str, where: str) -> None:
    args = {"objective": "sum(x[f] for f in F)", "constraint": "x[f] <= 3"}
    if where in ("objective", "constraint"):
        args[where] = expr if where == "objective" else f"{expr} <= 3"
    text = model_spec(**args, bound=expr if where == "bound" else None,
                      condition=expr if where == "condition" else None)
    started = time.perf_counter()
    analyze_soundly(text)
    assert time.perf_counter() - started < SLOW
