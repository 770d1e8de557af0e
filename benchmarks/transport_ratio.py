"""P2: the 200 x 200 transportation LP (40,000 variables) through nemo vs raw highspy from arrays.

All in one run, on the same data (the run's data.json):

- raw: highspy fed numpy arrays built from the data (as examples/large/make_transport.py does),
  `passModel`, `run`, the solution read back: the floor. Also with the data file read and the
  decisions written as JSON, as the harness does.
- harness, in this process (imports paid): the generated Pyomo module's `build_model`, then HiGHS by
  Pyomo's interface (`--route pyomo`, pyomo.contrib.solver's Highs: what the harness did before) and
  by the direct route (the same LP handed to highspy from arrays), then the decisions read back.
- the optimizer job in the sandbox, cold (fresh bubblewrap + Python) and warm (forked from the pool).
- the whole pipeline, `engine.run` (lint, data, optimizer, simulator, validation), cold and warm.

Run: python benchmarks/transport_ratio.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "large" / "transport-200.opt.md"


def load_harness() -> Any:
    from nemo_lsp.resources import templates_dir

    spec = importlib.util.spec_from_file_location("nemo_bench_harness", templates_dir() / "harness.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def raw_highspy(data: dict[str, Any]) -> tuple[float, list[float]]:
    """Arrays -> passModel -> run -> solution; the objective and the values."""
    import highspy
    import numpy as np

    sets, params = data["sets"], data["params"]
    plants, markets = sets["P"], sets["M"]
    pi = {p: i for i, p in enumerate(plants)}
    mi = {m: j for j, m in enumerate(markets)}
    n_p, n_m = len(plants), len(markets)
    n = n_p * n_m
    cost = np.zeros(n)
    for p, m, v in params["cost"]["values"]:
        cost[pi[p] * n_m + mi[m]] = v
    supply = np.array([v for _, v in params["supply"]["values"]], dtype=float)
    demand = np.array([v for _, v in params["demand"]["values"]], dtype=float)
    k = np.arange(n)
    rows = np.empty(2 * n, dtype=np.int32)
    rows[0::2] = k // n_m
    rows[1::2] = n_p + k % n_m
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n_p + n_m
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([np.full(n_p, -highspy.kHighsInf), demand])
    lp.row_upper_ = np.concatenate([supply, np.full(n_m, highspy.kHighsInf)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = rows
    lp.a_matrix_.value_ = np.ones(2 * n)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    return h.getInfo().objective_function_value, list(h.getSolution().col_value)


def med(values: list[float]) -> float:
    return statistics.median(values)


async def measure(repeat: int) -> dict[str, float]:
    from nemo_lsp.engine import Settings, run
    from nemo_lsp.engine.execute import limits_for
    from nemo_lsp.sandbox import LocalSandbox, clean_env, warm

    harness = load_harness()
    out: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        out.setdefault(key, []).append(value * 1000)

    with tempfile.TemporaryDirectory(prefix="nemo-p2-") as tmp:
        spec = Path(shutil.copyfile(SPEC, Path(tmp) / SPEC.name))
        pool = warm.start_pool()
        assert pool.ready(120), pool.reason
        with warm.bypass():
            report = await run(spec)  # generates the modules; cold
        assert report.outcome == "validated", report.outcome
        folder = spec.parent / ".nemo" / "transport-200" / "run"
        module, data_file = str(folder / "optimizer.py"), str(folder / "data.json")
        data = json.loads(Path(data_file).read_text(encoding="utf-8"))
        raw_highspy(data)  # pays the first-solve costs
        for route in ("pyomo", "direct"):
            harness.optimize(module, data_file, None, 60.0, route)
        argv = [sys.executable, "-I", "-B", "harness.py", "optimize", "optimizer.py", "data.json",
                "optimizer.result.json", "--time-limit", "60"]
        limits = limits_for(Settings())
        for _ in range(repeat):
            t0 = time.perf_counter()
            objective, values = raw_highspy(data)
            add("raw highspy: arrays, passModel, run, solution", time.perf_counter() - t0)
            t0 = time.perf_counter()
            with open(data_file, encoding="utf-8") as fh:
                d = json.load(fh)
            raw_highspy(d)
            json.dumps(values)
            add("raw highspy + data file + decisions JSON", time.perf_counter() - t0)
            for route in ("pyomo", "direct"):
                t0 = time.perf_counter()
                result = harness.optimize(module, data_file, None, 60.0, route)
                wall = time.perf_counter() - t0
                assert result["objective"] == objective, (result["objective"], objective)
                timing = result["timing"]
                add(f"harness {route}: build + solve + read", timing["build"] + timing["solve"] + timing["read"])
                add(f"harness {route}: build", timing["build"])
                add(f"harness {route}: hand-off + HiGHS", timing["solve"])
                if route == "direct":
                    add("harness direct: compile to arrays", timing["compile"])
                    add("harness direct: HiGHS run", timing["highs"])
                add(f"harness {route}: read back (values, objective, decisions)", timing["read"])
                add(f"harness {route}: whole call (data, module, model, solve, read)", wall)
            for label, cold in (("optimizer job, cold sandbox", True), ("optimizer job, warm pool", False)):
                t0 = time.perf_counter()
                if cold:
                    with warm.bypass():
                        r = await LocalSandbox().run(argv, cwd=folder, limits=limits, env=clean_env())
                else:
                    r = await LocalSandbox().run(argv, cwd=folder, limits=limits, env=clean_env())
                assert r.ok, r.stderr[-500:]
                add(label, time.perf_counter() - t0)
            for label, cold in (("engine.run, cold", True), ("engine.run, warm", False)):
                t0 = time.perf_counter()
                if cold:
                    with warm.bypass():
                        report = await run(spec)
                else:
                    report = await run(spec)
                assert report.outcome == "validated"
                add(label, time.perf_counter() - t0)
        warm.stop_pool()
    floor = med(out["raw highspy: arrays, passModel, run, solution"])
    floor_io = med(out["raw highspy + data file + decisions JSON"])
    print("P2: 200 x 200 transportation LP (40,000 variables, 400 rows), medians of "
          f"{repeat} runs (ms); ratio to raw highspy")
    for key, values in out.items():
        base = floor_io if ("job" in key or "engine" in key or "whole" in key) else floor
        print(f"  {key:62} {med(values):8.1f}  {med(values) / base:5.2f}x")
    print("  (rows with `job`, `engine` or `whole` are compared with raw highspy + data file + decisions JSON)")
    summary = {
        "raw_ms": floor,
        "raw_io_ms": floor_io,
        "pyomo_ratio": med(out["harness pyomo: build + solve + read"]) / floor,
        "direct_ratio": med(out["harness direct: build + solve + read"]) / floor,
        "direct_without_build_ratio": (med(out["harness direct: hand-off + HiGHS"])
                                       + med(out["harness direct: read back (values, objective, decisions)"])) / floor,
        "warm_job_ratio": med(out["optimizer job, warm pool"]) / floor_io,
        "engine_warm_ratio": med(out["engine.run, warm"]) / floor_io,
        "engine_cold_ratio": med(out["engine.run, cold"]) / floor_io,
    }
    print(f"  model -> solution: Pyomo's interface {summary['pyomo_ratio']:.2f}x, direct route "
          f"{summary['direct_ratio']:.2f}x (of which the hand-off, HiGHS and read-back alone "
          f"{summary['direct_without_build_ratio']:.2f}x; the rest is Pyomo building the model)")
    return summary


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    return asyncio.run(measure(args.repeat))


if __name__ == "__main__":
    main()
