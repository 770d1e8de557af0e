"""Running the simulator on a batch of decisions (the gate's checks, the probe's neighbours) in the sandbox.

One process scores the whole batch (templates/scorer.py, beside a copy of harness.py), in its own
folder under `.nemo/NAME/` so the optimizer's run folder is left as it was.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import jsonio
from ..findings import Finding, Span, finding
from ..resources import templates_dir
from ..sandbox import Sandbox, clean_env
from .execute import LIMIT_CODES, _limit_message, _payload_limit, _read, limits_for
from .settings import Settings

SCORER = "scorer.py"


@dataclass(frozen=True)
class Scored:
    """What the batch gave back: the payload (None when the process produced no result) and why not."""

    payload: dict[str, Any] | None
    findings: tuple[Finding, ...] = ()

    @property
    def scores(self) -> list[dict[str, Any]]:
        return list((self.payload or {}).get("scores") or [])

    @property
    def ok(self) -> bool:
        return self.payload is not None and self.payload.get("ok") is True


async def score_batch(sandbox: Sandbox, simulator: Path, folder: Path, data_file: Path, batch: dict[str, Any],
                      settings: Settings, where: Span, role: str, wall: float | None = None) -> Scored:
    """Score `batch` (see templates/scorer.py) with the simulator module, in a fresh `folder`."""
    def stage() -> None:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copyfile(simulator, folder / "simulator.py")
        shutil.copyfile(templates_dir() / "harness.py", folder / "harness.py")
        shutil.copyfile(templates_dir() / SCORER, folder / SCORER)
        shutil.copyfile(data_file, folder / "data.json")
        (folder / "batch.json").write_text(jsonio.dumps(batch, True), encoding="utf-8")

    await asyncio.to_thread(stage)
    argv = [sys.executable, "-I", "-B", "harness.py", "score", "simulator.py", "data.json", "batch.json", "result.json"]
    limits = limits_for(settings)
    if wall is not None:
        limits = replace(limits, wall_seconds=min(limits.wall_seconds, wall),
                         cpu_seconds=min(limits.cpu_seconds or wall, wall))
    result = await sandbox.run(argv, cwd=folder, limits=limits, env=clean_env())
    marker = " (in a warm worker)" if result.warm else ""
    (folder / "scorer.log").write_text(f"$ {' '.join(argv)}{marker}\n--- stdout ---\n{result.stdout}\n"
                                       f"--- stderr ---\n{result.stderr}\n", encoding="utf-8")
    payload = await asyncio.to_thread(_read, folder / "result.json")
    limit = result.limit or _payload_limit(payload)
    if limit:
        return Scored(None, (finding(LIMIT_CODES.get(limit, "NEMO306"), _limit_message(limit, settings, role),
                                     where, data={"stderr_tail": result.stderr[-2000:]}),))
    if payload is None:
        tail = (result.stderr or result.stdout).strip()[-1500:]
        return Scored(None, (finding("NEMO307", f"the {role} ended (exit code {result.returncode}) without "
                                     f"writing a result{'. Last output:' + chr(10) + tail if tail else ''}",
                                     where, data={"stderr_tail": result.stderr[-4000:]}),))
    return Scored(payload)
