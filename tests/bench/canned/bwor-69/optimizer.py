"""Shipping products: reads the capacity as 11 tons instead of 10 (wrong on purpose)."""
import pyomo.environ as pyo

WEIGHT = [2, 3, 4]
PROFIT = [100, 140, 180]


def build_model(data):
    m = pyo.ConcreteModel()
    m.ship = pyo.Var(range(3), domain=pyo.NonNegativeIntegers)
    m.profit = pyo.Objective(expr=sum(PROFIT[i] * m.ship[i] for i in range(3)), sense=pyo.maximize)
    m.capacity = pyo.Constraint(expr=sum(WEIGHT[i] * m.ship[i] for i in range(3)) <= 11)
    return m
