"""Solver backends: what each one solves, which is best for a problem class, and which are installed here."""

from .catalog import BACKENDS, Backend
from .probe import available_solvers
from .recommend import Recommendation, recommend

__all__ = ["BACKENDS", "Backend", "Recommendation", "available_solvers", "recommend"]
