"""Judges a shipment: at most 10 tons, whole pieces."""

WEIGHT = [2, 3, 4]
PROFIT = [100, 140, 180]


def simulate(data, decisions):
    ship = {int(i): x for i, x in decisions.get("ship", [])}
    weight = sum(WEIGHT[i] * ship.get(i, 0.0) for i in range(3))
    v = [] if weight <= 10 + 1e-6 else [{"constraint": "capacity", "amount": weight - 10,
                                         "source": "the total transportation capacity cannot exceed 10 tons"}]
    return {"feasible": not v, "objective": sum(PROFIT[i] * ship.get(i, 0.0) for i in range(3)), "violations": v}
