"""Memory: the language server's resident memory idle and during a run, and the warm workers'.

Starts the server twice over stdio, cold (`python -m nemo_lsp`) and warm (the same server with
`warm.start_pool()` called first), opens the 200 x 200 transportation LP, saves it twice (the first
run generates the modules), and samples every process under the server every 20 ms: the server
itself, the warm workers (resident; proportional, which counts the pages they share with their
children once), the forked children (the spare waiting for the next job and the job), and a cold
run's harness process.

Run: python benchmarks/memory.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).parent))
from lsp_latency import Client, stop  # noqa: E402
from save_latency import start_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "large" / "transport-200.opt.md"
SMALL = ROOT / "examples" / "diet.opt.md"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _kb(pid: int, field: str = "VmRSS") -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _pss(pid: int) -> int:
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def tree(root: int) -> list[tuple[int, int, str]]:
    """(pid, parent, command line) of every process under root."""
    out, todo = [], [(root, 0)]
    while todo:
        pid, parent = todo.pop()
        cmd = _read(f"/proc/{pid}/cmdline").replace("\0", " ")
        out.append((pid, parent, cmd))
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            tasks = []
        for tid in tasks:  # a child belongs to the thread that started it (the pool's spawner thread)
            for child in _read(f"/proc/{pid}/task/{tid}/children").split():
                todo.append((int(child), pid))
    return out


def classify(root: int) -> dict[str, list[int]]:
    procs = tree(root)
    command = {pid: cmd for pid, _, cmd in procs}

    def python_worker(cmd: str) -> bool:
        first = cmd.split(" ")[0]
        return "worker.py" in cmd and "bwrap" not in first and "prlimit" not in first

    workers = {pid for pid, parent, cmd in procs if python_worker(cmd) and not python_worker(command.get(parent, ""))}
    kinds: dict[str, list[int]] = {"server": [root], "warm worker": [], "warm child (spare or job)": [],
                                   "cold harness run": []}
    for pid, parent, cmd in procs:
        if pid in workers:
            kinds["warm worker"].append(pid)
        elif parent in workers:
            kinds["warm child (spare or job)"].append(pid)
        elif "harness.py" in cmd and "bwrap" not in cmd.split(" ")[0] and "prlimit" not in cmd.split(" ")[0]:
            kinds["cold harness run"].append(pid)
    return kinds


class Sampler:
    def __init__(self, root: int) -> None:
        self.root = root
        self.peak: dict[str, int] = {}
        self.task: asyncio.Task[None] | None = None

    def sample(self) -> dict[str, tuple[int, int]]:
        now = {}
        for kind, pids in classify(self.root).items():
            rss = [_kb(p) for p in pids]
            now[kind] = (max(rss, default=0), sum(_pss(p) for p in pids) if "warm" in kind else 0)
            self.peak[kind] = max(self.peak.get(kind, 0), now[kind][0])
        return now

    async def _loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.02)

    def __enter__(self) -> Sampler:
        self.peak = {}
        self.task = asyncio.ensure_future(self._loop())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()


async def one_server(workspace: Path, warm: bool) -> dict[str, object]:
    c: Client = await start_server(workspace, warm)
    pid = c._server.pid  # the server process the client started
    await asyncio.sleep(3.0)  # settled: imports done, the pool warm
    sampler = Sampler(pid)
    idle = sampler.sample()
    results: dict[str, object] = {"idle": idle, "counts": {k: len(v) for k, v in classify(pid).items()}}
    for spec_source in (SMALL, SPEC):
        spec = Path(shutil.copyfile(spec_source, workspace / spec_source.name))
        uri = spec.as_uri()
        c.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="markdown", version=1, text=spec.read_text(encoding="utf-8"))))
        await c.next_diagnostics(uri, 1)
        for _ in range(2):
            with sampler:
                c.text_document_did_save(types.DidSaveTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)))
                _, outcome = await asyncio.wait_for(c.ended.get(), timeout=300)
            assert outcome == "validated", outcome
        results[f"run {spec.name}"] = dict(sampler.peak)
    results["after"] = sampler.sample()
    await stop(c)
    return results


def len_of(r: dict[str, object], kind: str) -> int:
    return int(r.get("counts", {}).get(kind, 0))  # type: ignore[union-attr]


def show(label: str, r: dict[str, object]) -> None:
    idle = r["idle"]
    print(f"\n{label}")
    for kind, (rss, pss) in idle.items():  # type: ignore[union-attr]
        if rss:
            extra = f"; {len_of(r, kind)} of them, proportional {pss / 1024:.0f} MB in all" if pss else ""
            print(f"  idle   {kind:28} {rss / 1024:6.0f} MB resident (largest){extra}")
    for key, peak in r.items():
        if key.startswith("run "):
            for kind, rss in peak.items():  # type: ignore[union-attr]
                if rss:
                    print(f"  peak during {key[4:]:22} {kind:28} {rss / 1024:6.0f} MB resident (largest)")


async def measure() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="nemo-mem-") as tmp:
        ws = Path(tmp)
        (ws / "cold").mkdir()
        (ws / "warm").mkdir()
        cold = await one_server(ws / "cold", False)
        hot = await one_server(ws / "warm", True)
    print("Memory (VmRSS; a forked child shares most of its pages with its worker, so resident figures "
          "of a worker and its children overlap)")
    show("cold server (python -m nemo_lsp)", cold)
    show("warm server (warm.start_pool() at start)", hot)
    return {"cold": cold, "warm": hot}


def main(argv: list[str] | None = None) -> dict[str, object]:
    del argv
    return asyncio.run(measure())


if __name__ == "__main__":
    main()
