"""The NEMO pipeline shared by the CLI, the language server and the benchmark harness."""

from .report import Report, Solution, Verdict
from .run import run
from .settings import Settings, Tolerance

__all__ = ["Report", "Settings", "Solution", "Tolerance", "Verdict", "run"]
