"""Problem classes from the model block: a pure function of the parsed model and its data."""

from __future__ import annotations

import pytest

from nemo_lsp.analysis import analyze
from nemo_lsp.model.classify import ProblemClass, classify

DATA = """# Three funds

| fund | ret |
|------|----:|
| a | 0.06 |
| b | 0.10 |
| c | 0.14 |

Table: funds

| fund | a | b | c |
|---|---:|---:|---:|
| a | 0.04 | 0.01 | 0 |
| b | 0.01 | 0.09 | 0.02 |
| c | 0 | 0.02 | 0.16 |

Table: cov

```model
sets:
  F: funds.fund
params:
  r[F]: funds.ret
  S[F, F]: cov
vars:
  x[F]: {ub: 1}
OBJECTIVE
constraints:
  budget: sum(x[i] for i in F) == 1
  floor: sum(r[i] * x[i] for i in F) >= 0.1 + 0 * S['a', 'a']
EXTRA```
"""
RISK = "sum(S[i, j] * x[i] * x[j] for i in F for j in F)"


def classified(objective: str, extra: str = "", integer: bool = False) -> ProblemClass:
    text = DATA.replace("OBJECTIVE", objective).replace("EXTRA", extra)
    if integer:
        text = text.replace("x[F]: {ub: 1}", "x[F]: {domain: integer, ub: 1}")
    a = analyze(text)
    assert a.ok, [f.message for f in a.findings]
    assert a.model is not None
    return classify(a.model, a.data)


@pytest.mark.parametrize("objective, extra, integer, label", [
    pytest.param("minimize: sum(r[i] * x[i] for i in F)", "", False, "LP", id="linear"),
    pytest.param("minimize: sum(r[i] * x[i] for i in F)", "", True, "MILP", id="linear-integer"),
    pytest.param(f"minimize: {RISK}", "", False, "QP (convex)", id="psd-covariance-minimized"),
    pytest.param(f"maximize: {RISK}", "", False, "QP (nonconvex)", id="psd-covariance-maximized"),
    pytest.param(f"maximize: -{RISK}", "", False, "QP (convex)", id="concave-maximized"),
    pytest.param("minimize: x['a'] * x['b']", "", False, "QP (nonconvex)", id="bilinear-objective"),
    pytest.param(f"minimize: {RISK}", "", True, "MIQP (convex)", id="integer-quadratic"),
    pytest.param("minimize: x['a']", "  ball: sum(x[i] ** 2 for i in F) <= 1\n", False, "NLP (convex)",
                 id="convex-quadratic-constraint"),
    pytest.param("minimize: x['a']", "  shell: sum(x[i] ** 2 for i in F) >= 1\n", False, "NLP (nonconvex)",
                 id="quadratic-lower-bound"),
    pytest.param("minimize: x['a']", "  sphere: sum(x[i] ** 2 for i in F) == 1\n", False, "NLP (nonconvex)",
                 id="quadratic-equality"),
    pytest.param("minimize: exp(x['a']) + log(x['b'] + 1)", "", False, "NLP (convexity not decided)",
                 id="functions"),
    pytest.param("minimize: x['a'] / x['b']", "", False, "NLP (convexity not decided)", id="ratio"),
    pytest.param("minimize: x['a'] ** 3", "", True, "MINLP (convexity not decided)", id="cubic-integer"),
    pytest.param("minimize: x['a']", "  cover: x['a'] * x['b'] >= 0.1\n", True, "MINLP (nonconvex)",
                 id="bilinear-constraint-integer"),
])
def test_class_and_convexity_follow_the_degree_integrality_and_curvature(objective: str, extra: str, integer: bool,
                                                                         label: str) -> None:
    assert classified(objective, extra, integer).label == label


def test_the_nonlinear_parts_are_named() -> None:
    pc = classified(f"minimize: {RISK}", "  ball: sum(x[i] ** 2 for i in F) <= 1\n")
    assert pc.nonlinear == ("objective", "ball")
    assert "`ball`" in pc.reason


def test_a_class_survives_its_json_form() -> None:
    pc = classified("minimize: x['a']", "  cover: x['a'] * x['b'] >= 0.1\n", integer=True)
    assert ProblemClass.from_json(pc.to_json()) == pc
    assert ProblemClass.from_json({"name": "XLP"}) is None
