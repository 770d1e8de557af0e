"""Judges a vehicle plan: visitors carried, rickshaw share, whole vehicles."""


def simulate(data, decisions):
    s, r = decisions.get("scooters", 0.0), decisions.get("rickshaws", 0.0)
    v = []
    if 2 * s + 3 * r < 300 - 1e-6:
        v.append({"constraint": "visitors", "amount": 300 - 2 * s - 3 * r})
    if r > 0.4 * (s + r) + 1e-6:
        v.append({"constraint": "pollution", "amount": r - 0.4 * (s + r),
                  "source": "at most 40% of the vehicles used can be rickshaws"})
    return {"feasible": not v, "objective": s, "violations": v}
