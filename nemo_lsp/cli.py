"""`nemo`: solve, check and inspect `.opt.md` specs from a terminal.

Exit codes: 0 the answer is validated (or the declared outcome happened), 1 findings, 2 internal
error. Findings print compiler-style (`plan.opt.md:12:3: error NEMO401 ...`) so that editors and
CI logs can link them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .findings import Finding, Severity


def _display_path(path: str | Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def format_finding(f: Finding, path: str) -> str:
    where = f"{path}:{f.span.line + 1}:{f.span.col + 1}" if f.span else path
    text = f"{where}: {f.severity.label} {f.code} {f.message}"
    for r in f.related:
        text += f"\n  {_display_path(r.path)}:{r.span.line + 1}: note: {r.message}"
    return text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if abs(value - round(value)) < 1e-9:
            return str(int(round(value)))
        return f"{value:.6g}"
    return str(value)


def decision_rows(decisions: dict[str, Any], show_all: bool) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for name, value in decisions.items():
        if isinstance(value, list):
            for row in value:
                if not isinstance(row, list) or not row:
                    continue
                *key, v = row
                if not show_all and (v is None or abs(v) <= 1e-9):
                    continue
                rows.append((name, ", ".join(_fmt(k) for k in key), _fmt(v)))
        elif isinstance(value, (int, float)) and (show_all or abs(value) > 1e-9):
            rows.append((name, "", _fmt(value)))
    return rows


def print_table(rows: list[tuple[str, ...]], header: tuple[str, ...], out: TextIO) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        out.write("    " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")


def usage_line(usage: dict[str, dict[str, Any]]) -> str:
    """Tokens, turns and cost summed over the agent sessions of a run, as the tools reported them."""
    tokens_in = sum(u.get("input_tokens", 0) for u in usage.values())
    tokens_out = sum(u.get("output_tokens", 0) for u in usage.values())
    turns = sum(u.get("turns", 0) for u in usage.values())
    costs = [u["cost_usd"] for u in usage.values() if "cost_usd" in u]
    cost = f", ${sum(costs):.4f} reported" if costs else ""
    return f"{len(usage)} session(s), {turns} turn(s), {tokens_in:,} tokens in / {tokens_out:,} out{cost}"


def memory_line(memory: dict[str, Any]) -> str:
    """The memory entries the modules' prompts showed, and what became of this run."""
    used: dict[str, list[str]] = {}
    for role, entries in (memory.get("used") or {}).items():
        for e in entries:
            used.setdefault(f"{e.get('id')} ({e.get('title')})", []).append(role)
    shown = "; ".join(f"{name} for the {' and '.join(roles)}" for name, roles in used.items())
    parts = [f"examples used: {shown}" if shown else "no examples used"]
    if memory.get("saved"):
        parts.append(f"saved as {memory['saved']}")
    elif memory.get("note"):
        parts.append(str(memory["note"]))
    return "; ".join(parts)


def _class_line(problem: dict[str, Any] | None, choice: dict[str, Any] | None) -> str:
    """`NLP (convexity not decided) -> scip: why`, from the report's problem_class and solver_choice."""
    label = (problem or {}).get("label") or "class unknown"
    if not choice:
        return label
    reason = str(choice.get("reason") or "")
    reason = reason.split(": ", 1)[1] if reason.startswith(label + ": ") else reason
    return f"{label} -> {choice.get('solver') or 'no solver'}: {reason}"


