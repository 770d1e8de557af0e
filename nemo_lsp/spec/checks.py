"""`checks`: example decisions with the verdict the problem text implies, the simulator's tests.

A check is a mapping, in the front matter or in the model block's `checks` section:

    - name: nothing packed          # optional
      why: an empty rucksack is allowed and worth nothing   # optional
      decisions: {pack: {map: 0}}   # the decisions, or (short form) the variables as keys here
      feasible: true                # required
      objective: 0                  # optional: the objective these decisions must score

A variable's value is a number (scalar variable), a mapping from index to value (nested mappings
for several indices: `{north: {jan: 5}}`), or the optimizer's own rows `[[north, jan, 5], ...]`.
Reading is pure and positional: every malformed item becomes a finding at its span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..findings import Finding, Span, finding
from .yamlnodes import YNode

META = ("name", "why", "feasible", "objective", "decisions")
"""Keys of a check that are not variables."""


@dataclass(frozen=True)
class Check:
    name: str
    decisions: dict[str, Any]
    """Variable -> number | {index: value} | [[index..., value], ...], as written."""
    feasible: bool
    objective: float | None = None
    why: str | None = None
    span: Span | None = None
    """The check's item in the spec (None for checks the simulator's author wrote)."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "decisions": self.decisions, "feasible": self.feasible,
                "objective": self.objective, "why": self.why}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _value_ok(v: Any) -> bool:
    if _number(v):
        return True
    if isinstance(v, dict):
        return all(_value_ok(x) for x in v.values())
    if isinstance(v, list):
        return all(isinstance(r, list) and r and _number(r[-1]) for r in v)
    return False


def read_check(plain: Any, position: int, span: Span | None = None) -> tuple[Check | None, str | None]:
    """One check from its plain value; (None, why not) when malformed."""
    if not isinstance(plain, dict):
        return None, "must be a mapping with `feasible` and the decisions"
    if not isinstance(plain.get("feasible"), bool):
        return None, "needs `feasible: true` or `feasible: false`"
    if "objective" in plain and plain["objective"] is not None and not _number(plain["objective"]):
        return None, f"`objective` must be a number; got {plain['objective']!r}"
    for key in ("name", "why"):
        if plain.get(key) is not None and not isinstance(plain[key], str):
            return None, f"`{key}` must be text"
    if "decisions" in plain:
        decisions = plain["decisions"]
        extra = [k for k in plain if k not in META]
        if extra:
            return None, f"has `decisions` and also {', '.join(f'`{k}`' for k in extra)}; put every variable " \
                         "under `decisions` (or drop `decisions` and write the variables directly)"
    else:
        decisions = {k: v for k, v in plain.items() if k not in META}
    if not isinstance(decisions, dict) or not all(isinstance(k, str) for k in decisions):
        return None, "`decisions` must map variable names to values"
    bad = [k for k, v in decisions.items() if not _value_ok(v)]
    if bad:
        return None, (f"the value of `{bad[0]}` must be a number, a mapping from index to number, or rows "
                      "[[index..., number], ...]")
    objective = float(plain["objective"]) if _number(plain.get("objective")) else None
    return Check(plain.get("name") or f"check {position}", decisions, plain["feasible"], objective,
                 plain.get("why"), span), None


def read_checks(node: YNode | None, code: str = "NEMO104") -> tuple[list[Check], list[Finding]]:
    """Every well-formed check of a `checks` list, and a finding per malformed one (NEMO104 in the
    front matter, NEMO121 in the model block)."""
    if node is None:
        return [], []
    if not node.is_seq:
        return [], [finding(code, "`checks` must be a list of checks (see README, \"Simulator gate\")",
                            node.span)]
    checks: list[Check] = []
    problems: list[Finding] = []
    for position, item in enumerate(node.value, start=1):
        check, why = read_check(item.plain(), position, item.span)
        if check is None:
            problems.append(finding(code, f"check {position} {why}", item.span))
        else:
            checks.append(check)
    return checks, problems
