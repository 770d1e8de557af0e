"""Coding agents through the engine: choosing one, the repair loop, transcripts, failures, hostile output.

The `scripted` agent replays canned modules from a folder (tests/agents/canned/furniture), so
everything but the model is real: the workspace, the inspection, the sandbox, HiGHS, the simulator.

Which agent runs, later wins: the engine's default (`formal` when the spec has a model block,
else NEMO201), the caller's base settings (the editor's), the spec's front matter `agent:`, the
caller's overrides (`nemo solve --agent`). The same order holds for `agent_options`, with each
backend's environment variables (NEMO_SCRIPTED_DIR, NEMO_AGENT_*) below the front matter.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nemo_lsp.engine import Report, Settings, run
from nemo_lsp.engine.layout import Layout
from tests.agents import support

OPTIMIZER = "furniture.optimizer.py"
SIMULATOR = "furniture.simulator.py"
OPTIMIZER_ONLY = "m.labour = pyo.Constraint("
"""A line of the optimizer's code that the simulator never sees."""
RIGHT = support.canned("optimizer.py")
WRONG = support.canned("optimizer_wrong_sense.py")
JUDGE = support.canned("simulator.py")
WRONG_AGAIN = WRONG.replace(
    "    # \"At most 400", "    # a second attempt, as wrong as the first\n    # \"At most 400")
"""Another optimizer with the labour constraint's sense flipped (a repair that did not help)."""


# --- helpers -----------------------------------------------------------------------------------

def canned(folder: Path, **files: str | bytes) -> Path:
    """A scripted agent's folder: `repair_1="..."` is repair-1.py, `optimizer_error="..."` optimizer.error."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, content in files.items():
        name = stem.replace("_error", ".error").replace("_", "-")
        name = name if name.endswith(".error") else name + ".py"
        path = folder / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def scripted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fill NEMO_SCRIPTED_DIR with canned modules (defaults: the right optimizer and the simulator)."""
    def fill(**files: str | bytes) -> Path:
        files = {"optimizer": RIGHT, "simulator": JUDGE, **files}
        folder = canned(tmp_path / "canned", **files)
        monkeypatch.setenv("NEMO_SCRIPTED_DIR", str(folder))
        return folder
    return fill


def solve(spec: Path, *, base: Settings | None = None, **overrides: Any) -> Report:
    return asyncio.run(run(spec, base=base, overrides={"agent": "scripted", **overrides}))


def codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


def only(report: Report, code: str):
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} in {[(f.code, f.message) for f in report.findings]}"
    return found[0]


def beside(spec: Path) -> list[str]:
    """The files next to the spec (what the user sees in their folder)."""
    return sorted(p.name for p in spec.parent.iterdir() if p.is_file() or p.is_symlink())


def transcript(spec: Path, name: str) -> str:
    return (Layout(spec).transcripts / f"{name}.txt").read_text(encoding="utf-8")


# --- choosing the agent --------------------------------------------------------------------------

def test_a_prose_only_spec_without_an_agent_is_nemo201_naming_the_agents_and_nemo_doctor(tmp_path: Path) -> None:
    spec = support.furniture(tmp_path)
    report = asyncio.run(run(spec))
    assert report.outcome == "not_run" and codes(report) == ["NEMO201"]
    message = only(report, "NEMO201").message
    for name in ("claude-code", "codex", "openhands", "chat", "--agent NAME", "`nemo doctor`"):
        assert name in message
    assert beside(spec) == ["furniture.opt.md"] and not (tmp_path / ".nemo").exists()


def test_front_matter_agent_beats_the_default(tmp_path: Path, scripted) -> None:
    scripted()
    spec = support.furniture(tmp_path, "agent: scripted\n")
    report = asyncio.run(run(spec))
    assert report.agent == "scripted" and report.outcome == "validated"


