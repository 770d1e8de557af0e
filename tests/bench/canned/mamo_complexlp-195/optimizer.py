"""The largest round fountain inside the polygonal field: the Chebyshev centre, area pi r^2."""
import math

import pyomo.environ as pyo

POINTS = [(0, 1), (0, 6), (4, 10), (8, 10), (11, 7), (11, 4), (7, 0), (1, 0)]


def solve(data):
    m = pyo.ConcreteModel()
    m.a = pyo.Var()
    m.b = pyo.Var()
    m.r = pyo.Var(domain=pyo.NonNegativeReals)
    m.radius = pyo.Objective(expr=m.r, sense=pyo.maximize)
    m.inside = pyo.ConstraintList()
    for (x1, y1), (x2, y2) in zip(POINTS, POINTS[1:] + POINTS[:1]):
        nx, ny = x1 - x2, y1 - y2  # rotated edge direction: the inward normal for a clockwise polygon
        nx, ny = -ny, nx
        length = math.hypot(nx, ny)
        m.inside.add((nx * (m.a - x1) + ny * (m.b - y1)) / length >= m.r)
    pyo.SolverFactory("appsi_highs").solve(m)
    r = pyo.value(m.r)
    return {"status": "optimal", "objective": math.pi * r * r,
            "decisions": {"a": pyo.value(m.a), "b": pyo.value(m.b), "r": r}}
