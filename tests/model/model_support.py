"""Small specs for the model tests, and helpers that say where a finding is by the text it is on."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from nemo_lsp.analysis import Analysis, analyze
from nemo_lsp.findings import Finding

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

FOODS = """
| food   | cost | limit |
|--------|------|-------|
| bread  | 2    | 10    |
| milk   | 3.5  | 4     |
| cheese | 8    | 2     |

Table: foods
"""

QUARTERS = """
| quarter | demand |
|---------|--------|
| 1       | 40     |
| 2       | 60     |
| 3       | 75     |

Table: quarters
"""

LINKS = """
| origin | destination | cost |
|--------|-------------|------|
| a      | b           | 1    |
| b      | c           | 2    |
| a      | c           | 5    |

Table: links
"""


def spec_text(model: str, *tables: str) -> str:
    data = "\n".join(dedent(t).strip() + "\n" for t in (tables or (FOODS,)))
    return f"# A small problem\n\nWe decide things.\n\n{data}\n```model\n{dedent(model).strip()}\n```\n"


def check(model: str, *tables: str) -> Analysis:
    return analyze(spec_text(model, *tables))


def line_of(a: Analysis, needle: str) -> int:
    """The 0-based line of the first line that contains `needle`."""
    return next(i for i, line in enumerate(a.spec.lines) if needle in line)


def text_at(a: Analysis, f: Finding) -> str:
    assert f.span is not None and f.span.line == f.span.end_line, f
    return a.spec.lines[f.span.line][f.span.col:f.span.end_col]


def codes(a: Analysis) -> list[str]:
    return [f.code for f in a.findings]


def errors(a: Analysis) -> list[Finding]:
    return [f for f in a.findings if f.is_error]


def only(a: Analysis, code: str) -> Finding:
    found = [f for f in a.findings if f.code == code]
    assert len(found) == 1, f"expected one {code}, got {[(f.code, f.message) for f in a.findings]}"
    return found[0]
