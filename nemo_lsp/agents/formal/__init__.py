"""The offline agent `formal`: compiles the model block into an optimizer and a simulator.

No model, no network: it reads the consolidated specification and renders two modules from
jinja2 templates, by two separate emitters, so that the simulator is a real second opinion.
"""

from __future__ import annotations

import asyncio

from ... import __version__
from ...analysis import Analysis
from ...findings import Finding, finding
from ...resources import render, templates_hash
from ..base import AgentResult, AgentTask
from .pyomo_emitter import PyomoEmitter
from .python_emitter import PythonEmitter

TEMPLATES = ("formal/optimizer.py.j2", "formal/simulator.py.j2")


class FormalAgent:
    name = "formal"
    version = __version__

    def refuse(self, analysis: Analysis) -> Finding | None:
        if analysis.model is None:
            return finding("NEMO201", "the `formal` agent compiles a `model` block and this spec has none: "
                           "add one (see README, \"The model block\") or choose a coding agent with --agent",
                           analysis.spec.title_span)
        return None

    def fingerprint(self) -> str:
        return f"{self.name}-{self.version}-{templates_hash(*TEMPLATES)}"

    def availability(self, options: object = None) -> tuple[bool, str]:
        return True, f"built in (nemo-lsp {self.version}); needs a model block"

    async def generate(self, task: AgentTask) -> AgentResult:
        code = await asyncio.to_thread(self.render, task.contract_role, task.analysis, task.spec_path.name)
        (task.workspace / task.target).write_text(code, encoding="utf-8")
        return AgentResult(transcript=f"formal: rendered {task.target} from the model block\n")

    def render(self, role: str, analysis: Analysis, spec_name: str) -> str:
        assert analysis.model is not None and analysis.data is not None
        title = analysis.spec.title or spec_name.removesuffix(".opt.md")
        dims = analysis.data.dims
        lines = analysis.spec.lines
        if role == "optimizer":
            e = PyomoEmitter(analysis.model, dims, lines)
            return render(TEMPLATES[0], title=title, spec_name=spec_name, sets=e.sets(), params=e.params(),
                          vars=e.vars(), objective=e.objective(), constraints=e.constraints(),
                          decision_names=e.decision_names())
        s = PythonEmitter(analysis.model, dims, lines)
        line, source, sense, code = s.objective()  # type: ignore[misc]
        return render(TEMPLATES[1], title=title, spec_name=spec_name, sets=s.sets(), params=s.params(),
                      vars=s.vars(), constraints=s.constraints(), objective_line=line,
                      objective_source=source, objective_sense=sense, objective_code=code)
