"""Judges a furniture plan: stain, oak, whole pieces."""


def simulate(data, decisions):
    x, y = decisions.get("chairs", 0.0), decisions.get("dressers", 0.0)
    v = []
    for name, lhs, rhs in (("stain", 1.4 * x + 1.1 * y, 17), ("oak", 2 * x + 3 * y, 11)):
        if lhs > rhs + 1e-6:
            v.append({"constraint": name, "amount": lhs - rhs})
    for name, q in (("chairs", x), ("dressers", y)):
        if q < -1e-9 or abs(q - round(q)) > 1e-6:
            v.append({"constraint": f"{name} whole", "amount": abs(q - round(q)) or -q})
    return {"feasible": not v, "objective": 43 * x + 52 * y, "violations": v}
