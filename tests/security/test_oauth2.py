"""OAuth2 password flow end to end: the token form, bearer extraction, scopes 401 vs 403."""

from FasterAPI import Depends, Faster, HTTPException, Security
from FasterAPI.security import (
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
    SecurityBase,
    SecurityScopes,
    require_scopes,
    token_error_response,
    token_response,
)
from FasterAPI.testclient import TestClient

USERS = {"alice": ("wonderland", ["items:read", "items:write"]), "bob": ("builder", [])}
# Opaque tokens for the test: "token-<user>-<scope>,<scope>"
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/token",
    scopes={"items:read": "Read items", "items:write": "Write items"},
    realm="shop",
)


def build_app() -> Faster:
    app = Faster()

    @app.post("/token")
    def login(form: OAuth2PasswordRequestForm = Depends()):
        user = USERS.get(form.username)
        if user is None or user[0] != form.password:
            return token_error_response("invalid_grant", "Bad username or password")
        granted = [scope for scope in form.scopes if scope in user[1]]
        return token_response(
            f"token-{form.username}-{','.join(granted)}", expires_in=60, scope=" ".join(granted)
        )

    def current_user(security_scopes: SecurityScopes, token: str = Depends(oauth2_scheme)):
        if not token.startswith("token-"):
            raise HTTPException(401, "Bad token", headers={"WWW-Authenticate": "Bearer"})
        _, user, scopes = token.split("-", 2)
        require_scopes(security_scopes, scopes.split(","), realm="shop")
        return user

    @app.get("/me")
    def me(user: str = Depends(current_user)):
        return {"user": user}

    @app.get("/items")
    def items(user: str = Security(current_user, scopes=["items:read"])):
        return {"user": user, "items": ["a"]}

    @app.post("/items")
    def add_item(user: str = Security(current_user, scopes=["items:read", "items:write"])):
        return {"user": user}

    @app.post("/strict")
    def strict(form: OAuth2PasswordRequestFormStrict = Depends()):
        return {"grant_type": form.grant_type}

    return app


client = TestClient(build_app())


def login(username, password, scope=""):
    data = {"username": username, "password": password, "scope": scope}
    return client.post("/token", data=data)


def test_oauth2_password_form_issues_token_response():
    response = login("alice", "wonderland", "items:read items:write admin")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.json() == {
        "access_token": "token-alice-items:read,items:write",
        "token_type": "bearer",
        "expires_in": 60,
        "scope": "items:read items:write",
    }


def test_oauth2_password_form_multipart():
    files = {"username": (None, "alice"), "password": (None, "wonderland")}
    response = client.post("/token", files=files)
    assert response.status_code == 200
    assert response.json()["access_token"] == "token-alice-"


def test_oauth2_password_form_bad_password_is_invalid_grant():
    response = login("alice", "nope")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Bad username or password",
    }


def test_oauth2_password_form_missing_fields_is_422():
    response = client.post("/token", data={"username": "alice"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [["body", "password"]]
    missing_both = client.post("/token", data={"scope": "x"})
    assert missing_both.status_code == 422
    locs = sorted(tuple(error["loc"]) for error in missing_both.json()["detail"])
    assert locs == [("body", "password"), ("body", "username")]


def test_oauth2_password_form_rejects_other_grant_type():
    data = {"username": "a", "password": "b", "grant_type": "client_credentials"}
    assert client.post("/token", data=data).status_code == 422
    data["grant_type"] = "password"
    assert client.post("/token", data=data).status_code == 400  # unknown user, valid form


def test_oauth2_strict_form_requires_grant_type():
    assert client.post("/strict", data={"username": "a", "password": "b"}).status_code == 422
    data = {"username": "a", "password": "b", "grant_type": "password"}
    assert client.post("/strict", data=data).json() == {"grant_type": "password"}


def test_oauth2_bearer_with_valid_token():
    token = login("alice", "wonderland", "items:read").json()["access_token"]
    response = client.get("/items", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"user": "alice", "items": ["a"]}


def test_oauth2_bearer_scheme_case_insensitive():
    token = login("alice", "wonderland").json()["access_token"]
    response = client.get("/me", headers={"Authorization": f"BEARER {token}"})
    assert response.json() == {"user": "alice"}


def test_oauth2_missing_token_is_401_with_realm_and_scopes():
    response = client.get("/items")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == 'Bearer realm="shop", scope="items:read"'
    plain = client.get("/me")
    assert plain.headers["www-authenticate"] == 'Bearer realm="shop"'


def test_oauth2_wrong_scheme_is_401():
    response = client.get("/me", headers={"Authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}


def test_oauth2_missing_scope_is_403_naming_needed_scopes():
    token = login("alice", "wonderland", "items:read").json()["access_token"]
    response = client.post("/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="shop", error="insufficient_scope", scope="items:read items:write"'
    )
    bob = login("bob", "builder", "items:read").json()["access_token"]
    assert client.get("/items", headers={"Authorization": f"Bearer {bob}"}).status_code == 403


def test_oauth2_auto_error_false_returns_none():
    app = Faster()
    optional = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)

    @app.get("/")
    def index(token: str | None = Depends(optional)):
        return {"token": token}

    local = TestClient(app)
    assert local.get("/").json() == {"token": None}
    assert local.get("/", headers={"Authorization": "Basic x"}).json() == {"token": None}
    assert local.get("/", headers={"Authorization": "Bearer t"}).json() == {"token": "t"}


def test_oauth2_openapi_schemes():
    assert isinstance(oauth2_scheme, SecurityBase)
    assert oauth2_scheme.scheme_name == "OAuth2PasswordBearer"
    assert oauth2_scheme.openapi_scheme == {
        "type": "oauth2",
        "flows": {
            "password": {
                "tokenUrl": "/token",
                "scopes": {"items:read": "Read items", "items:write": "Write items"},
            }
        },
    }
    code = OAuth2AuthorizationCodeBearer(
        "https://auth/authorize", "https://auth/token", scheme_name="code"
    )
    assert code.scheme_name == "code"
    assert code.openapi_scheme["flows"]["authorizationCode"] == {
        "authorizationUrl": "https://auth/authorize",
        "tokenUrl": "https://auth/token",
        "scopes": {},
    }
    oidc = OpenIdConnect(openIdConnectUrl="https://auth/.well-known/openid-configuration")
    assert oidc.openapi_scheme == {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://auth/.well-known/openid-configuration",
    }


def test_oauth2_authorization_code_bearer_and_openid_connect_read_tokens():
    app = Faster()
    code = OAuth2AuthorizationCodeBearer("/authorize", "/token")
    oidc = OpenIdConnect(openIdConnectUrl="/oidc")

    @app.get("/code")
    def by_code(token: str = Depends(code)):
        return token

    @app.get("/oidc")
    def by_oidc(authorization: str = Depends(oidc)):
        return authorization

    local = TestClient(app)
    headers = {"Authorization": "Bearer xyz"}
    assert local.get("/code", headers=headers).json() == "xyz"
    assert local.get("/oidc", headers=headers).json() == "Bearer xyz"
    assert local.get("/code").status_code == 401
    assert local.get("/oidc").status_code == 401


def test_oauth2_grant_type_with_a_trailing_newline_is_not_password():
    data = {"username": "a", "password": "b", "grant_type": "password\n"}
    assert client.post("/strict", data=data).status_code == 422
    assert client.post("/token", data=data).status_code == 422
