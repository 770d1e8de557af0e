"""Investment X and Y: least return (reads "a total fund of $10,000" as at most: wrong on purpose)."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(2000, None))
    m.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(3000, None))
    m.ret = pyo.Objective(expr=0.05 * m.x + 0.08 * m.y)
    m.fund = pyo.Constraint(expr=m.x + m.y <= 10000)
    return m