def print_report(report: Any, out: TextIO, show_all: bool, limit: int) -> None:
    path = _display_path(report.spec)
    sol, ver = report.solution, report.verdict
    out.write(f"{path}  (agent: {report.agent or '-'})\n")
    if sol is not None:
        solver = f" ({sol.solver} {sol.solver_version})" if sol.solver else ""
        out.write(f"  status      {sol.status}{solver}\n")
    if report.problem_class or report.solver_choice:
        out.write(f"  class       {_class_line(report.problem_class, report.solver_choice)}\n")
    if sol is not None and sol.objective is not None:
        out.write(f"  objective   {_fmt(sol.objective)}  ({sol.sense or 'objective'})\n")
    verdicts = {
        "validated": "validated: the simulator found every constraint satisfied and the same objective",
        "expected": "as expected: the spec declares this outcome",
        "rejected": "REJECTED: see the findings below",
        "infeasible": "the problem is infeasible",
        "unbounded": "the problem is unbounded",
        "not_run": "not run: fix the findings below",
    }
    checked = f" ({ver.checked} checks)" if ver is not None and report.outcome == "validated" else ""
    out.write(f"  validation  {verdicts.get(report.outcome, report.outcome)}{checked}\n")
    if report.gate is not None:
        fixed = sum(r.get("outcome") == "repaired" for r in report.gate.get("repairs") or [])
        after = f" (after {fixed} simulator repair{'s' if fixed > 1 else ''})" if fixed else ""
        out.write(f"  gate        simulator gate: {report.gate.get('summary')}{after}\n")
    if report.probe is not None and report.probe.get("state") != "off":
        probe = report.probe
        shown = (f"{probe.get('scored')}/{probe.get('generated')} neighbours scored in {probe.get('seconds', 0):.2f} s, "
                 f"{'a better one found (NEMO412)' if probe.get('state') == 'found' else 'none better'}"
                 if probe.get("state") in ("found", "none better") else probe.get("state"))
        out.write(f"  probe       falsification probe: {shown}\n")
    expect = report.expect or {}
    if "objective" in expect and sol is not None and sol.objective is not None:
        mismatch = any(f.code == "NEMO406" for f in report.findings)
        mark = "differs" if mismatch else "matches"
        out.write(f"  expected    {_fmt(float(expect['objective']))} ({mark})"
                  f"{'  source: ' + str(expect['source']) if expect.get('source') else ''}\n")
    if sol is not None and sol.decisions:
        rows = decision_rows(sol.decisions, show_all)
        out.write(f"\n  decisions ({'all' if show_all else 'nonzero'}):\n")
        if rows:
            shown = rows if limit <= 0 else rows[:limit]
            print_table(shown, ("variable", "index", "value"), out)
            if len(shown) < len(rows):
                out.write(f"    ... {len(rows) - len(shown)} more rows (use --rows 0 to show all)\n")
        else:
            out.write("    (all zero)\n")
    shown_findings = [f for f in report.findings if f.severity <= Severity.INFO]
    if shown_findings:
        out.write("\n")
        for f in shown_findings:
            out.write(format_finding(f, path) + "\n")
    if report.generated:
        gen = ", ".join(f"{Path(report.files.get(r, r)).name} ({s})" for r, s in report.generated.items())
        out.write(f"\n  files       {gen}\n")
    for r in report.repairs:
        out.write(f"  repair      round {r['round']}: {r['outcome']}\n")
    if report.usage:
        out.write(f"  agent use   {usage_line(report.usage)}\n")
    if report.memory:
        out.write(f"  memory      {memory_line(report.memory)}\n")
    total = report.timings.get("total")
    if total is not None:
        out.write(f"  time        {total:.2f} s\n")


def _progress(enabled: bool):
    def show(message: str, percent: int) -> None:
        if enabled:
            sys.stderr.write(f"\r\033[K[{percent:3d}%] {message}")
            sys.stderr.flush()
            if percent >= 95:
                sys.stderr.write("\r\033[K")
    return show


def cmd_solve(args: argparse.Namespace) -> int:
    from .engine import run

    agent_options = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env,
                     "timeout": args.agent_timeout, "max_turns": args.max_turns}
    overrides = {"agent": args.agent, "time_limit": args.time_limit, "memory_limit": args.memory_limit,
                 "regenerate": True if args.regenerate else None, "sandbox": args.sandbox,
                 "repair_rounds": args.repair_rounds, "autonomous": True if args.autonomous else None,
                 "samples": args.samples, "probe": args.probe,
                 "agent_options": {k: v for k, v in agent_options.items() if v is not None} or None,
                 "memory": "off" if args.no_memory else str(Path(args.memory).expanduser().resolve())
                 if args.memory else None}
    show = _progress(sys.stderr.isatty() and not args.json)
    report = asyncio.run(run(Path(args.file), overrides=overrides, progress=show,
                             max_spec_bytes=args.max_spec_bytes))
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print_report(report, sys.stdout, args.all, args.rows)
    return report.exit_code


