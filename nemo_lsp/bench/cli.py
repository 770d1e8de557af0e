"""`nemo bench`: the command line of the benchmark harness.

    nemo bench DATASET... --agent NAME [--samples T] [--workers K] [--limit N] [--ids ID,...]
               [--out DIR] [--resume] [--executor local|ray] [--address ADDR]
               [--model M] [--base-url URL] [--api-key-env VAR] [--agent-timeout S] [--max-turns N]
               [--repair-rounds N] [--time-limit S] [--memory-limit MB] [--sandbox NAME] [--autonomous]
               [--warm-workers N]
    nemo bench report DIR [--compare DIR2] [--out DIR3]

Exit codes: 0 the run finished (whatever the accuracy) or the report was written, 1 a usage
problem (unreadable dataset, a used --out without --resume...), 130 interrupted (results so far kept).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from . import scoring


def run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nemo bench", description="Run the NEMO pipeline over benchmark problems and "
                                "score the answers. `nemo bench report DIR` re-scores a stored run.")
    p.add_argument("datasets", nargs="+", type=Path, help="benchmark files (.jsonl or .json)")
    p.add_argument("--agent", required=True, help="coding agent (as `nemo solve --agent`; `replay` re-runs a stored "
                   "run's programs)")
    p.add_argument("--samples", type=int, help="self-consistency samples per problem (front matter `samples`)")
    p.add_argument("--workers", type=int, default=1, help="problems run at once (default 1; with --executor ray: "
                   "tasks in flight, default the cluster's CPUs)")
    p.add_argument("--limit", type=int, help="only the first N problems of each dataset")
    p.add_argument("--ids", help="only these problem ids (comma-separated)")
    p.add_argument("--out", type=Path, default=Path("bench-out"), help="the run folder (default ./bench-out)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out, skipping finished problems")
    p.add_argument("--executor", choices=("local", "ray"), default="local")
    p.add_argument("--address", help="with --executor ray: the cluster (e.g. ray://head:10001 or auto); default: "
                   "start a local cluster")
    p.add_argument("--model")
    p.add_argument("--base-url")
    p.add_argument("--api-key-env")
    p.add_argument("--agent-timeout", type=float)
    p.add_argument("--max-turns", type=int)
    p.add_argument("--repair-rounds", type=int)
    p.add_argument("--time-limit", type=float)
    p.add_argument("--memory-limit", type=int)
    p.add_argument("--sandbox")
    p.add_argument("--warm-workers", type=int, metavar="N",
                   help="warm execution workers for the local sandbox (default: as many as --workers; 0: all cold)")
    p.add_argument("--autonomous", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nemo bench report", description="Re-score a stored run offline and write "
                                "summary.md and report.html.")
    p.add_argument("dir", type=Path, help="a run folder (--out of `nemo bench`)")
    p.add_argument("--compare", type=Path, help="a second run folder: problems fixed and broken from DIR to it")
    p.add_argument("--out", type=Path, help="where to write summary.md and report.html (default: DIR, or "
                   "--compare's folder when comparing)")
    return p


def main(argv: list[str]) -> int:
    if argv[:1] == ["report"]:
        return cmd_report(report_parser().parse_args(argv[1:]))
    return cmd_run(run_parser().parse_args(argv))


def config_from(args: argparse.Namespace):
    from .runner import RunConfig

    options = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env,
               "timeout": args.agent_timeout, "max_turns": args.max_turns}
    settings = {"time_limit": args.time_limit, "memory_limit": args.memory_limit, "sandbox": args.sandbox,
                "repair_rounds": args.repair_rounds, "autonomous": True if args.autonomous else None}
    return RunConfig(args.agent, {k: v for k, v in options.items() if v is not None},
                     {k: v for k, v in settings.items() if v is not None}, args.samples,
                     tuple(str(d.resolve()) for d in args.datasets))


def cmd_run(args: argparse.Namespace) -> int:
    from .datasets import DatasetError, load_all
    from .runner import BenchError, ProgressLine, Store, check_names, pending, run_local

    try:
        problems = load_all(args.datasets, limit=args.limit,
                            ids=[i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None)
        check_names(problems)
        config = config_from(args)
        store = Store(args.out)
        store.open(config, args.resume)
    except (DatasetError, BenchError) as exc:
        sys.stderr.write(f"nemo bench: {exc}\n")
        return 1
    wanted = {p.id for p in problems}
    todo = pending(problems, store)
    previous = [r for r in store.records() if r["id"] in wanted]
    progress = ProgressLine(len(problems), previous, tty=False if args.quiet else None)
    if args.quiet:
        progress.stream = _Null()
    progress.start()
    started = time.monotonic()
    # SIGTERM stops like Ctrl-C: the problems in flight are cancelled and their processes killed
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.executor == "ray":
            from .ray_executor import run_ray

            run_ray(todo, store, config, args.workers if args.workers > 1 else None, args.address,
                    progress.finished)
        else:
            with _warm_pool(args):
                asyncio.run(run_local(todo, store, config, args.workers, progress.finished))
    except KeyboardInterrupt:
        progress.close()
        sys.stderr.write(f"nemo bench: interrupted; {progress.done} of {len(problems)} done are kept in "
                         f"{args.out} (continue with --resume)\n")
        return 130
    except BenchError as exc:
        progress.close()
        sys.stderr.write(f"nemo bench: {exc}\n")
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous_term)
    progress.close()
    records = [r for r in store.records() if r["id"] in wanted]
    print_summary(records, sys.stdout, time.monotonic() - started, len(todo))
    failed = [r["id"] for r in records if r.get("harness_error")]
    if failed:
        shown = ", ".join(failed[:5]) + ("..." if len(failed) > 5 else "")
        sys.stderr.write(f"nemo bench: {len(failed)} problem(s) could not be run by the harness ({shown}); "
                         "--resume runs them again\n")
    return 0


@contextlib.contextmanager
def _warm_pool(args: argparse.Namespace) -> Iterator[None]:
    """Warm workers start with the bench, importing Pyomo and HiGHS while the first agents write,
    and stop with it (a pool this bench did not start is left alone)."""
    from ..sandbox import warm

    count = args.workers if args.warm_workers is None else args.warm_workers
    if count <= 0 or args.sandbox not in (None, "local") or warm.current_pool() is not None:
        yield
        return
    warm.start_pool(min(count, 8))
    try:
        yield
    finally:
        warm.stop_pool()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def print_summary(records: list[dict], out, elapsed: float, ran: int) -> None:
    from .report import summary_table

    out.write(summary_table(scoring.by_benchmark(records)) + "\n")
    if ran:
        out.write(f"\n{ran} problem(s) run in {elapsed:.1f} s ({ran / elapsed * 60:.1f} per minute)\n")


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report
    from .runner import Store

    a = Store(args.dir)
    if not a.results.is_dir():
        sys.stderr.write(f"nemo bench report: {args.dir} holds no results/ (is it a `nemo bench --out` folder?)\n")
        return 1
    b = Store(args.compare) if args.compare else None
    if b is not None and not b.results.is_dir():
        sys.stderr.write(f"nemo bench report: {args.compare} holds no results/\n")
        return 1
    out = args.out or (args.compare if args.compare else args.dir)
    paths = write_report(a, out, compare=b)
    for path in paths:
        print(path)
    return 0
