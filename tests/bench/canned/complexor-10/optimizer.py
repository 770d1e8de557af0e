"""Knapsack: takes fractions of items (continuous: wrong on purpose, the items are whole)."""
import pyomo.environ as pyo

VALUES = [60, 100, 120]
WEIGHTS = [10, 20, 30]


def build_model(data):
    m = pyo.ConcreteModel()
    m.take = pyo.Var(range(3), bounds=(0, 1))
    m.value = pyo.Objective(expr=sum(VALUES[i] * m.take[i] for i in range(3)), sense=pyo.maximize)
    m.capacity = pyo.Constraint(expr=sum(WEIGHTS[i] * m.take[i] for i in range(3)) <= 50)
    return m
