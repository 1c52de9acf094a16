"""ACR's `/acr/v1` metadata API, the catalogs, tag lists and changeable attributes."""

from __future__ import annotations

import re
from urllib.parse import quote

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
ATTRS = {"deleteEnabled": True, "writeEnabled": True, "readEnabled": True, "listEnabled": True}


def meta(registry, repo: str, *actions: str) -> dict:
    return registry.bearer(f"repository:{repo}:{','.join(actions or ('metadata_read',))}")


def test_repository_attributes(registry, repo):
    registry.push_image(repo, "v1")
    response = registry.request("GET", f"/acr/v1/{quote(repo, safe='')}", headers=meta(registry, repo))
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "registry",
        "imageName",
        "createdTime",
        "lastUpdateTime",
        "manifestCount",
        "tagCount",
        "changeableAttributes",
    ]
    assert body["registry"] == registry.service
    assert body["imageName"] == repo
    assert body["manifestCount"] == 1 and body["tagCount"] == 1
    assert TIMESTAMP.match(body["createdTime"]) and TIMESTAMP.match(body["lastUpdateTime"])
    assert body["changeableAttributes"] == ATTRS
    assert response.content.endswith(b"}\n") and b", " not in response.content


def test_unknown_repository_is_name_unknown_with_detail(registry, repo):
    response = registry.request("GET", f"/acr/v1/{repo}", headers=meta(registry, repo))
    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {"code": "NAME_UNKNOWN", "message": "repository name not known to registry", "detail": {"name": repo}}
        ]
    }


def test_tag_attributes_and_unknown_tag(registry, repo):
    digest, _ = registry.push_image(repo, "v1")
    response = registry.request("GET", f"/acr/v1/{repo}/_tags/v1", headers=meta(registry, repo))
    body = response.json()
    assert body["registry"] == registry.service and body["imageName"] == repo
    tag = body["tag"]
    assert tag["name"] == "v1" and tag["digest"] == digest and tag["signed"] is False
    assert tag["changeableAttributes"] == ATTRS
    assert TIMESTAMP.match(tag["createdTime"])
    response = registry.request("GET", f"/acr/v1/{repo}/_tags/nope", headers=meta(registry, repo))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "TAG_UNKNOWN", "message": "the specified tag does not exist"}]}


def test_manifest_attributes_include_platform_and_tags(registry, repo):
    digest, body = registry.push_image(repo, "v1")
    response = registry.request("GET", f"/acr/v1/{repo}/_manifests/{quote(digest)}", headers=meta(registry, repo))
    manifest = response.json()["manifest"]
    assert manifest["digest"] == digest
    assert manifest["architecture"] == "amd64" and manifest["os"] == "linux"
    assert manifest["tags"] == ["v1"]
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["imageSize"] > len(body)
    assert manifest["changeableAttributes"] == ATTRS
    response = registry.request("GET", f"/acr/v1/{repo}/_manifests/sha256:{'5' * 64}", headers=meta(registry, repo))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}


def test_tag_list_pages_with_link_and_orders_by_time(registry, repo):
    digests = {}
    for tag in ("c", "a", "b"):
        digests[tag], _ = registry.push_image(repo, tag)
    headers = meta(registry, repo)
    response = registry.request("GET", f"/acr/v1/{repo}/_tags", params={"n": 2}, headers=headers)
    assert [t["name"] for t in response.json()["tags"]] == ["a", "b"]
    assert response.headers["Link"] == f'</acr/v1/{quote(repo, safe="")}/_tags?last=b&n=2&orderby=>; rel="next"'
    response = registry.request("GET", f"/acr/v1/{repo}/_tags", params={"n": 2, "last": "b"}, headers=headers)
    assert [t["name"] for t in response.json()["tags"]] == ["c"]
    assert "Link" not in response.headers
    response = registry.request("GET", f"/acr/v1/{repo}/_tags", params={"orderby": "timedesc"}, headers=headers)
    assert [t["name"] for t in response.json()["tags"]] == ["b", "a", "c"]
    response = registry.request("GET", f"/acr/v1/{repo}/_tags", params={"orderby": "timeasc", "n": 1}, headers=headers)
    assert [t["name"] for t in response.json()["tags"]] == ["c"]
    assert "orderby=timeasc" in response.headers["Link"]
    response = registry.request("GET", f"/acr/v1/{repo}/_tags", params={"digest": digests["a"]}, headers=headers)
    assert [t["name"] for t in response.json()["tags"]] == ["a"]


