"""Consolidation: an agent turns a prose-only spec into NEMO's structured spec (a model block),
with the assumptions it made and the questions it would ask.

With `samples: T` the agent writes T proposals in separate sessions and minimum Bayes risk picks the
one most similar to the others (engine/selection.py); a different proposal scoring within a margin of
the best is not silently dropped: it becomes a question (NEMO207) with an action to insert it instead.

The proposal is checked like any model block (spliced into the spec and analysed), and each
assumption and question is placed on the sentence it quotes. Accepting writes the block and an
`## Assumptions` section into the spec; autonomous runs use the consolidated text without touching
the user's file. Proposals are cached per spec text and agent under `.nemo/NAME/consolidation.json`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .. import jsonio
from ..agents import Agent, AgentTask, get_agent
from ..agents.workspace import DATA_FILE, prepare, read_module
from ..analysis import Analysis, analyze
from ..findings import Finding, Span, StageError, finding
from ..fsutil import atomic_write, sha256_bytes
from ..resources import render, templates_dir
from .generate import backup_file, save_transcript, usage_of
from .layout import Layout
from .selection import COMPONENTS, mbr, similarity
from .settings import Settings

_FENCE = re.compile(r"^(```+|~~~+)[ \t]*model[ \t]*\n(.*?)^\1[ \t]*$", re.M | re.S)
ASSUMPTIONS_HEADING = "## Assumptions"
MAX_ITEMS = 30


@dataclass(frozen=True)
class Note:
    """An assumption the agent made, or a question it would ask, placed on the sentence it quotes."""

    text: str
    quote: str | None = None
    span: Span | None = None


@dataclass(frozen=True)
class Alternative:
    """A proposal nearly as supported as the chosen one but different from it: a question for the user."""

    candidate: int
    block: str
    score: float
    differs: tuple[str, ...]
    """The components (sets, params, vars, objective, constraints) where it differs from the chosen block."""


@dataclass(frozen=True)
class Consolidation:
    block: str | None
    """The proposed ```model fence, ready to insert; None when the agent gave none."""
    assumptions: tuple[Note, ...] = ()
    questions: tuple[Note, ...] = ()
    findings: tuple[Finding, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)
    agent: str | None = None
    candidates: tuple[dict[str, Any], ...] = ()
    """With several proposals: each one's number, MBR score and whether its block checks."""
    chosen: int = 1
    alternatives: tuple[Alternative, ...] = ()

    @property
    def ok(self) -> bool:
        return self.block is not None and not any(f.is_error for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"block": self.block, "agent": self.agent, "ok": self.ok, "usage": self.usage,
                "assumptions": [{"text": a.text, "quote": a.quote} for a in self.assumptions],
                "questions": [{"text": q.text, "quote": q.quote} for q in self.questions],
                "findings": [f.to_json() for f in self.findings],
                "candidates": list(self.candidates), "chosen": self.chosen,
                "alternatives": [{"candidate": a.candidate, "block": a.block, "score": a.score,
                                  "differs": list(a.differs)} for a in self.alternatives]}


# --- pure parts -------------------------------------------------------------------------------------

def extract_block(text: str) -> str | None:
    """The first ```model fence in `text`, normalised to a ``` fence ending in a newline."""
    m = _FENCE.search(text)
    return None if m is None else f"```model\n{m.group(2).rstrip()}\n```\n"


def insert_block(spec_text: str, block: str) -> str:
    """The spec with `block` appended (before an `## Assumptions` section, which stays last)."""
    at = spec_text.find("\n" + ASSUMPTIONS_HEADING + "\n")
    head, tail = (spec_text, "") if at < 0 else (spec_text[: at + 1], spec_text[at + 1:])
    return head.rstrip("\n") + "\n\n" + block + ("\n" + tail if tail else "")


def with_assumptions(spec_text: str, accepted: list[str], rejected: list[str] = ()) -> str:  # type: ignore[assignment]
    """Add accepted assumptions (and rejected ones, negated) as bullets under `## Assumptions`."""
    bullets = [f"- {a.strip()}" for a in accepted] + [f"- Not assumed: {r.strip()}" for r in rejected]
    if not bullets:
        return spec_text
    at = spec_text.find("\n" + ASSUMPTIONS_HEADING + "\n")
    if at < 0:
        return spec_text.rstrip("\n") + f"\n\n{ASSUMPTIONS_HEADING}\n\n" + "\n".join(bullets) + "\n"
    start = at + len(ASSUMPTIONS_HEADING) + 2
    nxt = spec_text.find("\n## ", start)
    end = len(spec_text) if nxt < 0 else nxt + 1
    section = spec_text[start:end].rstrip("\n")
    return spec_text[:start] + section + ("\n" if section.strip() else "\n") + "\n".join(bullets) + "\n" + (
        "\n" + spec_text[end:] if nxt >= 0 else "")


def _squash(s: str) -> str:
    return " ".join(s.split()).lower()


