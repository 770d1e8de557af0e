"""School trip: buses and minibuses at the lowest rental cost."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.buses = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.minibuses = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 8))
    m.cost = pyo.Objective(expr=800 * m.buses + 600 * m.minibuses)
    m.seats = pyo.Constraint(expr=50 * m.buses + 40 * m.minibuses >= 400)
    m.drivers = pyo.Constraint(expr=m.buses + m.minibuses <= 9)
    return m
