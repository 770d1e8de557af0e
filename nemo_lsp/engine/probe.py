"""The falsification probe: after an answer validates, look for a feasible neighbour that scores better.

A validated answer only shows that the simulator accepts it; it does not show that it is optimal.
The probe moves the decisions a little (flips binaries, swaps a packed and an unpacked binary,
steps integers by one, moves continuous values both ways by 1% and by 10%), asks the simulator
about each neighbour within a time budget (`probe:` seconds), and reports the best neighbour
that is feasible and strictly better beyond the objective tolerance: proof, with the neighbour as
evidence, that the optimizer's answer is not optimal (NEMO412). Generating neighbours is pure
and deterministic (a fixed seed); scoring happens in the sandbox (templates/scorer.py).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..findings import Finding, Span, finding
from ..sandbox import Sandbox
from .layout import Layout
from .scoring import score_batch
from .settings import Settings, Tolerance

MAX_NEIGHBOURS = 400
"""Neighbours generated per probe; the time budget may stop the scoring earlier."""
MAX_EVIDENCE_VALUES = 2000
"""A better neighbour's full decisions go into the finding only up to this many values (its moves always do)."""
SEED = 20260121


@dataclass(frozen=True)
class Move:
    variable: str
    row: int | None
    """Position in the variable's rows (None for a scalar variable)."""
    index: tuple[Any, ...] | None
    before: float
    after: float

    def describe(self) -> str:
        key = "" if self.index is None else "[" + ", ".join(map(str, self.index)) + "]"
        return f"{self.variable}{key} {self.before + 0.0:.10g} -> {self.after + 0.0:.10g}"  # + 0.0: no "-0"

    def wire(self) -> list[Any]:
        """As templates/scorer.py applies it: [variable, row, value]."""
        return [self.variable, self.row, self.after]


Neighbour = tuple[Move, ...]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _entries(decisions: dict[str, Any]) -> list[tuple[str, int | None, tuple[Any, ...] | None, float]]:
    """Every (variable, row, index, value) with a finite numeric value, in the decisions' order."""
    out: list[tuple[str, int | None, tuple[Any, ...] | None, float]] = []
    for name, value in decisions.items():
        if _number(value):
            out.append((name, None, None, float(value)))
        elif isinstance(value, list):
            for row, item in enumerate(value):
                if isinstance(item, list) and item and _number(item[-1]):
                    out.append((name, row, tuple(item[:-1]), float(item[-1])))
    return out


def kinds(decisions: dict[str, Any], domains: dict[str, str] | None = None) -> dict[str, str]:
    """Per variable: `binary`, `integer` or `continuous`; the model's domain when known, else the values'
    look (all 0/1: binary; all whole: integer; otherwise continuous)."""
    values: dict[str, list[float]] = {}
    for name, _, _, v in _entries(decisions):
        values.setdefault(name, []).append(v)
    out = {}
    for name, vs in values.items():
        known = (domains or {}).get(name)
        if known in ("binary", "integer", "continuous"):
            out[name] = known
        elif all(v in (0.0, 1.0) for v in vs):
            out[name] = "binary"
        elif all(abs(v - round(v)) <= 1e-9 for v in vs):
            out[name] = "integer"
        else:
            out[name] = "continuous"
    return out


def _steps(kind: str, v: float) -> list[float]:
    if kind == "binary":
        return [1.0 - round(v)] if round(v) in (0, 1) else []
    if kind == "integer":
        return [round(v) + 1.0, round(v) - 1.0]
    small, large = max(0.01 * abs(v), 0.01), max(0.1 * abs(v), 1.0)
    return [v + small, v - small, v + large, v - large]


