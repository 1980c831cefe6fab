"""The ``fasterapi`` command: run, dev, routes, new, migrate-from-fastapi."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from FasterAPI._cli_app import CLIError, discover_target, load_app

__all__ = ["CLIError", "build_parser", "main"]


def print_routes(args: argparse.Namespace) -> None:
    from FasterAPI.app import Faster
    from FasterAPI.routing import Mount, WebSocketRoute

    app = load_app(discover_target(args.app))
    if isinstance(app, Faster) and not app._built:
        app._build_stack()  # what the first request does: adds /docs, /openapi.json, ...
    rows = [("METHODS", "PATH", "NAME")]
    for route in getattr(app, "routes", []):
        methods = getattr(route, "methods", None)
        if isinstance(route, WebSocketRoute):
            kind = "WS"
        elif isinstance(route, Mount):
            kind = "MOUNT"
        else:
            kind = ",".join(sorted(methods)) if methods else type(route).__name__.upper()
        rows.append((kind, str(getattr(route, "path", "")), str(getattr(route, "name", ""))))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if workers < 1:
        raise argparse.ArgumentTypeError(f"needs at least 1 worker, not {workers}")
    return workers


def _grace(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if not 1 <= seconds <= 1800:
        raise argparse.ArgumentTypeError(f"must be 1 to 1800 seconds, not {seconds}")
    return seconds


def _add_app_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", help="module:attribute (default: main:app, app:app)")


def _add_server_arguments(parser: argparse.ArgumentParser, host: str, grace: int) -> None:
    _add_app_argument(parser)
    parser.add_argument("--server", choices=("granian", "uvicorn"))
    parser.add_argument("--interface", choices=("rsgi", "asgi"))
    parser.add_argument("--host", default=host)
    # A string default goes through the type check too: PORT=abc is an argparse error.
    parser.add_argument("--port", type=_port, default=os.environ.get("PORT", "8000"))
    parser.add_argument("--workers", type=_workers, default=1)
    parser.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    parser.add_argument("--root-path", default="")
    parser.add_argument("--proxy-headers", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument(
        "--timeout-graceful-shutdown",
        type=_grace,
        default=grace,
        metavar="SECONDS",
        help="on shutdown (and reload), how long requests in flight (streams, websockets) "
        f"may go on before they are cut (default {grace})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fasterapi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app (Granian RSGI when installed)")
    _add_server_arguments(run, "0.0.0.0", grace=20)
    run.add_argument("--reload", action="store_true")
    dev = commands.add_parser("dev", help="serve on 127.0.0.1 with auto-reload")
    _add_server_arguments(dev, "127.0.0.1", grace=3)
    routes = commands.add_parser("routes", help="print the route table")
    _add_app_argument(routes)
    new = commands.add_parser("new", help="create a new project")
    new.add_argument("name")
    migrate = commands.add_parser("migrate-from-fastapi", help="rewrite a FastAPI project")
    migrate.add_argument("path")
    migrate.add_argument("--dry-run", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("run", "dev"):
            from FasterAPI._cli_serve import serve

            serve(args, reload=args.command == "dev" or args.reload)
        elif args.command == "routes":
            print_routes(args)
        elif args.command == "new":
            from FasterAPI._scaffold import create_project

            try:
                print(f"Created {create_project(args.name)}")
            except (ValueError, OSError) as exc:
                raise CLIError(str(exc)) from None
        else:
            from FasterAPI._migrate import migrate_path

            path = Path(args.path)
            if not path.exists():
                raise CLIError(f"no such file or directory: {args.path}")
            for result in migrate_path(path, dry_run=args.dry_run):
                for warning in result.warnings:
                    print(warning, file=sys.stderr)
                if result.diff:
                    print(result.diff if args.dry_run else f"rewrote {result.path}")
    except CLIError as exc:
        print(f"fasterapi: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