def test_manifest_list_and_v2_tag_list(registry, repo):
    for tag in ("v1", "v2"):
        registry.push_image(repo, tag)
    response = registry.request("GET", f"/acr/v1/{repo}/_manifests", params={"n": 1}, headers=meta(registry, repo))
    assert len(response.json()["manifests"]) == 1
    assert response.headers["Link"].startswith(f"</acr/v1/{quote(repo, safe='')}/_manifests?last=sha256%3A")
    response = registry.request("GET", f"/v2/{repo}/tags/list", params={"n": 1}, headers=meta(registry, repo))
    assert response.json() == {"name": repo, "tags": ["v1"]}
    assert response.headers["Link"] == f'</v2/{repo}/tags/list?last=v1&n=1&orderby=>; rel="next"'


def test_catalogs_list_repositories(registry, repo):
    registry.push_image(repo, "v1")
    headers = registry.bearer("registry:catalog:*")
    for path in ("/v2/_catalog", "/acr/v1/_catalog"):
        names = registry.request("GET", path, params={"n": 1000}, headers=headers).json()["repositories"]
        assert repo in names and names == sorted(names)
        page = registry.request("GET", path, params={"n": 1}, headers=headers)
        if len(names) > 1:
            assert page.headers["Link"] == f'<{path}?last={quote(names[0], safe="")}&n=1&orderby=>; rel="next"'


def test_patch_and_delete_tag_manifest_and_repository(registry, repo):
    digest, _ = registry.push_image(repo, "v1")
    registry.push_image(repo, "v2")
    write = meta(registry, repo, "metadata_write", "metadata_read", "delete", "pull", "push")
    response = registry.request("PATCH", f"/acr/v1/{repo}/_tags/v1", json={"writeEnabled": False}, headers=write)
    assert response.json()["tag"]["changeableAttributes"]["writeEnabled"] is False
    response = registry.request("DELETE", f"/acr/v1/{repo}/_tags/v1", headers=write)
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "REGISTRY_DISALLOWED_OPERATION"
    registry.request("PATCH", f"/acr/v1/{repo}/_tags/v1", json={"writeEnabled": True}, headers=write)
    assert registry.request("DELETE", f"/acr/v1/{repo}/_tags/v1", headers=write).status_code == 202
    assert registry.request("DELETE", f"/acr/v1/{repo}/_tags/v1", headers=write).status_code == 404

    response = registry.request(
        "PATCH", f"/acr/v1/{repo}/_manifests/{digest}", json={"readEnabled": False}, headers=write
    )
    assert response.json()["manifest"]["changeableAttributes"]["readEnabled"] is False
    response = registry.request("GET", f"/v2/{repo}/manifests/{digest}", headers=write)
    assert response.json()["errors"][0]["code"] == "REGISTRY_DISALLOWED_OPERATION"

    response = registry.request("PATCH", f"/acr/v1/{repo}", json={"deleteEnabled": False}, headers=write)
    assert response.json()["changeableAttributes"]["deleteEnabled"] is False
    assert registry.request("DELETE", f"/acr/v1/{repo}", headers=write).status_code == 405
    registry.request("PATCH", f"/acr/v1/{repo}", json={"deleteEnabled": True}, headers=write)
    response = registry.request("DELETE", f"/acr/v1/{repo}", headers=write)
    assert response.status_code == 202
    assert sorted(response.json()) == ["manifestsDeleted", "tagsDeleted"]
    assert response.json()["tagsDeleted"] == ["v2"]
    assert len(response.json()["manifestsDeleted"]) == 2
    assert registry.request("GET", f"/acr/v1/{repo}", headers=write).status_code == 404


def test_locked_repository_refuses_pushes(registry, repo):
    registry.push_image(repo, "v1")
    write = meta(registry, repo, "metadata_write", "pull", "push")
    registry.request("PATCH", f"/acr/v1/{repo}", json={"writeEnabled": False}, headers=write)
    response = registry.request("POST", f"/v2/{repo}/blobs/uploads/", headers=write)
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "REGISTRY_DISALLOWED_OPERATION"


def test_list_disabled_tag_is_hidden(registry, repo):
    registry.push_image(repo, "v1")
    registry.push_image(repo, "v2")
    write = meta(registry, repo, "metadata_write", "metadata_read")
    registry.request("PATCH", f"/acr/v1/{repo}/_tags/v1", json={"listEnabled": False}, headers=write)
    response = registry.request("GET", f"/acr/v1/{repo}/_tags", headers=write)
    assert [t["name"] for t in response.json()["tags"]] == ["v2"]
