"""Every performance measurement of issue 8 in one command, then a summary against the targets.

    python benchmarks/run_all.py [--quick]

P1 save -> validated result, warm vs cold (save_latency.py: engine and language server), P2 the 200 x
200 transportation LP vs raw highspy (transport_ratio.py), P3 didChange -> diagnostics on a 2,000-line
spec (lsp_latency.py), memory (memory.py). Ratios are measured side by side in the same run (cold and
warm alternate), so the machine's load affects both; absolute times vary with it. Takes about five
minutes (`--quick`: fewer repetitions, about two).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import lsp_latency  # noqa: E402
import memory  # noqa: E402
import save_latency  # noqa: E402
import transport_ratio  # noqa: E402


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = p.parse_args(argv)
    started = time.perf_counter()
    saves, repeat = ("3", "3") if args.quick else ("7", "5")

    p1 = save_latency.main(["--saves", saves])
    print()
    p2 = transport_ratio.main(["--repeat", repeat])
    print()
    p3 = lsp_latency.main(["--skip-stall"])
    print()
    memory.main([])

    print("\nSummary against the targets of issue 8")
    for where in ("engine", "lsp"):
        r = p1[where]
        print(f"  P1 {where:7} warm p50 {r['warm_p50']:6.1f} ms (target <= 150: {verdict(r['warm_p50'] <= 150)}), "
              f"p95 {r['warm_p95']:.1f} ms; cold p50 {r['cold_p50']:.1f} ms; cold/warm {r['ratio']:.1f}x "
              f"(target >= 10x: {verdict(r['ratio'] >= 10)})")
    print(f"  P2 model -> solution vs raw highspy: {p2['direct_ratio']:.2f}x by the direct route "
          f"(Pyomo's interface: {p2['pyomo_ratio']:.2f}x; target <= 1.5x: {verdict(p2['direct_ratio'] <= 1.5)}); "
          f"hand-off + HiGHS + read-back alone {p2['direct_without_build_ratio']:.2f}x; "
          f"warm optimizer job {p2['warm_job_ratio']:.2f}x, engine.run warm {p2['engine_warm_ratio']:.2f}x, "
          f"cold {p2['engine_cold_ratio']:.2f}x")
    for kind in ("prose", "table cell"):
        p95 = p3[f"0 ms {kind} p95"]
        with_debounce = p3[f"default {kind} p95"]
        print(f"  P3 {kind:10} p50 {p3[f'0 ms {kind} p50']:.1f} ms, p95 {p95:.1f} ms (target <= 50: "
              f"{verdict(p95 <= 50)}); with the default 50 ms lint debounce p95 {with_debounce:.1f} ms")
    print(f"  (all measurements: {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
