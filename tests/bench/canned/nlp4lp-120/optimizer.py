"""Painkillers: least sleep medicine (the data make it infeasible)."""
import pyomo.environ as pyo


def build_model(data):
    m = pyo.ConcreteModel()
    m.day = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.night = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.sleep = pyo.Objective(expr=2 * m.day + 5 * m.night)
    m.painkiller = pyo.Constraint(expr=6 * m.day + 5 * m.night <= 800)
    m.share = pyo.Constraint(expr=m.day >= 0.4 * (m.day + m.night))
    m.nights = pyo.Constraint(expr=m.night >= 200)
    return m
