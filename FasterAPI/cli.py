"""The ``fasterapi`` command: run, dev, routes, new, migrate-from-fastapi."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_TARGETS = ("main:app", "app:app", "app.main:app", "src.main:app")


class CLIError(Exception):
    """A problem worth one line on stderr, not a traceback."""


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def discover_target(target: str | None) -> str:
    """``module:attribute`` of the app: the given one, or the first of the usual names."""
    if target:
        if ":" not in target:
            target = f"{target}:app"
        return target
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    for candidate in DEFAULT_TARGETS:
        module, _, attribute = candidate.partition(":")
        if _module_exists(module) and hasattr(importlib.import_module(module), attribute):
            return candidate
    raise CLIError(f"No app found: pass one (module:app) or create one of {DEFAULT_TARGETS}")


def load_app(target: str) -> Any:
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CLIError(f"Cannot import {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attribute or "app")
    except AttributeError:
        raise CLIError(f"{module_name!r} has no attribute {attribute!r}") from None


def pick_server(requested: str | None) -> str:
    if requested:
        if not _module_exists(requested):
            raise CLIError(f"{requested} is not installed: pip install {requested}")
        return requested
    for server in ("granian", "uvicorn"):
        if _module_exists(server):
            return server
    raise CLIError("No server installed: pip install granian (or uvicorn)")


def serve(args: argparse.Namespace, reload: bool) -> None:
    target = discover_target(args.app)
    load_app(target)  # fail early, with a clear message, on import errors
    server = pick_server(args.server)
    interface = args.interface or ("rsgi" if server == "granian" else "asgi")
    if server == "uvicorn" and interface == "rsgi":
        raise CLIError("uvicorn speaks ASGI only: use --interface asgi or --server granian")
    workers = 1 if reload else args.workers
    print(
        f"FasterAPI: serving {target} on http://{args.host}:{args.port} "
        f"({server}, {interface}, {workers} worker{'s' if workers != 1 else ''}"
        f"{', reload' if reload else ''})",
        flush=True,
    )
    if server == "granian":
        _run_granian(args, target, interface, workers, reload)
    else:
        _run_uvicorn(args, target, workers, reload)


def _run_granian(
    args: argparse.Namespace, target: str, interface: str, workers: int, reload: bool
) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    options: dict[str, Any] = {
        "address": args.host,
        "port": args.port,
        "interface": Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI,
        "workers": workers,
        "reload": reload,
        "log_level": args.log_level,
    }
    if args.root_path:
        options["url_path_prefix"] = args.root_path
    Granian(target, **options).serve()


def _run_uvicorn(args: argparse.Namespace, target: str, workers: int, reload: bool) -> None:
    import uvicorn

    uvicorn.run(
        target,
        host=args.host,
        port=args.port,
        workers=workers,
        reload=reload,
        log_level=args.log_level,
        root_path=args.root_path or "",
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )


def print_routes(args: argparse.Namespace) -> None:
    app = load_app(discover_target(args.app))
    rows = [("METHODS", "PATH", "NAME")]
    for route in getattr(app, "routes", []):
        methods = getattr(route, "methods", None)
        kind = ",".join(sorted(methods)) if methods else type(route).__name__.upper()
        rows.append((kind, str(getattr(route, "path", "")), str(getattr(route, "name", ""))))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _add_app_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", help="module:attribute (default: main:app, app:app)")


def _add_server_arguments(parser: argparse.ArgumentParser, host: str) -> None:
    _add_app_argument(parser)
    parser.add_argument("--server", choices=("granian", "uvicorn"))
    parser.add_argument("--interface", choices=("rsgi", "asgi"))
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    parser.add_argument("--root-path", default="")
    parser.add_argument("--proxy-headers", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fasterapi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app (Granian RSGI when installed)")
    _add_server_arguments(run, "0.0.0.0")
    run.add_argument("--reload", action="store_true")
    dev = commands.add_parser("dev", help="serve on 127.0.0.1 with auto-reload")
    _add_server_arguments(dev, "127.0.0.1")
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
        if args.command == "run":
            serve(args, reload=args.reload)
        elif args.command == "dev":
            serve(args, reload=True)
        elif args.command == "routes":
            print_routes(args)
        elif args.command == "new":
            from FasterAPI._scaffold import create_project

            print(f"Created {create_project(Path(args.name))}")
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
