"""The local AAD, the exchange and the token service, and rejection of forged or stale tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import msal
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REGISTRY_SCOPE = "https://containerregistry.azure.net/.default"


def msal_app(emulator, secret: str | None = None) -> msal.ConfidentialClientApplication:
    http = requests.Session()
    http.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify
    http.verify = emulator.ca_cert
    return msal.ConfidentialClientApplication(
        emulator.info["clientId"],
        client_credential=secret or emulator.info["clientSecret"],
        authority=emulator.info["authority"],
        instance_discovery=False,
        http_client=http,
    )


@pytest.fixture(scope="module")
def aad_token(emulator) -> str:
    result = msal_app(emulator).acquire_token_for_client(scopes=[REGISTRY_SCOPE])
    assert "access_token" in result, result
    return result["access_token"]


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_msal_client_credentials_gets_a_registry_token(emulator, aad_token):
    claims = claims_of(aad_token)
    assert claims["aud"] == "https://containerregistry.azure.net"
    assert claims["tid"] == emulator.info["tenantId"]
    assert claims["appid"] == emulator.info["clientId"]
    assert jwt.get_unverified_header(aad_token)["alg"] == "RS256"


def test_msal_with_a_wrong_secret_gets_invalid_client(emulator):
    result = msal_app(emulator, secret="not-the-secret").acquire_token_for_client(scopes=[REGISTRY_SCOPE])
    assert result["error"] == "invalid_client"


def test_aad_answers_invalid_client_with_401(emulator, registry):
    response = registry.request(
        "POST",
        f"/{emulator.info['tenantId']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": emulator.info["clientId"],
            "client_secret": "nope",
            "scope": REGISTRY_SCOPE,
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_openid_configuration_points_at_the_local_authority(emulator, registry):
    response = registry.request("GET", f"/{emulator.info['tenantId']}/v2.0/.well-known/openid-configuration")
    config = response.json()
    assert config["token_endpoint"] == emulator.info["authority"] + "/oauth2/v2.0/token"
    keys = registry.session.get(config["jwks_uri"]).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA"


def exchange(registry, aad_token: str, **extra) -> requests.Response:
    form = {"grant_type": "access_token", "service": registry.service, "access_token": aad_token, **extra}
    return registry.request("POST", "/oauth2/exchange", data=form)


def test_exchange_then_refresh_then_access(registry, aad_token, repo, emulator):
    response = exchange(registry, aad_token, tenant=emulator.info["tenantId"])
    assert response.status_code == 200
    assert list(response.json()) == ["refresh_token"]
    refresh = response.json()["refresh_token"]
    payload = refresh.split(".")[1]
    assert "-" not in payload and "_" not in payload
    # the azure-containerregistry SDK reads exp with standard base64
    assert json.loads(base64.b64decode(payload + "==="))["exp"] > time.time()

    response = registry.request(
        "POST",
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "service": registry.service,
            "refresh_token": refresh,
            "scope": f"repository:{repo}:pull,metadataRead registry:catalog:*",
        },
    )
    assert response.status_code == 200
    access = claims_of(response.json()["access_token"])
    assert access["iss"] == "Azure Container Registry"
    assert access["aud"] == registry.service
    assert access["grant_type"] == "access_token"
    assert {"type": "repository", "name": repo, "actions": ["pull", "metadata_read"]} in access["access"]
    assert {"type": "registry", "name": "catalog", "actions": ["*"]} in access["access"]
    assert registry.request(
        "GET", "/v2/_catalog", headers={"Authorization": "Bearer " + response.json()["access_token"]}
    ).ok


def test_exchange_rejects_tokens_it_did_not_issue(registry):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"aud": "https://containerregistry.azure.net", "tid": "x", "exp": time.time() + 600}, key, "RS256"
    )
    assert exchange(registry, forged).status_code == 401
    assert exchange(registry, "not-a-jwt").status_code == 401
    assert registry.request("GET", "/oauth2/exchange").status_code == 404


def test_exchange_rejects_other_audiences(emulator, registry):
    result = msal_app(emulator).acquire_token_for_client(scopes=["https://vault.azure.net/.default"])
    response = exchange(registry, result["access_token"])
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_exchange_accepts_arm_audience(emulator, registry):
    result = msal_app(emulator).acquire_token_for_client(scopes=["https://management.core.windows.net//.default"])
    assert claims_of(result["access_token"])["aud"] == "https://management.core.windows.net/"
    assert exchange(registry, result["access_token"]).status_code == 200


def test_chunked_token_form_like_skopeo(registry, aad_token, repo):
    refresh = exchange(registry, aad_token).json()["refresh_token"]
    form = (
        f"client_id=containers%2Fimage&grant_type=refresh_token&refresh_token={refresh}"
        f"&scope=repository%3A{repo.replace('/', '%2F')}%3Apull&service={registry.service}"
    )

    def body():
        yield form[:40].encode()
        yield form[40:].encode()

    response = registry.request(
        "POST", "/oauth2/token", data=body(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200, response.text
    assert claims_of(response.json()["access_token"])["access"] == [
        {"type": "repository", "name": repo, "actions": ["pull"]}
    ]


def test_repeated_scope_fields_are_all_granted(registry):
    response = registry.request(
        "POST",
        "/oauth2/token",
        data=[
            ("grant_type", "password"),
            ("username", registry.admin[0]),
            ("password", registry.admin[1]),
            ("service", registry.service),
            ("scope", "repository:a:pull"),
            ("scope", "repository:b:push"),
        ],
    )
    access = claims_of(response.json()["access_token"])["access"]
    assert access == [
        {"type": "repository", "name": "a", "actions": ["pull"]},
        {"type": "repository", "name": "b", "actions": ["push"]},
    ]


def test_wrong_password_grant_is_unauthorized(registry):
    response = registry.request(
        "POST",
        "/oauth2/token",
        data={"grant_type": "password", "username": "acremulator", "password": "x", "service": registry.service},
    )
    assert response.status_code == 401


def test_anonymous_password_grant_gets_no_access_without_anonymous_pull(registry, repo):
    response = registry.request(
        "POST",
        "/oauth2/token",
        data={"grant_type": "password", "service": registry.service, "scope": f"repository:{repo}:pull"},
    )
    token = response.json()["access_token"]
    assert claims_of(token)["sub"] == "acr_anon_pull"
    assert claims_of(token)["access"] == []
    assert registry.request("GET", "/v2/", headers={"Authorization": "Bearer " + token}).status_code == 200


def test_null_guid_with_refresh_token_and_offline_token_returns_a_refresh_token(registry, aad_token, repo):
    refresh = exchange(registry, aad_token).json()["refresh_token"]
    response = registry.request(
        "GET",
        "/oauth2/token",
        params={
            "service": registry.service,
            "scope": f"repository:{repo}:pull",
            "offline_token": "true",
            "client_id": "docker",
        },
        auth=("00000000-0000-0000-0000-000000000000", refresh),
    )
    assert response.status_code == 200
    assert claims_of(response.json()["refresh_token"])["grant_type"] == "refresh_token"
    assert claims_of(response.json()["access_token"])["access"][0]["actions"] == ["pull"]


@pytest.fixture(scope="module")
def signing_key(emulator):
    pem = (emulator.data_dir / "keys" / "registry-signing-key.pem").read_bytes()
    return serialization.load_pem_private_key(pem, password=None)


def access_claims(registry, repo: str, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "jti": str(uuid.uuid4()),
        "sub": "x",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": "Azure Container Registry",
        "aud": registry.service,
        "version": "1.0",
        "grant_type": "access_token",
        "access": [{"type": "repository", "name": repo, "actions": ["pull"]}],
    }
    claims.update(overrides)
    return claims


def assert_rejected(registry, repo: str, token: str) -> None:
    response = registry.request("GET", f"/v2/{repo}/manifests/v1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert registry.request("GET", "/v2/", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_properly_signed_token_is_accepted(registry, repo, signing_key):
    registry.push_image(repo, "v1")
    token = jwt.encode(access_claims(registry, repo), signing_key, "RS256")
    response = registry.request("GET", f"/v2/{repo}/manifests/v1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_expired_token_is_rejected(registry, repo, signing_key):
    past = int(time.time()) - 3600
    assert_rejected(
        registry,
        repo,
        jwt.encode(access_claims(registry, repo, iat=past, nbf=past, exp=past + 60), signing_key, "RS256"),
    )


def test_tampered_token_is_rejected(registry, repo):
    token = registry.token(f"repository:{repo}-other:pull")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    claims["access"][0]["name"] = repo
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_rejected(registry, repo, f"{header}.{forged_payload}.{signature}")


def test_alg_none_token_is_rejected(registry, repo):
    assert_rejected(registry, repo, jwt.encode(access_claims(registry, repo), key=None, algorithm="none"))


def test_token_signed_by_another_key_is_rejected(registry, repo):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_rejected(registry, repo, jwt.encode(access_claims(registry, repo), key, "RS256"))


def test_refresh_token_is_not_an_access_token(registry, aad_token, repo):
    refresh = exchange(registry, aad_token).json()["refresh_token"]
    assert_rejected(registry, repo, refresh)
