"""NEMO's external memory: solved problems kept as reviewable files, retrieved as examples for agents.

store.py (the files), index.py (a rebuildable full-text index), retrieve.py (similarity and
maximal marginal relevance, pure), cli.py (`nemo memory ...`). The engine's side is in
engine/experience.py.
"""

from .store import Experience, Store, StoreError

__all__ = ["Experience", "Store", "StoreError"]
