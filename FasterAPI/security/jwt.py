"""JSON Web Tokens on PyJWT: ``JWTBearer`` and ``create_access_token`` (extra ``FasterAPI[jwt]``).

    SECRET = os.environ["JWT_SECRET"]               # >= 32 bytes for HS256
    bearer = JWTBearer(SECRET, audience="my-api", issuer="https://auth.example")

    @app.post("/token")
    def login(form: OAuth2PasswordRequestForm = Depends()):
        user = authenticate(form.username, form.password)      # yours
        token = create_access_token(user.id, SECRET, timedelta(minutes=15),
                                    audience="my-api", issuer="https://auth.example",
                                    scopes=form.scopes)
        return token_response(token, expires_in=900)

    @app.get("/items")
    def items(claims: dict = Security(bearer, scopes=["items:read"])):
        return {"user": claims["sub"]}

What is refused, and how:

- at construction (``ValueError``): ``alg=none``; a secret together with an asymmetric
  algorithm or a public key with an HMAC one (the "algorithm confusion" attack needs a
  verifier that accepts both); HMAC secrets shorter than the hash (RFC 7518 §3.2);
- per request (401, ``WWW-Authenticate: Bearer error="invalid_token"``): a token whose
  header names an algorithm outside ``algorithms`` (so ``none``, or HS256 signed with a
  leaked RSA public key), a bad signature, a malformed token, an expired or not-yet-valid
  token (``leeway`` seconds of clock skew allowed), a wrong audience or issuer, a token with
  an audience when none is configured, a missing required claim (``exp`` by default);
- 403 ``insufficient_scope`` when the token's ``scope``/``scp`` claim lacks a scope that the
  ``Security(..., scopes=[...])`` chain requires (also with ``auto_error=False``, which only
  turns missing or invalid tokens into ``None``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

try:
    import jwt
    from jwt.algorithms import get_default_algorithms
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("JWT support needs PyJWT: pip install 'FasterAPI[jwt]'") from exc

from FasterAPI.exceptions import HTTPException
from FasterAPI.request import Request
from FasterAPI.security.base import (
    SecurityBase,
    bearer_challenge,
    challenge,
    note_credential,
    split_authorization,
    unauthorized,
)
from FasterAPI.security.scopes import SecurityScopes, require_scopes

__all__ = ["JWTBearer", "create_access_token", "granted_scopes"]

_HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_ALGORITHMS = get_default_algorithms()


def _check_algorithms(algorithms: Sequence[str], *, symmetric: bool) -> list[str]:
    if isinstance(algorithms, str):
        raise TypeError("algorithms must be a sequence of names, e.g. ['HS256']")
    if not algorithms:
        raise ValueError("Give at least one algorithm")
    for name in algorithms:
        if name.lower() == "none":
            raise ValueError("alg=none (unsigned tokens) is never accepted")
        if name not in _ALGORITHMS:
            raise ValueError(f"Unknown JWT algorithm {name!r}")
        if (name in _HMAC_MIN_BYTES) != symmetric:
            kind = "an HMAC secret" if symmetric else "a public key"
            raise ValueError(
                f"{name} cannot be used with {kind}: mixing HMAC and public-key algorithms "
                "allows algorithm confusion"
            )
    return list(algorithms)


def _check_secret(secret: str | bytes, algorithms: Iterable[str]) -> None:
    size = len(secret.encode() if isinstance(secret, str) else secret)
    for name in algorithms:
        if size < _HMAC_MIN_BYTES[name]:
            raise ValueError(
                f"{name} needs a secret of at least {_HMAC_MIN_BYTES[name]} bytes (got {size})"
            )


def granted_scopes(claims: Mapping[str, Any]) -> list[str]:
    """The scopes a token grants: ``scope`` (space-separated, RFC 9068) or ``scp`` / ``scopes``."""
    for name in ("scope", "scp", "scopes"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [str(item) for item in value]
    return []


class JWTBearer(SecurityBase):
    """A bearer JWT checked with ``secret`` (HMAC) or ``public_key`` (RSA, EC, EdDSA).

    The dependency's value is the token's claims (a dict).
    """

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        public_key: Any = None,
        algorithms: Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        issuer: str | None = None,
        leeway: float | timedelta = 0,
        required_claims: Sequence[str] = ("exp",),
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
    ) -> None:
        if (secret is None) == (public_key is None):
            raise ValueError("Give exactly one of secret (HMAC) or public_key (RSA, EC, EdDSA)")
        symmetric = secret is not None
        default = ["HS256"] if symmetric else ["RS256"]
        self.algorithms = _check_algorithms(algorithms or default, symmetric=symmetric)
        if secret is not None:
            _check_secret(secret, self.algorithms)
            key: Any = secret
        else:
            key = public_key
        try:
            # PERF: parse the PEM once here rather than on every request.
            self._keys = {name: _ALGORITHMS[name].prepare_key(key) for name in self.algorithms}
        except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
            raise ValueError(f"The key does not suit {self.algorithms}: {exc}") from exc
        super().__init__(
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.audience = [audience] if isinstance(audience, str) else audience
        self.issuer = issuer
        self.leeway = leeway
        self.required_claims = list(required_claims)
        self.realm = realm

    def decode(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; raises ``jwt.InvalidTokenError`` subclasses."""
        algorithm = jwt.get_unverified_header(token).get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._keys:
            raise jwt.InvalidAlgorithmError(f"The algorithm {algorithm!r} is not allowed")
        key = self._keys[algorithm]
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": self.required_claims},
        )

    def _invalid(self, security_scopes: SecurityScopes, error: str, detail: str) -> HTTPException:
        www = challenge(
            "Bearer",
            realm=self.realm,
            scope=security_scopes.scope_str,
            error=error,
            error_description=detail,
        )
        return HTTPException(401, detail, headers={"WWW-Authenticate": www})

    async def __call__(
        self, request: Request, security_scopes: SecurityScopes
    ) -> dict[str, Any] | None:
        note_credential(request, "header", "authorization")
        scheme, token = split_authorization(request.headers.get("authorization"))
        failure: HTTPException
        if not scheme:
            failure = unauthorized(bearer_challenge(self.realm, security_scopes))
        elif scheme.lower() != "bearer" or not token:
            failure = self._invalid(security_scopes, "invalid_request", "Expected a bearer token")
        else:
            try:
                claims = self.decode(token)
            except jwt.ExpiredSignatureError:
                failure = self._invalid(security_scopes, "invalid_token", "The token has expired")
            except jwt.InvalidTokenError:
                failure = self._invalid(security_scopes, "invalid_token", "The token is invalid")
            else:
                if security_scopes.scopes:
                    require_scopes(security_scopes, granted_scopes(claims), realm=self.realm)
                return claims
        if self.auto_error:
            raise failure
        return None


