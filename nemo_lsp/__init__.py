"""nemo-lsp: execution-aware optimization modelling from Markdown specs (NEMO, arXiv 2601.21372)."""

__version__ = "0.1.0"