def neighbours(decisions: dict[str, Any], kind: dict[str, str], limit: int = MAX_NEIGHBOURS,
               seed: int = SEED) -> list[Neighbour]:
    """Pure and deterministic: single moves of every value first, then swaps of a 1 and a 0 binary.

    At most `limit` neighbours; when there are more, a seeded sample keeps the order.
    """
    entries = _entries(decisions)
    singles = [(Move(n, r, i, v, after),) for n, r, i, v in entries for after in _steps(kind.get(n, "continuous"), v)]
    rng = random.Random(seed)
    if len(singles) >= limit:
        keep = sorted(rng.sample(range(len(singles)), limit))
        return [singles[k] for k in keep]
    ones = [e for e in entries if kind.get(e[0]) == "binary" and e[3] == 1.0]
    zeros = [e for e in entries if kind.get(e[0]) == "binary" and e[3] == 0.0]
    room = limit - len(singles)
    pairs = len(ones) * len(zeros)
    chosen = range(pairs) if pairs <= room else sorted(rng.sample(range(pairs), room))
    swaps = []
    for k in chosen:
        (n1, r1, i1, _), (n0, r0, i0, _) = ones[k // len(zeros)], zeros[k % len(zeros)]
        swaps.append((Move(n1, r1, i1, 1.0, 0.0), Move(n0, r0, i0, 0.0, 1.0)))
    return singles + swaps


def improves(sense: str, base: float, other: float, tolerance: Tolerance) -> bool:
    """`other` is strictly better than `base` by more than the objective tolerance."""
    gain = (base - other) if sense == "minimize" else (other - base)
    return gain > tolerance.abs + tolerance.rel * abs(base)


def best_neighbour(items: list[Neighbour], scores: list[dict[str, Any]], sense: str, base: float,
                   tolerance: Tolerance) -> tuple[Neighbour, float] | None:
    """Pure: the feasible scored neighbour that improves most on `base`, with its objective."""
    best: tuple[Neighbour, float] | None = None
    for item, got in zip(items, scores):
        value = got.get("objective")
        if got.get("error") or got.get("feasible") is not True or not _number(value):
            continue
        if improves(sense, base, value, tolerance) and (best is None or improves(sense, best[1], value,
                                                                                 Tolerance(0.0, 0.0))):
            best = (item, float(value))
    return best


def moved(decisions: dict[str, Any], neighbour: Neighbour) -> dict[str, Any]:
    """The decisions with the neighbour's moves applied (a copy)."""
    out = {k: ([list(r) for r in v] if isinstance(v, list) else v) for k, v in decisions.items()}
    for m in neighbour:
        if m.row is None:
            out[m.variable] = m.after
        else:
            out[m.variable][m.row][-1] = m.after
    return out


@dataclass(frozen=True)
class Probe:
    """What the probe did: how many neighbours it scored, and the better one if it found one."""

    state: str
    """`found`, `none better`, `off`, or why it did not run (`skipped: ...`, `failed: ...`)."""
    generated: int = 0
    scored: int = 0
    seconds: float = 0.0
    finding: Finding | None = None

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "generated": self.generated, "scored": self.scored,
                "seconds": round(self.seconds, 4),
                "neighbour": self.finding.data.get("neighbour") if self.finding is not None else None}

    def summary(self) -> str:
        if self.state in ("found", "none better"):
            return f"{self.scored}/{self.generated} neighbours scored, {self.state}"
        return self.state


async def falsify(sandbox: Sandbox, analysis: Analysis, settings: Settings, layout: Layout, simulator: Path,
                  decisions: Any, base: float | None, sense: str | None, where: Span) -> Probe:
    """Score the validated answer's neighbours with the simulator; a better feasible one is NEMO412 at `where`."""
    if settings.probe <= 0:
        return Probe("off")
    if not isinstance(decisions, dict) or not decisions:
        return Probe("skipped: no decisions")
    if base is None or not math.isfinite(base) or sense not in ("minimize", "maximize"):
        return Probe("skipped: the objective or its sense is unknown")
    domains = {n: v.domain for n, v in analysis.model.vars.items()} if analysis.model is not None else {}
    items = neighbours(decisions, kinds(decisions, domains))
    if not items:
        return Probe("skipped: no values to move")
    batch = {"base": decisions, "neighbours": [[m.wire() for m in n] for n in items], "seconds": settings.probe}
    scored = await score_batch(sandbox, simulator, layout.root / "probe", layout.data, batch, settings, where,
                               "falsification probe", wall=settings.probe + settings.startup_seconds)
    if not scored.ok:
        why = scored.findings[0].message if scored.findings else ((scored.payload or {}).get("error") or {}).get(
            "message", "no result")
        return Probe(f"failed: {why}", len(items))
    scores = scored.scores
    elapsed = float((scored.payload or {}).get("elapsed") or 0.0)
    best = best_neighbour(items, scores, sense, base, settings.tolerance)
    if best is None:
        return Probe("none better", len(items), len(scores), elapsed)
    neighbour, value = best
    changes = ", ".join(m.describe() for m in neighbour)
    data = {"neighbour": {"moves": [{"variable": m.variable, "index": list(m.index) if m.index is not None else None,
                                     "from": m.before, "to": m.after} for m in neighbour],
                          "objective": value,
                          "decisions": moved(decisions, neighbour) if len(_entries(decisions)) <= MAX_EVIDENCE_VALUES
                          else None},
            "answer_objective": base, "sense": sense}
    found = finding("NEMO412", f"the optimizer's answer is not optimal: the falsification probe moved {changes} and "
                    f"the simulator finds that neighbour feasible with objective {value:.10g}, better than "
                    f"{base:.10g} ({sense}); if that neighbour breaks a rule of the problem, the simulator misses the "
                    "rule: repair the simulator instead", where, fixes=("repair_optimizer", "repair_simulator"),
                    data=data)
    return Probe("found", len(items), len(scores), elapsed, found)