def locate(analysis: Analysis, quote: str | None) -> Span:
    """The sentence that contains the quote (whitespace and case ignored), else the title."""
    if quote:
        q = _squash(quote)
        for s in analysis.spec.sentences:
            t = _squash(s.text)
            if q and (q in t or t in q):
                return s.span
    return analysis.spec.title_span


def parse_notes(raw: Any, key: str, analysis: Analysis) -> list[Note]:
    items = raw.get(key) if isinstance(raw, dict) else None
    notes: list[Note] = []
    for item in (items if isinstance(items, list) else [])[:MAX_ITEMS]:
        if isinstance(item, str):
            item = {"text": item}
        if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip():
            quote = item.get("quote") if isinstance(item.get("quote"), str) else None
            notes.append(Note(item["text"].strip(), quote, locate(analysis, quote)))
    return notes


def check_proposal(analysis: Analysis, block: str | None) -> list[Finding]:
    """The proposal's problems, as findings on the spec's title (the block is not in the spec yet)."""
    where = analysis.spec.title_span
    if block is None:
        return [finding("NEMO204", "the agent proposed no ```model block", where)]
    spliced = analyze(insert_block(analysis.spec.text, block))
    errors = [f for f in spliced.findings if f.is_error]
    if not errors:
        return []
    lines = spliced.spec.lines
    shown = "; ".join(f"`{lines[f.span.line].strip()[:60]}`: {f.message}" if f.span else f.message
                      for f in errors[:3])
    return [finding("NEMO204", f"the proposed model block does not check ({len(errors)} error(s)): {shown}", where,
                    data={"errors": [f.to_json() for f in errors[:20]]})]


def parse_block(block: str | None) -> dict[str, Any] | None:
    """A proposed ```model fence as its YAML mapping (what MBR compares), or None when it is not one."""
    if block is None:
        return None
    inner = block.split("\n", 1)[1].rsplit("```", 1)[0] if "\n" in block else ""
    try:
        value = yaml.safe_load(inner)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, dict) else None


def choose(proposals: list[Consolidation], margin: float = 0.02) -> Consolidation:
    """Minimum Bayes risk over the proposals whose blocks check (all of them when none does).

    Near ties that are the same model as the chosen one are agreement, not a question; the others
    become alternatives naming the components where they differ.
    """
    if len(proposals) == 1:
        return proposals[0]
    parsed = [parse_block(p.block) for p in proposals]
    usable = [i for i, p in enumerate(proposals) if p.ok and parsed[i] is not None] \
        or [i for i in range(len(proposals)) if parsed[i] is not None]
    if not usable:
        first = proposals[0]
        return replace(first, candidates=tuple({"candidate": i + 1, "score": None, "ok": p.ok}
                                               for i, p in enumerate(proposals)))
    pick = mbr([parsed[i] for i in usable], margin)
    best = usable[pick.chosen]
    scores = dict(zip(usable, pick.scores))
    alternatives = []
    for t in pick.near_ties:
        i = usable[t]
        sims = similarity(parsed[best], parsed[i])  # type: ignore[arg-type]
        differs = tuple(c for c in COMPONENTS if sims[c] < 1.0)
        if differs and proposals[i].block is not None:
            alternatives.append(Alternative(i + 1, proposals[i].block, round(scores[i], 4), differs))
    return replace(proposals[best], chosen=best + 1, alternatives=tuple(alternatives),
                   candidates=tuple({"candidate": i + 1, "score": round(scores[i], 4) if i in scores else None,
                                     "ok": p.ok} for i, p in enumerate(proposals)),
                   usage=_sum_usage(proposals))


