"""Manifest push, pull, validation and delete on `/v2`."""

from __future__ import annotations

import json

from emulator_helpers import OCI_MANIFEST, digest_of


def test_manifest_push_then_pull_returns_exact_bytes_and_headers(registry, repo):
    digest, manifest = registry.push_image(repo, "v1")
    headers = registry.bearer(f"repository:{repo}:pull")
    for reference in ("v1", digest, digest.replace(":", "%3A")):
        response = registry.request("GET", f"/v2/{repo}/manifests/{reference}", headers=headers)
        assert response.status_code == 200
        assert response.content == manifest
        assert response.headers["Content-Type"] == OCI_MANIFEST
        assert response.headers["Docker-Content-Digest"] == digest
        assert response.headers["ETag"] == f'"{digest}"'
        assert response.headers["Content-Length"] == str(len(manifest))
    head = registry.request("HEAD", f"/v2/{repo}/manifests/v1", headers=headers)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(manifest))
    assert head.headers["Docker-Content-Digest"] == digest


def put(registry, repo: str, reference: str, body: bytes, content_type: str = OCI_MANIFEST):
    headers = {"Content-Type": content_type, **registry.bearer(f"repository:{repo}:push,pull")}
    return registry.request("PUT", f"/v2/{repo}/manifests/{reference}", data=body, headers=headers)


def test_manifest_put_answers_digest_and_location(registry, repo):
    config = registry.push_blob(repo, b"{}")
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
            "layers": [],
        }
    ).encode()
    response = put(registry, repo, "v1", body)
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == digest_of(body)
    assert response.headers["Location"] == f"/v2/{repo}/manifests/{digest_of(body)}"


def test_manifest_referring_to_a_missing_blob_is_rejected(registry, repo):
    body = json.dumps(
        {
            "schemaVersion": 2,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "1" * 64,
                "size": 3,
            },
            "layers": [],
        }
    ).encode()
    response = put(registry, repo, "v1", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_manifest_put_by_a_digest_that_does_not_match_is_rejected(registry, repo):
    _, manifest = registry.push_image(repo, "v1")
    response = put(registry, repo, "sha256:" + "2" * 64, manifest)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


def test_manifest_larger_than_4_mib_is_rejected(registry, repo):
    response = put(registry, repo, "big", b"{" + b" " * (4 * 1024 * 1024) + b"}")
    assert response.status_code == 413


def test_invalid_json_manifest_is_rejected(registry, repo):
    response = put(registry, repo, "v1", b"not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


def test_media_type_falls_back_to_the_body(registry, repo):
    _, manifest = registry.push_image(repo, "v1")
    response = put(registry, repo, "v2", manifest, content_type="application/octet-stream")
    assert response.status_code == 201
    pulled = registry.request("GET", f"/v2/{repo}/manifests/v2", headers=registry.bearer(f"repository:{repo}:pull"))
    assert pulled.headers["Content-Type"] == OCI_MANIFEST


def test_manifest_with_subject_answers_oci_subject_and_is_a_referrer(registry, repo):
    subject, manifest = registry.push_image(repo, "v1")
    empty = registry.push_blob(repo, b"{}")
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.sbom",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(manifest)},
            "annotations": {"org.example": "yes"},
        }
    ).encode()
    response = put(registry, repo, digest_of(body), body)
    assert response.status_code == 201
    assert response.headers["OCI-Subject"] == subject
    headers = registry.bearer(f"repository:{repo}:pull")
    index = registry.request("GET", f"/v2/{repo}/referrers/{subject}", headers=headers)
    assert index.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    assert index.json()["manifests"] == [
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest_of(body),
            "size": len(body),
            "artifactType": "application/vnd.example.sbom",
            "annotations": {"org.example": "yes"},
        }
    ]
    filtered = registry.request(
        "GET", f"/v2/{repo}/referrers/{subject}", params={"artifactType": "other/type"}, headers=headers
    )
    assert filtered.json()["manifests"] == []
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"


def test_subject_that_does_not_exist_yet_is_accepted(registry, repo):
    empty = registry.push_blob(repo, b"{}")
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "3" * 64, "size": 10},
        }
    ).encode()
    assert put(registry, repo, digest_of(body), body).status_code == 201


def test_delete_by_digest_removes_the_manifest_and_its_tags(registry, repo):
    digest, _ = registry.push_image(repo, "v1")
    registry.request(
        "PUT",
        f"/v2/{repo}/manifests/v2",
        data=registry.request("GET", f"/v2/{repo}/manifests/v1", auth=registry.admin).content,
        headers={"Content-Type": OCI_MANIFEST},
        auth=registry.admin,
    )
    headers = registry.bearer(f"repository:{repo}:delete,pull")
    response = registry.request("DELETE", f"/v2/{repo}/manifests/{digest}", headers=headers)
    assert response.status_code == 202
    for reference in ("v1", "v2", digest):
        response = registry.request("GET", f"/v2/{repo}/manifests/{reference}", headers=headers)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_delete_by_tag_removes_only_the_tag(registry, repo):
    digest, _ = registry.push_image(repo, "v1")
    headers = registry.bearer(f"repository:{repo}:delete,pull")
    assert registry.request("DELETE", f"/v2/{repo}/manifests/v1", headers=headers).status_code == 202
    assert registry.request("GET", f"/v2/{repo}/manifests/v1", headers=headers).status_code == 404
    assert registry.request("GET", f"/v2/{repo}/manifests/{digest}", headers=headers).status_code == 200


def test_index_requires_its_child_manifests(registry, repo):
    child, child_body = registry.push_image(repo)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": child,
                    "size": len(child_body),
                    "platform": {"architecture": "arm64", "os": "linux"},
                }
            ],
        }
    ).encode()
    assert put(registry, repo, "multi", index, "application/vnd.oci.image.index.v1+json").status_code == 201
    missing = index.replace(child.encode(), b"sha256:" + b"4" * 64)
    response = put(registry, repo, "broken", missing, "application/vnd.oci.image.index.v1+json")
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
