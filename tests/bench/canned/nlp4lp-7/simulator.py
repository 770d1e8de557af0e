"""Judges a furniture plan: stain and oak only (it never checks whole pieces)."""


def simulate(data, decisions):
    x, y = decisions.get("chairs", 0.0), decisions.get("dressers", 0.0)
    v = []
    for name, lhs, rhs in (("stain", 1.4 * x + 1.1 * y, 17), ("oak", 2 * x + 3 * y, 11)):
        if lhs > rhs + 1e-6:
            v.append({"constraint": name, "amount": lhs - rhs})
    return {"feasible": not v, "objective": 43 * x + 52 * y, "violations": v}
