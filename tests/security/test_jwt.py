"""JWTBearer and create_access_token: valid tokens, scopes, and every refusal case."""

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from FasterAPI import Faster, Security
from FasterAPI.security import JWTBearer, SecurityBase, create_access_token, granted_scopes
from FasterAPI.testclient import TestClient

SECRET = "a-test-secret-that-is-at-least-32-bytes-long"
AUDIENCE = "shop-api"
ISSUER = "https://auth.example"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, key: bytes = b"") -> str:
    """A token built by hand (HS256 over ``key``, or unsigned), as an attacker would."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b""
    if header["alg"] == "HS256":
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def make_client(bearer: JWTBearer) -> TestClient:
    app = Faster()

    @app.get("/me")
    def me(claims: dict = Security(bearer)):
        return claims

    @app.get("/items")
    def items(claims: dict = Security(bearer, scopes=["items:read"])):
        return {"sub": claims["sub"]}

    @app.post("/items")
    def add_item(claims: dict = Security(bearer, scopes=["items:read", "items:write"])):
        return {"sub": claims["sub"]}

    @app.get("/optional")
    def optional(claims: dict | None = Security(JWTBearer(SECRET, auto_error=False))):
        return {"claims": claims}

    return TestClient(app)


bearer = JWTBearer(SECRET, audience=AUDIENCE, issuer=ISSUER, realm="shop")
client = make_client(bearer)


def token(**options):
    options.setdefault("audience", AUDIENCE)
    options.setdefault("issuer", ISSUER)
    return create_access_token("alice", SECRET, **options)


def get(path, value, method="GET"):
    return client.request(method, path, headers={"Authorization": f"Bearer {value}"})


def assert_invalid_token(response, description="The token is invalid"):
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="shop", error="invalid_token", error_description="{description}"'
    )


def test_jwt_valid_token_returns_claims():
    response = get("/me", token(extra_claims={"role": "admin"}))
    assert response.status_code == 200
    claims = response.json()
    assert claims["sub"] == "alice"
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == ISSUER
    assert claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert len(claims["jti"]) == 32


def test_jwt_create_access_token_claims_cannot_be_overridden_by_extra():
    value = create_access_token(7, SECRET, timedelta(minutes=1), extra_claims={"sub": "mallory"})
    claims = pyjwt.decode(value, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "7"


def test_jwt_scopes_granted():
    response = get("/items", token(scopes=["items:read"]))
    assert response.json() == {"sub": "alice"}


def test_jwt_missing_scope_is_403_with_needed_scopes():
    response = get("/items", token(scopes=["items:read"]), method="POST")
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="shop", error="insufficient_scope", scope="items:read items:write"'
    )
    assert get("/items", token()).status_code == 403


def test_jwt_missing_token_is_401_naming_scopes():
    response = client.get("/items")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="shop", scope="items:read"'


def test_jwt_tampered_token_is_401():
    value = token()
    header, payload, signature = value.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    forged_payload = b64(json.dumps(claims).encode())
    assert_invalid_token(get("/me", f"{header}.{forged_payload}.{signature}"))


def test_jwt_wrong_secret_is_401():
    other = create_access_token(
        "alice", "another-secret-of-at-least-32-bytes!!", audience=AUDIENCE, issuer=ISSUER
    )
    assert_invalid_token(get("/me", other))


def test_jwt_expired_is_401():
    expired = token(expires_delta=timedelta(seconds=-30))
    assert_invalid_token(get("/me", expired), "The token has expired")


def test_jwt_leeway_accepts_small_clock_skew():
    skewed = make_client(JWTBearer(SECRET, audience=AUDIENCE, issuer=ISSUER, leeway=60))
    response = skewed.get(
        "/me", headers={"Authorization": f"Bearer {token(expires_delta=timedelta(seconds=-5))}"}
    )
    assert response.status_code == 200


def test_jwt_not_yet_valid_is_401():
    future = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert_invalid_token(get("/me", token(not_before=future)))


def test_jwt_wrong_audience_is_401():
    assert_invalid_token(get("/me", token(audience="other-api")))


def test_jwt_audience_when_none_expected_is_401():
    local = make_client(JWTBearer(SECRET))
    response = local.get("/me", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 401


def test_jwt_wrong_or_missing_issuer_is_401():
    assert_invalid_token(get("/me", token(issuer="https://evil.example")))
    no_issuer = create_access_token("alice", SECRET, audience=AUDIENCE)
    assert_invalid_token(get("/me", no_issuer))


def test_jwt_missing_exp_is_401():
    claims = {"sub": "alice", "aud": AUDIENCE, "iss": ISSUER}
    never_expires = pyjwt.encode(claims, SECRET, algorithm="HS256")
    assert_invalid_token(get("/me", never_expires))


def test_jwt_alg_none_is_401():
    claims = {"sub": "alice", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 60}
    assert_invalid_token(get("/me", forge({"alg": "none", "typ": "JWT"}, claims)))
    assert_invalid_token(get("/me", forge({"alg": "None", "typ": "JWT"}, claims)))


def test_jwt_malformed_is_401():
    for value in ("not-a-jwt", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30"):
        assert_invalid_token(get("/me", value))


def test_jwt_other_scheme_is_401():
    response = client.get("/me", headers={"Authorization": f"Basic {token()}"})
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


def test_jwt_auto_error_false_returns_none_for_missing_and_invalid():
    assert client.get("/optional").json() == {"claims": None}
    assert get("/optional", "garbage").json() == {"claims": None}
    good = create_access_token("bob", SECRET)
    assert get("/optional", good).json()["claims"]["sub"] == "bob"


@pytest.fixture(scope="module")
def rsa_keys():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def test_jwt_rs256_valid_token(rsa_keys):
    private_pem, public_pem = rsa_keys
    local = make_client(JWTBearer(public_key=public_pem, algorithms=["RS256"]))
    value = create_access_token("carol", private_pem, algorithm="RS256", scopes=["items:read"])
    response = local.get("/items", headers={"Authorization": f"Bearer {value}"})
    assert response.json() == {"sub": "carol"}


def test_jwt_algorithm_confusion_is_401(rsa_keys):
    """HS256 signed with the (public) RSA key as HMAC secret must not pass an RS256 verifier."""
    _, public_pem = rsa_keys
    local = make_client(JWTBearer(public_key=public_pem.decode(), algorithms=["RS256"]))
    claims = {"sub": "mallory", "exp": int(time.time()) + 60}
    for key in (public_pem, public_pem.strip()):
        forged = forge({"alg": "HS256", "typ": "JWT"}, claims, key)
        response = local.get("/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_jwt_es256_public_key_object():
    private = ec.generate_private_key(ec.SECP256R1())
    local = make_client(JWTBearer(public_key=private.public_key(), algorithms=["ES256"]))
    value = create_access_token("dave", private, algorithm="ES256")
    assert local.get("/me", headers={"Authorization": f"Bearer {value}"}).json()["sub"] == "dave"


def test_jwt_configuration_refusals(rsa_keys):
    _, public_pem = rsa_keys
    with pytest.raises(ValueError, match="alg=none"):
        JWTBearer(SECRET, algorithms=["none"])
    with pytest.raises(ValueError, match="confusion"):
        JWTBearer(SECRET, algorithms=["HS256", "RS256"])
    with pytest.raises(ValueError, match="confusion"):
        JWTBearer(public_key=public_pem, algorithms=["HS256"])
    with pytest.raises(ValueError, match="exactly one"):
        JWTBearer(SECRET, public_key=public_pem)
    with pytest.raises(ValueError, match="exactly one"):
        JWTBearer()
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JWTBearer("short")
    with pytest.raises(ValueError, match="does not suit"):
        JWTBearer(public_key=b"not a pem", algorithms=["RS256"])
    with pytest.raises(TypeError):
        JWTBearer(SECRET, algorithms="HS256")
    with pytest.raises(ValueError, match="alg=none"):
        create_access_token("x", SECRET, algorithm="none")
    with pytest.raises(ValueError, match="at least 64 bytes"):
        create_access_token("x", SECRET, algorithm="HS512")


def test_jwt_granted_scopes_claim_shapes():
    assert granted_scopes({"scope": "a b"}) == ["a", "b"]
    assert granted_scopes({"scp": ["a", "b"]}) == ["a", "b"]
    assert granted_scopes({"scopes": "c"}) == ["c"]
    assert granted_scopes({}) == []


def test_jwt_openapi_scheme():
    assert isinstance(bearer, SecurityBase)
    assert bearer.scheme_name == "JWTBearer"
    assert bearer.openapi_scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    named = JWTBearer(SECRET, scheme_name="jwt", description="Access token")
    assert named.scheme_name == "jwt"
    assert named.openapi_scheme["description"] == "Access token"