def test_front_matter_agent_beats_the_callers_base_settings(tmp_path: Path, scripted) -> None:
    scripted()
    spec = support.furniture(tmp_path, "agent: scripted\n")
    report = asyncio.run(run(spec, base=Settings(agent="claude-code")))
    assert report.agent == "scripted"


def test_the_callers_override_beats_front_matter_agent(tmp_path: Path, scripted) -> None:
    scripted()
    spec = support.furniture(tmp_path, "agent: codex\n")
    report = solve(spec)  # overrides={"agent": "scripted"}, as `nemo solve --agent scripted` passes it
    assert report.agent == "scripted" and report.outcome == "validated"


def test_an_unknown_agent_is_nemo501_on_the_front_matter_value(tmp_path: Path) -> None:
    spec = support.furniture(tmp_path, "agent: gpt-wizard\n")
    report = asyncio.run(run(spec))
    assert report.outcome == "not_run" and codes(report) == ["NEMO501"]
    f = only(report, "NEMO501")
    assert "unknown agent `gpt-wizard`" in f.message and "scripted" in f.message
    line = spec.read_text(encoding="utf-8").split("\n")[f.span.line]
    assert line[f.span.col:f.span.end_col] == "gpt-wizard"


def test_front_matter_agent_options_beat_the_environment(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG)  # what NEMO_SCRIPTED_DIR would give
    chosen = canned(tmp_path / "chosen", optimizer=RIGHT, simulator=JUDGE)
    spec = support.furniture(tmp_path, f"agent: scripted\nagent_options:\n  base_url: {chosen}\n")
    report = asyncio.run(run(spec))
    assert report.outcome == "validated" and not report.repairs
    assert f"scripted: copied {chosen / 'optimizer.py'}" in transcript(spec, "optimizer")


def test_the_callers_agent_options_beat_front_matter(tmp_path: Path, scripted) -> None:
    scripted()
    front = canned(tmp_path / "front", optimizer=WRONG, simulator=JUDGE)
    chosen = canned(tmp_path / "chosen", optimizer=RIGHT, simulator=JUDGE)
    spec = support.furniture(tmp_path, f"agent: scripted\nagent_options:\n  base_url: {front}\n")
    report = asyncio.run(run(spec, overrides={"agent_options": {"base_url": str(chosen)}}))
    assert report.outcome == "validated"
    assert f"scripted: copied {chosen / 'optimizer.py'}" in transcript(spec, "optimizer")


# --- the repair loop ---------------------------------------------------------------------------

def test_a_wrong_optimizer_is_repaired_with_the_simulators_evidence(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=RIGHT)
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "validated", [(f.code, f.message) for f in report.findings]
    assert report.solution is not None and report.solution.objective == pytest.approx(2200)
    assert report.generated == {"optimizer": "repaired (round 1)", "simulator": "generated"}
    (repair,) = report.repairs
    assert repair["round"] == 1 and repair["outcome"] == "repaired"
    (violation,) = repair["evidence"]["violations"]
    assert violation["constraint"] == "labour" and violation["amount"] == pytest.approx(350)
    assert violation["source"].startswith("At most 400 board-feet of wood and 450 hours of labour")
    assert repair["evidence"]["decisions"] == {"make": [["chair", 80.0], ["table", 0.0]]}
    assert (tmp_path / OPTIMIZER).read_text(encoding="utf-8") == support.canned("optimizer.py")


def test_the_repair_workspace_holds_the_previous_optimizer_and_the_evidence(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=RIGHT)
    spec = support.furniture(tmp_path)
    report = solve(spec)
    work = Layout(spec).work / "repair-1"
    assert json.loads((work / "evidence.json").read_text(encoding="utf-8")) == report.repairs[0]["evidence"]
    assert {"furniture.opt.md", "data.json", "CONTRACT.md", "nemo_harness.py", OPTIMIZER} <= set(os.listdir(work))


