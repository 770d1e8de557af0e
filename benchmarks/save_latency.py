"""P1: save -> validated result, cold vs warm, on every example (examples/*.opt.md), side by side.

Two measurements, each cold and warm in the same run:

1. engine: `nemo_lsp.engine.run(spec)` in this process, as the server and `nemo solve` call it, with
   the generated modules already in place (the steady state of editing: generation is skipped when
   the spec's model did not change). Cold: a fresh bubblewrap sandbox and Python per optimizer and
   simulator run; warm: the same runs in children forked from the warm pool's workers.
2. lsp: a real client over stdio. didSave -> the publishDiagnostics that carries the run's result
   (the last one before the run's progress ends). Cold: `python -m nemo_lsp` with `warmWorkers: 0`;
   warm: the same server with its default settings (it starts the warm pool itself).

Run: python benchmarks/save_latency.py [--saves N] [--skip-lsp]   (about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).parent))
from lsp_latency import Client, pct, stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.opt.md"))


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), pct(values, 0.95)


async def engine_saves(workspace: Path, saves: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """ms per engine run for each example, cold and warm alternately (after a first run that generates
    the modules): both see the same load on the machine."""
    from nemo_lsp.engine import run
    from nemo_lsp.sandbox import warm

    async def timed(spec: Path, cold: bool) -> float:
        t0 = time.perf_counter()
        if cold:
            with warm.bypass():
                report = await run(spec)
        else:
            report = await run(spec)
        assert report.outcome in ("validated", "expected"), (spec.name, report.outcome)
        return (time.perf_counter() - t0) * 1000

    cold: dict[str, list[float]] = {}
    hot: dict[str, list[float]] = {}
    for example in EXAMPLES:
        spec = workspace / example.name
        shutil.copyfile(example, spec)
        await run(spec)  # generates the optimizer and the simulator
        cold[example.name], hot[example.name] = [], []
        for k in range(saves):
            for is_cold in ((True, False) if k % 2 == 0 else (False, True)):
                (cold if is_cold else hot)[example.name].append(await timed(spec, is_cold))
    return cold, hot


async def start_server(workspace: Path, warm: bool) -> Client:
    c = Client()
    await c.start_io(sys.executable, "-m", "nemo_lsp")
    options = {"watchFiles": False} if warm else {"watchFiles": False, "warmWorkers": 0}
    await c.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
        root_uri=workspace.as_uri(), initialization_options={"nemo": options}))
    c.initialized(types.InitializedParams())
    return c


async def save_once(c: Client, uri: str, name: str) -> float:
    """ms from didSave to the last diagnostics published before the run's progress ended."""
    t0 = time.perf_counter()
    c.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    _, outcome = await asyncio.wait_for(c.ended.get(), timeout=120)
    assert outcome in ("validated", "expected"), (name, outcome)
    return (c.last_publish[uri] - t0) * 1000


async def lsp_saves(workspace: Path, saves: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Two servers side by side, cold and warm, the same saves alternately."""
    clients = {False: await start_server(workspace / "cold", False), True: await start_server(workspace / "warm", True)}
    out: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
    try:
        for example in EXAMPLES:
            uris = {}
            for is_warm, c in clients.items():
                spec = workspace / ("warm" if is_warm else "cold") / example.name
                shutil.copyfile(example, spec)
                uris[is_warm] = spec.as_uri()
                c.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
                    uri=uris[is_warm], language_id="markdown", version=1, text=spec.read_text(encoding="utf-8"))))
                await c.next_diagnostics(uris[is_warm], 1)
                await save_once(c, uris[is_warm], example.name)  # generates the modules
                out[is_warm][example.name] = []
            for k in range(saves):
                for is_warm in ((False, True) if k % 2 == 0 else (True, False)):
                    out[is_warm][example.name].append(await save_once(clients[is_warm], uris[is_warm], example.name))
            for is_warm, c in clients.items():
                c.text_document_did_close(types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uris[is_warm])))
    finally:
        for c in clients.values():
            await stop(c)
    return out[False], out[True]


def table(title: str, cold: dict[str, list[float]], warm: dict[str, list[float]]) -> dict[str, float]:
    print(f"\n{title}: save -> validated result (ms)")
    print(f"  {'example':28} {'cold p50':>9} {'warm p50':>9} {'ratio':>7}")
    for name in cold:
        c, w = statistics.median(cold[name]), statistics.median(warm[name])
        print(f"  {name:28} {c:9.1f} {w:9.1f} {c / w:6.1f}x")
    all_cold = [v for vs in cold.values() for v in vs]
    all_warm = [v for vs in warm.values() for v in vs]
    (c50, c95), (w50, w95) = summary(all_cold), summary(all_warm)
    print(f"  {'all examples':28} cold p50 {c50:.1f} p95 {c95:.1f} | warm p50 {w50:.1f} p95 {w95:.1f} | "
          f"ratio of medians {c50 / w50:.1f}x")
    return {"cold_p50": c50, "cold_p95": c95, "warm_p50": w50, "warm_p95": w95, "ratio": c50 / w50}


async def measure(saves: int, lsp: bool) -> dict[str, dict[str, float]]:
    from nemo_lsp.sandbox import warm

    results = {}
    with tempfile.TemporaryDirectory(prefix="nemo-bench-") as tmp:
        ws = Path(tmp)
        pool = warm.start_pool()
        assert pool.ready(120), pool.reason
        (ws / "engine").mkdir()
        cold, hot = await engine_saves(ws / "engine", saves)
        served = pool.served
        warm.stop_pool()
        results["engine"] = table(f"P1 engine.run ({saves} saves per example, cold and warm alternately; "
                                  f"{served} jobs ran warm)", cold, hot)
        if lsp:
            (ws / "lsp" / "cold").mkdir(parents=True)
            (ws / "lsp" / "warm").mkdir()
            cold, hot = await lsp_saves(ws / "lsp", saves)
            results["lsp"] = table(f"P1 language server, didSave -> publishDiagnostics ({saves} saves per example, "
                                   "two servers side by side)", cold, hot)
    return results


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--saves", type=int, default=5)
    p.add_argument("--skip-lsp", action="store_true")
    args = p.parse_args(argv)
    return asyncio.run(measure(args.saves, not args.skip_lsp))


if __name__ == "__main__":
    main()
