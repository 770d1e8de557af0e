"""Shared pieces for driving the engine through real agents: the prose-only example and canned turns."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.agents.model_server import Route, Step, text, tool

ROOT = Path(__file__).resolve().parents[2]
CANNED = Path(__file__).resolve().parent / "canned" / "furniture"
EXAMPLE = ROOT / "examples" / "prose" / "furniture.opt.md"

OPTIMIZER_PROMPT = "You are writing the optimizer"
SIMULATOR_PROMPT = "You are writing a simulator"
REPAIR_PROMPT = "an independent simulator rejected its answer"


def canned(name: str) -> str:
    return (CANNED / name).read_text(encoding="utf-8")


def furniture(tmp: Path, front: str = "") -> Path:
    """A copy of the prose-only example, with extra front matter lines if given."""
    spec = tmp / "furniture.opt.md"
    body = EXAMPLE.read_text(encoding="utf-8")
    spec.write_text(f"---\n{front}---\n{body}" if front else body, encoding="utf-8")
    return spec


def claude_write(path: str, content: str) -> Step:
    return tool("Write", file_path="{{WORKSPACE}}/" + path, content=content)


def claude_routes(optimizer: str = "optimizer.py", repaired: str | None = None) -> list[Route]:
    """Claude Code's turns: write the module with Write, try it with Bash, then a final message."""
    try_it = "python nemo_harness.py optimize furniture.optimizer.py data.json result.json"
    routes = [
        Route(REPAIR_PROMPT, [claude_write("furniture.optimizer.py", canned(repaired or "optimizer.py")),
                              tool("Bash", command=try_it, description="try the repaired model"),
                              text("The labour constraint had the wrong sense; fixed.")]),
        Route(OPTIMIZER_PROMPT, [claude_write("furniture.optimizer.py", canned(optimizer)),
                                 tool("Bash", command=try_it, description="try the model"),
                                 text("Wrote the optimizer.")]),
        Route(SIMULATOR_PROMPT, [claude_write("furniture.simulator.py", canned("simulator.py")),
                                 text("Wrote the simulator.")]),
    ]
    return routes


def patch_add(path: str, content: str) -> str:
    body = "".join("+" + line + "\n" for line in content.splitlines())
    return f"*** Begin Patch\n*** Add File: {path}\n{body}*** End Patch\n"


def patch_replace(path: str, content: str) -> str:
    return f"*** Begin Patch\n*** Delete File: {path}\n*** End Patch\n"


def codex_routes(optimizer: str = "optimizer.py", repaired: str | None = None) -> list[Route]:
    """Codex's turns: apply_patch to add the file, exec_command to try it, then a final message."""
    try_it = "python nemo_harness.py optimize furniture.optimizer.py data.json result.json"
    return [
        Route(REPAIR_PROMPT, [tool("exec_command", cmd="rm furniture.optimizer.py"),
                              tool("custom:apply_patch",
                                   input=patch_add("furniture.optimizer.py", canned(repaired or "optimizer.py"))),
                              tool("exec_command", cmd=try_it),
                              text("Fixed the labour constraint's sense.")]),
        Route(OPTIMIZER_PROMPT, [tool("custom:apply_patch", input=patch_add("furniture.optimizer.py", canned(optimizer))),
                                 tool("exec_command", cmd=try_it),
                                 text("Wrote the optimizer.")]),
        Route(SIMULATOR_PROMPT, [tool("custom:apply_patch",
                                      input=patch_add("furniture.simulator.py", canned("simulator.py"))),
                                 text("Wrote the simulator.")]),
    ]


def chat_routes(optimizer: str = "optimizer.py", repaired: str | None = None) -> list[Route]:
    """The built-in chat loop's turns: write_file, run_python, finish."""
    return [
        Route(REPAIR_PROMPT, [tool("write_file", path="furniture.optimizer.py", content=canned(repaired or "optimizer.py")),
                              tool("finish", summary="fixed the labour constraint")]),
        Route(OPTIMIZER_PROMPT, [tool("write_file", path="furniture.optimizer.py", content=canned(optimizer)),
                                 tool("run_python", file="nemo_harness.py",
                                      args=["optimize", "furniture.optimizer.py", "data.json", "result.json"]),
                                 tool("finish", summary="wrote the optimizer")]),
        Route(SIMULATOR_PROMPT, [tool("write_file", path="furniture.simulator.py", content=canned("simulator.py")),
                                 tool("finish", summary="wrote the simulator")]),
    ]


def install_canned(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for target, source in files.items():
        shutil.copyfile(CANNED / source, folder / target)
    return folder


def openhands_routes(optimizer: str = "optimizer.py", repaired: str | None = None) -> list[Route]:
    """OpenHands' turns: file_editor create, terminal to try it, finish."""
    try_it = "python nemo_harness.py optimize furniture.optimizer.py data.json result.json"

    def create(name: str, source: str) -> Step:
        return tool("file_editor", command="create", path="{{WORKSPACE}}/" + name, file_text=canned(source))

    return [
        Route(REPAIR_PROMPT, [tool("terminal", command="rm furniture.optimizer.py"),
                              create("furniture.optimizer.py", repaired or "optimizer.py"),
                              tool("finish", message="fixed the labour constraint")]),
        Route(OPTIMIZER_PROMPT, [create("furniture.optimizer.py", optimizer), tool("terminal", command=try_it),
                                 tool("finish", message="wrote the optimizer")]),
        Route(SIMULATOR_PROMPT, [create("furniture.simulator.py", "simulator.py"),
                                 tool("finish", message="wrote the simulator")]),
    ]


# --- the gate and the probe: a simulator that forgets a limit, an optimizer that caps itself --------

JUDGE = canned("simulator.py")
NO_LABOUR = JUDGE.replace('for resource in ("wood", "labour"):', 'for resource in ("wood",):')
"""A simulator that forgets the labour limit: it fails the CHECK below."""
RIGHT = canned("optimizer.py")
CAPPED = RIGHT.replace("    return m\n",
                       "    m.cap = pyo.Constraint(m.P, rule=lambda m, p: m.make[p] <= 12)\n    return m\n")
"""An optimizer capped at 12 of each product: validated, but the probe finds a better neighbour."""
CHECK = ("checks:\n  - name: too much labour\n    decisions: {make: {chair: 46, table: 0}}\n"
         "    feasible: false\n")
