"""TestClient: drive the app in-process through httpx, on one event loop shared with lifespan."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator, Iterator
from concurrent.futures import Future
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("TestClient needs httpx: pip install 'FasterAPI[testclient]'") from exc

from FasterAPI._types import ASGIApp, Message, Scope
from FasterAPI.exceptions import WebSocketDisconnect

__all__ = ["TestClient", "WebSocketTestSession"]


class _AppTransport(httpx.BaseTransport):
    def __init__(
        self,
        app: ASGIApp,
        portal_factory: Any,
        raise_server_exceptions: bool,
        root_path: str,
        lifespan_state: dict[str, Any],
    ) -> None:
        self.app = app
        self.portal_factory = portal_factory
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.lifespan_state = lifespan_state

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scope = self._scope(request)
        body = request.read()
        with self.portal_factory() as portal:
            status, headers, chunks = portal.call(self._run, scope, body)
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)), request=request
        )

    def _scope(self, request: httpx.Request) -> Scope:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        host = request.headers.get("host") or url.host
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        if not any(k == b"host" for k, _ in headers):
            headers.insert(0, (b"host", host.encode()))
        raw_path = url.raw_path.split(b"?", 1)[0]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": self.root_path + unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "root_path": self.root_path,
            "query_string": url.query,
            "headers": headers,
            "client": ("testclient", 50000),
            "server": (url.host, port),
            "state": dict(self.lifespan_state),
            "extensions": {},
        }

    async def _run(self, scope: Scope, body: bytes) -> tuple[int, list[Any], list[bytes]]:
        request_sent = False
        response_done = anyio.Event()
        status: int | None = None
        headers: list[Any] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await response_done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, headers
            kind = message["type"]
            if kind == "http.response.start":
                if status is not None:
                    raise RuntimeError("http.response.start sent twice")
                status = message["status"]
                headers = list(message.get("headers", []))
            elif kind == "http.response.body":
                if status is None:
                    raise RuntimeError("http.response.body sent before http.response.start")
                if scope["method"] != "HEAD":
                    chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    response_done.set()

        try:
            await self.app(scope, receive, send)
        except BaseException:
            if self.raise_server_exceptions or status is None:
                if self.raise_server_exceptions:
                    raise
                status = 500
                headers, chunks = [], [b"Internal Server Error"]
        finally:
            response_done.set()
        if status is None:
            raise RuntimeError("The application returned without sending a response")
        return status, headers, chunks


class _RSGITransport(_AppTransport):
    """Sends each request through ``app.__rsgi__`` with in-process RSGI peers."""

    async def _run(self, scope: Scope, body: bytes) -> tuple[int, list[Any], list[bytes]]:
        from types import SimpleNamespace

        from FasterAPI._rsgi_testing import FakeProtocol, FakeScope

        app: Any = self.app
        app._rsgi_lifespan = SimpleNamespace(state=self.lifespan_state)
        protocol = FakeProtocol(body)
        try:
            await app.__rsgi__(FakeScope(scope), protocol)
        except BaseException:
            if self.raise_server_exceptions or protocol.status is None:
                if self.raise_server_exceptions:
                    raise
                return 500, [], [b"Internal Server Error"]
        finally:
            protocol.finished.set()
        if protocol.status is None:
            raise RuntimeError("The application returned without sending a response")
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in protocol.headers]
        chunks = [] if scope["method"] == "HEAD" else protocol.chunks
        return protocol.status, headers, chunks


DEFAULT_INTERFACE = "asgi"
"""The protocol TestClients use unless told: "asgi" or "rsgi" (the app's ``__rsgi__``)."""


class TestClient(httpx.Client):
    """An httpx client bound to the app. ``with TestClient(app)`` also runs lifespan."""

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        follow_redirects: bool = True,
        cookies: Any = None,
        headers: dict[str, str] | None = None,
        backend: str = "asyncio",
        interface: str | None = None,
    ) -> None:
        self.app = app
        self.backend = backend
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._exit_stack: contextlib.ExitStack | None = None
        self.lifespan_state: dict[str, Any] = {}
        self.interface = interface or DEFAULT_INTERFACE
        if self.interface not in ("asgi", "rsgi"):
            raise ValueError('interface must be "asgi" or "rsgi"')
        # Plain ASGI apps (a mounted StaticFiles, say) have no RSGI side: they stay on ASGI.
        use_rsgi = self.interface == "rsgi" and hasattr(app, "__rsgi__")
        transport_class = _RSGITransport if use_rsgi else _AppTransport
        transport = transport_class(
            app, self._portal_factory, raise_server_exceptions, root_path, self.lifespan_state
        )
        super().__init__(
            base_url=base_url,
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
            headers={"user-agent": "testclient", **(headers or {})},
        )

    @contextlib.contextmanager
    def _portal_factory(self) -> Generator[anyio.from_thread.BlockingPortal, None, None]:
        if self._portal is not None:
            yield self._portal
        else:
            with anyio.from_thread.start_blocking_portal(backend=self.backend) as portal:
                yield portal

    def __enter__(self) -> TestClient:
        with contextlib.ExitStack() as stack:
            self._portal = portal = stack.enter_context(
                anyio.from_thread.start_blocking_portal(backend=self.backend)
            )

            @stack.callback
            def reset_portal() -> None:
                self._portal = None

            send_stream, receive_stream = anyio.create_memory_object_stream[Any](math.inf)
            answers_send, answers = anyio.create_memory_object_stream[Any](math.inf)
            stack.callback(send_stream.close)
            stack.callback(receive_stream.close)
            stack.callback(answers_send.close)
            stack.callback(answers.close)
            portal.start_task_soon(self._lifespan, receive_stream, answers_send)
            portal.call(send_stream.send, {"type": "lifespan.startup"})
            if not self._wait_for(portal, answers, "startup"):

                @stack.callback
                def shutdown() -> None:
                    portal.call(send_stream.send, {"type": "lifespan.shutdown"})
                    self._wait_for(portal, answers, "shutdown")

            self._exit_stack = stack.pop_all()
        # httpx's own __enter__/__exit__ are not used: they would close the client for good,
        # and a TestClient stays usable after (and may enter again) its ``with`` block.
        return self

    def _wait_for(self, portal: Any, answers: Any, phase: str) -> bool:
        """Wait for the app's answer to the ``phase`` event; True if its lifespan returned
        (an app without lifespan support may simply return)."""
        message = portal.call(answers.receive)
        if message["type"] == f"lifespan.{phase}.failed":
            while message["type"] != "lifespan.ended":
                message = portal.call(answers.receive)
            failure = message.get("exc")
            if failure is not None:
                raise failure
            raise RuntimeError(f"lifespan {phase} failed")
        if message["type"] == "lifespan.ended":
            if message.get("exc") is not None:
                raise message["exc"]
            return True
        return False

    async def _lifespan(self, receive_stream: Any, answers: Any) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "state": self.lifespan_state,
        }
        failure: BaseException | None = None
        try:
            await self.app(scope, receive_stream.receive, answers.send)
        except BaseException as exc:
            failure = exc
        await answers.send({"type": "lifespan.ended", "exc": failure})

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        stack, self._exit_stack = self._exit_stack, None
        if stack is not None:
            stack.close()

    def websocket_connect(
        self, url: str, subprotocols: list[str] | None = None, **kwargs: Any
    ) -> WebSocketTestSession:
        """A websocket session to ``url``; use it as a context manager."""
        request = self.build_request("GET", url, **kwargs)
        transport = self._transport
        assert isinstance(transport, _AppTransport)
        scope = transport._scope(request)
        scope.update(
            type="websocket",
            scheme="ws" if request.url.scheme == "http" else "wss",
            subprotocols=subprotocols or [],
        )
        scope.pop("method", None)
        return WebSocketTestSession(
            self.app, scope, self._portal_factory, transport.raise_server_exceptions
        )


