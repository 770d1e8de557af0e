"""Deterministic large specs for the benchmarks (no randomness beyond a fixed seed)."""

from __future__ import annotations

import random


def production_spec(rows: int = 1800, seed: int = 7) -> str:
    """A multi-product production-mix spec with `rows` products: about rows + 60 lines."""
    rnd = random.Random(seed)
    lines = ["---", "expect:", "  status: optimal", "---", "", "# Large production mix", ""]
    for i in range(20):
        lines.append(f"Product family {i} shares the same three machines. Each product uses machine hours. "
                     "Profit per unit is given in the table.")
        lines.append("")
    lines += ["| product | profit | hours_a | hours_b | hours_c | max_units |",
              "|---------|-------:|--------:|--------:|--------:|----------:|"]
    for i in range(rows):
        lines.append(f"| p{i:05d} | {rnd.randint(5, 50)} | {rnd.randint(1, 9)} | {rnd.randint(1, 9)} | "
                     f"{rnd.randint(1, 9)} | {rnd.randint(10, 100)} |")
    lines += ["", "Table: products", "", "```model", "sets:", "  P: products.product", "params:",
              "  profit[P]: products.profit", "  a[P]: products.hours_a", "  b[P]: products.hours_b",
              "  c[P]: products.hours_c", "  cap[P]: products.max_units", f"  ha: {rows * 20}",
              f"  hb: {rows * 20}", f"  hc: {rows * 20}", "vars:", "  x[p in P]:", "    ub: cap[p]",
              "maximize: sum(profit[p] * x[p] for p in P)", "constraints:",
              "  machine_a: sum(a[p] * x[p] for p in P) <= ha", "  machine_b: sum(b[p] * x[p] for p in P) <= hb",
              "  machine_c: sum(c[p] * x[p] for p in P) <= hc", "```", ""]
    return "\n".join(lines)
