"""The model-block language: declarations, what the checker admits, and where it reports what not.

Each test writes a small spec (prose, tables, a ```model block) and runs the same `analyze` that
`nemo check` and the language server run. Spans are 0-based; `line_of` finds the line a finding
belongs to by its text, so the tests say *where* without counting lines.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import indent

import pytest

from nemo_lsp.analysis import analyze
from nemo_lsp.findings import Severity

from .model_support import EXAMPLES, FOODS, LINKS, QUARTERS, check, codes, errors, line_of, only, text_at

FOOD_MODEL = """\
sets:
  F: foods.food
params:
  cost[F]: foods.cost
  limit[F]: foods.limit
vars:
  x[F]: {lb: 0}
minimize: sum(cost[f] * x[f] for f in F)
constraints:
  cap[f in F]: x[f] <= limit[f]"""
"""The model most tests edit: one set, two column params, one variable, one constraint."""


def with_constraint(line: str) -> str:
    """The foods model with one more constraint line."""
    return FOOD_MODEL + "\n" + indent(line, "  ") + "\n"


def test_the_base_model_of_these_tests_is_clean() -> None:
    a = check(FOOD_MODEL)
    assert a.findings == ()
    assert a.ok


# --- sets ---------------------------------------------------------------------------------------


def test_column_set_holds_the_columns_distinct_values_in_row_order() -> None:
    a = check("""
        sets:
          K: kinds.kind
        vars:
          y[K]: {lb: 0}
        minimize: sum(y[k] for k in K)
        """, "| kind | n |\n|---|---|\n| b | 1 |\n| a | 2 |\n| b | 3 |\n|  | 4 |\n\nTable: kinds")
    assert a.findings == ()
    assert a.data.sets["K"] == ["b", "a"]  # duplicates once, empty cells skipped


def test_list_set_holds_its_elements() -> None:
    a = check("""
        sets:
          J: [job1, job2, 3]
        vars:
          y[J]: binary
        minimize: sum(y[j] for j in J)
        """)
    assert a.data.sets["J"] == ["job1", "job2", 3]


def test_range_set_includes_both_bounds() -> None:
    a = check("""
        sets:
          D: 1..7
        vars:
          y[D]: {lb: 0}
        minimize: sum(y[d] for d in D)
        """)
    assert a.data.sets["D"] == [1, 2, 3, 4, 5, 6, 7]
    assert a.model.sets["D"].kind == "range"


def test_range_bound_may_be_a_scalar_param_which_counts_as_used() -> None:
    a = check("""
        sets:
          T: 1..horizon
        params:
          horizon: 4
        vars:
          y[T]: {lb: 0}
        minimize: sum(y[t] for t in T)
        """)
    assert a.findings == ()  # in particular no NEMO129 for `horizon`
    assert a.data.sets["T"] == [1, 2, 3, 4]


def test_range_bound_naming_no_param_is_nemo124() -> None:
    a = check("""
        sets:
          T: 1..horizon
        vars:
          y[T]: {lb: 0}
        minimize: sum(y[t] for t in T)
        """)
    f = only(a, "NEMO124")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "T: 1..horizon"), "1..horizon")


def test_pairs_set_holds_tuples_read_from_two_columns() -> None:
    a = check("""
        sets:
          A: links.(origin, destination)
        params:
          cost[A]: links.cost
        vars:
          flow[A]: {lb: 0}
        minimize: sum(cost[i, j] * flow[i, j] for (i, j) in A)
        """, LINKS)
    assert a.findings == ()
    assert a.data.sets["A"] == [("a", "b"), ("b", "c"), ("a", "c")]
    assert a.data.dims["A"] == 2
    assert a.data.params["cost"] == {("a", "b"): 1, ("b", "c"): 2, ("a", "c"): 5}


@pytest.mark.parametrize("definition", [
    pytest.param("foods", id="table-without-column"),
    pytest.param("1..", id="half-range"),
    pytest.param("{a: 1}", id="mapping"),
    pytest.param("[[a, b]]", id="nested-list"),
])
def test_unreadable_set_is_nemo121_at_its_definition(definition: str) -> None:
    a = check(f"sets:\n  S: {definition}\n" + FOOD_MODEL.removeprefix("sets:\n"))
    f = only(a, "NEMO121")
    assert f.span.line == line_of(a, "  S: ")


# --- params -------------------------------------------------------------------------------------


@pytest.mark.parametrize("written, value", [
    pytest.param("40", 40, id="integer"),
    pytest.param("2.5", 2.5, id="decimal"),
    pytest.param("1e3", 1000.0, id="exponent-without-dot"),
    pytest.param("-2.5e-1", -0.25, id="negative-exponent"),
])
def test_scalar_param_is_a_number(written: str, value: float) -> None:
    a = check(FOOD_MODEL.replace("limit[F]: foods.limit", f"limit[F]: foods.limit\n  budget: {written}")
              + "\n  spend: sum(cost[f] * x[f] for f in F) <= budget")
    assert a.findings == ()
    assert a.data.params["budget"] == value
    assert a.model.params["budget"].kind == "scalar"


def test_quoted_number_is_not_a_scalar_param() -> None:
    a = check(FOOD_MODEL.replace("limit[F]: foods.limit", "limit[F]: foods.limit\n  budget: '1e3'"))
    assert only(a, "NEMO121").span.line == line_of(a, "budget:")


def test_column_param_is_keyed_by_the_column_its_set_comes_from() -> None:
    a = check("""
        sets:
          F: prices.food
        params:
          price[F]: prices.cost
        vars:
          x[F]: {lb: 0}
        minimize: sum(price[f] * x[f] for f in F)
        """, "| note | food | cost |\n|---|---|---|\n| cheap | bread | 2 |\n| dear | milk | 3.5 |\n\nTable: prices")
    assert a.findings == ()
    assert a.data.params["price"] == {("bread",): 2, ("milk",): 3.5}


def test_column_param_falls_back_to_the_first_columns_when_its_sets_column_is_absent() -> None:
    a = check("""
        sets:
          F: foods.food
        params:
          price[F]: prices.cost
        vars:
          x[F]: {lb: 0}
        minimize: sum(price[f] * x[f] for f in F)
        """, FOODS, "| item | cost |\n|---|---|\n| bread | 1 |\n| milk | 2 |\n| cheese | 3 |\n\nTable: prices")
    assert a.findings == ()
    assert a.data.params["price"] == {("bread",): 1, ("milk",): 2, ("cheese",): 3}


def test_explicit_keys_name_the_key_columns() -> None:
    a = check("""
        sets:
          N: [a, b, c]
        params:
          km[N, N]: {from: roads.km, keys: [to, from]}
        vars:
          go[N, N]: {lb: 0}
        minimize: sum(km[i, j] * go[i, j] for i in N for j in N)
        """, "| id | from | to | km |\n|---|---|---|---|\n| 1 | a | b | 5 |\n| 2 | b | c | 6 |\n\nTable: roads")
    assert a.data.params["km"] == {("b", "a"): 5, ("c", "b"): 6}
    assert a.data.defaults["km"] is None
    assert codes(a) == ["NEMO134"]  # the other seven pairs have no value and no default


def test_matrix_table_param_reads_rows_by_first_column_and_columns_by_header() -> None:
    a = check("""
        sets:
          P: [p1, p2]
          M: [1, 2]
        params:
          distance[P, M]: distance
        vars:
          ship[P, M]: {lb: 0}
        minimize: sum(distance[p, m] * ship[p, m] for p in P for m in M)
        """, "| plant | 1 | 2 |\n|---|---|---|\n| p1 | 2.5 | 1.7 |\n| p2 | 2.5 | 1.4 |\n\nTable: distance")
    assert a.findings == ()
    assert a.model.params["distance"].kind == "matrix"
    assert a.data.params["distance"] == {("p1", 1): 2.5, ("p1", 2): 1.7, ("p2", 1): 2.5, ("p2", 2): 1.4}


def test_mapping_param_gives_one_value_per_element() -> None:
    a = check("""
        sets:
          T: 1..3
        params:
          demand[T]: {1: 40, 2: 60, 3: 75}
        vars:
          y[T]: {lb: 0}
        minimize: sum(y[t] for t in T)
        constraints:
          meet[t in T]: y[t] >= demand[t]
        """)
    assert a.findings == ()
    assert a.data.params["demand"] == {(1,): 40, (2,): 60, (3,): 75}


def test_mapping_param_with_text_value_is_nemo114_at_the_value() -> None:
    a = check("""
        sets:
          T: 1..2
        params:
          demand[T]: {1: 40, 2: lots}
        vars:
          y[T]: {lb: 0}
        minimize: sum(demand[t] * y[t] for t in T)
        """)
    f = only(a, "NEMO114")
    assert text_at(a, f) == "lots"


def test_constant_param_fills_every_index() -> None:
    a = check(FOOD_MODEL.replace("limit[F]: foods.limit", "limit[F]: 5"))
    assert a.findings == ()
    assert a.model.params["limit"].kind == "constant"
    assert a.data.params["limit"] == {("bread",): 5, ("milk",): 5, ("cheese",): 5}


def test_default_fills_the_keys_a_table_leaves_out() -> None:
    a = check("""
        sets:
          T: 1..4
        params:
          demand[T]: {from: quarters.demand, default: 0}
        vars:
          y[T]: {lb: 0}
        minimize: sum(y[t] for t in T)
        constraints:
          meet[t in T]: y[t] >= demand[t]
        """, QUARTERS)
    assert a.findings == ()
    assert a.data.params["demand"] == {(1,): 40, (2,): 60, (3,): 75}
    assert a.data.defaults["demand"] == 0


@pytest.mark.parametrize("definition, message", [
    pytest.param("foods.cost", "needs an index", id="column-without-index"),
    pytest.param("{from: foods.cost, step: 2}", "unknown parameter option", id="unknown-option"),
    pytest.param("{from: foods.cost, default: none}", "`default` must be a number", id="default-not-a-number"),
    pytest.param("[1, 2]", "cannot read parameter", id="list"),
])
def test_unreadable_param_is_nemo121(definition: str, message: str) -> None:
    index = "" if definition.startswith("foods") else "[F]"
    a = check(FOOD_MODEL.replace("limit[F]: foods.limit", f"limit[F]: foods.limit\n  extra{index}: {definition}"))
    f = only(a, "NEMO121")
    assert message in f.message
    assert f.span.line == line_of(a, "  extra")


# --- vars ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("declaration, domain", [
    pytest.param("x[F]:", "continuous", id="bare"),
    pytest.param("x[F]: integer", "integer", id="short-integer"),
    pytest.param("x[F]: binary", "binary", id="short-binary"),
    pytest.param("x[F]: {domain: integer, lb: 0}", "integer", id="mapping"),
    pytest.param("x[f in F]:\n    domain: binary", "binary", id="block-style"),
])
def test_variable_domain(declaration: str, domain: str) -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", declaration))
    assert errors(a) == []
    assert a.model.vars["x"].domain == domain


def test_variable_bounds_are_expressions() -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", "x[F]: {lb: 1, ub: 2 * 5}"))
    v = a.model.vars["x"]
    assert (v.lb.text, v.ub.text, v.free_lb) == ("1", "2 * 5", False)


def test_index_dependent_bound_is_written_in_block_style() -> None:
    a = check("""
        sets:
          F: foods.food
        params:
          limit[F]: foods.limit
        vars:
          servings[f in F]:
            domain: integer
            lb: 0
            ub: limit[f]
        minimize: sum(servings[f] for f in F)
        """)
    assert a.findings == ()
    v = a.model.vars["servings"]
    assert (v.ub.text, v.ub.line) == ("limit[f]", line_of(a, "ub: limit[f]"))


def test_index_dependent_bound_in_a_flow_mapping_is_a_yaml_error_at_its_line() -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", "x[f in F]: {lb: 0, ub: limit[f]}"))
    f = only(a, "NEMO120")
    assert f.span.line == line_of(a, "x[f in F]: {lb: 0, ub: limit[f]}")


def test_bound_using_an_index_the_declaration_does_not_name_is_nemo124() -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", "x[F]:\n    ub: limit[f]"))
    f = only(a, "NEMO124")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "ub: limit[f]"), "f")


def test_lb_null_makes_the_variable_free() -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", "x[F]:\n    lb: null\n    ub: 10"))
    v = a.model.vars["x"]
    assert (v.lb, v.free_lb, v.ub.text) == (None, True, "10")


def test_a_variable_without_lb_is_not_free() -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", "x[F]: {ub: 10}"))
    assert a.model.vars["x"].free_lb is False


@pytest.mark.parametrize("declaration, message", [
    pytest.param("x[F]: {domain: real}", "domain must be one of", id="unknown-domain"),
    pytest.param("x[F]: {lb: 0, step: 1}", "unknown variable option", id="unknown-option"),
    pytest.param("x[F]: 7", "takes `{domain", id="number"),
    pytest.param("x[f in F if f != 'milk']: {lb: 0}", "cannot have an `if` filter", id="filtered-index"),
])
def test_malformed_variable_is_nemo121(declaration: str, message: str) -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", declaration))
    assert any(f.code == "NEMO121" and message in f.message for f in a.findings), a.findings
    assert all(f.span.line == line_of(a, "  x[") for f in a.findings if f.code == "NEMO121")


# --- objective ----------------------------------------------------------------------------------


def test_missing_objective_is_nemo130_at_the_model_fence() -> None:
    a = check(FOOD_MODEL.replace("minimize: sum(cost[f] * x[f] for f in F)\n", ""))
    f = only(a, "NEMO130")
    assert f.span.line == line_of(a, "```model")


def test_repeated_objective_is_nemo130_at_the_second_one() -> None:
    a = check(FOOD_MODEL + "\nmaximize: sum(x[f] for f in F)")
    f = only(a, "NEMO130")
    assert f.span.line == line_of(a, "maximize:")
    assert f"the minimize on line {line_of(a, 'minimize:') + 1}" in f.message
    assert a.model.objective.sense == "minimize"


def test_objective_with_a_broken_expression_is_not_reported_missing() -> None:
    a = check(FOOD_MODEL.replace("sum(cost[f] * x[f] for f in F)", "sum(cost[f] * x[f] for f in F"))
    assert codes(a).count("NEMO122") == 1
    assert "NEMO130" not in codes(a)


def test_objective_that_is_a_comparison_is_nemo131() -> None:
    a = check(FOOD_MODEL.replace("sum(cost[f] * x[f] for f in F)", "sum(x[f] for f in F) >= 1"))
    assert only(a, "NEMO131").span.line == line_of(a, "minimize:")


def test_maximize_is_the_objective_sense() -> None:
    a = check(FOOD_MODEL.replace("minimize:", "maximize:"))
    assert a.model.objective.sense == "maximize"


# --- constraints --------------------------------------------------------------------------------

PAIRS_MODEL = """\
sets:
  F: foods.food
  A: links.(origin, destination)
