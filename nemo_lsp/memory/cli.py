"""`nemo memory list | show ID | forget ID... | import PATH | export PATH [ID...] | save SPEC`.

The folder is `--memory DIR`, else `NEMO_MEMORY`, else `.nemo/memory/` in the current folder
(for `save`, beside the spec, as `nemo solve` would use).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from .store import FILES, META, Store, StoreError

ENV = "NEMO_MEMORY"


def folder(args: argparse.Namespace) -> Path | None:
    value = args.memory or os.environ.get(ENV) or None
    if value is None:
        return Path(".nemo") / "memory"
    if value.strip().lower() in ("off", "false", "no", "none", "0"):
        return None
    return Path(value).expanduser()


def _row(store: Store, entry: str) -> dict[str, Any]:
    meta = store.meta(entry) or {}
    outcome = meta.get("outcome") or {}
    return {"id": entry, "title": meta.get("title"), "agent": meta.get("agent"), "status": outcome.get("status"),
            "objective": outcome.get("objective"), "saved": meta.get("saved"), "source": meta.get("source")}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.6g}"
    return "-" if v is None else str(v)


def cmd_list(store: Store, args: argparse.Namespace) -> int:
    rows = [_row(store, e) for e in store.ids()]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print(f"{store.folder}: no entries")
        return 0
    from ..cli import print_table

    print(f"{store.folder}: {len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")
    print_table([(r["id"], _fmt(r["title"]), _fmt(r["agent"]), _fmt(r["objective"]), _fmt(r["saved"]))
                 for r in rows], ("id", "title", "agent", "objective", "saved"), sys.stdout)
    return 0


def cmd_show(store: Store, args: argparse.Namespace) -> int:
    exp = store.load(args.id)
    if exp is None:
        sys.stderr.write(f"nemo memory: no entry `{args.id}` in {store.folder}\n")
        return 1
    where = (store.folder / exp.id).resolve()
    files = {name: str(where / name) for name in (*FILES, META) if (where / name).is_file()}
    if args.json:
        json.dump({**exp.document(), "folder": str(where), "files": files}, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    from ..engine.experience import summary

    outcome = exp.meta.get("outcome") or {}
    print(f"{exp.id}: {exp.title}")
    print(f"  source      {_fmt(exp.meta.get('source'))}")
    print(f"  saved       {_fmt(exp.meta.get('saved'))} (agent: {_fmt(exp.meta.get('agent'))})")
    print(f"  outcome     {_fmt(outcome.get('outcome'))}, {_fmt(outcome.get('status'))}, objective "
          f"{_fmt(outcome.get('objective'))} ({_fmt(outcome.get('sense'))})")
    used = (exp.meta.get("manifest") or {}).get("memory") or []
    if used:
        print(f"  made with   {', '.join(used)}")
    print(f"  problem     {summary(exp.problem)}")
    for path in files.values():
        print(f"  file        {path}")
    return 0


def cmd_forget(store: Store, args: argparse.Namespace) -> int:
    missing = [e for e in args.ids if not store.forget(e)]
    for e in args.ids:
        if e not in missing:
            print(f"forgot {e}")
    for e in missing:
        sys.stderr.write(f"nemo memory: no entry `{e}` in {store.folder}\n")
    return 1 if missing else 0


def cmd_import(store: Store, args: argparse.Namespace) -> int:
    done = store.import_from(Path(args.path))
    print(f"imported {len(done)} entr{'y' if len(done) == 1 else 'ies'} into {store.folder}: {', '.join(done)}")
    return 0


def cmd_export(store: Store, args: argparse.Namespace) -> int:
    if not store.ids():
        sys.stderr.write(f"nemo memory: {store.folder} has no entries to export\n")
        return 1
    done = store.export(Path(args.path), args.ids or None)
    print(f"exported {len(done)} entr{'y' if len(done) == 1 else 'ies'} to {args.path}: {', '.join(done)}")
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    """Run the spec (regenerating nothing that is up to date) and keep it if it validates."""
    from ..cli import print_report
    from ..engine import run

    overrides: dict[str, Any] = {"memory_save": "always", "agent": args.agent}
    if args.memory:
        overrides["memory"] = str(Path(args.memory).expanduser().resolve())
    report = asyncio.run(run(Path(args.spec), overrides=overrides))
    info = report.memory or {}
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif not info.get("saved"):
        print_report(report, sys.stdout, False, 10)
    if info.get("saved"):
        if not args.json:
            print(f"{args.spec}: {info.get('note')} as {info['saved']} in {info.get('folder')}")
        return 0
    sys.stderr.write(f"nemo memory save: {info.get('note') or 'not saved'}\n")
    return 1


def run_command(args: argparse.Namespace) -> int:
    if args.action == "save":
        return cmd_save(args)
    where = folder(args)
    if where is None:
        sys.stderr.write("nemo memory: memory is off (NEMO_MEMORY); give a folder with --memory DIR\n")
        return 1
    store = Store(where)
    handler = {"list": cmd_list, "show": cmd_show, "forget": cmd_forget, "import": cmd_import,
               "export": cmd_export}[args.action]
    try:
        return handler(store, args)
    except StoreError as exc:
        sys.stderr.write(f"nemo memory {args.action}: {exc}\n")
        return 1


def add_parser(sub: Any) -> None:
    """Wire `nemo memory ...` into the main parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--memory", metavar="DIR",
                        help="the memory folder (default: NEMO_MEMORY, else .nemo/memory/ here)")
    m = sub.add_parser("memory", help="list, show, forget, import, export or save the experiences agents learn from")
    actions = m.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", parents=[common], help="the entries, one a line")
    p.add_argument("--json", action="store_true")
    p = actions.add_parser("show", parents=[common], help="one entry: its problem, outcome and files")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p = actions.add_parser("forget", parents=[common], help="remove entries")
    p.add_argument("ids", nargs="+", metavar="ID")
    p = actions.add_parser("import", parents=[common], help="copy entries from another memory folder (or one entry)")
    p.add_argument("path")
    p = actions.add_parser("export", parents=[common], help="copy entries (all, or the IDs given) to a folder")
    p.add_argument("path")
    p.add_argument("ids", nargs="*", metavar="ID")
    p = actions.add_parser("save", parents=[common], help="solve a spec and save the run if it validates "
                           "(also with the formal agent)")
    p.add_argument("spec")
    p.add_argument("--agent", help="coding agent (default: as `nemo solve` chooses)")
    p.add_argument("--json", action="store_true", help="print the run's report as JSON")
    m.set_defaults(func=run_command)
