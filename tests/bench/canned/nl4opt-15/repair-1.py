"""Theme park: fewest scooters, with at most 40% of the vehicles rickshaws (repaired)."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.scooters = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.rickshaws = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.used = pyo.Objective(expr=m.scooters)
    m.visitors = pyo.Constraint(expr=2 * m.scooters + 3 * m.rickshaws >= 300)
    m.pollution = pyo.Constraint(expr=m.rickshaws <= 0.4 * (m.scooters + m.rickshaws))
    return m
