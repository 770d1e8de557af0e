"""Judges an allocation of units."""


def simulate(data, decisions):
    x, y = decisions.get("x", 0.0), decisions.get("y", 0.0)
    v = []
    for name, gap in (("units", 50 - x - y), ("logistics", 5 * x + 3 * y - 200)):
        if gap > 1e-6:
            v.append({"constraint": name, "amount": gap})
    return {"feasible": not v, "objective": 5000 * x + 3000 * y, "violations": v}
