"""Consolidation: a prose-only spec becomes a model block, with the agent's assumptions and questions."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from nemo_lsp.analysis import analyze
from nemo_lsp.engine.consolidate import (consolidate, extract_block, insert_block, locate, note_findings,
                                         with_assumptions)
from nemo_lsp.engine.run import run
from nemo_lsp.engine.settings import Settings
from tests.agents import support
from tests.agents.model_server import Route, text, tool

SENTENCE = "At most 400 board-feet of wood and 450 hours of labour are available each week."


def canned_folder(tmp: Path, block: str | None = None, assumptions: dict | None = None) -> Path:
    folder = tmp / "canned"
    folder.mkdir()
    for name in ("optimizer.py", "simulator.py"):
        shutil.copyfile(support.CANNED / name, folder / name)
    (folder / "consolidate.md").write_text(block if block is not None else support.canned("consolidate.md"))
    (folder / "assumptions.json").write_text(json.dumps(assumptions) if assumptions is not None
                                             else support.canned("assumptions.json"))
    return folder


def settings_for(folder: Path) -> Settings:
    return Settings(agent="scripted", agent_options={"base_url": str(folder)})


def propose(spec: Path, folder: Path):
    analysis = analyze(spec.read_text())
    return asyncio.run(consolidate(spec, analysis, settings_for(folder)))


# --- pure parts ---------------------------------------------------------------------------------------

def test_the_first_model_fence_is_extracted_whatever_its_fence_length():
    assert extract_block("text\n````model\nsets: {}\n````\nmore") == "```model\nsets: {}\n```\n"
    assert extract_block("```python\nx = 1\n```\n") is None


def test_a_block_is_inserted_before_an_assumptions_section():
    spec = "# T\n\nProse.\n\n## Assumptions\n\n- a\n"
    out = insert_block(spec, "```model\nsets: {}\n```\n")
    assert out.index("```model") < out.index("## Assumptions")
    assert out.endswith("- a\n")


def test_accepted_and_rejected_assumptions_are_added_to_one_section():
    once = with_assumptions("# T\n\nProse.\n", ["limits are weekly"])
    twice = with_assumptions(once, [], ["tables are whole units"])
    assert twice.count("## Assumptions") == 1
    assert "- limits are weekly\n- Not assumed: tables are whole units\n" in twice


def test_a_quote_finds_its_sentence_ignoring_case_and_spacing(tmp_path):
    analysis = analyze(support.EXAMPLE.read_text())
    span = locate(analysis, "at most 400  board-feet of wood and 450 hours of labour are available each week.")
    assert analysis.spec.lines[span.line].startswith("At most 400")
    assert locate(analysis, "no such sentence") == analysis.spec.title_span


# --- through an agent (scripted) ---------------------------------------------------------------------

def test_assumptions_and_questions_land_on_the_sentences_they_quote(tmp_path):
    spec = support.furniture(tmp_path)
    c = propose(spec, canned_folder(tmp_path))
    assert c.ok and "maximize:" in c.block
    notes = note_findings(c)
    assert [f.code for f in notes] == ["NEMO205", "NEMO205", "NEMO206"]
    lines = spec.read_text().split("\n")
    assert lines[notes[0].span.line].startswith("At most 400")
    assert notes[0].fixes == ("accept_assumption", "reject_assumption")


def test_a_proposed_block_with_errors_is_nemo204_listing_them(tmp_path):
    spec = support.furniture(tmp_path)
    broken = support.canned("consolidate.md").replace("profit[p] * make[p]", "proft[p] * make[p]")
    c = propose(spec, canned_folder(tmp_path, block=broken))
    assert not c.ok
    (f,) = [f for f in c.findings if f.code == "NEMO204"]
    assert "proft" in f.message


def test_an_answer_without_a_model_block_is_nemo204(tmp_path):
    spec = support.furniture(tmp_path)
    c = propose(spec, canned_folder(tmp_path, block="I could not model this."))
    assert [f.code for f in c.findings] == ["NEMO204"]


def test_malformed_assumptions_are_ignored_not_fatal(tmp_path):
    spec = support.furniture(tmp_path)
    folder = canned_folder(tmp_path)
    (folder / "assumptions.json").write_text("{not json")
    c = propose(spec, folder)
    assert c.ok and c.assumptions == () and c.questions == ()


def test_a_proposal_is_reused_while_the_spec_is_unchanged(tmp_path):
    spec = support.furniture(tmp_path)
    folder = canned_folder(tmp_path)
    first = propose(spec, folder)
    transcript = tmp_path / ".nemo" / "furniture" / "transcripts" / "consolidate.txt"
    transcript.unlink()
    assert propose(spec, folder).block == first.block
    assert not transcript.exists(), "the agent was asked again"


def test_autonomous_solve_consolidates_accepts_and_validates_without_touching_the_spec(tmp_path):
    spec = support.furniture(tmp_path)
    before = spec.read_text()
    folder = canned_folder(tmp_path)
    report = asyncio.run(run(spec, base=settings_for(folder), overrides={"autonomous": True}))
    assert report.outcome == "validated" and report.solution.objective == pytest.approx(2200)
    assert spec.read_text() == before
    consolidated = Path(report.files["consolidated"]).read_text()
    assert "```model" in consolidated and "- The wood and labour limits are per week" in consolidated
    assert sum(f.code == "NEMO205" for f in report.findings) == 2


def test_without_autonomous_a_prose_only_spec_still_needs_a_model_or_its_agent(tmp_path):
    spec = support.furniture(tmp_path)
    report = asyncio.run(run(spec, overrides={"autonomous": True}))
    assert report.outcome == "not_run" and [f.code for f in report.findings] == ["NEMO201"]


def test_nemo_consolidate_write_puts_the_block_in_the_spec_and_formal_then_solves_it(tmp_path):
    import subprocess
    import sys

    spec = support.furniture(tmp_path)
    folder = canned_folder(tmp_path)
    run_ = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "consolidate", spec.name, "--agent", "scripted",
                           "--write"], cwd=tmp_path, capture_output=True, text=True,
                          env={**__import__("os").environ, "NEMO_SCRIPTED_DIR": str(folder)})
    assert run_.returncode == 0, run_.stdout + run_.stderr
    assert "NEMO205" in run_.stdout and "NEMO206" in run_.stdout
    assert len(list((tmp_path / ".nemo" / "furniture" / "backups").glob("furniture.opt.*.md"))) == 1
    solved = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "solve", spec.name], cwd=tmp_path,
                            capture_output=True, text=True)
    assert solved.returncode == 0 and "agent: formal" in solved.stdout and "2200" in solved.stdout


# --- through a real CLI ------------------------------------------------------------------------------

@pytest.mark.agent_cli
def test_claude_code_consolidates_and_the_autonomous_run_validates(tmp_path, model_server, claude_bin):
    consolidate_route = Route("You are consolidating", [
        support.claude_write("furniture.model.md", support.canned("consolidate.md")),
        support.claude_write("assumptions.json", support.canned("assumptions.json")),
        text("A two-product LP.")])
    server = model_server([consolidate_route] + support.claude_routes())
    spec = support.furniture(tmp_path, "agent: claude-code\nautonomous: true\nagent_options:\n"
                                       f"  base_url: {server.url}\n  api_key_env: NEMO_TEST_KEY\n"
                                       f"  command: {claude_bin}\n")
    import os
    os.environ["NEMO_TEST_KEY"] = "dummy"
    report = asyncio.run(run(spec))
    assert report.outcome == "validated", [f.message for f in report.findings]
    assert "consolidate" in report.usage
    prompt = next(server.request_text(i) for i in range(len(server.requests))
                  if "You are consolidating" in server.request_text(i))
    assert "MODEL_LANGUAGE.md" in prompt and SENTENCE in prompt


# --- several proposals: minimum Bayes risk ------------------------------------------------------------

BLOCK = extract_block(support.canned("consolidate.md"))
MINIMIZING = BLOCK.replace("maximize:", "minimize:")
INTEGER = BLOCK.replace("{domain: continuous}", "{domain: integer}")


def proposals_folder(tmp: Path, *blocks: str) -> Path:
    folder = canned_folder(tmp, blocks[0])
    for k, block in enumerate(blocks[1:], start=2):
        (folder / f"consolidate-{k}.md").write_text(block)
    return folder


def propose_several(spec: Path, folder: Path, samples: int):
    analysis = analyze(spec.read_text())
    settings = Settings(agent="scripted", agent_options={"base_url": str(folder)}, samples=samples)
    return asyncio.run(consolidate(spec, analysis, settings))


def test_mbr_keeps_the_proposal_the_others_support_and_drops_a_minority(tmp_path):
    spec = support.furniture(tmp_path)
    c = propose_several(spec, proposals_folder(tmp_path, MINIMIZING, BLOCK, BLOCK), 3)
    assert c.block == BLOCK and c.chosen == 2
    assert [x["candidate"] for x in c.candidates] == [1, 2, 3]
    assert c.candidates[0]["score"] < c.candidates[1]["score"]
    assert c.alternatives == ()  # proposal 3 is the same model: agreement, not a question
    for k in (1, 2, 3):
        name = "consolidate" if k == 1 else f"consolidate-{k}"
        assert (tmp_path / ".nemo" / "furniture" / "transcripts" / f"{name}.txt").exists()


def test_a_different_proposal_within_the_margin_becomes_a_question_naming_where_it_differs(tmp_path):
    spec = support.furniture(tmp_path)
    c = propose_several(spec, proposals_folder(tmp_path, BLOCK, INTEGER, BLOCK), 3)
    assert c.block == BLOCK
    (alt,) = c.alternatives
    assert alt.candidate == 2 and alt.differs == ("vars",) and alt.block == INTEGER
    (question,) = [f for f in note_findings(c, analyze(spec.read_text()).spec.title_span) if f.code == "NEMO207"]
    assert "proposal 2 of 3" in question.message and "differs in vars" in question.message
    assert question.span.line == 0 and question.data["block"] == INTEGER


def test_autonomous_solve_with_samples_uses_the_consensus_block_not_the_wrong_first_one(tmp_path):
    spec = support.furniture(tmp_path, "samples: 3\n")
    folder = proposals_folder(tmp_path, MINIMIZING, BLOCK, BLOCK)
    report = asyncio.run(run(spec, base=settings_for(folder), overrides={"autonomous": True}))
    assert report.outcome == "validated" and report.solution.objective == pytest.approx(2200)
    assert "maximize:" in Path(report.files["consolidated"]).read_text()


def test_nemo_consolidate_samples_prints_each_proposals_score(tmp_path):
    import os
    import subprocess
    import sys

    spec = support.furniture(tmp_path)
    folder = proposals_folder(tmp_path, BLOCK, INTEGER, BLOCK)
    done = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "consolidate", spec.name, "--agent", "scripted",
                           "--samples", "3", "--json"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "NEMO_SCRIPTED_DIR": str(folder)})
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert out["chosen"] == 1 and [x["candidate"] for x in out["candidates"]] == [1, 2, 3]
    assert out["alternatives"][0]["candidate"] == 2 and out["alternatives"][0]["differs"] == ["vars"]
    text_run = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "consolidate", spec.name, "--agent",
                               "scripted", "--samples", "3"], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "NEMO_SCRIPTED_DIR": str(folder)})
    assert "3 proposals; minimum Bayes risk chose proposal 1" in text_run.stdout
    assert "NEMO207" in text_run.stdout


@pytest.mark.agent_cli
def test_claude_code_writes_several_proposals_and_mbr_asks_about_the_near_tie(tmp_path, model_server, claude_bin):
    def proposal(route: str, block: str) -> Route:
        return Route(route, [support.claude_write("furniture.model.md", block),
                             support.claude_write("assumptions.json", support.canned("assumptions.json")),
                             text("A two-product LP.")])

    server = model_server([proposal("work/consolidate-2", INTEGER), proposal("You are consolidating", BLOCK)]
                          + support.claude_routes())
    spec = support.furniture(tmp_path, "agent: claude-code\nautonomous: true\nsamples: 3\nagent_options:\n"
                                       f"  base_url: {server.url}\n  api_key_env: NEMO_TEST_KEY\n"
                                       f"  command: {claude_bin}\n")
    import os
    os.environ["NEMO_TEST_KEY"] = "dummy"
    report = asyncio.run(run(spec))
    assert report.outcome == "validated", [f.message for f in report.findings]
    (question,) = [f for f in report.findings if f.code == "NEMO207"]
    assert "proposal 2 of 3" in question.message and "differs in vars" in question.message
    assert "make[P]: {domain: continuous}" in Path(report.files["consolidated"]).read_text()
    assert report.samples["summary"] == "3/3 agree on 2200"  # and three optimizer sessions agreed
