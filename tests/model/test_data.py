"""Resolved data: the one data file both generated programs read, and the evaluator over it."""

from __future__ import annotations

import ast

import pytest

from nemo_lsp.analysis import analyze
from nemo_lsp.model.check import check_model
from nemo_lsp.model.evaluate import EvalError, Evaluator

from .model_support import FOODS, LINKS, QUARTERS, check, codes, line_of, only, text_at


def expression(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


def test_data_file_holds_sets_params_and_raw_tables() -> None:
    a = check("""
        sets:
          A: links.(origin, destination)
          T: 1..2
        params:
          fee: 3
          cost[A]: links.cost
          bonus[T]: {from: quarters.demand, default: 0}
        vars:
          flow[A]: {lb: 0}
          y[T]: {lb: 0}
        minimize: sum(fee * cost[i, j] * flow[i, j] for (i, j) in A) - sum(bonus[t] * y[t] for t in T)
        """, LINKS, QUARTERS.replace("| 3       | 75     |\n", ""))
    assert a.ok, a.findings
    data = a.data_json()
    assert data["sets"] == {"A": [["a", "b"], ["b", "c"], ["a", "c"]], "T": [1, 2]}
    assert data["params"]["fee"] == 3
    assert data["params"]["cost"] == {"index": ["A"], "default": None,
                                      "values": [["a", "b", 1], ["b", "c", 2], ["a", "c", 5]]}
    assert data["params"]["bonus"] == {"index": ["T"], "default": 0, "values": [[1, 40], [2, 60]]}
    assert data["tables"]["links"]["columns"] == ["origin", "destination", "cost"]
    assert a.data.param_dim("cost") == 2


def test_spec_without_model_block_gives_the_tables_only() -> None:
    a = analyze("# T\n\nProse.\n\n" + FOODS)
    assert a.model is None and a.data is None
    assert a.data_json() == {"sets": {}, "params": {}, "tables": {"foods": {
        "columns": ["food", "cost", "limit"], "rows": [["bread", 2, 10], ["milk", 3.5, 4], ["cheese", 8, 2]]}}}


def test_key_given_twice_in_a_table_is_nemo121_at_the_second_value() -> None:
    a = check("""
        sets:
          F: foods.food
        params:
          cost[F]: foods.cost
        vars:
          x[F]: {lb: 0}
        minimize: sum(cost[f] * x[f] for f in F)
        """, FOODS.replace("| cheese | 8    |", "| milk   | 8    |"))
    f = only(a, "NEMO121")
    assert "`cost['milk']` is given twice" in f.message
    assert (f.span.line, text_at(a, f)) == (line_of(a, "| milk   | 8"), "8")


def test_matrix_row_or_column_outside_its_sets_is_nemo126_at_the_label() -> None:
    a = check("""
        sets:
          P: [p1]
          M: [m1]
        params:
          d[P, M]: {from: dist, default: 0}
        vars:
          s[P, M]: {lb: 0}
        minimize: sum(d[p, m] * s[p, m] for p in P for m in M)
        """, "| p | m1 | m9 |\n|---|---|---|\n| p1 | 1 | 2 |\n| p7 | 3 | 4 |\n\nTable: dist")
    found = sorted((f.span.line, text_at(a, f)) for f in a.findings if f.code == "NEMO126")
    assert found == [(line_of(a, "| p | m1"), "m9"), (line_of(a, "| p7"), "p7")]


def test_range_bound_from_a_whole_float_param_is_an_integer() -> None:
    a = check("sets:\n  T: 1..n\nparams:\n  n: 3.0\nvars:\n  y[T]: {lb: 0}\nminimize: sum(y[t] for t in T)")
    assert a.data.sets["T"] == [1, 2, 3]


def test_range_bound_from_a_fractional_param_is_nemo121() -> None:
    a = check("sets:\n  T: 1..n\nparams:\n  n: 2.5\nvars:\n  y[T]: {lb: 0}\nminimize: sum(y[t] for t in T)")
    assert "NEMO121" in codes(a)


SCORED = """
    sets:
      F: foods.food
    params:
      cost[F]: foods.cost
    vars:
      x[F]: {lb: 0}
      slack: {lb: 0}
    minimize: sum(cost[f] * x[f] for f in F) + 10 * slack
    """


def test_evaluator_scores_a_decision_from_the_data() -> None:
    a = check(SCORED)
    var_index = {n: (v.index.sets if v.index else ()) for n, v in a.model.vars.items()}
    values = {"x": {("bread",): 1.0, ("cheese",): 0.5}, "slack": 2.0}
    ev = Evaluator(a.data, var_index, values)
    assert ev.eval(a.model.objective.expr.tree, {}) == pytest.approx(2 * 1.0 + 8 * 0.5 + 10 * 2.0)
    assert ev.eval(expression("sum(1 for f in F if cost[f] > 2)"), {}) == 2
    assert ev.eval(expression("len(F)"), {}) == 3
    assert ev.eval(expression("'milk' in F and 'tea' not in F"), {}) is True


def test_evaluator_reads_variables_as_zero_when_checking() -> None:
    a = check(SCORED)
    ev = Evaluator(a.data, {"x": ("F",), "slack": ()})
    assert ev.eval(expression("x['milk'] + slack"), {}) == 0.0


def test_evaluator_uses_the_default_inside_the_set_and_refuses_keys_outside_it() -> None:
    a = check("""
        sets:
          T: 1..4
        params:
          demand[T]: {from: quarters.demand, default: 0}
        vars:
          y[T]: {lb: 0}
        minimize: sum(demand[t] * y[t] for t in T)
        """, QUARTERS)
    ev = Evaluator(a.data, {"y": ("T",)})
    assert ev.eval(expression("demand[4]"), {}) == 0
    assert ev.eval(expression("demand[t]"), {"t": 2}) == 60
    with pytest.raises(EvalError, match=r"`demand\[5\]` is outside T"):
        ev.eval(expression("demand[5]"), {})
    with pytest.raises(EvalError, match="outside T"):
        ev.eval(expression("y[0]"), {})


def test_index_check_gives_up_quietly_when_the_budget_is_spent() -> None:
    a = check("""
        sets:
          T: 1..3
        vars:
          s[T]: {lb: 0}
        minimize: sum(s[t] for t in T)
        constraints:
          balance[t in T]: s[t - 1] <= s[t]
        """)
    assert "NEMO126" in codes(a)
    assert "NEMO126" not in [f.code for f in check_model(a.model, a.data, budget=2)]
