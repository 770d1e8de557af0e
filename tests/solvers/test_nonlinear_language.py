"""The model language's nonlinear functions: which it takes, and the diagnostics for the rest."""

from __future__ import annotations

import pytest

from nemo_lsp.analysis import analyze

SPEC = """# A nonlinear model

| item | w |
|------|--:|
| a    | 2 |
| b    | 4 |

Table: items

```model
sets:
  I: items.item
params:
  w[I]: items.w
vars:
  x[I]: {lb: 1, ub: 10}
minimize: OBJECTIVE
```
"""


def lint(objective: str):
    a = analyze(SPEC.replace("OBJECTIVE", objective))
    line = next(i for i, t in enumerate(a.spec.lines) if t.startswith("minimize:"))
    return a, line


@pytest.mark.parametrize("objective", [
    pytest.param("sum(w[i] * exp(x[i]) for i in I)", id="exp"),
    pytest.param("sum(-log(x[i]) for i in I)", id="log"),
    pytest.param("sum(sqrt(x[i] * w[i]) for i in I)", id="sqrt-of-a-product"),
    pytest.param("abs(x['a'] - x['b']) + x['a'] * x['b'] / x['a']", id="abs-product-ratio"),
    pytest.param("x['a'] ** 0.5 + x['b'] ** -1 + x['a'] ** 3", id="powers"),
])
def test_functions_products_and_powers_of_variables_are_accepted(objective: str) -> None:
    a, _ = lint(objective)
    assert [f for f in a.findings if f.code != "NEMO129"] == []  # `w` unused in some of them


@pytest.mark.parametrize("objective, culprit, message", [
    pytest.param("sum(sin(x[i]) for i in I)", "sin", "`sin` is not a function of the model language", id="unknown"),
    pytest.param("exp(x['a'], 2)", "exp(x['a'], 2)", "`exp` takes one argument", id="exp-two-arguments"),
    pytest.param("log()", "log()", "`log` takes one argument", id="log-no-argument"),
    pytest.param("sqrt(x[i] for i in I)", "sqrt(x[i] for i in I)", "`sqrt` takes one argument", id="sqrt-generator"),
])
def test_an_unknown_function_or_a_wrong_arity_is_nemo123_at_the_call(objective: str, culprit: str,
                                                                    message: str) -> None:
    a, line = lint(objective)
    [f] = [f for f in a.findings if f.code == "NEMO123"]
    assert message in f.message
    assert f.span.line == line
    assert a.spec.lines[line][f.span.col:f.span.end_col] == culprit


def test_a_log_of_data_that_is_not_positive_is_found_while_checking() -> None:
    a, line = lint("sum(x[i] * log(w[i] - 2) for i in I)")
    [f] = [f for f in a.findings if f.is_error]
    assert "`log(0)` cannot be computed" in f.message and f.span.line == line
