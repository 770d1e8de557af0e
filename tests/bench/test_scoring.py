"""The scoring conventions and summaries, as pure functions of result records."""

from __future__ import annotations

import pytest

from nemo_lsp.bench import scoring
from nemo_lsp.bench.scoring import CONVENTIONS, compare, summarize, verdict


def rec(answer, status="optimal", *, got=None, got_status="optimal", **more):
    return {"id": more.pop("id", "p"), "benchmark": more.pop("benchmark", "b"),
            "expected": {"answer": answer, "status": status}, "status": got_status, "objective": got, **more}


@pytest.mark.parametrize("record, marks", [
    pytest.param(rec(224.0, got=224.0), "YYYY", id="exact"),
    pytest.param(rec(1000.0, got=1000.005), "NYYY", id="rel-5e-6-abs-5e-3"),
    pytest.param(rec(1e6, got=1e6 + 0.5), "YYYN", id="large-rel-5e-7-abs-0.5"),
    pytest.param(rec(66.39, got=66.36614), "NNYY", id="four-digit-label"),
    pytest.param(rec(8.0, got=7.6667), "NNYN", id="within-5pct"),
    pytest.param(rec(0.0, got=0.06), "NNNY", id="zero-reference"),
    pytest.param(rec(0.0, got=1e-7), "YYYY", id="zero-reference-tiny"),
    pytest.param(rec(224.0, got=236.5), "NNNN", id="lp-relaxation"),
    pytest.param(rec(224.0, got=224.0, got_status="time_limit"), "NNNN", id="not-proven-optimal"),
    pytest.param(rec(224.0, got=None, got_status=None), "NNNN", id="no-answer"),
    pytest.param(rec(None, "infeasible", got_status="infeasible"), "YYYY", id="infeasible-proven"),
    pytest.param(rec(None, "infeasible", got_status="infeasible_or_unbounded"), "YYYY", id="infeasible-either"),
    pytest.param(rec(None, "infeasible", got=5.0), "NNNN", id="infeasible-but-answered"),
    pytest.param(rec(None, "infeasible", got_status="unbounded"), "NNNN", id="infeasible-but-unbounded"),
    pytest.param(rec(None, "infeasible_or_unbounded", got_status="unbounded"), "YYYY", id="either-unbounded"),
    pytest.param(rec(None, "unknown", got=3.0), "----", id="unknown-reference"),
])
def test_verdicts_under_each_convention(record, marks):
    symbol = {"correct": "Y", "wrong": "N", "unscored": "-"}
    assert "".join(symbol[verdict(record, c)] for c in CONVENTIONS) == marks


def test_summary_counts_and_leaves_unscored_out_of_the_denominator():
    records = [rec(10.0, got=10.0, executed=True, validated=True, seconds=1.0, usage={"optimizer": {"cost_usd": 0.25}}),
               rec(10.0, got=10.4, executed=True, validated=True, repairs=2, seconds=3.0,
                   usage={"optimizer": {"cost_usd": 0.5}, "repair-1": {"cost_usd": 0.25}}),
               rec(None, "unknown", got=1.0, executed=True, seconds=2.0),
               rec(10.0, got=None, got_status=None, executed=False, seconds=4.0)]
    s = summarize(records)
    assert (s.problems, s.scored, s.unscored) == (4, 3, 1)
    assert s.correct == {"rel_1e-6": 1, "rel_1e-4": 1, "rel_5pct": 2, "abs_0.1": 1}
    assert s.accuracy("rel_5pct") == pytest.approx(2 / 3)
    assert (s.executed, s.validated, s.validated_correct, s.repaired, s.repair_rounds) == (3, 2, 1, 1, 2)
    assert s.seconds["median"] == 2.5 and s.seconds["max"] == 4.0
    assert s.cost["total"] == 1.0 and s.cost["mean"] == 0.5


def test_by_benchmark_and_compare():
    a = [rec(1.0, got=1.0, id="x", benchmark="b1"), rec(1.0, got=2.0, id="y", benchmark="b2"),
         rec(1.0, got=1.0, id="z", benchmark="b2")]
    b = [rec(1.0, got=2.0, id="x"), rec(1.0, got=1.0, id="y"), rec(1.0, got=1.0, id="w")]
    assert list(scoring.by_benchmark(a)) == ["b1", "b2", "overall"]
    cmp = compare(a, b)
    assert (cmp.fixed, cmp.broken, cmp.only_a, cmp.only_b) == (("y",), ("x",), ("z",), ("w",))
