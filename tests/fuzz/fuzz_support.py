"""Hypothesis strategies and checks shared by the fuzz tests: hostile specs and model expressions.

Profiles (pick one with NEMO_FUZZ_PROFILE; `ci` is the default and what `python -m pytest` runs):

- ``ci``: about 12,000 cases over the whole fuzz suite in well under a minute;
- ``deep``: ten times as many, for a run by hand when the reader or the model language changes.

Each test asks for ``cases(N)``: N examples in the ci profile, N times the profile's scale otherwise.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from nemo_lsp.analysis import Analysis, analyze
from nemo_lsp.findings import CATALOG, Finding

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.opt.md"))
EXAMPLE_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in EXAMPLES}

_SCALE = {"ci": 1, "deep": 10}
settings.register_profile(
    "nemo-fuzz", deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
PROFILE = os.environ.get("NEMO_FUZZ_PROFILE", "ci")
if PROFILE not in _SCALE:
    raise RuntimeError(f"NEMO_FUZZ_PROFILE must be one of {', '.join(_SCALE)}; got {PROFILE!r}")


def cases(n: int) -> settings:
    """Settings for a fuzz test that runs `n` examples in the ci profile (no deadline: the suite
    is judged by its total time, and slow inputs are asserted on explicitly where they matter)."""
    return settings(settings.get_profile("nemo-fuzz"), max_examples=n * _SCALE[PROFILE])


# --- the invariant every input must satisfy ---------------------------------------------------------

def assert_sound(text: str, analysis: Analysis) -> None:
    """Findings only (analyze returned), each with a known code, a message and a span inside the text."""
    lines = analysis.spec.lines
    assert lines == tuple(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for f in analysis.findings:
        assert isinstance(f, Finding)
        assert f.code in CATALOG, f
        assert f.code != "NEMO590", f  # analysis has no internal-error path: a crash is a bug here
        assert isinstance(f.message, str) and f.message.strip(), f
        if f.span is None:
            continue
        s = f.span
        assert (s.line, s.col) <= (s.end_line, s.end_col), f"inverted span {s} for {f.code}: {f.message}"
        assert 0 <= s.line < len(lines), f"span {s} starts past the last line ({len(lines)}) for {f.code}"
        assert 0 <= s.col <= len(lines[s.line]), f"span {s} starts past its line for {f.code}: {f.message}"
        assert 0 <= s.end_line < len(lines), f"span {s} ends past the last line ({len(lines)}) for {f.code}"
        assert 0 <= s.end_col <= len(lines[s.end_line]), f"span {s} ends past its line for {f.code}: {f.message}"


_REAL_COMPILE = builtins.compile


def _compile_ast_only(source: Any, filename: Any, mode: str, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
    import ast

    if not flags & ast.PyCF_ONLY_AST:
        raise AssertionError(f"user text was compiled to code: {str(source)[:200]!r}")
    return _REAL_COMPILE(source, filename, mode, flags, *args, **kwargs)


def _refuse(what: str):  # noqa: ANN202
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{what}() was called while analysing user text: {str(args)[:200]}")
    return refuse


@contextlib.contextmanager
def nothing_evaluated() -> Iterator[None]:
    """Fail if eval/exec run or anything is compiled beyond an AST while the block runs."""
    with mock.patch.object(builtins, "eval", _refuse("eval")), mock.patch.object(builtins, "exec", _refuse("exec")), \
            mock.patch.object(builtins, "compile", _compile_ast_only):
        yield


def analyze_soundly(text: str) -> Analysis:
    with nothing_evaluated():
        analysis = analyze(text)
    assert_sound(text, analysis)
    return analysis


# --- random Markdown built from the fragments a spec is made of ------------------------------------

_WORD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_IDENT = st.one_of(st.sampled_from(["food", "cost", "limit", "a", "b", "x", "F", "_", "é", "Cost ($)", "1a"]),
                   st.text(alphabet="abcxyzF_09", min_size=1, max_size=6))
_NAMES = st.sampled_from(["foods", "routes", "t", "quarters", "links", "x", "Table", "data", "é"])
_NUMBERS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from([0.5, -2.25, 1e-300, 1e300, 5e-324, float("inf"), float("nan"), 3.0]).map(repr),
    st.sampled_from(["1,200", "1_200", "$3.50", "-$2", "1e-3", "1e999", "-0", ".5", "5.", "1" * 5000,
                     "9" * 4301, "0x1F", "NaN", "inf", "1,2,3", "$", "--1", "1e", "٣"]))
_CELL = st.one_of(_NUMBERS, _WORD, _IDENT, st.sampled_from(["", " ", "\\|", "|", "a|b", "`x|y`", "**b**"]))


@st.composite
def tables(draw: st.DrawFn) -> str:
    """A GFM table with random cells, pipes, ragged rows and a caption (or a stray one)."""
    ncols = draw(st.integers(0, 5))
    header = draw(st.lists(st.one_of(_IDENT, _WORD, st.sampled_from(["cost ($)", "limit [kg]", "qty (units"])),
                           min_size=ncols, max_size=ncols))
    lead, trail = draw(st.booleans()), draw(st.booleans())

    def row(cells: list[str]) -> str:
        return ("| " if lead else "") + " | ".join(cells) + (" |" if trail else "")

    out = [row(header), row([draw(st.sampled_from(["---", ":--", "--:", ":-:", "-", ""])) for _ in header])]
    for _ in range(draw(st.integers(0, 4))):
        n = draw(st.one_of(st.just(ncols), st.integers(0, ncols + 2)))
        out.append(row(draw(st.lists(_CELL, min_size=n, max_size=n))))
    caption = draw(st.one_of(st.none(), _NAMES.map(lambda n: f"Table: {n}"),
                             st.sampled_from(["Table:", "Table: 1abc", "Table: foods extra words", "Table:foods"])))
    if caption is not None:
        out += [""] * draw(st.integers(0, 2)) + [caption]
    return "\n".join(out)


@st.composite
def data_fences(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["csv", "json", "csv ", "json x y", "csv 1bad"]))
    name = draw(_NAMES)
    if kind.startswith("csv"):
        rows = draw(st.lists(st.lists(_CELL, max_size=4).map(",".join), max_size=5))
        body = "\n".join(rows + draw(st.sampled_from([[], ['"unterminated'], ['a,"b""c",d']])))
    else:
        value = draw(st.one_of(
            st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _WORD),
                         lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(_WORD, c, max_size=3)),
                         max_leaves=5),
            st.lists(st.dictionaries(st.sampled_from(["food", "cost", "a"]), _CELL, max_size=3), max_size=4),
            st.dictionaries(st.sampled_from(["food", "cost"]), st.lists(_CELL, max_size=3), max_size=2)))
        body = json.dumps(value)
        if draw(st.booleans()):
            body = body[:draw(st.integers(0, len(body)))]
    fence = draw(st.sampled_from(["```", "~~~", "````"]))
    close = fence if draw(st.integers(0, 4)) else ""
    return f"{fence}{kind} {name}\n{body}\n{close}"


_FRONT_VALUES = st.one_of(st.integers(-5, 10**6), st.floats(), st.booleans(), st.none(), _WORD,
                          st.sampled_from(["[optimal, time_limit]", "{abs: 1e-9, rel: x}", "{objective: 97}",
                                           "{status: nope}", "formal", "[", "{", "'unterminated", "!!python/object:os.system ls",
                                           "&a [*a]", "*undefined", "2024-01-01", "0o17", "1e3"]))


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    keys = st.sampled_from(["agent", "expect", "time_limit", "memory_limit", "tolerance", "accept_status",
                            "sandbox", "title", "samples", "checks", "autonomous", "repair_rounds", "agnet", "x"])
    pairs = draw(st.lists(st.tuples(keys, _FRONT_VALUES.map(str)), max_size=5))
    body = "\n".join(f"{k}: {v}" for k, v in pairs)
    close = draw(st.sampled_from(["---", "...", "", "--- "]))
    return f"---\n{body}\n{close}"


def model_blocks() -> st.SearchStrategy[str]:
    """A model block: sometimes a real one, sometimes random YAML-ish declarations."""
    return st.one_of(
        model_block_with(expressions(4)),
        st.sampled_from([_model_of(t) for t in EXAMPLE_TEXTS.values() if "```model" in t]),
        st.lists(st.sampled_from(_DECLARATION_LINES), max_size=8).map(lambda ls: "```model\n" + "\n".join(ls) + "\n```"))


_DECLARATION_LINES = [
    "sets:", "params:", "vars:", "constraints:", "minimize: 0", "maximize: x", "checks: []",
    "  F: foods.food", "  F: [a, b, a]", "  T: 1..12", "  T: 1..n", "  T: 5..1", "  T: -3..-1", "  A: links.(a, b)",
    "  A: links.(a, b, c)", "  S: []", "  S: [1.5, true, null]", "  n: 3", "  n: 2.5", "  cost[F]: foods.cost",
    "  c[F, F]: foods", "  d[A]: {from: links.cost, keys: [a, b], default: 0}", "  d[A]: {from: x, default: y}",
    "  m[F]: {a: 1, b: x}", "  x[F]: {domain: integer, ub: 10}", "  x[i in F]:", "    ub: cost[i]",
    "    lb: null", "  y: binary", "  y: {domain: real}", "  z[i in F if cost[i] > 0]: {}",
    "  c1: sum(x[f] for f in F) >= 1", "  c2[f in F]: x[f] <= cost[f]", "  c3: 1 <= y <= 2",
    "  c4[t in T]: x[t - 1] == 0", "  c5: x", "  c6: x[f] < 3", "  1bad: 0 <= 1", "  [x]: 1",
    "  c7[(i, j) in A]: x[i, j] >= 0", "  c8[i in F, j in F if i != j]: x[i] - x[j] <= 1",
    "  ? complex key", "  : value", "\tindented: tab", "  - a list item", "  c9: 'quoted: colon'",
    "  x[F]: {domain: integer, ub: 10}", "  T: 1..100000000", "  T: 1..99999999999999999999", "  n: 1e999",
    "  n: 100000000000000", "  p[T, T]: 1", "  q[T, T, T]: 0", "  x[T, T]: {}", "  c[t in T, s in T]: x[t, s] <= 1",
    "  p[T]: {from: quarters.demand, default: 1e999}",
]


def _model_of(text: str) -> str:
    start = text.index("```model")
    end = text.index("```", start + 3)
    return text[start:end + 3]


_PROSE = st.one_of(
    _WORD,
    st.sampled_from(["Polly wants to plan her food. The menu must provide at least 2000 kcal.",
                     "e.g. this one. i.e. that. No. 5 is fine!", "> a quote", "- a list item", "1. numbered",
                     "    indented code", "<div>html</div>", "***", "[link](http://x)", "\\", "`code`"]))
_HEADING = st.tuples(st.integers(1, 7), _WORD).map(lambda t: "#" * t[0] + " " + t[1])


@st.composite
def markdown_specs(draw: st.DrawFn) -> str:
    """A spec assembled from fragments: front matter, headings, prose, tables, data and model blocks."""
    parts = []
    if draw(st.integers(0, 3)) == 0:
        parts.append(draw(front_matter()))
    fragment = st.one_of(_HEADING, _PROSE, tables(), data_fences(), model_blocks(),
                         st.sampled_from(["```", "```model", "~~~", "", "\n\n", "Table: foods", "|", "|---|"]))
    parts += draw(st.lists(fragment, max_size=6))
    sep = draw(st.sampled_from(["\n", "\n\n", "\r\n", "\n\n\n"]))
    return sep.join(parts)


# --- mutations of the real examples ----------------------------------------------------------------

@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    """A real example with a few line-level and character-level mutations."""
    text = EXAMPLE_TEXTS[draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))]
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace_char", "truncate",
                                   "move_block"]))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "move_block":
            j = draw(st.integers(i, min(len(lines), i + 10)))
            block, lines = lines[i:j], lines[:i] + lines[j:]
            k = draw(st.integers(0, len(lines)))
            lines[k:k] = block
        elif op in ("insert", "replace_char"):
            line = lines[i]
            at = draw(st.integers(0, len(line)))
            junk = draw(st.one_of(st.text(max_size=4), st.sampled_from(
                ["|", "`", "```", "#", "---", ":", "[", "]", "(", ")", "'", '"', "\t", "\r", "\u00e9", "\U0001f600",
                 "\u200b", "\ufeff", "\x00", "**", "1e999", "-", "in", " for ", " if ", "\\", "\x85", "\u2028",
                 "\u2029", "\x0c", "\x1c"])))
            cut = 1 if op == "replace_char" else 0
            lines[i] = line[:at] + junk + line[at + cut:]
        else:  # truncate: the whole text at a character
            joined = "\n".join(lines)
            lines = joined[:draw(st.integers(0, len(joined)))].split("\n")
    return "\n".join(lines)


# --- model-language expressions: the whitelisted constructs and hostile ones ----------------------

_ATOMS = st.sampled_from([
    "0", "1", "2.5", "-3", "1e9", "1e999", "x[f]", "cost[f]", "limit[f]", "need", "y", "f", "'bread'", "cost['bread']",
    "x['cheese']", "len(F)", "n", "t", "x[t - 1]", "cost[f, f]", "x", "z", "undefined_name", "F", "None", "True",
    "'a' 'b'", "0.1", "10**10**10", "9**99999999", "2**-1074", "(-8)**0.5", "0**-1", "1/0", "1 % 0", "0.0 ** -1",
    "1e308 * 10", "cost[f] ** 999999", "x[f] ** 2", "x[f] ** 0", "x[f] ** 1", "10**400 * 1.0", "-(10**400)",
])
_HOSTILE = st.sampled_from([
    "__import__('os')", "__import__('os').system('touch PWNED')", "open('PWNED', 'w')", "x.__class__",
    "x.__class__.__bases__[0].__subclasses__()", "().__class__", "(lambda: 1)()", "lambda: 0",
    "[c for c in range(10)]", "sum(c for c in range(10**9))", "sum(x[f] for f in F())", "{1: 2}", "{1}", "[1, 2]",
    "f'{x}'", "(y := 1)", "*x", "x[1:2]", "x[::-1]", "a.b.c.d.e", "getattr(x, 'y')", "eval('1')", "exec('1')",
    "compile('1', '', 'eval')", "globals()", "min(x[f] for f in F)", "max()", "abs(1, 2)", "len(1)", "sum(1, 2)",
    "sum(x[f] for f in F for g in G)", "sum(x[f] for (f, g) in F)", "sum(x[f] for f.a in F)",
    "sum(x[f] for f in F if x[f] > 0)", "x[f] if x[f] > 0 else 0", "x[x[f]]", "sum(x, start=1)", "b'bytes'",
    "1j", "...", "not x", "x and y", "x or y", "x is None", "x @ y", "x // 2", "x | y", "await x", "yield x",
    "x[f] < 3", "1 < 2 < 3", "x in F", "'a' in F", "x not in G",
])


def expressions(max_leaves: int = 12) -> st.SearchStrategy[str]:
    """Random expressions from a grammar of the model language, mixed with hostile fragments."""
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binop = st.tuples(inner, st.sampled_from([" + ", " - ", " * ", " / ", " ** ", " % ", " // ", " <= ", " >= ",
                                                  " == ", " < ", " != ", " and ", " or ", " in ", "**", "*"]), inner)
        return st.one_of(
            binop.map("".join),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            inner.map(lambda e: f"not {e}"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
            st.tuples(inner, st.sampled_from(["f", "g", "(i, j)", "i, j"]), st.sampled_from(["F", "A", "G", "T"]),
                      st.none() | inner).map(
                lambda t: f"sum({t[0]} for {t[1]} in {t[2]}{' if ' + t[3] if t[3] else ''})"),
            st.tuples(st.sampled_from(["min", "max", "abs", "len", "sum", "foo"]), st.lists(inner, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(st.sampled_from(["x", "cost", "need", "F"]), st.lists(inner, min_size=1, max_size=3)).map(
                lambda t: f"{t[0]}[{', '.join(t[1])}]"),
        )
    return st.recursive(st.one_of(_ATOMS, _HOSTILE), extend, max_leaves=max_leaves)


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    """Pathologically deep or long expressions: parentheses, unary chains, operator chains."""
    n = draw(st.sampled_from([50, 99, 100, 101, 150, 199, 200, 201, 300, 990, 1000, 5000, 20_000]))
    kind = draw(st.sampled_from(["parens", "minus", "not", "plus_chain", "pow_chain", "sub", "call", "ifexp",
                                 "tuple", "sum"]))
    if kind not in ("parens", "minus", "not"):
        n = min(n, 5000)
    if kind == "parens":
        return "(" * n + "x[f]" + ")" * n
    if kind == "minus":
        return "-" * n + "1"
    if kind == "not":
        return "not " * n + "1"
    if kind == "plus_chain":
        return " + ".join(["x[f]"] * n)
    if kind == "pow_chain":
        return "**".join(["2"] * min(n, 2000))
    if kind == "sub":
        return "x[" * n + "f" + "]" * n
    if kind == "call":
        return "abs(" * n + "1" + ")" * n
    if kind == "ifexp":
        return " if 1 else ".join(["x[f]"] * n)
    if kind == "tuple":
        return "cost[" + ", ".join(["f"] * n) + "]"
    return "sum(" * n + "x[f] for f in F)" * n


MODEL_HEAD = """sets:
  F: foods.food
  G: [a, b]
  A: links.(a, b)
  T: 1..3