params:
  limit[F]: foods.limit
  cost[A]: links.cost
vars:
  x[F]: {lb: 0}
  flow[A]: {lb: 0}
minimize: sum(x[f] for f in F) + sum(cost[i, j] * flow[i, j] for (i, j) in A)
constraints:
"""


@pytest.mark.parametrize("constraint, bindings, condition", [
    pytest.param("total: sum(x[f] for f in F) >= 1", [], None, id="not-indexed"),
    pytest.param("cap[f in F]: x[f] <= limit[f]", [(("f",), "F")], None, id="indexed"),
    pytest.param("cap[f in F if limit[f] > 3]: x[f] <= limit[f]", [(("f",), "F")], "limit[f] > 3", id="if-filter"),
    pytest.param("diff[f in F, g in F if f != g]: x[f] - x[g] <= 5",
                 [(("f",), "F"), (("g",), "F")], "f != g", id="two-bindings-and-filter"),
    pytest.param("link[(i, j) in A]: flow[i, j] <= 10 * cost[i, j]", [(("i", "j"), "A")], None, id="pair-unpacking"),
    pytest.param("out[f in F]: sum(flow[i, j] for (i, j) in A if i == 'a') <= limit[f]",
                 [(("f",), "F")], None, id="filtered-sum-over-pairs"),
    pytest.param("band[f in F]: 1 <= x[f] <= limit[f]", [(("f",), "F")], None, id="range"),
    pytest.param("fix: x['bread'] == 2", [], None, id="equality-with-a-quoted-element"),
    pytest.param("member[(i, j) in A if (i, j) in A]: flow[i, j] >= 0", [(("i", "j"), "A")], "(i, j) in A",
                 id="membership-test"),
    pytest.param("avg: sum(x[f] for f in F) / len(F) <= max(limit[f] for f in F)", [], None, id="len-and-max-of-data"),
    pytest.param("quoted: \"x['milk'] <= 3\"", [], None, id="quoted-expression"),
    pytest.param("folded: sum(x[f] for f in F)\n    <= 100", [], None, id="expression-over-two-lines"),
])
def test_constraint_forms_are_admitted(constraint: str, bindings: list, condition: str | None) -> None:
    a = check(PAIRS_MODEL + indent(constraint, "  "), FOODS, LINKS)
    assert errors(a) == []
    (c,) = a.model.constraints.values()
    assert c.name_span.line == line_of(a, constraint.split(":")[0])
    assert ([(b.names, b.set) for b in c.index.bindings] if c.index else []) == bindings
    assert (c.index.condition.text if c.index and c.index.condition else None) == condition


def test_constraint_keeps_its_expression_span_on_the_file_line() -> None:
    a = check(with_constraint("need: sum(x[f] for f in F) >= 3"))
    c = a.model.constraints["need"]
    assert (c.expr.line, a.spec.lines[c.expr.line][c.expr.col:]) == (line_of(a, "need:"), "sum(x[f] for f in F) >= 3")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("line, noticed", [
    pytest.param("bad: x['bread'] : 3", "bad:", id="colon-space"),
    pytest.param("bad: \"x['bread'] <= 3", "bad:", id="unclosed-quote"),
    pytest.param("bad: 'x['bread'] <= 3'", "bad:", id="quote-inside-quotes"),
    pytest.param("bad: [x['bread'] <= 3", "bad:", id="bracket-in-a-flow-list"),
    pytest.param("bad: [1, 2", "bad:", id="unclosed-list"),  # noticed at `after:`, reported where it opens
    pytest.param("bad: {x: 1", "bad:", id="unclosed-mapping"),
])
def test_model_yaml_error_is_nemo120_at_its_line(line: str, noticed: str) -> None:
    a = check(with_constraint(line) + "\n  after: x['milk'] <= 1")
    f = only(a, "NEMO120")
    assert f.span.line == line_of(a, noticed)
    assert a.model.constraints == {}  # nothing of an unreadable block is used


def test_model_yaml_error_line_is_the_line_in_the_file() -> None:
    a = check(with_constraint("bad: x['bread'] : 3"))
    f = only(a, "NEMO120")
    assert (f.span.line, a.spec.lines[f.span.line][f.span.col]) == (line_of(a, "bad: x['bread'] : 3"), ":")


def test_model_expression_syntax_error_is_nemo122_at_the_column() -> None:
    a = check(with_constraint("bad: x['bread'] <= <= 3"))
    f = only(a, "NEMO122")
    assert (f.span.line, f.span.col) == (line_of(a, "bad:"), a.spec.lines[f.span.line].rindex("<="))


@pytest.mark.parametrize("edit", [
    pytest.param(("x[f] <= limit[f]", "x[f] <= <= limit[f]"), id="syntax-error"),
    pytest.param(("x[f] <= limit[f]", "x[f] <= limit[f].real"), id="disallowed-syntax"),
    pytest.param(("cap[f in F]:", "cap[f in F if]:"), id="broken-index"),
])
def test_names_in_an_unreadable_expression_are_not_also_reported_unused(edit: tuple[str, str]) -> None:
    a = check(FOOD_MODEL.replace(*edit))
    assert a.findings and "NEMO129" not in codes(a)


@pytest.mark.parametrize("constraint, name, hint", [
    pytest.param("c2[f in F]: x[f] <= limt[f]", "limt", "limit", id="param"),
    pytest.param("c2[f in F]: xs[f] <= limit[f]", "xs", "x", id="variable"),
    pytest.param("c2: sum(x[f] for f in FF) <= 3", "FF", "F", id="set-in-a-sum"),
    pytest.param("c2[f in Fs]: x[f] <= 3", "Fs", "F", id="set-in-a-head"),
    pytest.param("c2[food in F]: x[fod] <= 3", "fod", "food", id="index-name"),
])
def test_undefined_name_is_nemo124_at_the_name_with_a_did_you_mean(constraint: str, name: str, hint: str) -> None:
    a = check(with_constraint(constraint))
    f = only(a, "NEMO124")
    assert f.span.line == line_of(a, "c2")
    assert text_at(a, f) == name
    assert f"`{name}` is not defined; did you mean `{hint}`?" == f.message


@pytest.mark.parametrize("constraint, culprit", [
    pytest.param("c2[f in F]: x[f, f] <= 3", "x[f, f]", id="too-many"),
    pytest.param("c2: x <= 3", "x", id="indexed-variable-without-brackets"),
    pytest.param("c2: sum(x[f] for f in F) <= limit", "limit", id="indexed-param-without-brackets"),
    pytest.param("c2: x['bread'] <= budget['bread']", "budget['bread']", id="scalar-with-brackets"),
])
def test_wrong_number_of_indices_is_nemo125_at_the_reference(constraint: str, culprit: str) -> None:
    a = check(with_constraint(constraint).replace("limit[F]: foods.limit", "limit[F]: foods.limit\n  budget: 9"))
    f = only(a, "NEMO125")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "c2"), culprit)


def test_pair_set_needs_two_indices_and_two_names() -> None:
    a = check(PAIRS_MODEL + "  one[(i, j) in A]: flow[i] <= 1\n  three: sum(flow[i, j] for (i, j, k) in A) <= 1",
              FOODS, LINKS)
    assert [f.code for f in errors(a)] == ["NEMO125", "NEMO125"]
    assert [f.span.line for f in errors(a)] == [line_of(a, "one["), line_of(a, "three:")]


STOCK_MODEL = """\
sets:
  T: quarters.quarter
