"""Judges a day's production: five machine hours, the profit at the resulting prices."""


def simulate(data, decisions):
    a, b = decisions.get("a", 0.0), decisions.get("b", 0.0)
    v = [] if abs(a + b - 5) <= 1e-6 and a >= 0 and b >= 0 else [{"constraint": "hours", "amount": abs(a + b - 5)}]
    return {"feasible": not v, "objective": (12 - a) * a - 4 * a + (13 - 2 * b) * b - 3 * b, "violations": v}
