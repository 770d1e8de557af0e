"""Language-server latency, measured through a real LSP client over stdio.

1. (P3) didChange -> published spec diagnostics on a 2,000-line spec (prose edits and table-cell
   edits), p50 and p95, with the lint debounce at 0 (processing time) and at its default.
2. Event-loop responsiveness while a solve runs: documentSymbol requests every 10 ms during a
   save-triggered run of the 200 x 200 transportation LP; the slowest answer bounds the longest
   stall of the server's event loop.

Run: python benchmarks/lsp_latency.py [--skip-stall]  (prints a table; takes about a minute)
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient

sys.path.insert(0, str(Path(__file__).parent))
from specgen import production_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROWS = 1926
"""Products in the generated spec: 2,000 lines with its prose, table and model."""


class Client(BaseLanguageClient):
    def __init__(self) -> None:
        super().__init__("nemo-bench", "1")
        self.published: dict[str, asyncio.Queue[types.PublishDiagnosticsParams]] = {}
        self.progress_end = asyncio.Event()
        self.last_publish: dict[str, float] = {}
        """When diagnostics were last published for each URI (perf_counter)."""
        self.ended: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        """(when, message) of every progress that ended: a run's outcome."""

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.last_publish[params.uri] = time.perf_counter()
            self.published.setdefault(params.uri, asyncio.Queue()).put_nowait(params)

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def _create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def _progress(params: types.ProgressParams) -> None:
            value = params.value
            kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
            if kind == "end":
                message = value.get("message") if isinstance(value, dict) else getattr(value, "message", None)
                self.ended.put_nowait((time.perf_counter(), str(message)))
                self.progress_end.set()

    async def next_diagnostics(self, uri: str, version: int) -> types.PublishDiagnosticsParams:
        q = self.published.setdefault(uri, asyncio.Queue())
        while True:
            p = await asyncio.wait_for(q.get(), timeout=30)
            if p.version is None or p.version >= version:
                return p


async def start(workspace: Path, lint_delay_ms: int | None) -> Client:
    c = Client()
    await c.start_io(sys.executable, "-m", "nemo_lsp")
    options = {"nemo": {"watchFiles": False, **({"lintDelayMs": lint_delay_ms} if lint_delay_ms is not None else {})}}
    await c.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
        root_uri=workspace.as_uri(), initialization_options=options))
    c.initialized(types.InitializedParams())
    return c


async def stop(c: Client) -> None:
    await c.shutdown_async(None)
    c.exit(None)
    await c.stop()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def typing_latency(workspace: Path, lint_delay_ms: int | None, edits: int = 40) -> dict[str, list[float]]:
    text = production_spec(rows=ROWS)
    path = workspace / "large.opt.md"
    path.write_text(text)
    uri = path.as_uri()
    c = await start(workspace, lint_delay_ms)
    c.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="markdown", version=1, text=text)))
    await c.next_diagnostics(uri, 1)
    lines = text.split("\n")
    prose_line = next(i for i, line in enumerate(lines) if line.startswith("Product family 3"))
    cell_line = next(i for i, line in enumerate(lines) if line.startswith("| p00500"))
    results: dict[str, list[float]] = {"prose": [], "table cell": []}
    version = 1
    for k in range(edits):
        for kind, line in (("prose", prose_line), ("table cell", cell_line)):
            version += 1
            col = 3 if kind == "prose" else len("| p00500 | ")
            new = str(k % 10)
            t0 = time.perf_counter()
            c.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=line, character=col),
                                      end=types.Position(line=line, character=col + 1)), text=new)]))
            await c.next_diagnostics(uri, version)
            results[kind].append((time.perf_counter() - t0) * 1000)
    await stop(c)
    return results


async def stall_during_solve(workspace: Path, example: str) -> list[tuple[list[float], float]]:
    spec = workspace / Path(example).name
    shutil.copy(ROOT / "examples" / example, spec)
    uri = spec.as_uri()
    c = await start(workspace, None)
    c.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="markdown", version=1, text=spec.read_text())))
    await c.next_diagnostics(uri, 1)
    runs = []
    for _ in range(3):
        c.progress_end.clear()
        t0 = time.perf_counter()
        c.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        latencies: list[float] = []
        while not c.progress_end.is_set() and time.perf_counter() - t0 < 120:
            s = time.perf_counter()
            await c.text_document_document_symbol_async(types.DocumentSymbolParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            latencies.append((time.perf_counter() - s) * 1000)
            await asyncio.sleep(0.01)
        runs.append((latencies, time.perf_counter() - t0))
    await stop(c)
    return runs


async def measure(stall: bool = True) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        lines = production_spec(rows=ROWS).count("\n") + 1
        print(f"P3: didChange -> publishDiagnostics, {lines:,}-line spec (ms)")
        print(f"{'debounce':>16} {'edit':>11} {'p50':>7} {'p95':>7} {'max':>7}")
        for delay, label in ((0, "0 ms"), (None, "default")):
            res = await typing_latency(ws, delay)
            for kind, values in res.items():
                p50, p95 = statistics.median(values), pct(values, 0.95)
                print(f"{label:>16} {kind:>11} {p50:7.1f} {p95:7.1f} {max(values):7.1f}")
                out[f"{label} {kind} p50"], out[f"{label} {kind} p95"] = p50, p95
        if stall:
            print("\nserver responsiveness during save-triggered solves (documentSymbol requests every 10 ms; "
                  "the slowest answer bounds the longest event-loop stall)")
            for example in ("diet.opt.md", "large/transport-200.opt.md"):
                for k, (lat, total) in enumerate(await stall_during_solve(ws, example), start=1):
                    label = f"{Path(example).name} " + ("first run" if k == 1 else f"run {k}")
                    print(f"  {label:36s} {total:4.1f} s, {len(lat):4d} requests: p50 {statistics.median(lat):.1f} ms, "
                          f"p95 {pct(lat, 0.95):.1f} ms, max {max(lat):.1f} ms")
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--skip-stall", action="store_true", help="only P3, not the responsiveness during solves")
    args = p.parse_args(argv)
    return asyncio.run(measure(not args.skip_stall))


if __name__ == "__main__":
    main()
