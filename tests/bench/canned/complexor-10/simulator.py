"""Judges a knapsack: capacity only (it never checks that items are whole)."""

VALUES = [60, 100, 120]
WEIGHTS = [10, 20, 30]


def simulate(data, decisions):
    take = {int(i): x for i, x in decisions.get("take", [])}
    weight = sum(WEIGHTS[i] * take.get(i, 0.0) for i in range(3))
    v = [] if weight <= 50 + 1e-6 else [{"constraint": "capacity", "amount": weight - 50}]
    return {"feasible": not v, "objective": sum(VALUES[i] * take.get(i, 0.0) for i in range(3)), "violations": v}
