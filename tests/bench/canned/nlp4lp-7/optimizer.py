"""Elm Furniture: chairs and dressers for the largest weekly profit (fractional pieces: the LP relaxation, wrong on purpose)."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.chairs = pyo.Var(domain=pyo.NonNegativeReals)
    m.dressers = pyo.Var(domain=pyo.NonNegativeReals)
    m.profit = pyo.Objective(expr=43 * m.chairs + 52 * m.dressers, sense=pyo.maximize)
    m.stain = pyo.Constraint(expr=1.4 * m.chairs + 1.1 * m.dressers <= 17)
    m.oak = pyo.Constraint(expr=2 * m.chairs + 3 * m.dressers <= 11)
    return m