def test_a_repaired_optimizer_is_nemos_own_and_the_next_run_finds_it_up_to_date(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=RIGHT)
    spec = support.furniture(tmp_path)
    assert solve(spec).ok
    again = solve(spec)
    assert again.ok and again.generated == {"optimizer": "up to date", "simulator": "up to date"}
    assert again.repairs == []


def test_repair_rounds_zero_stops_at_the_rejection(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=RIGHT)
    spec = support.furniture(tmp_path)
    report = solve(spec, repair_rounds=0)
    assert report.outcome == "rejected" and "NEMO401" in codes(report)
    assert "`labour`" in only(report, "NEMO401").message
    assert report.repairs == [] and report.generated["optimizer"] == "generated"
    assert not (Layout(spec).transcripts / "repair-1.txt").exists()


def test_front_matter_repair_rounds_limits_the_loop(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=WRONG_AGAIN, repair_2=RIGHT)
    spec = support.furniture(tmp_path, "repair_rounds: 1\n")
    report = solve(spec)
    assert report.outcome == "rejected" and [r["round"] for r in report.repairs] == [1]


def test_a_repair_that_is_itself_wrong_uses_up_the_rounds_and_ends_rejected(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=WRONG_AGAIN,
             repair_2=WRONG_AGAIN.replace("as wrong as the first", "and a third"))
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "rejected" and "NEMO401" in codes(report)
    assert [(r["round"], r["outcome"]) for r in report.repairs] == [(1, "repaired"), (2, "repaired")]
    assert report.generated["optimizer"] == "repaired (round 2)"
    assert not (Layout(spec).transcripts / "repair-3.txt").exists()


def test_a_repair_session_that_writes_nothing_is_not_a_repair(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG)  # no repair-1.py
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "rejected"
    assert report.repairs[0]["outcome"] == "agent failed" and len(report.repairs) == 1
    assert f"left {OPTIMIZER} unchanged" in only(report, "NEMO502").message
    assert report.generated["optimizer"] == "generated"


def test_a_repair_session_whose_key_is_rejected_is_not_a_repair(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1_error="HTTP 401 unauthorized")
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "rejected"
    assert report.repairs[0]["outcome"] == "agent failed" and report.repairs[0]["findings"] == ["NEMO505"]
    assert only(report, "NEMO505").is_error
    assert report.generated["optimizer"] == "generated"


def test_a_user_edited_optimizer_is_never_replaced_by_a_repair(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=RIGHT)
    spec = support.furniture(tmp_path)
    assert solve(spec, repair_rounds=0).outcome == "rejected"
    mine = (tmp_path / OPTIMIZER).read_text(encoding="utf-8") + "# my own tweak\n"
    (tmp_path / OPTIMIZER).write_text(mine, encoding="utf-8")
    report = solve(spec)
    assert report.outcome == "rejected" and "NEMO202" in codes(report)
    assert report.generated["optimizer"] == "user-edited (kept)" and report.repairs == []
    assert (tmp_path / OPTIMIZER).read_text(encoding="utf-8") == mine
    assert not (Layout(spec).transcripts / "repair-1.txt").exists()


# --- transcripts and workspaces ---------------------------------------------------------------

def test_every_session_leaves_a_transcript_with_its_rendered_prompt(tmp_path: Path, scripted) -> None:
    scripted(optimizer=WRONG, repair_1=RIGHT)
    spec = support.furniture(tmp_path)
    solve(spec)
    work = Layout(spec).work
    names = sorted(p.name for p in Layout(spec).transcripts.iterdir())
    assert names == ["optimizer.txt", "repair-1.txt", "simulator.txt"]
    optimizer, simulator, repair = (transcript(spec, n) for n in ("optimizer", "simulator", "repair-1"))
    assert support.OPTIMIZER_PROMPT in optimizer and f"Your workspace: `{work / 'optimizer'}`" in optimizer
    assert support.SIMULATOR_PROMPT in simulator and f"Your workspace: `{work / 'simulator'}`" in simulator
    assert support.REPAIR_PROMPT in repair and f"Your workspace: `{work / 'repair-1'}`" in repair
    assert "constraint `labour` is violated by 350.0" in repair
    for text in (optimizer, simulator, repair):
        assert "A chair earns 45 dollars and a table 80 dollars." in text  # the spec itself