def cmd_consolidate(args: argparse.Namespace) -> int:
    """Ask an agent for a model block, its assumptions and its questions; --write puts them in the spec."""
    from .analysis import analyze
    from .engine.consolidate import accept, consolidate, note_findings
    from .engine.run import resolve_settings
    from .engine.settings import Settings
    from .findings import StageError
    from .spec.reader import read_text

    spec = Path(args.file)
    text, problems = read_text(spec, args.max_spec_bytes)
    path = _display_path(spec)
    if text is None:
        for f in problems:
            print(format_finding(f, path))
        return 1
    analysis = analyze(text)
    agent_options = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env,
                     "timeout": args.agent_timeout, "max_turns": args.max_turns}
    settings = resolve_settings(analysis, Settings(), {
        "agent": args.agent, "agent_options": {k: v for k, v in agent_options.items() if v is not None} or None,
        "samples": args.samples})
    try:
        c = asyncio.run(consolidate(spec, analysis, settings, _progress(sys.stderr.isatty() and not args.json),
                                    use_cache=not args.fresh))
    except StageError as exc:
        for f in exc.findings:
            print(format_finding(f, path))
        return 1
    if args.json:
        json.dump(c.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        if len(c.candidates) > 1:
            scores = ", ".join(f"{x['candidate']}: {x['score']:.3f}" if x.get("score") is not None
                               else f"{x['candidate']}: unusable" for x in c.candidates)
            print(f"{path}: {len(c.candidates)} proposals; minimum Bayes risk chose proposal {c.chosen} "
                  f"(scores {scores})")
        if c.block:
            print(f"{path}: model block proposed by {c.agent}:\n")
            print(c.block)
        for f in list(c.findings) + note_findings(c, analysis.spec.title_span):
            print(format_finding(f, path))
    if not c.ok:
        return 1
    if args.write:
        accept(spec, text, c)
        print(f"{path}: model block and {len(c.assumptions)} assumption(s) written; the old text is backed up "
              "under .nemo/")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .analysis import analyze
    from .spec.reader import read_text

    text, problems = read_text(Path(args.file), args.max_spec_bytes)
    findings = problems if text is None else list(analyze(text).findings)
    path = _display_path(args.file)
    if args.json:
        json.dump({"spec": str(args.file), "ok": not any(f.is_error for f in findings),
                   "findings": [f.to_json() for f in findings]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for f in findings:
            print(format_finding(f, path))
        errors = sum(f.is_error for f in findings)
        print(f"{path}: {errors} error(s), {len(findings) - errors} other finding(s)" if findings
              else f"{path}: no findings")
    return 1 if any(f.is_error for f in findings) else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import importlib.metadata as md
    import shutil

    from .sandbox import get_sandbox

    print(f"nemo-lsp {__version__} on Python {sys.version.split()[0]} ({sys.executable})")
    for pkg in ("pyomo", "highspy", "pygls", "lsprotocol", "jinja2", "markdown-it-py", "PyYAML", "watchdog",
                "docker"):
        try:
            print(f"  {pkg:15s} {md.version(pkg)}")
        except md.PackageNotFoundError:
            print(f"  {pkg:15s} MISSING")
    print(f"  bubblewrap      {shutil.which('bwrap') or 'not installed (apt-get install bubblewrap)'}")
    print(f"  sandbox local   {get_sandbox('local').isolation()}")
    from .sandbox import Limits, pids

    cap = (f"pids cgroup, {Limits().processes} processes and threads per run" if pids.available()
           else "none beyond the rlimits (no writable pids cgroup for this user)")
    print(f"  process cap     {cap}")
    from .sandbox.docker_sandbox import docker_status

    ok, why = docker_status()
    print(f"  sandbox docker  {'available: ' if ok else 'unavailable: '}{why}")
    print("solvers:")
    for line in solver_lines():
        print(f"  {line}")
    print("agents:")
    for name, ok, why in agent_availability():
        print(f"  {name:15s} {'yes' if ok else 'no '}  {why}")
    return 0


def solver_lines() -> list[str]:
    """One line per backend: found (version, the classes it solves) or how to install it."""
    from .solvers import BACKENDS, available_solvers
    from .solvers.probe import HIDE_ENV, hidden

    found = available_solvers()
    lines = []
    for name, b in BACKENDS.items():
        classes = sorted(b.global_classes | b.convex_classes | b.local_classes,
                         key=("LP", "MILP", "QP", "MIQP", "NLP", "MINLP").index)
        shown = ", ".join(c + (" (convex)" if c in b.convex_classes and c not in b.global_classes
                               and c not in b.local_classes else " (local)" if c in b.local_classes else "")
                          for c in classes)
        if name in found:
            lines.append(f"{name:15s} {b.distribution} {found[name]}{_engine_version(name)}: {shown}")
        elif name in hidden():
            lines.append(f"{name:15s} hidden by {HIDE_ENV}")
        else:
            lines.append(f"{name:15s} not installed ({b.install}): {shown}")
    return lines


def _engine_version(name: str) -> str:
    """The solver library's own version when it differs from its Python package's (SCIP in pyscipopt)."""
    if name != "scip":
        return ""
    try:
        import pyscipopt

        return f" (SCIP {pyscipopt.Model().version()})"
    except Exception:  # noqa: BLE001 - a broken install is shown as found without the library's version
        return ""


def cmd_agents(args: argparse.Namespace) -> int:
    if args.action == "install":
        return install_agent(args.name)
    for name, ok, why in agent_availability():
        print(f"{name:15s} {'yes' if ok else 'no '}  {why}")
    return 0


INSTALLABLE = ("claude-code", "codex", "openhands")


def install_agent(name: str | None) -> int:
    """Install a backend's program into the user's cache, pinned to the version nemo-lsp is tested with."""
    from .agents import install, openhands_env

    if name not in INSTALLABLE:
        sys.stderr.write(f"nemo agents install: choose one of {', '.join(INSTALLABLE)}\n")
        return 1
    try:
        if name == "openhands":
            python = openhands_env.ensure_venv(lambda line: print(f"  {line}", file=sys.stderr))
            print(f"openhands: ready ({python})")
        else:
            print(f"{name}: installing with npm into {install.cache_root()} ...", file=sys.stderr)
            binary = install.claude_binary() if name == "claude-code" else install.codex_binary()
            print(f"{name}: ready ({binary})")
    except (install.CliUnavailable, openhands_env.OpenHandsUnavailable) as exc:
        sys.stderr.write(f"nemo agents install {name}: {exc}\n")
        return 1
    return 0


def agent_availability() -> list[tuple[str, bool, str]]:
    """Each registered agent: can it run here, and its version or what is missing."""
    from .agents import AGENTS, get_agent

    rows = []
    for name in AGENTS:
        try:
            ok, why = get_agent(name).availability(None)
        except Exception as exc:  # noqa: BLE001 - one broken backend must not hide the others
            ok, why = False, f"{type(exc).__name__}: {exc}"
        rows.append((name, ok, why))
    return rows


def cmd_bench(args: argparse.Namespace) -> int:
    """`nemo bench ...`: the benchmark harness parses its own arguments (nemo_lsp/bench/cli.py)."""
    from .bench.cli import main as bench_main

    return bench_main(args.args)


def build_parser() -> argparse.ArgumentParser:
    from .spec.reader import MAX_SPEC_BYTES

    p = argparse.ArgumentParser(prog="nemo", description="Execution-aware optimization modelling from .opt.md specs.")
    p.add_argument("--version", action="version", version=f"nemo-lsp {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("solve", help="generate, run and validate the optimizer and simulator for a spec")
    s.add_argument("file", help="the .opt.md spec")
    s.add_argument("--json", action="store_true", help="print the whole report as JSON")
    s.add_argument("--agent", help="coding agent: formal, claude-code, codex, openhands, chat, scripted "
                   "(default: the spec's `agent:`, else `formal` when the spec has a model block)")
    s.add_argument("--model", help="model the agent should use (agent_options.model)")
    s.add_argument("--base-url", help="the model API's base URL (agent_options.base_url)")
    s.add_argument("--api-key-env", help="environment variable holding the API key (agent_options.api_key_env)")
    s.add_argument("--agent-timeout", type=float, help="seconds one agent session may take (default 900)")
    s.add_argument("--max-turns", type=int, help="model turns one agent session may take (default 40)")
    s.add_argument("--autonomous", action="store_true",
                   help="for a prose-only spec: consolidate it into a model block first, accepting the agent's "
                        "assumptions (the spec file is not changed)")
    s.add_argument("--repair-rounds", type=int,
                   help="repair rounds after a rejected answer (default 2 for coding agents, 0 for formal)")
    s.add_argument("--samples", type=int, metavar="T",
                   help="self-consistency: T optimizer candidates from separate agent sessions (and T model-block "
                        "proposals with --autonomous); the majority answer is used")
    s.add_argument("--sandbox", help="where generated code runs (default: local)")
    s.add_argument("--probe", type=float, metavar="SECONDS",
                   help="time for the falsification probe to score neighbours of a validated answer "
                        "(default 1; 0 turns it off)")
    s.add_argument("--time-limit", type=float, help="solver time limit in seconds (default 60)")
    s.add_argument("--memory-limit", type=int, help="memory limit for generated code in MB (default 4096)")
    s.add_argument("--regenerate", action="store_true",
                   help="regenerate even files you edited (your versions are backed up under .nemo/)")
    s.add_argument("--memory", metavar="DIR", help="the memory folder to learn from and save to (default: "
                   "NEMO_MEMORY, else .nemo/memory/ beside the spec)")
    s.add_argument("--no-memory", action="store_true", help="neither read examples from memory nor save this run")
    s.add_argument("--all", action="store_true", help="show zero-valued decisions too")
    s.add_argument("--rows", type=int, default=50, help="decision rows to print (0: all; default 50)")
    s.add_argument("--max-spec-bytes", type=int, default=MAX_SPEC_BYTES, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_solve)

    k = sub.add_parser("consolidate", help="ask a coding agent for the spec's model block, assumptions and questions")
    k.add_argument("file")
    k.add_argument("--agent", help="coding agent (default: the spec's `agent:`)")
    k.add_argument("--model")
    k.add_argument("--base-url")
    k.add_argument("--api-key-env")
    k.add_argument("--agent-timeout", type=float)
    k.add_argument("--max-turns", type=int)
    k.add_argument("--write", action="store_true",
                   help="insert the block and an `## Assumptions` section into the spec (backed up first)")
    k.add_argument("--fresh", action="store_true", help="ask again even if a proposal for this text is cached")
    k.add_argument("--samples", type=int, metavar="T",
                   help="T proposals in separate sessions; minimum Bayes risk picks one, near ties become questions")
    k.add_argument("--json", action="store_true")
    k.add_argument("--max-spec-bytes", type=int, default=MAX_SPEC_BYTES, help=argparse.SUPPRESS)
    k.set_defaults(func=cmd_consolidate)

    c = sub.add_parser("check", help="parse and lint a spec without running anything")
    c.add_argument("file")
    c.add_argument("--json", action="store_true")
    c.add_argument("--max-spec-bytes", type=int, default=MAX_SPEC_BYTES, help=argparse.SUPPRESS)
    c.set_defaults(func=cmd_check)

    v = sub.add_parser("serve", help="start the language server (stdio by default; same as `nemo-lsp`)")
    from .server.main import add_arguments, serve

    add_arguments(v)
    v.set_defaults(func=serve)

    a = sub.add_parser("agents", help="list the coding agents and whether they can run here; install one")
    a.add_argument("action", nargs="?", choices=("list", "install"), default="list")
    a.add_argument("name", nargs="?", help="with install: claude-code, codex or openhands")
    a.set_defaults(func=cmd_agents)

    d = sub.add_parser("doctor", help="show versions, solvers and sandbox isolation on this machine")
    d.set_defaults(func=cmd_doctor)

    from .memory.cli import add_parser as add_memory

    add_memory(sub)

    b = sub.add_parser("bench", add_help=False, help="run benchmark problems through the pipeline and score them; "
                       "`nemo bench report DIR` re-scores a stored run (`nemo bench --help`)")
    b.add_argument("args", nargs=argparse.REMAINDER)
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # `nemo bench` parses its own options (argparse's REMAINDER would not pass `--help` or a leading option on)
    args = (argparse.Namespace(func=cmd_bench, args=argv[1:]) if argv[:1] == ["bench"]
            else build_parser().parse_args(argv))
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (`nemo solve ... | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("nemo: interrupted\n")
        return 130
    except Exception as exc:  # the one place an unexpected failure becomes a short message
        if os.environ.get("NEMO_DEBUG"):
            raise
        sys.stderr.write(f"nemo: internal error: {type(exc).__name__}: {exc}\n"
                         "  (set NEMO_DEBUG=1 for the traceback, and please report it)\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
