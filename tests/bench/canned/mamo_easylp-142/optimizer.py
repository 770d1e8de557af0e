"""Military units X and Y: least support points."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.y = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.support = pyo.Objective(expr=5000 * m.x + 3000 * m.y)
    m.units = pyo.Constraint(expr=m.x + m.y >= 50)
    m.logistics = pyo.Constraint(expr=5 * m.x + 3 * m.y <= 200)
    return m
