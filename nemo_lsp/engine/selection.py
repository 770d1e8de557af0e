"""Choosing among candidates (pure): self-consistency over optimizer runs, MBR over model blocks.

Self-consistency (NEMO): the status is decided by majority with the precedence optimal > time
limit > infeasible > unbounded > error breaking ties; the objective is the median of the largest
cluster of values that agree within the tolerance. Disagreement is reported, never hidden.

MBR: each candidate model block is scored by its mean similarity to the others, component by
component (sets, parameters, variables, objective, constraints), with a structural similarity of
the parsed blocks, which needs no model and is deterministic; near-ties are surfaced as a question.
"""

from __future__ import annotations

import difflib
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PRECEDENCE = ("optimal", "time_limit", "infeasible", "unbounded", "error")
"""Tie-breaking order of statuses (earlier wins); any other status ranks after these."""


def _rank(status: str) -> int:
    return PRECEDENCE.index(status) if status in PRECEDENCE else len(PRECEDENCE)


@dataclass(frozen=True)
class Candidate:
    index: int
    status: str
    objective: float | None


@dataclass(frozen=True)
class Consensus:
    status: str
    objective: float | None
    chosen: int | None
    """Index of the candidate whose answer is used (in the largest cluster, closest to its median)."""
    agreeing: tuple[int, ...]
    """Candidates in the chosen cluster."""
    clusters: tuple[tuple[float, tuple[int, ...]], ...]
    """Every objective cluster of the winning status: (median, members), largest first."""
    total: int

    @property
    def summary(self) -> str:
        """E.g. "3/5 agree on 34": what a code lens shows."""
        value = "" if self.objective is None else f" on {self.objective:.10g}"
        return f"{len(self.agreeing)}/{self.total} agree{value}" if self.total else "no candidates"

    @property
    def unanimous(self) -> bool:
        return len(self.agreeing) == self.total


def cluster(values: Sequence[tuple[int, float]], agrees: Callable[[float, float], bool]) -> list[list[tuple[int, float]]]:
    """Group sorted values: a value joins the current group when it agrees with the group's first."""
    groups: list[list[tuple[int, float]]] = []
    for item in sorted(values, key=lambda iv: (iv[1], iv[0])):
        if groups and agrees(groups[-1][0][1], item[1]):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def self_consistency(candidates: Sequence[Candidate],
                     agrees: Callable[[float, float], bool] = lambda a, b: abs(a - b) <= 1e-9 + 1e-6 * abs(a)
                     ) -> Consensus:
    """Majority status (precedence breaks ties), then the median of the largest objective cluster."""
    if not candidates:
        return Consensus("error", None, None, (), (), 0)
    counts = Counter(c.status for c in candidates)
    status = min(counts, key=lambda s: (-counts[s], _rank(s)))
    members = [c for c in candidates if c.status == status]
    valued = [(c.index, c.objective) for c in members if c.objective is not None]
    if not valued:
        ids = tuple(c.index for c in members)
        return Consensus(status, None, ids[0], ids, (), len(candidates))
    groups = cluster(valued, agrees)
    groups.sort(key=lambda g: (-len(g), min(i for i, _ in g)))
    medians = [(statistics.median(v for _, v in g), tuple(sorted(i for i, _ in g))) for g in groups]
    best_median, best = medians[0]
    chosen = min(groups[0], key=lambda iv: (abs(iv[1] - best_median), iv[0]))[0]
    return Consensus(status, best_median, chosen, best, tuple(medians), len(candidates))


# --- MBR over model blocks ---------------------------------------------------------------------------

COMPONENTS = ("sets", "params", "vars", "objective", "constraints")


def _text_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(a.split()), " ".join(b.split())).ratio()


def _mapping_similarity(a: dict[str, str], b: dict[str, str]) -> float:
    """Names matched exactly first, then by definition: the mean best-match similarity, both ways."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0

    def one_way(x: dict[str, str], y: dict[str, str]) -> float:
        total = 0.0
        for name, definition in x.items():
            if name in y:
                total += 0.5 + 0.5 * _text_similarity(definition, y[name])
            else:
                total += 0.8 * max(_text_similarity(definition, d) for d in y.values())
        return total / len(x)

    return (one_way(a, b) + one_way(b, a)) / 2


def components(block: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A parsed model block (its YAML mapping) as name -> definition text per component."""
    out: dict[str, dict[str, str]] = {}
    for key in ("sets", "params", "vars", "constraints"):
        value = block.get(key)
        out[key] = {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
    objective = {k: str(block[k]) for k in ("minimize", "maximize") if k in block}
    out["objective"] = objective
    return out


def similarity(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """Per component similarity in [0, 1] of two parsed model blocks."""
    ca, cb = components(a), components(b)
    out = {c: _mapping_similarity(ca[c], cb[c]) for c in COMPONENTS}
    if ca["objective"] and cb["objective"] and set(ca["objective"]) != set(cb["objective"]):
        out["objective"] = 0.0  # minimize vs maximize: opposite problems however alike the expressions
    return out


@dataclass(frozen=True)
class MbrChoice:
    chosen: int
    scores: tuple[float, ...]
    """Mean similarity of each candidate to the others (mean over components)."""
    near_ties: tuple[int, ...]
    """Other candidates within `margin` of the best: a question for the user, not a silent pick."""


def mbr(blocks: Sequence[dict[str, Any]], margin: float = 0.02) -> MbrChoice:
    """Minimum Bayes risk: the block most similar on average to all the others."""
    n = len(blocks)
    if n == 0:
        raise ValueError("no candidates")
    if n == 1:
        return MbrChoice(0, (1.0,), ())
    scores = []
    for i in range(n):
        sims = [statistics.fmean(similarity(blocks[i], blocks[j]).values()) for j in range(n) if j != i]
        scores.append(statistics.fmean(sims))
    best = max(range(n), key=lambda i: (scores[i], -i))
    ties = tuple(i for i in range(n) if i != best and scores[best] - scores[i] <= margin)
    return MbrChoice(best, tuple(scores), ties)
