"""Jam jars: fewest jars for 100000 ml, large jars at most as many as small ones."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.small = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.large = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.jars = pyo.Objective(expr=m.small + m.large)
    m.jam = pyo.Constraint(expr=50 * m.small + 200 * m.large >= 100000)
    m.preference = pyo.Constraint(expr=m.large <= m.small)
    return m
