"""A benchmark problem as a prose-only `.opt.md` spec in its own workspace.

The spec holds the question only, as prose, under a `# Problem ID` heading. The reference answer
is **not** in the spec: agents receive the spec's text verbatim in their workspace (front matter
included), so `expect: {objective: ...}` would hand them the answer. It is kept beside the spec in
`problem.json`, which no agent session sees, and the harness scores against it.

A question whose text the spec reader would take for structure it cannot accept (a malformed
Markdown table, a stray `Table:` caption, a ```csv fence...) is written inside a plain fenced
block instead, so every problem reaches the agent: lint errors would stop the run before it starts
and count against the agent for the harness's sake.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..analysis import analyze
from ..fsutil import atomic_write
from .datasets import Problem

SPEC_SUFFIX = ".opt.md"


def safe_name(problem_id: str) -> str:
    """A file-name-safe form of an id (letters, digits, `.`, `_`, `-`)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", problem_id).strip(".") or "problem"
    return name[:120]


def _front(samples: int | None) -> str:
    return f"---\nsamples: {samples}\n---\n" if samples else ""


def prose_spec(problem: Problem, samples: int | None = None) -> str:
    """The question as prose; fenced when the prose form would not lint cleanly."""
    question = problem.question.strip("\n")
    text = f"{_front(samples)}# Problem {problem.id}\n\n{question}\n"
    if not any(f.is_error for f in analyze(text).findings):
        return text
    longest = max((len(m) for m in re.findall(r"`{3,}|~{3,}", question)), default=2)
    fence = "`" * max(3, longest + 1)
    return (f"{_front(samples)}# Problem {problem.id}\n\nThe problem, as stated:\n\n"
            f"{fence}text\n{question}\n{fence}\n")


def write_problem(problem: Problem, folder: Path, samples: int | None = None) -> Path:
    """Write `folder/NAME.opt.md` (and `problem.json` one level up, once); return the spec's path."""
    spec = folder / f"{safe_name(problem.id)}{SPEC_SUFFIX}"
    atomic_write(spec, prose_spec(problem, samples))
    sidecar = folder.parent / "problem.json"
    if not sidecar.exists():
        atomic_write(sidecar, json.dumps({"id": problem.id, "benchmark": problem.benchmark,
                                          "question": problem.question, "answer": problem.answer,
                                          "answer_status": problem.answer_status, "source": problem.source},
                                         indent=1, ensure_ascii=False))
    return spec
