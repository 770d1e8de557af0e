"""Judges an investment (with the same reading of the fund)."""


def simulate(data, decisions):
    x, y = decisions.get("x", 0.0), decisions.get("y", 0.0)
    v = []
    for name, gap in (("fund", x + y - 10000), ("min x", 2000 - x), ("min y", 3000 - y)):
        if gap > 1e-6:
            v.append({"constraint": name, "amount": gap})
    return {"feasible": not v, "objective": 0.05 * x + 0.08 * y, "violations": v}
