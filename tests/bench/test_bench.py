"""`nemo bench` end to end with the scripted agent on 20 real problems: exact scores under each
convention, the stored results, the report, replays, and a run killed at random points and resumed.

Everything but the model is real: specs, the engine, the sandbox, HiGHS, the simulators, repairs.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_lsp.bench import scoring
from nemo_lsp.bench.cli import main
from nemo_lsp.bench.report import write_report
from nemo_lsp.bench.runner import Store
from tests.bench import support

pytestmark = pytest.mark.slow

SYMBOL = {"correct": "Y", "wrong": "N", "unscored": "-"}


def records(out: Path) -> list[dict]:
    return Store(out).records()


def test_each_problem_scores_as_expected_under_each_convention(reference_run: Path):
    got = {r["id"]: (r["outcome"], "".join(SYMBOL[scoring.verdict(r, c)] for c in scoring.CONVENTIONS))
           for r in records(reference_run)}
    assert got == support.EXPECTED


def test_overall_and_per_benchmark_figures(reference_run: Path):
    summaries = scoring.by_benchmark(records(reference_run))
    overall = summaries["overall"]
    assert {k: getattr(overall, k) for k in support.OVERALL} == support.OVERALL
    assert overall.accuracy("rel_1e-6") == pytest.approx(10 / 19)
    assert overall.accuracy("rel_5pct") == pytest.approx(13 / 19)
    for bench, s in summaries.items():
        if bench == "overall":
            continue
        rows = [marks for pid, (_, marks) in support.EXPECTED.items() if pid.rsplit("-", 1)[0] == bench]
        assert s.problems == len(rows)
        assert s.correct == {c: sum(m[i] == "Y" for m in rows) for i, c in enumerate(support.CONVENTIONS)}, bench
    assert summaries["mamo_complexlp"].correct == {"rel_1e-6": 0, "rel_1e-4": 0, "rel_5pct": 2, "abs_0.1": 1}


def test_a_record_says_where_everything_is(reference_run: Path):
    r = json.loads((reference_run / "results" / "nl4opt-15.json").read_text())
    assert r["expected"] == {"answer": 75.00000000000001, "status": "optimal"}
    assert (r["outcome"], r["status"], r["objective"], r["repairs"], r["repair_outcomes"]) == (
        "validated", "optimal", 75.0, 1, ["repaired"])
    assert r["generated"] == {"optimizer": "repaired (round 1)", "simulator": "generated"}
    assert r["workspace"] == "problems/nl4opt-15/run-1"
    assert (reference_run / r["spec"]).is_file()
    assert sorted(p.name for p in (reference_run / r["transcripts"]).iterdir()) == [
        "optimizer.txt", "repair-1.txt", "simulator.txt"]
    assert (reference_run / r["workspace"] / "nl4opt-15.optimizer.py").is_file()
    assert {"optimizer", "simulator", "total"} <= set(r["timings"]) and r["seconds"] > 0
    assert r["usage"] == {} and r["cost_usd"] is None  # the scripted agent reports no tokens or cost
    crashed = json.loads((reference_run / "results" / "industryor-68.json").read_text())
    assert (crashed["executed"], crashed["status"], "NEMO301" in crashed["findings"]) == (False, None, True)
    config = json.loads((reference_run / "bench.json").read_text())
    assert config["agent"] == "scripted" and config["agent_options"] == {"base_url": str(support.CANNED)}


def test_report_writes_markdown_and_a_self_contained_page(reference_run: Path, tmp_path: Path):
    proc = support.run_cli(["bench", "report", str(reference_run), "--out", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "summary.md").read_text()
    assert ("| **overall** | 20 | 19 | 52.6% (10) | 52.6% (10) | 68.4% (13) | 57.9% (11) | 95.0% | 65.0% | 9 | 5 (5) |"
            in md)
    assert "| mamo_complexlp | 2 | 2 | 0.0% (0) | 0.0% (0) | 100.0% (2) | 50.0% (1) |" in md
    assert "`rel_1e-6`" in md and "`abs_0.1`" in md and "unscored" in md
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") >= 2 and "Accuracy per benchmark" in page and "Wall time per problem" in page
    for remote in ("src=", "href=", "url(", "@import", "<script"):
        assert remote not in page


def test_replay_reruns_the_stored_programs_without_a_model(reference_run: Path, tmp_path: Path):
    out = tmp_path / "replayed"
    assert main(support.bench_argv(out, "--workers", "2", agent="replay", source=reference_run)) == 0
    assert support.outcomes(records(out)) == support.outcomes(records(reference_run))
    transcript = (out / "problems/nl4opt-15/run-1/.nemo/nl4opt-15/transcripts/repair-1.txt").read_text()
    assert transcript.startswith("replay: copied ") and "work/repair-1/nl4opt-15.optimizer.py" in transcript

    final = tmp_path / "final"
    assert main(support.bench_argv(final, "--ids", "nl4opt-15,bwor-69", "--model", "final", agent="replay",
                                   source=reference_run)) == 0
    got = {r["id"]: (r["outcome"], r["repairs"]) for r in records(final)}
    assert got == {"nl4opt-15": ("validated", 0), "bwor-69": ("rejected", 1)}  # the repaired optimizer, at once

    write_report(Store(reference_run), tmp_path, compare=Store(out))
    md = (tmp_path / "summary.md").read_text()
    assert "- fixed (wrong in A, correct in B): 0: none" in md and "- correct in both: 10; wrong in both: 9" in md


def test_resume_skips_finished_problems_and_a_used_folder_needs_it(reference_run: Path, tmp_path: Path, capsys):
    assert main(support.bench_argv(reference_run)) == 1
    assert "already holds a run: pass --resume" in capsys.readouterr().err
    assert main(support.bench_argv(reference_run, "--resume", agent="formal")) == 1
    assert "holds a run with other settings" in capsys.readouterr().err
    before = {p.name: p.stat().st_mtime_ns for p in (reference_run / "results").iterdir()}
    assert main(support.bench_argv(reference_run, "--resume")) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (reference_run / "results").iterdir()} == before


def test_a_run_killed_at_random_points_resumes_to_the_same_numbers(reference_run: Path, tmp_path: Path):
    seed = int(os.environ.get("NEMO_BENCH_KILL_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "nemo_lsp.cli", "bench", str(support.PROBLEMS), "--agent", "scripted",
            "--base-url", str(support.CANNED), "--out", str(out), "--workers", "2"]
    kills, attempt = 0, 0
    while kills < 3 and attempt < 8:
        log = tmp_path / f"attempt-{attempt}.log"
        with open(log, "w") as err:
            proc = subprocess.Popen(argv + (["--resume"] if attempt else []), cwd=support.ROOT,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            try:
                proc.wait(timeout=rng.uniform(0.8, 2.5))
            except subprocess.TimeoutExpired:
                proc.kill()  # SIGKILL: no handler runs, nothing is flushed
                proc.wait()
                kills += 1
        attempt += 1
        reported = [int(line[1:line.index("/")]) for line in log.read_text().splitlines() if line.startswith("[")]
        files = list((out / "results").glob("*.json"))
        for f in files:
            json.loads(f.read_text())  # every result on disk is whole
        # a problem is reported done only once its result is on disk: a kill loses only those in flight
        assert len(files) >= max(reported, default=0), f"seed {seed}, attempt {attempt}"
    assert kills >= 1, f"seed {seed}: the run always finished before the kill"
    done = subprocess.run(argv + ["--resume"], cwd=support.ROOT, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert support.outcomes(records(out)) == support.outcomes(records(reference_run)), f"seed {seed}"
    assert "| **overall** | 20 | 19 | 52.6% (10) | 52.6% (10) | 68.4% (13) | 57.9% (11) |" in done.stdout
