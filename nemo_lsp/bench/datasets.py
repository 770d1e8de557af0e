"""Benchmark files into `Problem`s.

Formats read (chosen by the file's suffix, then by the fields of each record):

- **JSONL, one problem a line** (`.jsonl`): the collection's schema (`id`, `benchmark`,
  `question`, `answer`, `answer_status`, `source`, extra fields kept in `Problem.extra`), and the
  public releases' own line formats: ORLM / SIRL / OptMATH (`en_question`, `en_answer`, with
  `"No Best Solution"` or the -9999 / -99999 sentinels for problems without a solution),
  LLMOPT (`question`, `answer`), ORThought answers as `{"status": ..., "obj": ...}`.
- **JSON** (`.json`): a list of such records (OR-LLM-Agent's BWOR / NL4OPT files, OptMATH's
  benchmark files), or an object mapping ids to records (OptiBench/ReSocratic's `OptiBench.json`,
  whose multi-output `results` are read when they hold a single number).

Not read: folders of one problem each (Chain-of-Experts / ORThought `description.txt` +
`sample.json`); convert them to JSONL first (the shared collection has done so).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANSWER_STATUSES = ("optimal", "infeasible", "unbounded", "infeasible_or_unbounded", "unknown")
"""What a problem's reference answer says: a number (`optimal`), no solution (`infeasible`,
`unbounded`, `infeasible_or_unbounded`), or nothing usable (`unknown`: no objective in the source,
an answer that is not a number). Scoring treats each explicitly (see scoring.py)."""

NO_SOLUTION_SENTINELS = (-9999.0, -99999.0)
"""ORLM / SIRL mark problems without a solution with these numbers."""

_QUESTION_KEYS = ("question", "en_question", "Question", "description", "problem", "prompt")
_ANSWER_KEYS = ("answer", "en_answer", "Answer", "objective", "optimal_value", "ground_truth")
_STATUS_WORDS = {
    "optimal": "optimal",
    "infeasible": "infeasible",
    "no best solution": "infeasible",
    "no feasible solution": "infeasible",
    "unbounded": "unbounded",
    "infeasible_or_unbounded": "infeasible_or_unbounded",
    "infeasible or unbounded": "infeasible_or_unbounded",
    "no_objective_in_source": "unknown",
    "objective_not_in_results": "unknown",
}


class DatasetError(ValueError):
    """A benchmark file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: the question as written and its reference answer."""

    id: str
    """Unique within a run, e.g. `nl4opt-15`."""
    benchmark: str
    """Canonical benchmark name (`nl4opt`, `mamo_easylp`...): summaries group by it."""
    question: str
    """The full problem text, data included."""
    answer: float | None
    """The reference optimal objective; None unless `answer_status` is `optimal`."""
    answer_status: str
    """One of ANSWER_STATUSES."""
    source: str = ""
    """Where the record comes from (`owner/repo@commit:path` in the shared collection)."""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Every other field of the record, as read."""

    def expected(self) -> dict[str, Any]:
        """The reference answer as stored with each result: `{"answer": ..., "status": ...}`."""
        return {"answer": self.answer, "status": self.answer_status}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("$", "")
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def normalize_answer(raw: Any, status: Any = None) -> tuple[float | None, str]:
    """A source's answer (and its status field, when it has one) as (number or None, status)."""
    if isinstance(status, str) and status.strip().lower() in _STATUS_WORDS:
        said = _STATUS_WORDS[status.strip().lower()]
        if said != "optimal":
            return None, said
    if isinstance(raw, dict) and ("obj" in raw or "status" in raw):  # ORThought {"status", "obj"}
        return normalize_answer(raw.get("obj"), raw.get("status") if raw.get("obj") is None else None)
    if isinstance(raw, list) and len(raw) == 1:
        return normalize_answer(raw[0], status)
    if isinstance(raw, str) and raw.strip().lower() in _STATUS_WORDS:
        said = _STATUS_WORDS[raw.strip().lower()]
        return None, said if said != "optimal" else "unknown"
    number = _number(raw)
    if number is None:
        return None, "unknown"
    if number in NO_SOLUTION_SENTINELS:
        return None, "infeasible"
    return number, "optimal"


def from_record(record: Any, *, default_benchmark: str, index: int, where: str) -> Problem:
    """One record of any supported format as a Problem; `index` is 1-based (used for missing ids)."""
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected a JSON object, found {type(record).__name__}")
    question = next((record[k] for k in _QUESTION_KEYS if isinstance(record.get(k), str) and record[k].strip()),
                    None)
    if question is None:
        raise DatasetError(f"{where}: no question (looked for {', '.join(_QUESTION_KEYS)})")
    raw = next((record[k] for k in _ANSWER_KEYS if k in record), None)
    if raw is None and isinstance(record.get("results"), dict) and len(record["results"]) == 1:
        raw = next(iter(record["results"].values()))  # OptiBench with a single result
    answer, status = normalize_answer(raw, record.get("answer_status"))
    benchmark = str(record.get("benchmark") or default_benchmark)
    pid = str(record.get("id") if record.get("id") not in (None, "") else f"{default_benchmark}-{index}")
    known = {"id", "benchmark", "question", "answer", "answer_status", "source"}
    extra = {k: v for k, v in record.items() if k not in known}
    return Problem(pid, benchmark, question, answer, status, str(record.get("source") or ""), extra)


def _records(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(1-based index, location for messages, parsed record) for each record of the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    if path.suffix == ".jsonl":
        n = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            n += 1
            try:
                yield n, f"{path}:{lineno}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: not JSON: {exc.msg}") from None
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if isinstance(data, dict):
        items: Iterable[Any] = ({"id": k, **v} if isinstance(v, dict) and "id" not in v else v
                                for k, v in data.items())
    elif isinstance(data, list):
        items = data
    else:
        raise DatasetError(f"{path}: expected a list of problems or an object of them")
    for n, record in enumerate(items, 1):
        yield n, f"{path}[{n - 1}]", record


def benchmark_name(path: Path) -> str:
    """The benchmark a file holds when its records do not say: the stem before any `__version`."""
    return re.sub(r"__.*$", "", path.name.removesuffix(".jsonl").removesuffix(".json"))


def load(path: Path) -> list[Problem]:
    """Every problem of one file, in file order."""
    if path.suffix not in (".jsonl", ".json"):
        raise DatasetError(f"{path}: unsupported format (expected .jsonl or .json)")
    stem = benchmark_name(path)
    problems = [from_record(r, default_benchmark=stem, index=n, where=where) for n, where, r in _records(path)]
    seen: dict[str, int] = {}
    for n, p in enumerate(problems):
        if p.id in seen:
            raise DatasetError(f"{path}: id {p.id!r} appears twice (records {seen[p.id] + 1} and {n + 1})")
        seen[p.id] = n
    return problems


def load_all(paths: Iterable[Path], *, limit: int | None = None, ids: Iterable[str] | None = None) -> list[Problem]:
    """Problems of several files: the first `limit` of each file, or only those in `ids`."""
    wanted = set(ids) if ids else None
    out: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in paths:
        problems = load(path)
        if wanted is not None:
            problems = [p for p in problems if p.id in wanted]
        if limit is not None:
            problems = problems[:limit]
        for p in problems:
            if p.id in seen:
                raise DatasetError(f"problem id {p.id!r} is in both {seen[p.id]} and {path}")
            seen[p.id] = path
        out.extend(problems)
    if wanted is not None:
        missing = sorted(wanted - set(seen))
        if missing:
            raise DatasetError(f"no problem with id {', '.join(missing)} in the given files")
    return out
