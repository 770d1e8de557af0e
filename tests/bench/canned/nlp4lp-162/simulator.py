"""Judges a jar plan."""


def simulate(data, decisions):
    s, l = decisions.get("small", 0.0), decisions.get("large", 0.0)
    v = []
    for name, gap in (("jam", 100000 - 50 * s - 200 * l), ("preference", l - s)):
        if gap > 1e-6:
            v.append({"constraint": name, "amount": gap})
    return {"feasible": not v, "objective": s + l, "violations": v}
