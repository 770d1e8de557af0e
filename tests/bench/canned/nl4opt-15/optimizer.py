"""Theme park: fewest scooters (forgets the 40% rickshaw limit: wrong on purpose)."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.scooters = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.rickshaws = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.used = pyo.Objective(expr=m.scooters)
    m.visitors = pyo.Constraint(expr=2 * m.scooters + 3 * m.rickshaws >= 300)
    return m