def test_the_simulator_never_sees_the_optimizer(tmp_path: Path, scripted) -> None:
    scripted()
    spec = support.furniture(tmp_path)
    assert solve(spec).ok
    # regenerate only the simulator, with the optimizer sitting beside the spec
    report = solve(spec, regenerate_roles=("simulator",))
    assert report.generated == {"optimizer": "up to date", "simulator": "generated"}
    work = Layout(spec).work / "simulator"
    assert sorted(os.listdir(work)) == sorted(["CONTRACT.md", "data.json", "furniture.opt.md", "nemo_harness.py",
                                               SIMULATOR])
    told = transcript(spec, "simulator")
    assert OPTIMIZER_ONLY not in told
    assert "- `make`: indexed by 1 key(s)" in told  # the decisions' interface, not the code


# --- failures and hostile output ---------------------------------------------------------------

def test_an_agent_that_reports_a_rejected_key_stops_the_run_with_nemo505(tmp_path: Path, scripted) -> None:
    scripted(optimizer_error="HTTP 401 unauthorized")
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "not_run" and codes(report) == ["NEMO505"]
    assert beside(spec) == ["furniture.opt.md"]
    assert not (Layout(spec).transcripts / "simulator.txt").exists()  # no session after a failed one


def symlink_out(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.py"
    secret.parent.mkdir()
    secret.write_text(support.canned("optimizer.py"), encoding="utf-8")  # a perfectly good module
    link = tmp_path / "link-source"
    link.symlink_to(secret)
    return link


HOSTILE = {
    "huge": ("# " + "x" * 2_000_000 + "\ndef solve(data):\n    return {}\n", "more than the 2,000,000"),
    "binary": (b"def solve(data):\n    return {}\n\x00\x7fELF", "is binary, not Python source"),
    "not UTF-8": (b"# caf\xe9\ndef solve(data):\n    return {}\n", "is not UTF-8 text"),
    "syntax error": ("def build_model(data)\n    pass\n", f"{OPTIMIZER}:1: syntax error"),
    "no contract": ("def main():\n    pass\n", "defines neither build_model(data) nor solve(data)"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_an_unusable_module_is_nemo203_and_nothing_is_installed(tmp_path: Path, scripted, kind: str) -> None:
    content, why = HOSTILE[kind]
    scripted(optimizer=content)
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "not_run" and codes(report) == ["NEMO203"]
    assert why in only(report, "NEMO203").message
    assert beside(spec) == ["furniture.opt.md"]


def test_a_module_that_is_a_symlink_out_of_the_workspace_is_nemo203_and_nemo509(tmp_path: Path, scripted) -> None:
    folder = scripted()
    (folder / "optimizer.py").unlink()
    (folder / "optimizer.py").symlink_to(tmp_path / "outside" / "secret.py")
    symlink_out(tmp_path)
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "not_run" and sorted(codes(report)) == ["NEMO203", "NEMO509"]
    assert "is a symbolic link" in only(report, "NEMO203").message
    assert str(tmp_path / "outside" / "secret.py") in only(report, "NEMO509").message
    assert beside(spec) == ["furniture.opt.md", "link-source"]
    assert (tmp_path / "outside" / "secret.py").read_text(encoding="utf-8") == support.canned("optimizer.py")


def test_a_symlinked_simulator_is_refused_too(tmp_path: Path, scripted) -> None:
    folder = scripted()
    (folder / "simulator.py").unlink()
    (folder / "simulator.py").symlink_to("/etc/passwd")
    spec = support.furniture(tmp_path)
    report = solve(spec)
    assert report.outcome == "not_run" and sorted(codes(report)) == ["NEMO203", "NEMO509"]
    assert SIMULATOR not in beside(spec)


# --- the CLI ------------------------------------------------------------------------------------

def test_nemo_solve_json_reports_usage_per_session(tmp_path: Path, model_server) -> None:
    server = model_server(support.chat_routes(optimizer="optimizer_wrong_sense.py"))
    spec = support.furniture(tmp_path)
    done = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "solve", spec.name, "--json", "--agent", "chat",
                           "--base-url", server.url + "/v1", "--api-key-env", "NEMO_TEST_KEY",
                           "--agent-timeout", "30"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NEMO_TEST_KEY": "dummy"})
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["outcome"] == "validated", report["findings"]
    assert set(report["usage"]) == {"optimizer", "simulator", "repair-1"}
    assert report["usage"]["optimizer"] == {"input_tokens": 321, "output_tokens": 60, "turns": 3, "tool_calls": 3}
    assert report["usage"]["repair-1"] == {"input_tokens": 114, "output_tokens": 40, "turns": 2, "tool_calls": 2}


# --- self-consistency (samples: T) ---------------------------------------------------------------

def sampled_folder(tmp: Path, first: str, second: str, third: str) -> Path:
    folder = tmp / "canned-samples"
    folder.mkdir()
    for name, source in (("optimizer.py", first), ("optimizer-2.py", second), ("optimizer-3.py", third),
                         ("simulator.py", "simulator.py")):
        shutil.copyfile(support.CANNED / source, folder / name)
    return folder


def test_samples_run_separate_candidates_and_the_majority_answer_is_used(tmp_path):
    folder = sampled_folder(tmp_path, "optimizer_wrong_sense.py", "optimizer.py", "optimizer.py")
    spec = support.furniture(tmp_path, "samples: 3\nrepair_rounds: 0\n")
    report = asyncio.run(run(spec, overrides={"agent": "scripted", "agent_options": {"base_url": str(folder)}}))
    assert report.outcome == "validated" and report.solution.objective == pytest.approx(2200)
    assert report.samples["summary"] == "2/3 agree on 2200" and report.samples["chosen"] == 2
    assert (tmp_path / "furniture.optimizer.py").read_text() == support.canned("optimizer.py")
    (note,) = [f for f in report.findings if f.code == "NEMO410"]
    assert "optimal 3600 (candidate 1)" in note.message


def test_unanimous_samples_raise_no_disagreement_and_are_not_resampled(tmp_path):
    folder = sampled_folder(tmp_path, "optimizer.py", "optimizer.py", "optimizer.py")
    spec = support.furniture(tmp_path, "samples: 3\n")
    overrides = {"agent": "scripted", "agent_options": {"base_url": str(folder)}}
    first = asyncio.run(run(spec, overrides=overrides))
    assert first.samples["summary"] == "3/3 agree on 2200"
    assert not [f for f in first.findings if f.code == "NEMO410"]
    transcript = tmp_path / ".nemo" / "furniture" / "transcripts" / "optimizer-2.txt"
    transcript.unlink()
    again = asyncio.run(run(spec, overrides=overrides))
    assert again.samples["summary"] == "3/3 agree on 2200" and not transcript.exists()


def test_nemo_solve_samples_flag_runs_the_candidates(tmp_path):
    import os
    import subprocess
    import sys

    folder = sampled_folder(tmp_path, "optimizer_wrong_sense.py", "optimizer.py", "optimizer.py")
    spec = support.furniture(tmp_path, "repair_rounds: 0\n")
    done = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "solve", spec.name, "--agent", "scripted",
                           "--samples", "3", "--json"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "NEMO_SCRIPTED_DIR": str(folder)})
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["samples"]["summary"] == "2/3 agree on 2200", done.stderr
