"""Challenges, credentials and common headers on the registry APIs."""

from __future__ import annotations

V2_BODY = (
    b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit '
    b'https://aka.ms/acr/authorization for more information.","detail":null}]}\n'
)


def test_v2_without_credentials_gets_the_exact_scopeless_challenge(registry):
    response = registry.request("GET", "/v2/")
    assert response.status_code == 401
    host = registry.service
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="https://{host}/oauth2/token",service="{host}"'
    assert response.content == V2_BODY
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert response.headers["X-Ms-Correlation-Request-Id"]


def test_v2_challenge_follows_the_host_header(registry):
    host = f"127.0.0.1:{registry.emulator.info['port']}"
    response = registry.request("GET", "/v2/", headers={"Host": host})
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="https://{host}/oauth2/token",service="{host}"'


def test_v2_accepts_admin_basic_and_any_valid_bearer(registry):
    assert registry.request("GET", "/v2/", auth=registry.admin).content == b"{}\n"
    response = registry.request("GET", "/v2/", headers=registry.bearer())
    assert response.status_code == 200


def test_wrong_basic_credentials_get_the_basic_challenge(registry):
    response = registry.request("GET", "/v2/", auth=("acremulator", "wrong"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Azure Container Registry"'
    response = registry.request("GET", "/v2/x/tags/list", auth=("00000000-0000-0000-0000-000000000000", "x"))
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Azure Container Registry"'


def test_resource_challenge_names_the_scope_and_lists_detail(registry, repo):
    response = registry.request("GET", f"/acr/v1/{repo}/_tags")
    assert response.status_code == 401
    host = registry.service
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="https://{host}/oauth2/token",service="{host}",scope="repository:{repo}:metadata_read"'
    )
    assert response.json()["errors"][0]["detail"] == [{"Type": "repository", "Name": repo, "Action": "metadata_read"}]
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_push_challenges_ask_for_push_and_pull(registry, repo):
    response = registry.request("POST", f"/v2/{repo}/blobs/uploads/")
    assert response.headers["WWW-Authenticate"].endswith(f',scope="repository:{repo}:push,pull"')
    actions = [d["Action"] for d in response.json()["errors"][0]["detail"]]
    assert actions == ["push", "pull"]
    response = registry.request("PUT", f"/v2/{repo}/manifests/v1", data=b"{}")
    assert response.headers["WWW-Authenticate"].endswith(f',scope="repository:{repo}:pull,push"')


def test_catalog_challenge_asks_for_registry_catalog(registry):
    for path in ("/v2/_catalog", "/acr/v1/_catalog"):
        response = registry.request("GET", path)
        assert response.headers["WWW-Authenticate"].endswith(',scope="registry:catalog:*"')


def test_token_without_the_needed_action_gets_insufficient_scope(registry, repo):
    registry.push_image(repo, "v1")
    response = registry.request(
        "DELETE", f"/acr/v1/{repo}/_tags/v1", headers=registry.bearer(f"repository:{repo}:pull")
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(
        f',scope="repository:{repo}:delete",error="insufficient_scope"'
    )


def test_token_for_one_repository_cannot_read_another(registry, repo):
    digest, _ = registry.push_image(repo, "v1")
    other = repo + "-other"
    registry.push_image(other, "v1")
    headers = registry.bearer(f"repository:{repo}:pull")
    assert registry.request("GET", f"/v2/{repo}/manifests/v1", headers=headers).status_code == 200
    response = registry.request("GET", f"/v2/{other}/manifests/v1", headers=headers)
    assert response.status_code == 401
    assert f'scope="repository:{other}:pull"' in response.headers["WWW-Authenticate"]


def test_admin_basic_works_directly_on_data_endpoints(registry, repo):
    digest, manifest = registry.push_image(repo, "v1")
    response = registry.request("GET", f"/v2/{repo}/manifests/v1", auth=registry.admin)
    assert response.content == manifest


def test_auth_is_checked_before_the_body_is_applied(registry, repo):
    response = registry.request(
        "POST", f"/v2/{repo}/blobs/uploads/", params={"digest": "sha256:" + "0" * 64}, data=b"x"
    )
    assert response.status_code == 401
    assert registry.request("GET", f"/acr/v1/{repo}", auth=registry.admin).status_code == 404
