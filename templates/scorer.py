"""Scores many decisions with one generated simulator, in one sandboxed process.

Copied next to harness.py into a run folder and started through the harness (so that warm workers
take these jobs too) as

    python -I -B harness.py score SIMULATOR.py DATA.json BATCH.json RESULT.json

or directly as `python -I -B scorer.py SIMULATOR.py DATA.json BATCH.json RESULT.json`.

BATCH.json is one of
    {"checks": [CHECK, ...], "shape": DECISIONS | null, "own_checks": bool}
        the simulator gate: each check's decisions (see nemo_lsp/spec/checks.py for the format;
        `own_checks` adds the simulator module's own `CHECKS` list when it defines one)
    {"base": DECISIONS, "neighbours": [[[VARIABLE, ROW | null, VALUE], ...], ...], "seconds": S}
        the falsification probe: each neighbour is the base decisions with a few values moved;
        scoring stops when S seconds have passed

RESULT.json: {"ok": true, "scores": [{"feasible", "objective", "violations", "error"}, ...],
"checks": [...the checks scored, own ones included...], "elapsed": seconds}. A simulator that
raises on one item is an error for that item, not for the batch. Agents never write this file.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time

MAX_VIOLATIONS = 5
"""Violations kept per scored item: enough to say why a check failed."""


def _harness():
    """harness.py from this folder (-I keeps the script's folder off sys.path)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
    spec = importlib.util.spec_from_file_location("nemo_scorer_harness", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(value, prefix=()):
    """A mapping from index to value (nested for several indices) as the optimizer's rows."""
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            out.extend(_rows(inner, prefix + (key,)))
        return out
    return [list(prefix) + [value]]


def _text_key(key):
    return tuple(str(k) for k in key)


def normalize(decisions, shape):
    """A check's decisions in the optimizer's format; what the check leaves out is 0.

    `shape` is the optimizer's decisions (or None): their variables and indices, whose values are
    ignored. Indices match by text, so a YAML key `1` finds the data's member `1` or `"1"`.
    """
    out = {}
    for name, value in decisions.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = value
        elif isinstance(value, list):
            out[name] = [list(r) for r in value]
        else:
            out[name] = _rows(value)
    if not isinstance(shape, dict):
        return out
    for name, template in shape.items():
        given = out.get(name)
        if not isinstance(template, list):
            if given is None:
                out[name] = 0
            continue
        rows = given if isinstance(given, list) else []
        values = {_text_key(r[:-1]): r[-1] for r in rows if isinstance(r, list) and r}
        filled, used = [], set()
        for row in template:
            if not isinstance(row, list) or not row:
                continue
            key = _text_key(row[:-1])
            used.add(key)
            filled.append(list(row[:-1]) + [values.get(key, 0)])
        filled.extend(r for r in rows if isinstance(r, list) and r and _text_key(r[:-1]) not in used)
        out[name] = filled
    return out


def _own_checks(module):
    raw = getattr(module, "CHECKS", None)
    if not isinstance(raw, (list, tuple)):
        return []
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("feasible"), bool):
            continue
        decisions = item.get("decisions")
        if not isinstance(decisions, dict):
            decisions = {k: v for k, v in item.items() if k not in ("name", "why", "feasible", "objective")}
        objective = item.get("objective")
        out.append({"name": str(item.get("name") or f"simulator check {i}"), "decisions": decisions,
                    "feasible": item["feasible"], "why": item.get("why"),
                    "objective": objective if isinstance(objective, (int, float)) and
                    not isinstance(objective, bool) else None, "own": True})
    return out


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def score(module, data, decisions):
    """The simulator's verdict on one decision, reduced to what the engine compares.

    The data is read once and shared by every item (a simulator only reads it): copying a large
    model's data for every neighbour would cost more than simulating it.
    """
    try:
        verdict = module.simulate(data, decisions)
    except Exception as exc:  # the simulator's failure on this item is the item's result
        return {"feasible": None, "objective": None, "violations": [],
                "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    if not isinstance(verdict, dict) or "feasible" not in verdict:
        return {"feasible": None, "objective": None, "violations": [],
                "error": "simulate() did not return a dict with `feasible`"}
    violations = verdict.get("violations") or []
    return {"feasible": bool(verdict.get("feasible")), "objective": _number(verdict.get("objective")),
            "violations": list(violations)[:MAX_VIOLATIONS] if isinstance(violations, (list, tuple)) else [],
            "missing": len(verdict.get("missing") or []) if isinstance(verdict.get("missing"), list) else 0,
            "error": None}


def _moved(base, moves):
    """The base decisions with a few values moved: only the moved variables' rows are copied."""
    decisions = dict(base)
    for name, row, value in moves:
        if row is None:
            decisions[name] = value
        else:
            if decisions[name] is base[name]:
                decisions[name] = list(base[name])
            decisions[name][row] = list(decisions[name][row][:-1]) + [value]
    return decisions


def run(harness, module_path, data_path, batch_path):
    with open(data_path, encoding="utf-8") as fh:
        data = json.load(fh)
    with open(batch_path, encoding="utf-8") as fh:
        batch = json.load(fh)
    module = harness.load_module(module_path, "simulator")
    if not hasattr(module, "simulate"):
        raise AttributeError("the simulator does not define simulate(data, decisions)")
    t0 = time.perf_counter()
    if "checks" in batch:
        checks = list(batch["checks"]) + (_own_checks(module) if batch.get("own_checks") else [])
        scores = [score(module, data, normalize(c["decisions"], batch.get("shape"))) for c in checks]
        return {"ok": True, "checks": checks, "scores": scores, "elapsed": time.perf_counter() - t0}
    seconds = float(batch.get("seconds") or 0)
    scores = []
    for moves in batch["neighbours"]:
        if time.perf_counter() - t0 > seconds:
            break
        scores.append(score(module, data, _moved(batch["base"], moves)))
    return {"ok": True, "scores": scores, "elapsed": time.perf_counter() - t0}


def main(argv, harness=None):
    """argv: [program, SIMULATOR, DATA, BATCH, OUT]; `harness` gives the harness's helpers when the
    harness itself runs this (its `score` mode), else harness.py is loaded from this folder."""
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    try:
        harness = harness or _harness()
        payload = run(harness, argv[1], argv[2], argv[3])
    except MemoryError as exc:
        payload = harness.error_payload("score", exc)
        payload["error"]["limit"] = "memory"
    except BaseException as exc:  # the generated simulator's failure is the result we report
        if harness is None:
            raise
        payload = harness.error_payload("score", exc)
    harness.write_json(argv[4], harness._clean(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
