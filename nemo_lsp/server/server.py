"""The nemo language server: thin handlers over the engine, the linter and pure feature functions.

Nothing here imports Pyomo, highspy or generated code: the engine runs those in the sandbox.
Long work (runs) goes through the scheduler as background tasks; the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification
from pygls.uris import to_fs_path

from .. import __version__
from ..analysis import analyze
from ..engine import Report, run as run_engine
from ..engine.layout import Layout
from ..engine.report import load_report
from ..findings import Finding
from . import actions, completion, hover, settings as server_settings, symbols
from .convert import from_position, to_diagnostic, to_range
from .scheduler import Scheduler
from .state import DocState, is_spec_uri

log = logging.getLogger(__name__)


class NemoProtocol(LanguageServerProtocol):
    """pygls, made robust to what editors send: malformed messages, changes to documents that are not
    open, answers to requests the server has given up on.

    A message whose params cannot be read: pygls raised while parsing it, so a request never got a
    response (the client waited forever) and a notification became an "Error in server" pop-up. Now a
    request is answered with the error (InvalidParams) and a notification is dropped with a warning.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if not isinstance(data, dict) or "method" not in data:
                raise
            if "id" in data:
                self._send_response(data["id"], error=exc.to_response_error())
            log.warning("dropped a malformed %r message: %s", data.get("method"), exc)
            # Nothing handles this method: the message is ignored (pygls logs that at debug level).
            return JsonRPCNotification(method="$/nemo/malformed", params=None, jsonrpc="2.0")

    def _handle_response(self, msg_id: Any, result: Any | None = None, error: Any | None = None) -> None:
        """The client's answer to a request the server gave up on (a run cancelled by a newer save while
        it asked for a progress token) is dropped; pygls set it on the cancelled future, failed with
        InvalidStateError and showed the user an "Error in server" pop-up."""
        future = self._request_futures.get(msg_id)
        if future is not None and future.cancelled():
            self._request_futures.pop(msg_id, None)
            return
        super()._handle_response(msg_id, result, error)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        """pygls applies a change to a document that is not open with a KeyError (an "Error in server"
        pop-up); such a change has nothing to apply to and is ignored."""
        if unquote(params.text_document.uri) not in self.workspace.text_documents:
            log.warning("ignored a change to %s, which is not open", params.text_document.uri)
            return
        yield from super().lsp_text_document__did_change(params)


class NemoServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("nemo-lsp", __version__, protocol_cls=NemoProtocol)
        self.docs: dict[str, DocState] = {}
        self.settings = server_settings.ServerSettings()
        self.client_settings: Any = None
        self.scheduler = Scheduler()
        self.watcher: Any = None
        self.client_name = ""

    # --- state ---------------------------------------------------------------------------------

    def state(self, uri: str) -> DocState:
        if uri not in self.docs:
            path = to_fs_path(uri)
            self.docs[uri] = DocState(uri, Path(path) if path else None)
        return self.docs[uri]

    def is_open(self, uri: str) -> bool:
        # pygls keys open documents by their unquoted URI (`sub dir`, not `sub%20dir`)
        return unquote(uri) in self.workspace.text_documents

    def text(self, uri: str) -> str | None:
        if self.is_open(uri):
            return self.workspace.get_text_document(uri).source
        st = self.docs.get(uri)
        if st is not None and st.path is not None:
            try:
                return st.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        return None

    def message(self, text: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"nemo: {text}"))

    # --- lint ----------------------------------------------------------------------------------

    def schedule_lint(self, uri: str, delay: float = 0.0) -> None:
        self.scheduler.start(uri, "lint", lambda: self.lint(uri), delay=delay)

    async def lint(self, uri: str) -> None:
        text = self.text(uri)
        if text is None:
            return
        budget = self.settings.lint_budget
        st = self.state(uri)
        restore = st.restore_pending and st.report is None and st.path is not None
        # The first lint of an opened document also reads the last run's stored report (in its own
        # thread): both are published together, so the lint never flashes without the run's findings.
        analysis, stored = await asyncio.gather(
            asyncio.to_thread(analyze, text, budget),
            asyncio.to_thread(stored_report, st.path, text) if restore and st.path else _none())
        if self.text(uri) != text:
            return  # a newer edit arrived while linting; its own lint will publish (and restore)
        st = self.state(uri)
        st.analysis, st.lint_text, st.lint = analysis, text, list(analysis.findings)
        restored = restore and st.restore_pending and st.report is None and stored is not None
        if restored:
            st.set_run(stored, restored=True)  # shown and kept exactly as a run of this session
        elif restore:
            st.restore_pending = False
        self.publish(uri)
        if restored:
            self._refresh_lenses()

    def publish(self, uri: str) -> None:
        st = self.state(uri)
        text = st.lint_text if st.lint_text is not None else (self.text(uri) or "")
        lines = text.split("\n")
        codec = self.workspace.position_codec
        diagnostics = [to_diagnostic(f, fid, lines, codec) for fid, f in st.merged()]
        version = self.workspace.get_text_document(uri).version if self.is_open(uri) else None
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diagnostics))

    # --- run -----------------------------------------------------------------------------------

    def schedule_run(self, uri: str, overrides: dict[str, Any] | None = None) -> asyncio.Task[None]:
        """Run the text as it is now (the saved text, on save); edits made meanwhile make the run stale."""
        text = self.text(uri)
        return self.scheduler.start(uri, "run", lambda: self.run(uri, text, overrides or {}), wait_for_previous=True)

    async def run(self, uri: str, text: str | None, overrides: dict[str, Any]) -> None:
        st = self.state(uri)
        if text is None or st.path is None:
            return
        task = asyncio.current_task()
        token = await self._begin_progress(f"nemo: solving {st.path.name}", task)
        outcome = "cancelled"
        try:
            report = await run_engine(st.path, base=self.settings.engine(), overrides=overrides, text=text,
                                      progress=lambda message, pct: self._report_progress(token, message, pct))
            outcome = report.outcome.replace("_", " ")
            current = self.text(uri)
            if current != text:
                outcome = "stale (the text changed during the run)"
                return
            st.set_run(report)
            self.publish(uri)
            self._refresh_lenses()
        finally:
            self._end_progress(token, outcome)

    async def consolidate(self, uri: str, text: str | None) -> None:
        """One consolidation; its assumptions and questions are published with the other findings."""
        from ..engine.consolidate import consolidate, note_findings
        from ..engine.run import resolve_settings
        from ..findings import StageError

        st = self.state(uri)
        if text is None or st.path is None:
            return
        token = await self._begin_progress(f"nemo: consolidating {st.path.name}", asyncio.current_task())
        outcome = "cancelled"
        try:
            analysis = await asyncio.to_thread(analyze, text)
            settings = resolve_settings(analysis, self.settings.engine(), None)
            try:
                c = await consolidate(st.path, analysis, settings,
                                      lambda message, pct: self._report_progress(token, message, pct))
                notes = [*c.findings, *note_findings(c, analysis.spec.title_span)]
                outcome = "model block proposed" if c.ok else "no usable model block"
            except StageError as exc:
                c, notes, outcome = None, list(exc.findings), "failed"
            if self.text(uri) != text:
                outcome = "stale (the text changed meanwhile)"
                return
            st.proposal, st.proposal_notes = c, notes
            self.publish(uri)
        finally:
            self._end_progress(token, outcome)

    async def _begin_progress(self, title: str, task: asyncio.Task[Any] | None) -> str | None:
        caps = self.client_capabilities.window
        if caps is None or not caps.work_done_progress:
            return None
        token = str(uuid.uuid4())
        try:
            await asyncio.wait_for(self.work_done_progress.create_async(token), timeout=5)
        except Exception:  # noqa: BLE001 - a client that refuses progress still gets results
            return None
        self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, percentage=0))
        cancel = self.work_done_progress.tokens.get(token)
        loop = asyncio.get_running_loop()
        if cancel is not None and task is not None:
            cancel.add_done_callback(lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None)
        return token

    def _report_progress(self, token: str | None, message: str, percent: int) -> None:
        if token is not None:
            self.work_done_progress.report(token, types.WorkDoneProgressReport(message=message, percentage=percent))

    def _end_progress(self, token: str | None, outcome: str) -> None:
        if token is not None:
            self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=outcome))

    def _refresh_lenses(self) -> None:
        ws = self.client_capabilities.workspace
        if ws is not None and ws.code_lens is not None and ws.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)

    def warm_up(self) -> None:
        """Pay one-time costs before the first save, in a thread: the bubblewrap probe, the agents'
        modules and templates, and the protocol converters for progress and code lenses."""
        self.scheduler.start("", "warm-up", lambda: asyncio.to_thread(_warm_up, self))

    # --- settings ------------------------------------------------------------------------------

    def load_settings(self, client: Any) -> None:
        root = Path(self.workspace.root_path) if self.workspace.root_path else None
        base = server_settings.ServerSettings()
        pyproject, problems = server_settings.from_pyproject(root)
        base, more = server_settings.apply(base, pyproject, "pyproject.toml [tool.nemo]")
        problems += more
        if client is not None:
            self.client_settings = client
        base, more = server_settings.apply(base, self.client_settings, "editor settings")
        problems += more
        self.settings = base
        for p in problems:
            self.message(p)