params:
  demand[T]: quarters.demand
vars:
  stock[T]: {lb: 0}
  make[T]: {lb: 0}
minimize: sum(make[t] for t in T)
constraints:
"""


def test_index_outside_its_set_is_nemo126_at_the_subscript() -> None:
    a = check(STOCK_MODEL + "  balance[t in T]: stock[t - 1] + make[t] - demand[t] == stock[t]", QUARTERS)
    f = only(a, "NEMO126")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "balance["), "stock[t - 1]")
    assert "when t = 1" in f.message and "`stock[0]` is outside T" in f.message


@pytest.mark.parametrize("balance", [
    pytest.param("balance[t in T if t > 1]: stock[t - 1] + make[t] - demand[t] == stock[t]", id="if-filter"),
    pytest.param("balance[t in T]: (stock[t - 1] if t > 1 else 10) + make[t] - demand[t] == stock[t]",
                 id="if-else"),
])
def test_guarded_previous_period_is_inside_its_set(balance: str) -> None:
    a = check(STOCK_MODEL + "  " + balance, QUARTERS)
    assert a.findings == ()


def test_param_key_outside_its_set_is_nemo126() -> None:
    a = check("""
        sets:
          T: 1..2
        params:
          demand[T]: {from: quarters.demand, default: 0}
        vars:
          y[T]: {lb: 0}
        minimize: sum(demand[t] * y[t] for t in T)
        """, QUARTERS)
    f = only(a, "NEMO126")
    assert "`3` (a key of `demand`) is not in T" in f.message
    assert f.span.line == line_of(a, "| 3 ")


@pytest.mark.parametrize("expression, culprit", [
    pytest.param("max(x['milk'], 1) <= 3", "max(x['milk'], 1)", id="max"),
    pytest.param("min(x['milk'], x['bread']) <= 3", "min(x['milk'], x['bread'])", id="min"),
    pytest.param("x['milk'] % 2 <= 1", "x['milk'] % 2", id="modulo"),
])
def test_nonsmooth_expression_of_variables_is_nemo127_at_the_offending_part(expression: str, culprit: str) -> None:
    a = check(with_constraint(f"c2: {expression}"))
    f = only(a, "NEMO127")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "c2:"), culprit)


@pytest.mark.parametrize("expression", [
    pytest.param("x['bread'] * x['milk'] <= 3", id="product"),
    pytest.param("sum(x[f] * x[f] for f in F) <= 3", id="square-in-a-sum"),
    pytest.param("limit['milk'] / x['milk'] <= 3", id="divide-by-variable"),
    pytest.param("x['milk'] ** 2 <= 3", id="power"),
    pytest.param("abs(x['milk']) <= 3", id="abs"),
    pytest.param("exp(x['milk']) + log(x['bread'] + 1) + sqrt(x['cheese']) <= 9", id="functions"),
    pytest.param("log(x['milk']) <= 3", id="log-of-a-variable-that-is-0-while-checking"),
])
def test_nonlinear_expression_the_backends_take_is_accepted(expression: str) -> None:
    assert check(with_constraint(f"c2: {expression}")).findings == ()


def test_data_times_variable_and_variable_over_data_are_linear() -> None:
    a = check(with_constraint("c2: limit['milk'] * x['milk'] + x['bread'] / 2 + x['cheese'] ** 1 <= 3"))
    assert a.findings == ()


def test_name_declared_twice_in_one_section_is_nemo128_at_the_second() -> None:
    a = check(FOOD_MODEL.replace("x[F]: {lb: 0}", "x[F]: {lb: 0}\n  x[F]: {ub: 1}"))
    f = only(a, "NEMO128")
    assert f.span.line == line_of(a, "x[F]: {ub: 1}")
    assert f"already declared as a variable on line {line_of(a, 'x[F]: {lb: 0}') + 1}" in f.message


@pytest.mark.parametrize("edit, second, kind", [
    pytest.param(("vars:", "vars:\n  limit: {lb: 0}"), "limit: {lb: 0}", "parameter", id="variable-as-param"),
    pytest.param(("params:", "params:\n  F: 3"), "F: 3", "set", id="param-as-set"),
    pytest.param(("  cap[f in F]", "  x: x['milk'] <= 1\n  cap[f in F]"), "x: x['milk']", "variable",
                 id="constraint-as-variable"),
])
def test_name_declared_in_two_sections_is_nemo128(edit: tuple[str, str], second: str, kind: str) -> None:
    a = check(FOOD_MODEL.replace(*edit))
    f = only(a, "NEMO128")
    assert f.span.line == line_of(a, second)
    assert f"as a {kind}" in f.message


@pytest.mark.parametrize("edit, index, hidden", [
    pytest.param(("sum(cost[f] * x[f] for f in F)", "sum(cost[cost] * x[cost] for cost in F)"),
                 "cost", "parameter `cost`", id="sum-index-hides-param"),
    pytest.param(("cap[f in F]: x[f] <= limit[f]", "cap[x in F]: 0 <= limit[x]"),
                 "x", "variable `x`", id="constraint-index-hides-variable"),
    pytest.param(("x[F]: {lb: 0}", "x[limit in F]:\n    ub: 5"),
                 "limit", "parameter `limit`", id="variable-index-hides-param"),
    pytest.param(("cap[f in F]: x[f] <= limit[f]", "cap[f in F]: sum(x[F] for F in F) <= limit[f]"),
                 "F", "set `F`", id="sum-index-hides-its-own-set"),
])
def test_index_name_that_hides_a_declaration_is_nemo128_naming_it(edit: tuple[str, str], index: str,
                                                                    hidden: str) -> None:
    a = check(FOOD_MODEL.replace(*edit))
    f = only(a, "NEMO128")
    assert f.is_error
    assert (f.span.line, text_at(a, f)) == (line_of(a, edit[1].split("\n")[0]), index)
    declared = line_of(a, f"  {hidden.split('`')[1]}")
    assert f"index `{index}` hides the {hidden} declared on line {declared + 1}" in f.message


def test_unpacked_pair_index_that_hides_a_declaration_is_nemo128() -> None:
    a = check(PAIRS_MODEL + "  out: sum(flow[i, x] for (i, x) in A) <= 3", FOODS, LINKS)
    f = only(a, "NEMO128")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "out:"), "x")
    assert "hides the variable `x`" in f.message


def test_a_param_shadowed_by_a_sum_index_is_not_mistaken_for_data() -> None:
    # `d` is the parameter outside the sum and the index inside: both uses are legal Python, which
    # is exactly why the model language refuses to let one name mean two things.
    a = check(FOOD_MODEL.replace("limit[F]: foods.limit", "limit[F]: foods.limit\n  d: 2")
              + "\n  c2: d * sum(x[d] for d in F) <= 3")
    assert [f.code for f in errors(a)] == ["NEMO128"]


@pytest.mark.parametrize("declaration, kind, name", [
    pytest.param(("sets:", "sets:\n  K: [a, b]"), "set", "K", id="set"),
    pytest.param(("params:", "params:\n  spare: 3"), "parameter", "spare", id="param"),
    pytest.param(("vars:", "vars:\n  slack: {lb: 0}"), "variable", "slack", id="variable"),
])
def test_declaration_never_used_is_a_nemo129_warning_at_it(declaration: tuple[str, str], kind: str,
                                                            name: str) -> None:
    a = check(FOOD_MODEL.replace(*declaration))
    f = only(a, "NEMO129")
    assert f.severity == Severity.WARNING
    assert a.ok
    assert f.span.line == line_of(a, f"  {name}")
    assert f.message == f"{kind} `{name}` is declared but never used"


@pytest.mark.parametrize("expression", [
    pytest.param("sum(x[f] for f in F)", id="no-comparison"),
    pytest.param("x['milk'] < 3", id="strict-less"),
    pytest.param("x['milk'] > 3", id="strict-greater"),
    pytest.param("x['milk'] != 3", id="not-equal"),
    pytest.param("0 <= x['milk'] >= 1", id="mixed-directions"),
    pytest.param("0 <= x['milk'] <= 1 <= 2", id="three-comparisons"),
    pytest.param("0 == x['milk'] == 1", id="chained-equalities"),
    pytest.param("x['bread'] <= x['milk'] <= 3", id="range-with-variable-bound"),
    pytest.param("(x['milk'] <= 3) + 1 >= 0", id="comparison-inside-arithmetic"),
])
def test_constraint_that_is_not_a_comparison_is_nemo131(expression: str) -> None:
    a = check(with_constraint(f"c2: {expression}"))
    f = only(a, "NEMO131")
    assert f.span.line == line_of(a, "c2:")


@pytest.mark.parametrize("edit, where", [
    pytest.param(("cap[f in F]:", "cap[f in F if x[f] >= 1]:"), "cap[", id="constraint-filter"),
    pytest.param(("x[F]: {lb: 0}", "x[F]: {lb: 0}\n  y:\n    ub: x['milk']"), "ub: x['milk']", id="bound"),
    pytest.param(("x[f] <= limit[f]", "x[f] <= limit[x[f]]"), "cap[", id="index"),
    pytest.param(("for f in F)", "for f in F if x[f] >= 0)"), "minimize:", id="sum-filter"),
    pytest.param(("x[f] <= limit[f]", "(x[f] if x[f] >= 1 else 0) <= limit[f]"), "cap[", id="if-else-test"),
])
def test_decision_variable_where_only_data_is_allowed_is_nemo132(edit: tuple[str, str], where: str) -> None:
    model = FOOD_MODEL.replace(*edit)
    if "y:" in edit[1]:
        model += "\n  use_y: y >= 0"
    a = check(model)
    f = only(a, "NEMO132")
    assert f.span.line == line_of(a, where)


@pytest.mark.parametrize("expression, what", [
    pytest.param("(lambda: x['milk'])() <= 3", "lambda", id="lambda"),
    pytest.param("x.real <= 3", "attribute access", id="attribute"),
    pytest.param("__import__('os') <= 3", "`__import__` is not a function", id="dunder-import"),
    pytest.param("open('/etc/passwd') <= 3", "`open` is not a function", id="open"),
    pytest.param("f'{x}' <= 3", "an f-string", id="f-string"),
    pytest.param("2 ** x['milk'] <= 3", "exponent of `**` must be a number", id="variable-exponent"),
    pytest.param("x['milk'] ** limit['milk'] <= 3", "exponent of `**` must be a number", id="data-exponent"),
    pytest.param("sum([x[f] for f in F]) <= 3", "a list comprehension", id="list-comprehension"),
    pytest.param("x['milk'] // 2 <= 3", "`//`", id="floor-division"),
    pytest.param("sum(x[f] for f in F if f is 'milk') <= 3", "`is`", id="is"),
    pytest.param("sum(1 for f in limit) <= 3", "`limit` is not a set", id="for-over-a-param"),
    pytest.param("sum(x[f] for f in range(3)) <= 3", "by name", id="for-over-a-call"),
    pytest.param("sum(x[f] for f[0] in F) <= 3", "binds a name", id="for-target-subscript"),
    pytest.param("sum(x[f] for (f, (g, h)) in F) <= 3", "binds a name", id="for-target-nested"),
    pytest.param("x['milk'] <= True", "constant True", id="boolean"),
    pytest.param("sum(x[f] for f in F) + F <= 3", "`F` is a set", id="set-as-value"),
])
def test_syntax_outside_the_model_language_is_nemo123(expression: str, what: str) -> None:
    a = check(with_constraint(f"c2: \"{expression}\""))
    found = [f for f in a.findings if f.code == "NEMO123"]
    assert found, a.findings
    assert any(what in f.message for f in found), [f.message for f in found]
    assert {f.span.line for f in found} == {line_of(a, "c2:")}


def test_disallowed_expression_is_dropped_and_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    a = check(with_constraint(f"c2: \"__import__('os').system('touch {marker}') <= 0\""))
    assert "NEMO123" in codes(a)
    assert "c2" not in a.model.constraints
    assert not marker.exists()


def test_missing_parameter_data_is_nemo134_at_the_param_naming_the_keys() -> None:
    a = check("""
        sets:
          T: 1..5
        params:
          demand[T]: quarters.demand
        vars:
          y[T]: {lb: 0}
        minimize: sum(demand[t] * y[t] for t in T)
        """, QUARTERS)
    f = only(a, "NEMO134")
    assert f.span.line == line_of(a, "demand[T]:")
    assert "has no value for 4, 5" in f.message
    assert "default: 0" in f.message


def test_empty_cell_needed_by_a_param_is_missing_data() -> None:
    a = check(FOOD_MODEL, FOODS.replace("| 4     |", "|       |"))
    assert "has no value for milk" in only(a, "NEMO134").message


def test_non_numeric_cell_needed_by_a_param_is_nemo114_at_that_cell() -> None:
    a = check(FOOD_MODEL, FOODS.replace("| 3.5  |", "| much |"))
    f = only(a, "NEMO114")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "| milk"), "much")
    assert "needed by `cost`" in f.message


def test_non_numeric_matrix_cell_is_nemo114_at_that_cell() -> None:
    a = check("""
        sets:
          P: [p1]
          M: [m1, m2]
        params:
          d[P, M]: dist
        vars:
          s[P, M]: {lb: 0}
        minimize: sum(d[p, m] * s[p, m] for p in P for m in M)
        """, "| p | m1 | m2 |\n|---|---|---|\n| p1 | 1 | far |\n\nTable: dist")
    f = only(a, "NEMO114")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "| p1"), "far")


@pytest.mark.parametrize("edit, reference, message", [
    pytest.param(("F: foods.food", "F: food.food"), "food.food", "no table named `food`", id="set-table"),
    pytest.param(("F: foods.food", "F: foods.name"), "foods.name", "has no column `name`", id="set-column"),
    pytest.param(("cost[F]: foods.cost", "cost[F]: prices.cost"), "prices.cost", "no table named `prices`",
                 id="param-table"),
    pytest.param(("cost[F]: foods.cost", "cost[F]: foods.price"), "foods.price", "has no column `price`",
                 id="param-column"),
])
def test_table_or_column_not_found_is_nemo115_at_the_reference(edit: tuple[str, str], reference: str,
                                                                message: str) -> None:
    a = check(FOOD_MODEL.replace(*edit))
    found = [f for f in a.findings if f.code == "NEMO115"]
    assert found and message in found[0].message
    assert (found[0].span.line, text_at(a, found[0])) == (line_of(a, reference), reference)


def test_model_that_is_not_a_mapping_is_nemo121() -> None:
    a = check("- sets\n- vars")
    assert codes(a) == ["NEMO121"]


def test_unknown_model_section_is_nemo121_at_its_key() -> None:
    a = check(FOOD_MODEL + "\nsubject_to:\n  c: x['milk'] <= 1")
    f = only(a, "NEMO121")
    assert (f.span.line, text_at(a, f)) == (line_of(a, "subject_to:"), "subject_to")


# --- the examples -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("**/*.opt.md")), ids=lambda p: p.name)
def test_every_example_analyzes_without_errors(path: Path) -> None:
    a = analyze(path.read_text(encoding="utf-8"))
    assert [f for f in a.findings if f.is_error] == []
    if "prose" not in path.parts:  # examples/prose/ is for the coding agents: no model block
        assert a.model is not None and a.model.objective is not None


def test_editing_a_divisor_value_to_zero_is_found_even_after_the_model_was_checked() -> None:
    from nemo_lsp.analysis import analyze

    spec = """# Ratios

| item | weight |
|------|-------:|
| a    | 2      |
| b    | 4      |

Table: items

```model
sets:
  I: items.item
params:
  w[I]: items.weight
vars:
  x[I]: {ub: 10}
maximize: sum(x[i] / w[i] for i in I)
```
"""
    assert [f.code for f in analyze(spec).findings if f.is_error] == []
    broken = analyze(spec.replace("| b    | 4      |", "| b    | 0      |"))
    assert any("division by zero" in f.message for f in broken.findings)
