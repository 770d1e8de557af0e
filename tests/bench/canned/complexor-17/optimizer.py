"""Flight packages: units of each package to sell for the largest revenue, within seats and demand."""
import pyomo.environ as pyo

SEATS = [50, 60, 70]
DEMAND = [30, 40]
REVENUE = [100, 150]
DELTA = [[1, 1, 0], [0, 1, 1]]


def build_model(data):
    m = pyo.ConcreteModel()
    m.sell = pyo.Var(range(2), domain=pyo.NonNegativeIntegers, bounds=lambda m, p: (0, DEMAND[p]))
    m.revenue = pyo.Objective(expr=sum(REVENUE[p] * m.sell[p] for p in range(2)), sense=pyo.maximize)
    m.seats = pyo.Constraint(range(3), rule=lambda m, l: sum(DELTA[p][l] * m.sell[p] for p in range(2)) <= SEATS[l])
    return m