async def _none() -> None:
    return None


def stored_report(spec: Path, text: str) -> Report | None:
    """The last run's report stored beside the spec, when it was made from this very text.

    A report whose recorded spec hash differs (the spec changed since, or the run used unsaved
    text), one without a hash, and a missing, unreadable or malformed file all give None, silently:
    nothing stale is ever shown, and a broken `.nemo/` file never turns into error messages.
    """
    report = load_report(Layout(spec).report)
    return report if report is not None and report.describes(text) else None


def _warm_up(ls: NemoServer) -> None:
    from ..agents import get_agent
    from ..resources import environment
    from ..sandbox import get_sandbox

    try:
        get_sandbox(ls.settings.sandbox).isolation()
    except ValueError:
        pass
    apply_warm_pool(ls.settings)
    get_agent("formal")
    for name in ("formal/optimizer.py.j2", "formal/simulator.py.j2"):
        environment().get_template(name)
    converter = ls.protocol._converter
    for value in (types.WorkDoneProgressBegin(title="", percentage=0, cancellable=True),
                  types.WorkDoneProgressReport(message="", percentage=0), types.WorkDoneProgressEnd(message=""),
                  types.CodeLens(range=types.Range(start=types.Position(line=0, character=0),
                                                   end=types.Position(line=0, character=0)))):
        converter.unstructure(value)


def apply_warm_pool(settings: server_settings.ServerSettings) -> None:
    """Start (or stop) the warm execution pool so the first save is served warm: the workers import
    Pyomo and HiGHS in their own sandboxed processes, never in the server."""
    from ..sandbox import warm

    if settings.sandbox == "local" and settings.warm_workers > 0:
        pool = warm.current_pool()
        if pool is None or pool.size != settings.warm_workers:
            warm.start_pool(settings.warm_workers)
    else:
        warm.stop_pool()


server = NemoServer()


def _spec(uri: str) -> bool:
    return is_spec_uri(uri)


@server.feature(types.INITIALIZE)
def initialize(ls: NemoServer, params: types.InitializeParams) -> None:
    ls.client_name = params.client_info.name if params.client_info else ""
    ls.load_settings(params.initialization_options)
    # Watch before answering: a spec written once the client has the answer is never missed.
    if ls.settings.watch_files and ls.workspace.root_path:
        from .watcher import start_watching

        ls.watcher = start_watching(ls, Path(ls.workspace.root_path), asyncio.get_running_loop())


@server.feature(types.INITIALIZED)
async def initialized(ls: NemoServer, params: types.InitializedParams) -> None:
    ls.warm_up()


@server.feature(types.SHUTDOWN)
async def shutdown(ls: NemoServer, params: None) -> None:
    if ls.watcher is not None:
        ls.watcher.stop()
    await ls.scheduler.shutdown()
    from ..sandbox import warm

    await asyncio.to_thread(warm.stop_pool)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: NemoServer, params: types.DidChangeConfigurationParams) -> None:
    ls.load_settings(params.settings)
    ls.warm_up()  # starts, resizes or stops the warm pool as the new settings say


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: NemoServer, params: types.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    if _spec(uri):
        st = ls.state(uri)
        # After a restart (or a close), the last run's results come back from `.nemo/NAME/report.json`
        # with the first lint, when that report was made from the text just opened.
        st.restore_pending = st.report is None
        ls.schedule_lint(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: NemoServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if not _spec(uri):
        return
    st = ls.docs.get(uri)
    if st is not None and st.run:
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                st.follow_edit(change.range.start.line, change.range.end.line, change.text)
    ls.schedule_lint(uri, delay=ls.settings.lint_delay_ms / 1000)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: NemoServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if _spec(uri):
        ls.schedule_lint(uri)
        if ls.settings.run_on_save:
            ls.schedule_run(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: NemoServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    if _spec(uri):
        ls.scheduler.cancel(uri)
        ls.docs.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _analysis(ls: NemoServer, uri: str):
    st = ls.docs.get(uri)
    return (st.analysis, st) if st is not None and st.analysis is not None else (None, st)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]))
