"""Judges a cutting plan (never reached: the optimizer crashes)."""


def simulate(data, decisions):
    return {"feasible": True, "objective": decisions.get("bars", 0.0), "violations": []}
