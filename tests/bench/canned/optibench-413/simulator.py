"""Judges two numbers: positive, summing to 300; the objective is their product."""


def simulate(data, decisions):
    x, y = decisions.get("x", 0.0), decisions.get("y", 0.0)
    v = []
    if abs(x + y - 300) > 1e-6:
        v.append({"constraint": "sum", "amount": abs(x + y - 300)})
    if x <= 0 or y <= 0:
        v.append({"constraint": "positive", "amount": -min(x, y)})
    return {"feasible": not v, "objective": x * y, "violations": v}
