"""Shortest delivery loop: the assignment relaxation, without subtour elimination (wrong on purpose)."""
import pyomo.environ as pyo

D = [[0, 301, 313, 298, 280, 300],
     [309, 0, 317, 317, 279, 321],
     [297, 290, 0, 302, 278, 323],
     [292, 305, 321, 0, 292, 321],
     [299, 295, 282, 284, 0, 300],
     [318, 317, 304, 278, 284, 0]]


def build_model(data):
    n = len(D)
    arcs = [(i, j) for i in range(n) for j in range(n) if i != j]
    m = pyo.ConcreteModel()
    m.go = pyo.Var(arcs, domain=pyo.Binary)
    m.distance = pyo.Objective(expr=sum(D[i][j] * m.go[i, j] for i, j in arcs))
    m.leave = pyo.Constraint(range(n), rule=lambda m, i: sum(m.go[i, j] for j in range(n) if j != i) == 1)
    m.enter = pyo.Constraint(range(n), rule=lambda m, j: sum(m.go[i, j] for i in range(n) if i != j) == 1)
    return m


def decisions(model):
    return {"go": [[i, j, pyo.value(model.go[i, j])] for i, j in model.go]}
