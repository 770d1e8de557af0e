"""Judges package sales: seats per leg and demand per package."""

SEATS = [50, 60, 70]
DEMAND = [30, 40]
REVENUE = [100, 150]
DELTA = [[1, 1, 0], [0, 1, 1]]


def simulate(data, decisions):
    sell = {int(p): x for p, x in decisions.get("sell", [])}
    v = []
    for p in range(2):
        if sell.get(p, 0.0) > DEMAND[p] + 1e-6:
            v.append({"constraint": f"demand[{p}]", "amount": sell[p] - DEMAND[p]})
    for leg in range(3):
        used = sum(DELTA[p][leg] * sell.get(p, 0.0) for p in range(2))
        if used > SEATS[leg] + 1e-6:
            v.append({"constraint": f"seats[{leg}]", "amount": used - SEATS[leg]})
    return {"feasible": not v, "objective": sum(REVENUE[p] * sell.get(p, 0.0) for p in range(2)), "violations": v}
