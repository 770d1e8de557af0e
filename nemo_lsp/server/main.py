"""`nemo-lsp` / `nemo serve`: start the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import sys

from .. import __version__


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging (e.g. 127.0.0.1:2087)")
    p.add_argument("--log-file", help="write the server's log here (it never writes to stdout)")
    p.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")


def serve(args: argparse.Namespace) -> int:
    handler: logging.Handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING), handlers=[handler],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .server import server

    # Background threads (linting, JSON of large results) hand the GIL back to the event loop
    # after 1 ms instead of 5, so requests are answered promptly while they work.
    sys.setswitchinterval(0.001)

    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            sys.stderr.write("nemo-lsp: --tcp expects HOST:PORT, e.g. 127.0.0.1:2087\n")
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="nemo-lsp", description="The nemo language server for .opt.md specs.")
    p.add_argument("--version", action="version", version=f"nemo-lsp {__version__}")
    add_arguments(p)
    return serve(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
