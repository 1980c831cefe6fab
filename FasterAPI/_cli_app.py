"""The app a ``fasterapi`` command serves: found, imported and checked, with short errors."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TARGETS = ("main:app", "app:app", "app.main:app", "src.main:app")

_IMPORTLIB = os.path.dirname(importlib.__file__)


class CLIError(Exception):
    """A problem worth a short message on stderr and exit status 2, not a traceback."""


@dataclass(frozen=True)
class AppInfo:
    """What the server needs to know of the app before starting."""

    target: str
    rsgi: bool  # it has ``__rsgi__`` (served with RSGI unless told otherwise)
    faster: bool  # a ``Faster`` app: the CLI's root path and proxy options are set on it


def split_target(target: str) -> tuple[str, str]:
    """``module:attribute`` (the attribute defaults to ``app``) as its two dotted names."""
    module, colon, attribute = target.partition(":")
    if not colon:
        attribute = "app"
    if not all(_is_dotted_name(name) for name in (module, attribute)):
        raise CLIError(f"invalid app {target!r}: expected module:attribute, such as main:app")
    return module, attribute


def _is_dotted_name(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def ensure_cwd_on_path() -> None:
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))


def discover_target(target: str | None) -> str:
    """``module:attribute`` of the app: the given one, or the first of the usual names."""
    if target:
        module, attribute = split_target(target)
        return f"{module}:{attribute}"
    ensure_cwd_on_path()
    for candidate in DEFAULT_TARGETS:
        module, _, attribute = candidate.partition(":")
        if _module_exists(module, candidate) and hasattr(_import(module, candidate), attribute):
            return candidate
    raise CLIError(f"No app found: pass one (module:app) or create one of {DEFAULT_TARGETS}")


def _module_exists(module: str, target: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
    except (Exception, SystemExit) as exc:  # finding ``app.main`` imports ``app``
        raise CLIError(_import_failure(target, exc)) from None


def _import(module: str, target: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module == missing or module.startswith(missing + "."):
            raise CLIError(f"Cannot import {module!r}: no module named {missing!r}") from None
        raise CLIError(_import_failure(target, exc)) from None
    except (Exception, SystemExit) as exc:
        raise CLIError(_import_failure(target, exc)) from None


def _import_failure(target: str, exc: BaseException) -> str:
    """The exception the user's module raised, with its own frames only (no importlib's)."""
    report = traceback.TracebackException.from_exception(exc)
    report.stack = traceback.StackSummary.from_list(
        [frame for frame in report.stack if _is_user_frame(frame.filename)]
    )
    return f"error while importing {target}:\n" + "".join(report.format()).rstrip("\n")


def _is_user_frame(filename: str) -> bool:
    return not (
        filename == __file__
        or filename.startswith("<frozen importlib")
        or filename.startswith(_IMPORTLIB)
    )


def load_app(target: str) -> Any:
    """Import ``module:attribute`` and check that it is an app."""
    module_name, attribute = split_target(target)
    ensure_cwd_on_path()
    app = _import(module_name, target)
    for name in attribute.split("."):
        try:
            app = getattr(app, name)
        except AttributeError:
            raise CLIError(f"{module_name!r} has no attribute {attribute!r}") from None
    if not (callable(app) or hasattr(app, "__rsgi__")):
        raise CLIError(
            f"{target} is not an app but {type(app).__name__} {app!r:.60}; "
            "expected an ASGI app (a callable) or an RSGI app (with __rsgi__)"
        )
    return app


def inspect_app(target: str | None) -> AppInfo:
    """Find and import the app here, in this process."""
    from FasterAPI.app import Faster

    found = discover_target(target)
    app = load_app(found)
    return AppInfo(found, hasattr(app, "__rsgi__"), isinstance(app, Faster))


_CHECK = "import sys; from FasterAPI._cli_app import report_app; sys.exit(report_app(sys.argv[1]))"


def inspect_app_elsewhere(target: str | None) -> AppInfo:
    """``inspect_app`` in a throwaway interpreter, leaving this one without the user's
    modules: processes forked from it later (reloaded workers) import them afresh."""
    result = subprocess.run(
        [sys.executable, "-c", _CHECK, target or ""], capture_output=True, text=True
    )
    if result.returncode == 2:
        raise CLIError(result.stderr.rstrip("\n"))
    lines = result.stdout.splitlines()
    if result.returncode or not lines:
        sys.stderr.write(result.stderr)
        raise CLIError(f"checking the app failed (exit status {result.returncode})")
    found = json.loads(lines[-1])  # after anything the module printed
    return AppInfo(found["target"], found["rsgi"], found["faster"])


def report_app(target: str) -> int:
    """``inspect_app``'s answer as a JSON line on stdout, or its error on stderr (status 2)."""
    try:
        info = inspect_app(target or None)
    except CLIError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps({"target": info.target, "rsgi": info.rsgi, "faster": info.faster}))
    return 0
