"""Choosing examples from memory: similarity over the problems' words, then maximal marginal relevance.

Pure functions. Relevance and redundancy use the same measure (cosine over word counts), so that
"similarity to the problem minus lambda times similarity to the examples already picked" compares
like with like; the full-text index only narrows the candidates when the memory is large.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below between both but
by can could did do does doing down during each either every few for from further had has have having he her
here hers him his how i if in into is it its itself just least less let may me might more most much must my no
nor not of off on once only or other our ours out over own per same shall she should so some such than that the
their them then there these they this those through to too under until up upon us very was we were what when
where which while who whom why will with within without would you your
""".split())

_WORD = re.compile(r"[a-z][a-z0-9_]*")
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.DOTALL | re.MULTILINE)


def problem_text(spec_text: str) -> str:
    """The words a problem is stated in: the spec without its front matter and fenced blocks
    (model and data blocks), so that a prose-only spec and one with a model block compare fairly."""
    text = _FRONT.sub("", spec_text.replace("\r\n", "\n"), count=1)
    return _FENCE.sub("", text)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> Counter[str]:
    """Word counts: lower case, stop words and numbers dropped, plurals folded (`foods` -> `food`)."""
    return Counter(_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS)


def similarity(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """Cosine of sublinear word counts, in [0, 1]; 0 when either side has no words."""
    if not a or not b:
        return 0.0
    wa = {t: 1.0 + math.log(n) for t, n in a.items() if n > 0}
    wb = {t: 1.0 + math.log(n) for t, n in b.items() if n > 0}
    dot = sum(w * wb[t] for t, w in wa.items() if t in wb)
    if dot == 0.0:
        return 0.0
    return dot / (math.sqrt(sum(w * w for w in wa.values())) * math.sqrt(sum(w * w for w in wb.values())))


@dataclass(frozen=True)
class Pick:
    id: str
    relevance: float
    """Similarity to the problem being solved."""
    score: float
    """Relevance minus lambda times the largest similarity to an example picked before it."""


def select(query: Mapping[str, int], candidates: Mapping[str, Mapping[str, int]], k: int,
           diversity: float = 0.5, min_relevance: float = 0.0) -> list[Pick]:
    """Maximal marginal relevance: k examples, each maximising similarity to the problem minus
    `diversity` (lambda) times its similarity to those already picked. Ties go to the smaller id,
    so the choice is deterministic; candidates no more relevant than `min_relevance` are never picked."""
    relevance = {cid: similarity(query, words) for cid, words in candidates.items()}
    pool = sorted(cid for cid, r in relevance.items() if r > min_relevance)
    picked: list[Pick] = []
    while pool and len(picked) < k:
        def score(cid: str) -> float:
            redundancy = max((similarity(candidates[cid], candidates[p.id]) for p in picked), default=0.0)
            return relevance[cid] - diversity * redundancy

        best = max(pool, key=lambda cid: (score(cid), -pool.index(cid)))
        picked.append(Pick(best, relevance[best], score(best)))
        pool.remove(best)
    return picked
