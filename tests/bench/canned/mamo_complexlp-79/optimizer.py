"""Night shifts: fewest nurses (reads d5 = 7 instead of 8: wrong on purpose)."""
import pyomo.environ as pyo

DEMAND = [5, 4, 7, 3, 7, 4, 3]


def build_model(data):
    m = pyo.ConcreteModel()
    m.start = pyo.Var(range(7), domain=pyo.NonNegativeReals)
    m.nurses = pyo.Objective(expr=sum(m.start[j] for j in range(7)))
    m.cover = pyo.Constraint(range(7), rule=lambda m, j: sum(m.start[(j - k) % 7] for k in range(5)) >= DEMAND[j])
    return m