class WebSocketTestSession:
    """Talk to a websocket route: ``send_text``/``receive_json``/... like a browser client.

    An exception the app raises is raised here too, as a test wants: by the ``receive*``
    call that reaches it, else by the ``with`` block's exit (or by ``websocket_connect``
    when the app fails before accepting) — unless it is the ``WebSocketDisconnect`` the
    session's own close caused, or the client was made with
    ``raise_server_exceptions=False``.
    """

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        portal_factory: Any,
        raise_server_exceptions: bool = True,
    ) -> None:
        self.app = app
        self.scope = scope
        self.portal_factory = portal_factory
        self.raise_server_exceptions = raise_server_exceptions
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[Any] = []
        self._task: Future[None] | None = None
        self._disconnect_delivered = False  # the app has received our close
        self._app_error: BaseException | None = None
        self._app_error_after_disconnect = False
        self._app_error_raised = False

    def __enter__(self) -> WebSocketTestSession:
        self._stack = contextlib.ExitStack()
        self.portal = self._stack.enter_context(self.portal_factory())
        try:
            self._to_app_send, self._to_app = anyio.create_memory_object_stream[Any](math.inf)
            self._from_app_send, self._from_app = anyio.create_memory_object_stream[Any](math.inf)
            self._task = self.portal.start_task_soon(self._run)
            self.send({"type": "websocket.connect"})
            message = self.receive()
        except BaseException:
            self._finish()  # the app failed before answering: stop it and free the portal
            raise
        if message["type"] == "websocket.close":
            self.__exit__()  # raises the app's exception, if it failed
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason", ""))
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = message.get("headers", [])
        return self

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._receive_from_client, self._from_app_send.send)
        except BaseException as exc:
            self._app_error = exc
            self._app_error_after_disconnect = self._disconnect_delivered
            await self._from_app_send.send({"type": "_error", "exc": exc})
        finally:
            await self._from_app_send.send({"type": "_ended"})
            self._from_app_send.close()

    async def _receive_from_client(self) -> Message:
        message: Message = await self._to_app.receive()
        if message["type"] == "websocket.disconnect":
            self._disconnect_delivered = True
        return message

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            self.close(1000)
        finally:
            self._finish()
        error = self._app_error
        if error is None or self._app_error_raised or not self.raise_server_exceptions:
            return
        if isinstance(error, WebSocketDisconnect) and self._app_error_after_disconnect:
            return  # the app did not catch the disconnect our own close caused
        if exc is not None and not isinstance(exc, Exception):
            return  # a KeyboardInterrupt or the like goes on as it is
        self._app_error_raised = True
        raise error

    def _finish(self) -> None:
        """Wait for the app to return, then release the portal (and its thread)."""
        try:
            if self._task is not None:
                self._task.result()
        finally:
            self._stack.close()

    def send(self, message: Message) -> None:
        self.portal.call(self._to_app_send.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: str = "text") -> None:
        import msgspec

        encoded = msgspec.json.encode(data)
        if mode == "text":
            self.send_text(encoded.decode())
        else:
            self.send_bytes(encoded)

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """The app's next message; its exception if it failed instead."""
        while True:
            try:
                message: Message = self.portal.call(self._from_app.receive)
            except anyio.EndOfStream:
                message = {"type": "_ended"}
            kind = message["type"]
            if kind == "_error":
                if not self.raise_server_exceptions:
                    continue
                self._app_error_raised = True
                raise message["exc"]
            if kind == "_ended":
                raise WebSocketDisconnect(1006, "The application ended the connection")
            return message

    def _receive_data(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason", ""))
        return message

    def receive_text(self) -> str:
        return self._receive_data()["text"]  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        return self._receive_data()["bytes"]  # type: ignore[no-any-return]

    def receive_json(self, mode: str = "text") -> Any:
        import msgspec

        message = self._receive_data()
        payload = message.get("text") if mode == "text" else message.get("bytes")
        return msgspec.json.decode(payload or message.get("text") or message.get("bytes") or "")

    def iter_messages(self) -> Iterator[Message]:
        while True:
            yield self.receive()