def create_access_token(
    subject: str | int,
    secret: Any,
    expires_delta: timedelta = timedelta(minutes=15),
    algorithm: str = "HS256",
    extra_claims: Mapping[str, Any] | None = None,
    *,
    audience: str | Sequence[str] | None = None,
    issuer: str | None = None,
    scopes: Sequence[str] | None = None,
    not_before: datetime | None = None,
    token_id: bool = True,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A signed JWT for ``subject`` expiring after ``expires_delta``.

    ``secret`` is the HMAC secret, or the private key (PEM or key object) for RS*/PS*/ES*/EdDSA.
    Sets ``sub``, ``iat``, ``exp``, ``jti`` (unless ``token_id=False``) and, when given,
    ``aud``, ``iss``, ``nbf`` and ``scope`` (space-separated); ``extra_claims`` adds others but
    cannot override those. A negative ``expires_delta`` makes an already expired token.
    """
    symmetric = algorithm in _HMAC_MIN_BYTES
    _check_algorithms([algorithm], symmetric=symmetric)
    if symmetric:
        if not isinstance(secret, (str, bytes)):
            raise TypeError(f"{algorithm} needs a str or bytes secret")
        _check_secret(secret, [algorithm])
    now = datetime.now(timezone.utc)
    claims: dict[str, Any] = dict(extra_claims or {})
    claims.update(sub=str(subject), iat=now, exp=now + expires_delta)
    if token_id:
        claims["jti"] = uuid.uuid4().hex
    if audience is not None:
        claims["aud"] = audience if isinstance(audience, str) else list(audience)
    if issuer is not None:
        claims["iss"] = issuer
    if not_before is not None:
        claims["nbf"] = not_before
    if scopes:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, secret, algorithm=algorithm, headers=dict(headers or {}) or None)
