"""Cutting steel bars: crashes while reading its data (a broken program on purpose)."""
import pyomo.environ as pyo


def build_model(data):
    pieces = data["tables"]["pieces"]  # there is no such table: KeyError
    m = pyo.ConcreteModel()
    m.bars = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.used = pyo.Objective(expr=m.bars)
    return m
