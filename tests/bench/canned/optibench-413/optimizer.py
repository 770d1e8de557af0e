"""Two positive numbers with sum 300 and the largest product: x = y = 150 (a custom algorithm)."""


def solve(data):
    best = max(((x / 10, 300 - x / 10) for x in range(1, 3000)), key=lambda p: p[0] * p[1])
    return {"status": "optimal", "objective": best[0] * best[1], "decisions": {"x": best[0], "y": best[1]}}
