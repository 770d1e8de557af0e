"""Judges a bus plan."""


def simulate(data, decisions):
    b, s = decisions.get("buses", 0.0), decisions.get("minibuses", 0.0)
    v = []
    for name, gap in (("seats", 400 - 50 * b - 40 * s), ("drivers", b + s - 9), ("buses", b - 10), ("minibuses", s - 8)):
        if gap > 1e-6:
            v.append({"constraint": name, "amount": gap})
    return {"feasible": not v, "objective": 800 * b + 600 * s, "violations": v}
