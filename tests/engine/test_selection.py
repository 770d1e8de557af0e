"""Selection among candidates: self-consistency over optimizer runs and MBR over model blocks."""

from __future__ import annotations

import yaml

from nemo_lsp.engine.selection import Candidate, mbr, self_consistency, similarity


def cands(*pairs):
    return [Candidate(i, s, v) for i, (s, v) in enumerate(pairs)]


def test_the_majority_status_wins():
    c = self_consistency(cands(("infeasible", None), ("optimal", 3.0), ("infeasible", None)))
    assert c.status == "infeasible" and c.agreeing == (0, 2)


def test_a_tied_status_vote_follows_the_precedence():
    assert self_consistency(cands(("unbounded", None), ("optimal", 1.0))).status == "optimal"
    assert self_consistency(cands(("error", None), ("time_limit", 2.0))).status == "time_limit"
    assert self_consistency(cands(("unbounded", None), ("infeasible", None))).status == "infeasible"


def test_the_objective_is_the_median_of_the_largest_cluster():
    c = self_consistency(cands(("optimal", 34.0), ("optimal", 34.0000001), ("optimal", 40.0), ("optimal", 34.0),
                               ("optimal", 12.0)))
    assert c.objective == 34.0 and c.agreeing == (0, 1, 3)
    assert c.summary == "3/5 agree on 34"
    assert sorted(m for m, _ in c.clusters[1:]) == [12.0, 40.0]
    assert c.chosen in (0, 3)


def test_values_within_the_tolerance_agree_and_others_do_not():
    loose = self_consistency(cands(("optimal", 100.0), ("optimal", 101.0)), agrees=lambda a, b: abs(a - b) <= 2)
    strict = self_consistency(cands(("optimal", 100.0), ("optimal", 101.0)))
    assert loose.unanimous and not strict.unanimous


def test_no_candidates_is_an_error_not_a_crash():
    assert self_consistency([]).status == "error" and self_consistency([]).summary == "no candidates"


DIET = """
sets:
  F: foods.food
params:
  cost[F]: foods.cost
  need: 50
vars:
  x[F]: {domain: integer}
minimize: sum(cost[f] * x[f] for f in F)
constraints:
  protein: sum(p[f] * x[f] for f in F) >= need
"""


def test_identical_blocks_are_fully_similar_and_renamed_ones_nearly():
    a = yaml.safe_load(DIET)
    b = yaml.safe_load(DIET.replace("protein:", "enough_protein:"))
    assert set(similarity(a, a).values()) == {1.0}
    s = similarity(a, b)
    assert s["constraints"] < 1.0 and s["constraints"] > 0.7 and s["objective"] == 1.0


def test_mbr_picks_the_consensus_block_and_surfaces_near_ties():
    a = yaml.safe_load(DIET)
    b = yaml.safe_load(DIET)
    odd = yaml.safe_load(DIET.replace(">= need", "<= need").replace("minimize", "maximize"))
    choice = mbr([odd, a, b])
    assert choice.chosen == 1 and choice.near_ties == (2,)
    assert choice.scores[0] < choice.scores[1]
