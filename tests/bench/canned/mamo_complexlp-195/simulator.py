"""Judges a fountain: the circle must lie inside the field; the objective is its area."""
import math

POINTS = [(0, 1), (0, 6), (4, 10), (8, 10), (11, 7), (11, 4), (7, 0), (1, 0)]


def simulate(data, decisions):
    a, b, r = decisions.get("a", 0.0), decisions.get("b", 0.0), decisions.get("r", 0.0)
    v = []
    for (x1, y1), (x2, y2) in zip(POINTS, POINTS[1:] + POINTS[:1]):
        ex, ey = x2 - x1, y2 - y1
        inward = (ey, -ex)  # clockwise polygon: the inside is on the right of each edge
        dist = (inward[0] * (a - x1) + inward[1] * (b - y1)) / math.hypot(ex, ey)
        if dist < r - 1e-6:
            v.append({"constraint": "inside", "amount": r - dist})
    return {"feasible": not v, "objective": math.pi * r * r, "violations": v}
