"""Furniture workshop: judges a production plan (never optimizes)."""

WOOD = "At most 400 board-feet of wood and 450 hours of labour are available each week."


def simulate(data, decisions):
    cols = data["tables"]["products"]["columns"]
    products = {row[0]: dict(zip(cols, row)) for row in data["tables"]["products"]["rows"]}
    available = {row[0]: row[1] for row in data["tables"]["resources"]["rows"]}
    make = {row[0]: row[1] for row in decisions.get("make", [])}
    violations = []
    for p in products:
        if p not in make:
            violations.append({"constraint": "make", "amount": 1.0, "source": "missing decision for " + p})
        elif make[p] < -1e-9:
            violations.append({"constraint": "nonnegative", "amount": -make[p],
                               "source": "Production quantities cannot be negative"})
    for resource in ("wood", "labour"):
        used = sum(products[p][resource] * make.get(p, 0.0) for p in products)
        if used > available[resource] + 1e-6:
            violations.append({"constraint": resource, "amount": used - available[resource], "lhs": used,
                               "sense": "<=", "rhs": available[resource], "source": WOOD})
    profit = sum(products[p]["profit"] * make.get(p, 0.0) for p in products)
    return {"feasible": not violations, "objective": profit, "violations": violations}
