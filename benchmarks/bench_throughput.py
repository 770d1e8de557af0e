"""`nemo bench` throughput at 1 and 2 workers with the replay agent, and the harness's own overhead.

1. A scripted run of the 20 test problems (tests/bench/problems.jsonl, canned programs), each three
   times over (60 problems), is stored.
2. `nemo bench --agent replay` re-runs it at 1 and at 2 workers, alternating, REPEAT times each.
   Problems per minute are the bench's own figure (from its first problem to its last result);
   process start-up is shown apart.
3. The machine's ceiling: two CPU-bound Python processes at once against one after another.
4. Harness overhead per problem: the run's time per problem at 1 worker minus the time the engine
   itself reports (`timings.total`) per problem: writing the spec, the workspace, the result file
   (fsync), scheduling and progress.

Run: python benchmarks/bench_throughput.py [REPEAT] [--sandbox NAME]
     (default 3 runs each, the `local` sandbox; about two minutes on an idle 2-core machine)
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "tests" / "bench" / "problems.jsonl"
CANNED = ROOT / "tests" / "bench" / "canned"
COPIES = 3
"""Each of the 20 problems three times (60 a run), so that the last problems' tail weighs little."""
DATA = PROBLEMS


def copies(tmp: Path, n: int) -> tuple[Path, Path]:
    """The test problems `n` times over (ids `ID.k`), with a canned folder that serves every copy."""
    problems, canned = tmp / "problems.jsonl", tmp / "canned"
    canned.mkdir()
    with problems.open("w") as fh:
        for line in PROBLEMS.read_text().splitlines():
            record = json.loads(line)
            for k in range(1, n + 1):
                fh.write(json.dumps({**record, "id": f"{record['id']}.{k}"}) + "\n")
                (canned / f"{record['id']}.{k}").symlink_to(CANNED / record["id"], target_is_directory=True)
    return problems, canned


def bench(out: Path, *args: str) -> tuple[float, float, int]:
    """(wall seconds of the process, seconds the bench reports for its problems, problems run)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "bench", str(DATA), "--out", str(out), "--quiet",
                           *args], cwd=ROOT, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    m = re.search(r"(\d+) problem\(s\) run in ([\d.]+) s", proc.stdout)
    assert m, proc.stdout
    return wall, float(m.group(2)), int(m.group(1))


def ceiling(jobs: int = 4) -> float:
    """The machine's own limit: CPU-bound Python processes (Pyomo's import, then a loop) two at a time
    versus one after another. Two vCPUs that share a physical core give well under 2x."""
    code = "import pyomo.environ, highspy\ns = 0\nfor i in range(3_000_000): s += i"

    def batch(parallel: int) -> float:
        t0 = time.perf_counter()
        for _ in range(jobs // parallel):
            procs = [subprocess.Popen([sys.executable, "-I", "-c", code]) for _ in range(parallel)]
            for p in procs:
                p.wait()
        return time.perf_counter() - t0

    return statistics.median(batch(1) / batch(2) for _ in range(3))


def engine_seconds(out: Path) -> list[float]:
    return [json.loads(p.read_text())["timings"]["total"] for p in (out / "results").glob("*.json")]


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the table; return the figures (for run_all.py): rate_1, rate_2 (problems/min), ratio,
    ceiling, overhead_ms."""
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("repeat", nargs="?", type=int, default=3)
    p.add_argument("--sandbox", default="local", help="where generated code runs (local, warm...)")
    p.add_argument("--cold", action="store_true", help="no warm workers (`nemo bench --warm-workers 0`)")
    args = p.parse_args(argv)
    repeat = args.repeat
    with tempfile.TemporaryDirectory(prefix="nemo-bench-throughput-") as tmp:
        global DATA
        DATA, canned = copies(Path(tmp), COPIES)
        source = Path(tmp) / "scripted"
        bench(source, "--agent", "scripted", "--base-url", str(canned), "--workers", "2")
        load0 = os.getloadavg()
        runs: dict[int, list[tuple[float, float, int]]] = {1: [], 2: []}
        engine_time: dict[int, list[float]] = {1: [], 2: []}
        overheads = []
        for k in range(repeat):
            for workers in (1, 2):
                out = Path(tmp) / f"replay-{workers}-{k}"
                runs[workers].append(bench(out, "--agent", "replay", "--base-url", str(source),
                                           "--workers", str(workers), "--sandbox", args.sandbox,
                                           *(["--warm-workers", "0"] if args.cold else [])))
                engine_time[workers].append(statistics.fmean(engine_seconds(out)))
                if workers == 1:
                    wall, seconds, n = runs[1][-1]
                    overheads.append(seconds / n - statistics.fmean(engine_seconds(out)))
        print(f"nemo bench, replay agent, sandbox {args.sandbox}{' (cold)' if args.cold else ' (warm workers)'}, "
              f"{runs[1][0][2]} problems, {os.cpu_count()} CPUs, "
              f"{repeat} runs each (median)")
        print(f"{'workers':>8} {'problems/min':>13} {'s/problem':>10} {'process wall (s)':>17}")
        rate = {}
        for workers, rs in runs.items():
            per_min = statistics.median(n / s * 60 for _, s, n in rs)
            rate[workers] = per_min
            wall = statistics.median(w for w, _, _ in rs)
            print(f"{workers:>8} {per_min:>13.1f} {60 / per_min:>10.3f} {wall:>17.2f}")
        limit = ceiling()
        print(f"speed-up at 2 workers: {rate[2] / rate[1]:.2f}x (target >= 1.8x); this machine's ceiling: "
              f"{limit:.2f}x (two CPU-bound Python processes at once vs one after another)")
        for workers, outs in engine_time.items():
            print(f"  engine time per problem at {workers} worker(s): {statistics.median(outs):.3f} s "
                  "(grows when the two workers compete for the cores with each other or with other load)")
        print(f"load average before/after: {load0[0]:.2f} / {os.getloadavg()[0]:.2f} "
              "(other processes on the machine distort the ratio: run it on an idle machine)")
        overhead = statistics.median(overheads) * 1000
        print(f"harness overhead per problem (1 worker): {overhead:.0f} ms "
              f"(bench time per problem minus the engine's own timings.total)")
        return {"rate_1": rate[1], "rate_2": rate[2], "ratio": rate[2] / rate[1], "ceiling": limit,
                "overhead_ms": overhead}


if __name__ == "__main__":
    main()
