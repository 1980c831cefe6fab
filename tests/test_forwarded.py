"""ForwardedHeaders: X-Forwarded-For/-Proto believed from trusted peers only (what
``fasterapi run --proxy-headers`` sets on a Faster app served by Granian)."""

import pytest

from FasterAPI import Faster, Request, WebSocket
from FasterAPI._forwarded import ForwardedHeaders
from FasterAPI.middleware.httpsredirect import HTTPSRedirectMiddleware
from FasterAPI.testclient import TestClient


def scope_of(peer, *headers, kind="http"):
    return {
        "type": kind,
        "scheme": "http" if kind == "http" else "ws",
        "client": (peer, 5000) if peer else None,
        "headers": [(name.encode(), value.encode()) for name, value in headers],
    }


def applied(allow_ips, scope):
    ForwardedHeaders(allow_ips).apply(scope)
    return scope["client"], scope["scheme"]


def test_forwarded_trusted_peer_gives_client_and_scheme():
    scope = scope_of("10.0.0.5", ("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https"))
    assert applied("127.0.0.1, 10.0.0.0/8", scope) == (("203.0.113.9", 0), "https")


def test_forwarded_untrusted_peer_changes_nothing():
    scope = scope_of(
        "192.0.2.1", ("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")
    )
    assert applied("127.0.0.1", scope) == (("192.0.2.1", 5000), "http")


def test_forwarded_client_is_the_last_hop_not_trusted():
    hops = ("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7")
    assert applied("10.0.0.0/8", scope_of("10.0.0.5", hops))[0] == ("203.0.113.9", 0)
    # Several header lines read as one list.
    lines = [("x-forwarded-for", "198.51.100.1"), ("x-forwarded-for", "10.0.0.7")]
    assert applied("10.0.0.0/8", scope_of("10.0.0.5", *lines))[0] == ("198.51.100.1", 0)


def test_forwarded_all_hops_trusted_or_star_gives_the_first():
    hops = ("x-forwarded-for", "10.1.1.1, 10.2.2.2")
    assert applied("10.0.0.0/8", scope_of("10.0.0.5", hops))[0] == ("10.1.1.1", 0)
    hops = ("x-forwarded-for", "198.51.100.1, 203.0.113.9")
    assert applied("*", scope_of("192.0.2.1", hops))[0] == ("198.51.100.1", 0)


def test_forwarded_scheme_of_the_nearest_proxy_and_websockets():
    proto = ("x-forwarded-proto", "http, HTTPS")
    assert applied("*", scope_of("192.0.2.1", proto))[1] == "https"
    websocket = scope_of("192.0.2.1", ("x-forwarded-proto", "https"), kind="websocket")
    assert applied("*", websocket)[1] == "wss"
    odd = scope_of("192.0.2.1", ("x-forwarded-proto", "gopher"))
    assert applied("*", odd)[1] == "http"


def test_forwarded_dual_stack_peer_is_its_ipv4_address():
    scope = scope_of("::ffff:127.0.0.1", ("x-forwarded-for", "203.0.113.9"))
    assert applied("127.0.0.1", scope)[0] == ("203.0.113.9", 0)


def test_forwarded_no_peer_or_lifespan_is_left_alone():
    assert applied("127.0.0.1", scope_of(None, ("x-forwarded-for", "1.2.3.4")))[0] is None
    lifespan = {"type": "lifespan"}
    ForwardedHeaders("*").apply(lifespan)
    assert lifespan == {"type": "lifespan"}


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.0/33", "1.2.3"])
def test_forwarded_allow_ips_must_be_addresses(entry):
    with pytest.raises(ValueError, match="not an IP address or network"):
        ForwardedHeaders(f"127.0.0.1,{entry}")


def forwarded_app(allow_ips):
    app = Faster()

    @app.get("/who")
    async def who(request: Request):
        return {"client": request.client.host, "url": str(request.url)}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_json({"url": str(websocket.url)})
        await websocket.close()

    if allow_ips is not None:
        app._forwarded_headers = ForwardedHeaders(allow_ips)
    return app


HEADERS = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_forwarded_app_rewrites_requests_from_trusted_peers(interface):
    client = TestClient(forwarded_app("*"), interface=interface)
    assert client.get("/who", headers=HEADERS).json() == {
        "client": "203.0.113.9",
        "url": "https://testserver/who",
    }
    with client.websocket_connect("/ws", headers=HEADERS) as session:
        assert session.receive_json() == {"url": "wss://testserver/ws"}


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_forwarded_app_without_the_option_ignores_the_headers(interface):
    client = TestClient(forwarded_app(None), interface=interface)
    assert client.get("/who", headers=HEADERS).json() == {
        "client": "testclient",
        "url": "http://testserver/who",
    }


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_forwarded_scheme_is_set_before_middleware_runs(interface):
    app = forwarded_app("*")
    app.add_middleware(HTTPSRedirectMiddleware)
    client = TestClient(app, interface=interface, follow_redirects=False)
    assert client.get("/who", headers=HEADERS).status_code == 200
    assert client.get("/who").status_code == 307


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("1.2.3.4:5678", "1.2.3.4"),
        ("[2001:db8::1]:80", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        # A trusted proxy appending its address with a port is still recognised.
        ("1.1.1.1, 10.0.0.7:99", "1.1.1.1"),
    ],
)
def test_forwarded_entries_lose_ports_and_brackets(forwarded, client):
    scope = scope_of("10.0.0.5", ("x-forwarded-for", forwarded))
    assert applied("10.0.0.0/8", scope)[0] == (client, 0)
