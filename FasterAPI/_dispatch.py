"""The lookup table built from an app's routes: path + method -> route (or 404/405)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from FasterAPI._tree import PathTree
from FasterAPI.routing import APIRoute, Mount, Route, WebSocketRoute

MethodTable = dict[str, APIRoute]


class RouteTable:
    """Built once per change of the route list; answers lookups without scanning routes."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.http: PathTree[MethodTable] = PathTree()
        self.websocket: PathTree[dict[str, WebSocketRoute]] = PathTree()
        self.mounts = sorted(
            (route for route in routes if isinstance(route, Mount)),
            key=lambda mount: len(mount.path),
            reverse=True,
        )
        implied_head: list[APIRoute] = []
        for route in routes:
            if isinstance(route, APIRoute):
                table = self.http.insert(route.template, dict)
                for method in route.methods:
                    table.setdefault(method, route)
                if "GET" in route.methods:
                    implied_head.append(route)
            elif isinstance(route, WebSocketRoute):
                self.websocket.insert(route.template, dict).setdefault("WS", route)
        for route in implied_head:
            self.http.insert(route.template, dict).setdefault("HEAD", route)
        self.static = self.http.static
        self._position = {id(route): index for index, route in enumerate(routes)}

    def mount_wins(self, mount: Mount, route: Route | None) -> bool:
        """A mount serves a path under it unless a route declared before it matches too
        (declaration order decides, as in Starlette)."""
        return route is None or self._position[id(mount)] < self._position[id(route)]

    def find_mount(self, path: str) -> Mount | None:
        for mount in self.mounts:
            if mount.matches(path):
                return mount
        return None

    def find_http(self, method: str, path: str) -> tuple[APIRoute | None, dict[str, Any], set[str]]:
        """(route, path params, allowed methods); allowed is non-empty only for a 405."""
        found = self.http.find(path, method)
        if found is not None:
            return found[0][method], found[1], set()
        allowed: set[str] = set()
        for table, _ in self.http.lookup(path):
            allowed.update(table)
        return None, {}, allowed

    def find_websocket(self, path: str) -> tuple[WebSocketRoute | None, dict[str, Any]]:
        for table, path_params in self.websocket.lookup(path):
            return table["WS"], path_params
        return None, {}

    def has_path(self, path: str) -> bool:
        return bool(self.http.lookup(path))