params:
  need: 3
  n: 2
  cost[F]: foods.cost
  limit[F]: foods.limit
vars:
  x[F]: {domain: integer, ub: 10}
  y: binary
"""

TABLES = """| food   | cost | limit |
|--------|------|-------|
| bread  | 2    | 10    |
| milk   | 3.5  | 4     |
| cheese | 8    | 2     |

Table: foods

| a | b |
|---|---|
| 1 | 2 |
| 2 | 1 |

Table: links
"""


def _yaml_scalar(expr: str) -> str:
    """The expression as a YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(expr, ensure_ascii=False)


def model_spec(objective: str, constraint: str, bound: str | None = None, condition: str | None = None,
               plain: bool = False) -> str:
    """A spec whose model uses the given expressions as objective, constraint, a bound and a filter."""
    q = (lambda e: e) if plain else _yaml_scalar
    head = MODEL_HEAD
    if bound is not None:
        head += f"  w[i in F]:\n    ub: {q(bound)}\n"
    cond = f" if {condition}" if condition is not None else ""
    con_key = f"c1[f in F{cond}]" if not plain else f"c1[f in F{cond}]"
    block = (f"{head}minimize: {q(objective)}\nconstraints:\n  {q(con_key) if not plain else con_key}: {q(constraint)}\n"
             f"  c2: sum(x[f] for f in F) >= need\n")
    return f"# Fuzzed model\n\nWe decide x.\n\n{TABLES}\n```model\n{block}```\n"


@st.composite
def model_block_with(draw: st.DrawFn, exprs: st.SearchStrategy[str]) -> str:
    spec = model_spec(draw(exprs), draw(exprs), plain=draw(st.booleans()))
    return _model_of(spec)
