"""Judges a shift plan: every night covered by nurses who started in the five days before."""

DEMAND = [5, 4, 7, 3, 8, 4, 3]


def simulate(data, decisions):
    start = {int(k): x for k, x in decisions.get("start", [])}
    v = []
    for j in range(7):
        cover = sum(start.get((j - k) % 7, 0.0) for k in range(5))
        if cover < DEMAND[j] - 1e-6:
            v.append({"constraint": f"cover[{j}]", "amount": DEMAND[j] - cover})
    return {"feasible": not v, "objective": sum(start.values()), "violations": v}
