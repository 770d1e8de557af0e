"""Shortest tour of six cities: assignment with Miller-Tucker-Zemlin subtour elimination."""
import pyomo.environ as pyo

D = [[0, 722, 758, 688, 897, 100],
     [746, 0, 76, 49, 86, 385],
     [479, 154, 0, 11, 374, 350],
     [645, 842, 117, 0, 619, 535],
     [278, 829, 499, 268, 0, 973],
     [951, 144, 810, 943, 989, 0]]


def build_model(data):
    n = len(D)
    arcs = [(i, j) for i in range(n) for j in range(n) if i != j]
    m = pyo.ConcreteModel()
    m.go = pyo.Var(arcs, domain=pyo.Binary)
    m.order = pyo.Var(range(1, n), bounds=(1, n - 1))
    m.distance = pyo.Objective(expr=sum(D[i][j] * m.go[i, j] for i, j in arcs))
    m.leave = pyo.Constraint(range(n), rule=lambda m, i: sum(m.go[i, j] for j in range(n) if j != i) == 1)
    m.enter = pyo.Constraint(range(n), rule=lambda m, j: sum(m.go[i, j] for i in range(n) if i != j) == 1)
    m.subtour = pyo.Constraint([(i, j) for i, j in arcs if i and j],
                               rule=lambda m, i, j: m.order[i] - m.order[j] + (n - 1) * m.go[i, j] <= n - 2)
    return m


def decisions(model):
    return {"go": [[i, j, pyo.value(model.go[i, j])] for i, j in model.go]}
