"""``fasterapi run`` and ``fasterapi dev``: serving an app on Granian or uvicorn."""

from __future__ import annotations

import argparse
import errno
import functools
import os
import socket
import sys
from dataclasses import dataclass
from typing import Any

from FasterAPI._cli_app import (
    AppInfo,
    CLIError,
    ensure_cwd_on_path,
    inspect_app,
    inspect_app_elsewhere,
    load_app,
)
from FasterAPI._forwarded import ForwardedHeaders


@dataclass(frozen=True)
class AppOptions:
    """What each Granian worker sets on a ``Faster`` app after importing it."""

    root_path: str
    forwarded_allow_ips: str | None  # None: proxy headers are not believed


def serve(args: argparse.Namespace, reload: bool) -> None:
    server = pick_server(args.server)
    if server == "uvicorn" and args.interface == "rsgi":
        raise CLIError("uvicorn speaks ASGI only: use --interface asgi or --server granian")
    forwarded = args.forwarded_allow_ips if args.proxy_headers else None
    if forwarded is not None:
        try:
            ForwardedHeaders(forwarded)
        except ValueError as exc:
            raise CLIError(f"--forwarded-allow-ips: {exc}") from None
    check_can_listen(args.host, args.port)
    # Reloaded workers are forked from this process: it must not hold the user's modules.
    info = inspect_app_elsewhere(args.app) if reload else inspect_app(args.app)
    interface = args.interface or ("rsgi" if server == "granian" and info.rsgi else "asgi")
    workers = 1 if reload else args.workers
    print(
        f"FasterAPI: serving {info.target} on http://{_address(args.host, args.port)} "
        f"({server}, {interface}, {workers} worker{'s' if workers != 1 else ''}"
        f"{', reload' if reload else ''})",
        flush=True,
    )
    if server == "granian":
        options = AppOptions(args.root_path, forwarded)
        _run_granian(args, info, interface, workers, reload, options)
    else:
        _run_uvicorn(args, info.target, workers, reload)


def pick_server(requested: str | None) -> str:
    if requested:
        if not _installed(requested):
            raise CLIError(f"{requested} is not installed: pip install {requested}")
        return requested
    for server in ("granian", "uvicorn"):
        if _installed(server):
            return server
    raise CLIError("No server installed: pip install granian (or uvicorn)")


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def check_can_listen(host: str, port: int) -> None:
    """Bind ``host:port`` once without ``SO_REUSEPORT``: Granian binds with it, so a
    second Granian on a port would otherwise start and share the requests with the first."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            if os.name != "nt":  # elsewhere it would allow taking a port in use
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise CLIError(f"cannot listen on {_address(host, port)}: {reason or exc}") from None


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def load_configured_app(options: AppOptions, target: str) -> Any:
    """Granian's loader in each worker: the app, with the CLI's options set on it."""
    from FasterAPI.app import Faster

    try:
        app = load_app(target)
    except CLIError as exc:  # the code changed since the start (reload)
        print(f"fasterapi: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if isinstance(app, Faster):
        if options.root_path:
            app.root_path = options.root_path
        if options.forwarded_allow_ips is not None:
            app._forwarded_headers = ForwardedHeaders(options.forwarded_allow_ips)
    elif options.forwarded_allow_ips is not None:
        print(
            f"fasterapi: {target} is not a Faster app: X-Forwarded-For and "
            "X-Forwarded-Proto are not applied on Granian (wrap it in middleware that does)",
            file=sys.stderr,
            flush=True,
        )
    return app


def _run_granian(
    args: argparse.Namespace,
    info: AppInfo,
    interface: str,
    workers: int,
    reload: bool,
    options: AppOptions,
) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    settings: dict[str, Any] = {
        "address": args.host,
        "port": args.port,
        "interface": Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI,
        "workers": workers,
        "reload": reload,
        # A worker that cannot import the edited code waits for the next edit.
        "reload_ignore_worker_failure": reload,
        "log_level": args.log_level,
        # A worker still serving a stream after this long is stopped, so the server exits.
        "workers_kill_timeout": args.timeout_graceful_shutdown,
    }
    if args.root_path and not info.faster:
        settings["url_path_prefix"] = args.root_path
    server = Granian(info.target, **settings)
    server.serve(target_loader=functools.partial(load_configured_app, options))


def _run_uvicorn(args: argparse.Namespace, target: str, workers: int, reload: bool) -> None:
    import uvicorn

    ensure_cwd_on_path()
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
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
    )
