"""Machine tool: products A and B for five hours a day, prices falling with output (a custom search)."""


def profit(a, b):
    return (12 - a) * a - 4 * a + (13 - 2 * b) * b - 3 * b


def solve(data):
    a = max((k / 100 for k in range(0, 501)), key=lambda a: profit(a, 5 - a))
    return {"status": "optimal", "objective": profit(a, 5 - a), "decisions": {"a": a, "b": 5 - a}}
