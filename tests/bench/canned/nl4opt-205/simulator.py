"""Judges a pill plan."""


def simulate(data, decisions):
    d, n = decisions.get("day", 0.0), decisions.get("night", 0.0)
    v = []
    for name, gap in (("painkiller", 6 * d + 5 * n - 800), ("share", 0.4 * (d + n) - d), ("nights", 200 - n)):
        if gap > 1e-6:
            v.append({"constraint": name, "amount": gap})
    return {"feasible": not v, "objective": 2 * d + 5 * n, "violations": v}
