"""Furniture workshop: the weekly production plan with the largest profit (Pyomo)."""

import pyomo.environ as pyo


def build_model(data):
    products = {row[0]: dict(zip(data["tables"]["products"]["columns"], row)) for row in data["tables"]["products"]["rows"]}
    available = {row[0]: row[1] for row in data["tables"]["resources"]["rows"]}
    m = pyo.ConcreteModel()
    m.P = pyo.Set(initialize=list(products))
    # "Production quantities cannot be negative, and fractional units are fine"
    m.make = pyo.Var(m.P, domain=pyo.NonNegativeReals)
    # "the weekly production plan with the largest profit"
    m.profit = pyo.Objective(expr=sum(products[p]["profit"] * m.make[p] for p in m.P), sense=pyo.maximize)
    # "At most 400 board-feet of wood and 450 hours of labour are available each week."
    m.wood = pyo.Constraint(expr=sum(products[p]["wood"] * m.make[p] for p in m.P) <= available["wood"])
    m.labour = pyo.Constraint(expr=sum(products[p]["labour"] * m.make[p] for p in m.P) <= available["labour"])
    return m