def code_action(ls: NemoServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    analysis, st = _analysis(ls, uri)
    if analysis is None or st is None:
        return None
    out: list[types.CodeAction] = []
    for d in params.context.diagnostics:
        fid = d.data.get("id") if isinstance(d.data, dict) else None
        f: Finding | None = st.findings.get(fid) if fid else None
        if f is not None:
            out.extend(actions.fixes_for(uri, fid, f, d, analysis))
    out.extend(actions.document_actions(uri, analysis, st.report, st.path))
    out.extend(actions.proposal_actions(uri, analysis, st.proposal, _agent_for(ls, st)))
    only = params.context.only
    if only:
        out = [a for a in out if a.kind and any(a.kind.startswith(k) for k in only)]
    return out


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: NemoServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
    analysis, st = _analysis(ls, params.text_document.uri)
    if analysis is None or st is None:
        return None
    return actions.lenses(params.text_document.uri, analysis, st.report,
                          ls.scheduler.running(params.text_document.uri, "run"),
                          icons="code" in ls.client_name.lower(), restored=st.restored)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def on_hover(ls: NemoServer, params: types.HoverParams) -> types.Hover | None:
    analysis, st = _analysis(ls, params.text_document.uri)
    if analysis is None or st is None:
        return None
    line, col = from_position(params.position, analysis.spec.lines, ls.workspace.position_codec)
    found = hover.hover_text(analysis, st.report, line, col)
    if found is None:
        return None
    text, span = found
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=to_range(span, analysis.spec.lines, ls.workspace.position_codec))


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "[", ":"]))
def on_completion(ls: NemoServer, params: types.CompletionParams) -> types.CompletionList | None:
    uri = params.text_document.uri
    if not _spec(uri):
        return None
    text = ls.text(uri) or ""
    analysis = analyze(text, budget=0)
    line, col = from_position(params.position, analysis.spec.lines, ls.workspace.position_codec)
    return types.CompletionList(is_incomplete=False, items=completion.complete(analysis, line, col))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(ls: NemoServer, params: types.DefinitionParams) -> types.Location | None:
    analysis, _ = _analysis(ls, params.text_document.uri)
    if analysis is None:
        return None
    line, col = from_position(params.position, analysis.spec.lines, ls.workspace.position_codec)
    span = hover.definition(analysis, line, col)
    if span is None:
        return None
    return types.Location(uri=params.text_document.uri,
                          range=to_range(span, analysis.spec.lines, ls.workspace.position_codec))


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_document_symbol(ls: NemoServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
    analysis, _ = _analysis(ls, params.text_document.uri)
    return symbols.outline(analysis) if analysis is not None else None


# --- commands (ids shared with the editor clients: see actions.COMMANDS) -------------------------

def _uri_arg(args: Any) -> str | None:
    return args[0] if args and isinstance(args[0], str) else None


@server.command(actions.COMMANDS["solve"])
def cmd_solve(ls: NemoServer, *args: Any) -> dict[str, Any]:
    uri = _uri_arg(args)
    if uri is None or not _spec(uri):
        return {"started": False, "reason": "expects the URI of an .opt.md file"}
    ls.schedule_run(uri)
    return {"started": True}


@server.command(actions.COMMANDS["regenerate"])
def cmd_regenerate(ls: NemoServer, *args: Any) -> dict[str, Any]:
    uri = _uri_arg(args)
    if uri is None or not _spec(uri):
        return {"started": False, "reason": "expects the URI of an .opt.md file"}
    ls.schedule_run(uri, {"regenerate": True})
    return {"started": True}


def _agent_for(ls: NemoServer, st: DocState | None) -> str | None:
    front = st.analysis.spec.front.values.get("agent") if st and st.analysis else None
    return front or ls.settings.agent


@server.command(actions.COMMANDS["consolidate"])
def cmd_consolidate(ls: NemoServer, *args: Any) -> dict[str, Any]:
    """Ask the coding agent for a model block, its assumptions and questions (in the background)."""
    uri = _uri_arg(args)
    if uri is None or not _spec(uri):
        return {"started": False, "reason": "expects the URI of an .opt.md file"}
    st = ls.state(uri)
    agent = _agent_for(ls, st)
    if agent in (None, "formal"):
        msg = ("consolidation needs a coding agent: set `agent:` in the front matter or the `nemo.agent` setting "
               "(claude-code, codex, openhands, chat)")
        ls.message(msg, types.MessageType.Info)
        return {"started": False, "reason": msg}
    text = ls.text(uri)
    ls.scheduler.start(uri, "consolidate", lambda: ls.consolidate(uri, text))
    return {"started": True}


def _repair(ls: NemoServer, role: str, args: Any) -> dict[str, Any]:
    """One repair round on the user's request: the simulator's evidence goes back to the agent.

    Repairing the optimizer runs a round even if the user edited it (their version is backed up
    first: the request is the explicit action). Repairing the simulator starts a fresh simulator
    session, since the simulator is the referee and must not be fitted to the optimizer's answer.
    """
    uri = _uri_arg(args)
    if uri is None or not _spec(uri):
        return {"started": False, "reason": "expects the URI of an .opt.md file"}
    st = ls.docs.get(uri)
    agent = (st.analysis.spec.front.values.get("agent") if st and st.analysis else None) or ls.settings.agent
    if agent in (None, "formal"):
        msg = (f"repairing the {role} needs a coding agent. The offline `formal` agent compiles the model block "
               "and cannot repair code: set `agent:` in the front matter or the `nemo.agent` setting "
               "(claude-code, codex, openhands, chat), or use \"Regenerate\" to start from the model again.")
        ls.message(msg, types.MessageType.Info)
        return {"started": False, "reason": msg}
    report = getattr(st, "report", None) if st else None
    if report is not None and report.outcome in ("validated", "expected"):
        msg = f"nothing to repair: the last run with the `{agent}` agent was {report.outcome}"
        ls.message(msg, types.MessageType.Info)
        return {"started": False, "reason": msg}
    if role == "optimizer":
        ls.schedule_run(uri, {"repair_rounds": 1, "repair_edited": True})
    else:
        ls.schedule_run(uri, {"regenerate_roles": ("simulator",), "repair_rounds": 0})
    return {"started": True}


@server.command(actions.COMMANDS["repair_optimizer"])
def cmd_repair_optimizer(ls: NemoServer, *args: Any) -> dict[str, Any]:
    return _repair(ls, "optimizer", args)


@server.command(actions.COMMANDS["repair_simulator"])
def cmd_repair_simulator(ls: NemoServer, *args: Any) -> dict[str, Any]:
    return _repair(ls, "simulator", args)


async def _show(ls: NemoServer, args: Any, pick) -> dict[str, Any]:
    uri = _uri_arg(args)
    path = to_fs_path(uri) if uri else None
    if not path:
        return {"shown": False}
    target: Path = pick(Layout(Path(path)))
    if not target.exists():
        ls.message(f"{target.name} does not exist yet: save the spec to solve it", types.MessageType.Info)
        return {"shown": False, "path": str(target)}
    result = await ls.window_show_document_async(types.ShowDocumentParams(uri=target.as_uri(), take_focus=True))
    return {"shown": bool(result and result.success), "path": str(target)}


@server.command(actions.COMMANDS["open_optimizer"])
async def cmd_open_optimizer(ls: NemoServer, *args: Any) -> dict[str, Any]:
    return await _show(ls, args, lambda layout: layout.module("optimizer"))


@server.command(actions.COMMANDS["open_simulator"])
async def cmd_open_simulator(ls: NemoServer, *args: Any) -> dict[str, Any]:
    return await _show(ls, args, lambda layout: layout.module("simulator"))


@server.command(actions.COMMANDS["open_log"])
async def cmd_open_log(ls: NemoServer, *args: Any) -> dict[str, Any]:
    return await _show(ls, args, lambda layout: layout.run / "optimizer.log")


@server.command(actions.COMMANDS["open_candidate"])
async def cmd_open_candidate(ls: NemoServer, *args: Any) -> dict[str, Any]:
    """A self-consistency candidate's optimizer (arguments: the spec's URI and the candidate number)."""
    k = args[1] if len(args) > 1 and isinstance(args[1], int) and not isinstance(args[1], bool) else 1
    return await _show(ls, args, lambda layout: layout.root / "candidates" / f"optimizer-{k}.py")


@server.command(actions.COMMANDS["save_memory"])
def cmd_save_memory(ls: NemoServer, *args: Any) -> dict[str, Any]:
    """Run the spec again (nothing up to date is regenerated) and keep it in memory if it validates."""
    uri = _uri_arg(args)
    if uri is None or not _spec(uri):
        return {"started": False, "reason": "expects the URI of an .opt.md file"}
    ls.schedule_run(uri, {"memory_save": "always"})
    return {"started": True}


@server.command(actions.COMMANDS["show_report"])
def cmd_show_report(ls: NemoServer, *args: Any) -> dict[str, Any] | None:
    """The last run's report as JSON (the editors' solution views render it)."""
    uri = _uri_arg(args)
    st = ls.docs.get(uri) if uri else None
    return st.report.to_json() if st is not None and st.report is not None else None
