"""Scoring stored results: pure functions of the result records, no I/O.

A result record (runner.py writes one per problem) carries the reference answer (`expected`:
`{"answer": number | None, "status": ...}`) and what the run produced (`status`, `objective`,
`outcome`...). Accuracy compares the run's **final answer** (the optimizer's objective when the
solver proved optimality, or the status it proved otherwise) with the reference under each named
convention; whether the simulator agreed is reported beside it (`validated`, `validated_correct`).

How each kind of reference answer is scored (the same under every convention):

- `optimal` with a number: correct when the run's status is `optimal` and its objective matches
  under the convention; any other status (infeasible, error, no answer) is wrong.
- `infeasible`: correct when the run proved `infeasible` (or `infeasible_or_unbounded`).
- `unbounded`: correct when the run proved `unbounded` (or `infeasible_or_unbounded`).
- `infeasible_or_unbounded`: correct when the run proved any of the three.
- `unknown` (no objective in the source): not scored; counted as `unscored` and left out of the
  accuracy's denominator, never silently counted as right or wrong.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Convention:
    """A rule for "the objective matches the reference"."""

    name: str
    """Short stable key used in files and tables."""
    label: str
    """How tables and charts title it."""
    rel: float = 0.0
    """Relative tolerance: |pred - ref| <= rel * |ref| (for ref == 0: |pred| <= rel)."""
    abs: float = 0.0
    """Absolute tolerance: |pred - ref| <= abs."""
    doc: str = ""

    def matches(self, predicted: float, reference: float) -> bool:
        if not (math.isfinite(predicted) and math.isfinite(reference)):
            return False
        gap = abs(predicted - reference)
        if self.abs and gap <= self.abs:
            return True
        if self.rel:
            return gap <= self.rel * (abs(reference) if reference != 0 else 1.0)
        return False


CONVENTIONS: tuple[Convention, ...] = (
    Convention("rel_1e-6", "rel 1e-6", rel=1e-6,
               doc="Relative error at most 1e-6: the strict convention (SIRL's evaluation). A label rounded to "
                   "two decimals fails it unless the optimum is that round number."),
    Convention("rel_1e-4", "rel 1e-4", rel=1e-4,
               doc="Relative error at most 1e-4: forgives solver tolerances and labels with four to five "
                   "significant digits."),
    Convention("rel_5pct", "rel 5%", rel=0.05,
               doc="Relative error at most 5% (OptMATH's evaluation configuration): lenient; an LP relaxation of "
                   "a MILP often passes it."),
    Convention("abs_0.1", "abs 0.1", abs=0.1,
               doc="Absolute error at most 0.1 (OR-LLM-Agent's evaluation): forgives two-decimal rounding, but "
                   "is strict for large objectives and lenient for tiny ones."),
)
"""The conventions reported side by side, strictest first."""

DEFAULT = CONVENTIONS[1]
"""The convention the progress line shows."""

_SOLVED = {"infeasible": {"infeasible", "infeasible_or_unbounded"},
           "unbounded": {"unbounded", "infeasible_or_unbounded"},
           "infeasible_or_unbounded": {"infeasible", "unbounded", "infeasible_or_unbounded"}}


def convention(name: str) -> Convention:
    for c in CONVENTIONS:
        if c.name == name:
            return c
    raise ValueError(f"unknown convention {name!r}; known: {', '.join(c.name for c in CONVENTIONS)}")


def verdict(record: Record, conv: Convention = DEFAULT) -> str:
    """`correct`, `wrong` or `unscored` (the reference has no usable answer)."""
    expected = record.get("expected") or {}
    kind = expected.get("status")
    status = record.get("status")
    if kind == "optimal" and isinstance(expected.get("answer"), (int, float)):
        objective = record.get("objective")
        if status != "optimal" or not isinstance(objective, (int, float)) or isinstance(objective, bool):
            return "wrong"
        return "correct" if conv.matches(float(objective), float(expected["answer"])) else "wrong"
    if kind in _SOLVED:
        return "correct" if status in _SOLVED[kind] else "wrong"
    return "unscored"


def cost_of(record: Record) -> float | None:
    """Money the agents reported for the problem (USD), or None when none reported any."""
    costs = [u["cost_usd"] for u in (record.get("usage") or {}).values()
             if isinstance(u, Mapping) and isinstance(u.get("cost_usd"), (int, float))]
    return float(sum(costs)) if costs else None


def _quantiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return {"mean": statistics.fmean(ordered), "median": statistics.median(ordered), "p90": p90,
            "max": ordered[-1]}


@dataclass(frozen=True)
class Summary:
    """Figures for a group of problems (one benchmark, or all)."""

    problems: int
    scored: int
    """Problems whose reference is usable (the accuracy's denominator)."""
    correct: dict[str, int]
    """Per convention name: problems answered correctly."""
    executed: int
    """The optimizer ran and reported a status (it did not crash or time out)."""
    validated: int
    """The simulator agreed with the optimizer (outcome validated, or the declared outcome)."""
    validated_correct: int
    """Validated and correct under the default convention."""
    repaired: int
    """Problems where at least one repair round ran."""
    repair_rounds: int
    """Repair rounds used in total."""
    seconds: dict[str, float | None] = field(default_factory=dict)
    """Wall time per problem: mean, median, p90, max."""
    cost: dict[str, float | None] = field(default_factory=dict)
    """Reported cost per problem (USD): mean, median, p90, max, plus total; None when nothing reported."""

    @property
    def unscored(self) -> int:
        return self.problems - self.scored

    def accuracy(self, name: str = DEFAULT.name) -> float | None:
        return self.correct[name] / self.scored if self.scored else None

    def rate(self, count: int) -> float | None:
        return count / self.problems if self.problems else None


def summarize(records: Iterable[Record]) -> Summary:
    rows = list(records)
    correct = {c.name: 0 for c in CONVENTIONS}
    scored = 0
    for r in rows:
        marks = {c.name: verdict(r, c) for c in CONVENTIONS}
        if marks[DEFAULT.name] == "unscored":
            continue
        scored += 1
        for name, mark in marks.items():
            correct[name] += mark == "correct"
    validated = [r for r in rows if r.get("validated")]
    costs = [c for c in (cost_of(r) for r in rows) if c is not None]
    cost = {**_quantiles(costs), "total": sum(costs) if costs else None}
    return Summary(
        problems=len(rows), scored=scored, correct=correct,
        executed=sum(bool(r.get("executed")) for r in rows),
        validated=len(validated),
        validated_correct=sum(verdict(r) == "correct" for r in validated),
        repaired=sum(bool(r.get("repairs")) for r in rows),
        repair_rounds=sum(int(r.get("repairs") or 0) for r in rows),
        seconds=_quantiles([float(r["seconds"]) for r in rows if isinstance(r.get("seconds"), (int, float))]),
        cost=cost)


def by_benchmark(records: Iterable[Record]) -> dict[str, Summary]:
    """A summary per benchmark (sorted by name) and `overall` last."""
    rows = list(records)
    groups: dict[str, list[Record]] = {}
    for r in rows:
        groups.setdefault(str(r.get("benchmark") or "?"), []).append(r)
    out = {name: summarize(groups[name]) for name in sorted(groups)}
    out["overall"] = summarize(rows)
    return out


@dataclass(frozen=True)
class Comparison:
    """Two runs, problem by problem, under one convention (A is the baseline, B the new run)."""

    convention: str
    fixed: tuple[str, ...]
    """Wrong in A, correct in B."""
    broken: tuple[str, ...]
    """Correct in A, wrong in B."""
    both_correct: tuple[str, ...]
    both_wrong: tuple[str, ...]
    only_a: tuple[str, ...]
    """Problems run in A but not in B (or unscored in one of them)."""
    only_b: tuple[str, ...]


def compare(a: Iterable[Record], b: Iterable[Record], conv: Convention = DEFAULT) -> Comparison:
    va = {str(r["id"]): verdict(r, conv) for r in a}
    vb = {str(r["id"]): verdict(r, conv) for r in b}
    va = {k: v for k, v in va.items() if v != "unscored"}
    vb = {k: v for k, v in vb.items() if v != "unscored"}
    common = sorted(set(va) & set(vb))

    def pick(x: str, y: str) -> tuple[str, ...]:
        return tuple(k for k in common if va[k] == x and vb[k] == y)

    return Comparison(conv.name, pick("wrong", "correct"), pick("correct", "wrong"), pick("correct", "correct"),
                      pick("wrong", "wrong"), tuple(sorted(set(va) - set(vb))), tuple(sorted(set(vb) - set(va))))
