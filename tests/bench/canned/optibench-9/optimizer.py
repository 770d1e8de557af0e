"""Rectangles of area 100: claims the perimeter is unbounded (wrong on purpose)."""


def solve(data):
    return {"status": "unbounded", "objective": None, "decisions": {}}
