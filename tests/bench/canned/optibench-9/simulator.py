"""Judges a rectangle: area 100; the objective is its perimeter."""


def simulate(data, decisions):
    w, h = decisions.get("width", 0.0), decisions.get("height", 0.0)
    v = [] if abs(w * h - 100) <= 1e-6 else [{"constraint": "area", "amount": abs(w * h - 100)}]
    return {"feasible": not v, "objective": 2 * (w + h), "violations": v}