def _sum_usage(proposals: list[Consolidation]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for p in proposals:
        for k, v in p.usage.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                total[k] = total.get(k, 0) + v
    return total


def note_findings(c: Consolidation, where: Span | None = None) -> list[Finding]:
    """Information diagnostics: each assumption and question on the sentence it concerns, and each
    near-tie proposal as a question on the title."""
    chosen = next((x.get("score") for x in c.candidates if x.get("candidate") == c.chosen), None)
    ties = [finding("NEMO207", f"proposal {a.candidate} of {len(c.candidates)} is nearly as likely as the chosen "
                    f"proposal {c.chosen} (MBR score {a.score:.3f} vs {chosen or 0:.3f}) but differs in "
                    f"{', '.join(a.differs)}: which one models the problem?", where,
                    fixes=("insert_alternative",), data={"candidate": a.candidate, "block": a.block,
                                                         "differs": list(a.differs)})
            for a in c.alternatives]
    out = ties + [finding("NEMO205", f"the agent assumed: {a.text}", a.span, fixes=("accept_assumption",
                                                                              "reject_assumption"),
                   data={"assumption": a.text}) for a in c.assumptions]
    out += [finding("NEMO206", f"the agent asks: {q.text}", q.span, data={"question": q.text}) for q in c.questions]
    return out


def model_language() -> str:
    """The README's section on the model block: the language reference the agent writes in."""
    for candidate in (templates_dir().parent / "README.md", templates_dir() / "README.md"):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            start = text.find("## The model block")
            end = text.find("\n## ", start + 5)
            if start >= 0:
                return text[start: end if end > 0 else None]
    return "(the model-block reference is in nemo-lsp's README)"


# --- the session ------------------------------------------------------------------------------------

def _cache_key(analysis: Analysis, agent: Agent, count: int) -> str:
    return sha256_bytes(f"{analysis.spec.text}\0{agent.fingerprint()}\0{count}".encode())[:32]


async def consolidate(spec_path: Path, analysis: Analysis, settings: Settings,
                      progress: Callable[[str, int], None] | None = None, use_cache: bool = True) -> Consolidation:
    """Ask the agent for a model block, assumptions and questions; check and place them."""
    layout = Layout(spec_path.resolve())
    where = analysis.spec.title_span
    name = settings.agent
    if not name or name == "formal":
        raise StageError(finding("NEMO201", "consolidation needs a coding agent (the `formal` agent compiles a "
                                 "model block, it does not write one): choose one with `agent:` or `--agent`", where))
    try:
        agent = get_agent(name, settings.agent_options)
    except ValueError as exc:
        raise StageError(finding("NEMO501", str(exc), where)) from None
    cache = layout.root / "consolidation.json"
    count = max(1, settings.samples)
    key = _cache_key(analysis, agent, count)
    if use_cache:
        try:
            stored = json.loads(cache.read_text(encoding="utf-8"))
            if stored.get("key") == key:
                return _from_stored(stored["proposal"], analysis, agent.name)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
    layout.root.mkdir(parents=True, exist_ok=True)
    atomic_write(layout.data, jsonio.dumps(analysis.data_json(), True, sort_keys=True, separators=(",", ":")))
    if progress:
        progress(f"{agent.name}: consolidating the spec into a model block"
                 + (f" ({count} proposals in separate sessions)" if count > 1 else ""), 5)
    results = await asyncio.gather(*(_propose(layout, analysis, agent, k, progress) for k in range(1, count + 1)),
                                   return_exceptions=True)
    proposals = [r for r in results if isinstance(r, Consolidation)]
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, StageError):
            raise r
    if not proposals:
        failed = [f for r in results if isinstance(r, StageError) for f in r.findings]
        raise StageError(*failed[:1])
    c = choose(proposals)
    if c.block is not None:
        try:
            atomic_write(cache, json.dumps({"key": key, "proposal": c.to_json(),
                                            "written": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
        except OSError:
            pass
    return c


async def _propose(layout: Layout, analysis: Analysis, agent: Agent, k: int,
                   progress: Callable[[str, int], None] | None) -> Consolidation:
    """One consolidation session (proposal `k`) in its own workspace."""
    role = "consolidate" if k == 1 else f"consolidate-{k}"
    work = layout.work / role
    prepare(work, analysis, spec_name=layout.spec.name, data_file=layout.data, stem=layout.name)
    (work / "MODEL_LANGUAGE.md").write_text(model_language(), encoding="utf-8")
    target = f"{layout.name}.model.md"
    prompt = render("agents/consolidate.md.j2", workspace=str(work), target=target, spec_name=layout.spec.name,
                    data_file=DATA_FILE, spec_text=analysis.spec.text)
    say = (lambda m: progress(m, 10)) if progress else None
    task = AgentTask("consolidate", layout.spec, analysis, work, target, layout.data, prompt=prompt, progress=say,
                     sample=k)
    result = await agent.generate(task)
    save_transcript(layout, role, result)
    failed = [f for f in result.findings if f.is_error]
    source, why = read_module(work / target)
    if source is None and failed:
        raise StageError(*failed)
    block = extract_block(source or "")
    try:
        raw = json.loads((work / "assumptions.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    return Consolidation(block, tuple(parse_notes(raw, "assumptions", analysis)),
                         tuple(parse_notes(raw, "questions", analysis)),
                         tuple(result.findings) + tuple(check_proposal(analysis, block)),
                         usage_of(result), agent.name)


def _from_stored(data: dict[str, Any], analysis: Analysis, agent: str) -> Consolidation:
    block = data.get("block") if isinstance(data.get("block"), str) else None
    alternatives = tuple(Alternative(int(a["candidate"]), str(a["block"]), float(a["score"]),
                                     tuple(map(str, a.get("differs") or ())))
                         for a in data.get("alternatives") or () if isinstance(a, dict))
    return Consolidation(block, tuple(parse_notes(data, "assumptions", analysis)),
                         tuple(parse_notes(data, "questions", analysis)), tuple(check_proposal(analysis, block)),
                         {}, agent, tuple(x for x in data.get("candidates") or () if isinstance(x, dict)),
                         int(data.get("chosen") or 1), alternatives)


def accept(spec_path: Path, text: str, c: Consolidation) -> str:
    """Write the block and the accepted assumptions into the spec (the old text is backed up first)."""
    assert c.block is not None
    layout = Layout(spec_path.resolve())
    backup_file(spec_path, layout.backups)
    new = with_assumptions(insert_block(text, c.block), [a.text for a in c.assumptions])
    atomic_write(spec_path, new)
    return new
