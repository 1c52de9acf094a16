"""OCI distribution-spec v1.1 conformance, workflow by workflow and endpoint by endpoint (end-1 .. end-14).

The spec's own conformance program (Go, opencontainers/distribution-spec/conformance) cannot be installed
here: Debian packages neither it nor its source, and only PyPI, Debian and npm are reachable. These tests
follow its four workflows (pull, push, content discovery, content management) and check the status
codes and headers of each endpoint row of the spec's table instead.
"""

from __future__ import annotations

import json
import os

import pytest
from emulator_helpers import OCI_CONFIG, OCI_MANIFEST, digest_of

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MISSING = "sha256:" + "0" * 64


@pytest.fixture
def api(registry, repo):
    """(request function with a token for every action on `repo`, repo)."""
    auth = registry.bearer(f"repository:{repo}:pull,push,delete,metadata_read", "repository:conformance/src:pull")

    def call(method: str, path: str, **kwargs):
        headers = {**auth, **kwargs.pop("headers", {})}
        return registry.request(method, path, headers=headers, allow_redirects=False, **kwargs)

    return call, repo


def _image(registry, repo, tag="v1", layer=None, extra=None):
    layer = layer if layer is not None else os.urandom(4096)
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    config_digest, layer_digest = registry.push_blob(repo, config), registry.push_blob(repo, layer)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                    "size": len(layer)}],
        **(extra or {}),
    }
    body = json.dumps(manifest).encode()
    return body, layer_digest, layer


def _put_manifest(call, repo, ref, body, media_type=OCI_MANIFEST):
    return call("PUT", f"/v2/{repo}/manifests/{ref}", data=body, headers={"Content-Type": media_type})


def _error_code(response) -> str:
    return response.json()["errors"][0]["code"]


# --- pull ----------------------------------------------------------------------------------------
def test_end_1_version_check(registry, api):
    call, _ = api
    assert call("GET", "/v2/").status_code == 200
    anonymous = registry.request("GET", "/v2/")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert anonymous.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_end_3_pull_manifest_by_tag_and_digest(registry, api):
    call, repo = api
    body, _, _ = _image(registry, repo)
    digest = digest_of(body)
    assert _put_manifest(call, repo, "v1", body).status_code == 201
    for ref in ("v1", digest):
        got = call("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": OCI_MANIFEST})
        assert got.status_code == 200
        assert got.content == body
        assert got.headers["Docker-Content-Digest"] == digest
        assert got.headers["Content-Type"] == OCI_MANIFEST
        head = call("HEAD", f"/v2/{repo}/manifests/{ref}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Length"] == str(len(body))
        assert head.headers["Docker-Content-Digest"] == digest
    missing = call("GET", f"/v2/{repo}/manifests/nope")
    assert missing.status_code == 404 and _error_code(missing) == "MANIFEST_UNKNOWN"
    assert call("HEAD", f"/v2/{repo}/manifests/{MISSING}").status_code == 404


def test_end_2_pull_blob_whole_ranged_and_missing(registry, api):
    call, repo = api
    data = os.urandom(10_000)
    digest = registry.push_blob(repo, data)
    got = call("GET", f"/v2/{repo}/blobs/{digest}")
    assert got.status_code == 200 and got.content == data
    assert got.headers["Docker-Content-Digest"] == digest
    head = call("HEAD", f"/v2/{repo}/blobs/{digest}")
    assert head.status_code == 200 and head.headers["Content-Length"] == "10000" and head.content == b""
    ranged = call("GET", f"/v2/{repo}/blobs/{digest}", headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == data[100:200]
    assert ranged.headers["Content-Range"] == "bytes 100-199/10000"
    missing = call("GET", f"/v2/{repo}/blobs/{MISSING}")
    assert missing.status_code == 404 and _error_code(missing) == "BLOB_UNKNOWN"
    head_missing = call("HEAD", f"/v2/{repo}/blobs/{MISSING}")
    assert head_missing.status_code == 404 and head_missing.content == b""


# --- push ----------------------------------------------------------------------------------------
def test_end_4a_and_end_6_post_then_put(api):
    call, repo = api
    data = os.urandom(5000)
    started = call("POST", f"/v2/{repo}/blobs/uploads/")
    assert started.status_code == 202
    assert started.headers["Location"] and started.headers["Docker-Upload-UUID"]
    done = call("PUT", started.headers["Location"], params={"digest": digest_of(data)}, data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201
    assert done.headers["Location"] == f"/v2/{repo}/blobs/{digest_of(data)}"
    assert done.headers["Docker-Content-Digest"] == digest_of(data)
    assert call("HEAD", f"/v2/{repo}/blobs/{digest_of(data)}").status_code == 200


def test_end_4b_monolithic_post_with_digest(api):
    call, repo = api
    data = os.urandom(3000)
    done = call("POST", f"/v2/{repo}/blobs/uploads/", params={"digest": digest_of(data)}, data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert done.status_code in (201, 202)
    assert done.status_code == 201 and done.headers["Location"].endswith(digest_of(data))
    wrong = call("POST", f"/v2/{repo}/blobs/uploads/", params={"digest": MISSING}, data=data)
    assert wrong.status_code == 400 and _error_code(wrong) == "DIGEST_INVALID"


def test_end_5_and_end_13_chunked_upload_in_order_and_out_of_order(api):
    call, repo = api
    data = os.urandom(30_000)
    location = call("POST", f"/v2/{repo}/blobs/uploads/").headers["Location"]
    first = call("PATCH", location, data=data[:10_000],
                 headers={"Content-Range": "0-9999", "Content-Type": "application/octet-stream"})
    assert first.status_code == 202 and first.headers["Range"] == "0-9999" and first.headers["Location"]
    status = call("GET", first.headers["Location"])
    assert status.status_code == 204 and status.headers["Range"] == "0-9999"
    out_of_order = call("PATCH", first.headers["Location"], data=data[20_000:],
                        headers={"Content-Range": "20000-29999", "Content-Type": "application/octet-stream"})
    assert out_of_order.status_code == 416
    second = call("PATCH", first.headers["Location"], data=data[10_000:20_000],
                  headers={"Content-Range": "10000-19999", "Content-Type": "application/octet-stream"})
    assert second.status_code == 202 and second.headers["Range"] == "0-19999"
    done = call("PUT", second.headers["Location"], params={"digest": digest_of(data)}, data=data[20_000:],
                headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201
    assert call("GET", f"/v2/{repo}/blobs/{digest_of(data)}").content == data
    gone = call("GET", second.headers["Location"])
    assert gone.status_code == 404 and _error_code(gone) == "BLOB_UPLOAD_UNKNOWN"


def test_end_6_closing_put_with_a_wrong_digest_stores_nothing(api):
    call, repo = api
    location = call("POST", f"/v2/{repo}/blobs/uploads/").headers["Location"]
    bad = call("PUT", location, params={"digest": MISSING}, data=b"not the digest")
    assert bad.status_code == 400 and _error_code(bad) == "DIGEST_INVALID"
    assert call("HEAD", f"/v2/{repo}/blobs/{MISSING}").status_code == 404
    assert call("HEAD", f"/v2/{repo}/blobs/{digest_of(b'not the digest')}").status_code == 404


def test_end_11_mount_from_another_repository_or_fall_back_to_an_upload(registry, api):
    call, repo = api
    data = os.urandom(2000)
    registry.push_blob("conformance/src", data)
    mounted = call("POST", f"/v2/{repo}/blobs/uploads/", params={"mount": digest_of(data), "from": "conformance/src"})
    assert mounted.status_code == 201
    assert mounted.headers["Location"] == f"/v2/{repo}/blobs/{digest_of(data)}"
    assert call("GET", f"/v2/{repo}/blobs/{digest_of(data)}").content == data
    fallback = call("POST", f"/v2/{repo}/blobs/uploads/", params={"mount": MISSING, "from": "conformance/src"})
    assert fallback.status_code == 202 and fallback.headers["Location"]


def test_end_14_cancel_an_upload(api):
    call, repo = api
    location = call("POST", f"/v2/{repo}/blobs/uploads/").headers["Location"]
    assert call("DELETE", location).status_code == 204
    assert call("GET", location).status_code == 404


def test_end_7_put_manifest_success_and_failures(registry, api):
    call, repo = api
    body, _, _ = _image(registry, repo)
    put = _put_manifest(call, repo, "v1", body)
    assert put.status_code == 201
    assert put.headers["Location"] == f"/v2/{repo}/manifests/{digest_of(body)}"
    assert put.headers["Docker-Content-Digest"] == digest_of(body)
    by_digest = _put_manifest(call, repo, digest_of(body), body)
    assert by_digest.status_code == 201

    dangling = json.loads(body)
    dangling["layers"][0]["digest"] = MISSING
    missing_blob = _put_manifest(call, repo, "dangling", json.dumps(dangling).encode())
    assert missing_blob.status_code == 400 and _error_code(missing_blob) == "MANIFEST_BLOB_UNKNOWN"
    invalid = _put_manifest(call, repo, "invalid", b"{not json")
    assert invalid.status_code == 400 and _error_code(invalid) == "MANIFEST_INVALID"
    wrong_digest = _put_manifest(call, repo, MISSING, body)
    assert wrong_digest.status_code == 400 and _error_code(wrong_digest) == "DIGEST_INVALID"
    too_big = _put_manifest(call, repo, "big", b" " * (4 * 1024 * 1024 + 1))
    assert too_big.status_code == 413


def test_end_7_a_manifest_with_a_subject_that_does_not_exist_yet_is_accepted(registry, api):
    call, repo = api
    subject = {"mediaType": OCI_MANIFEST, "digest": MISSING, "size": 10}
    body, _, _ = _image(registry, repo, extra={"subject": subject, "artifactType": "application/x-test"})
    put = _put_manifest(call, repo, digest_of(body), body)
    assert put.status_code == 201 and put.headers["OCI-Subject"] == MISSING


# --- content discovery ---------------------------------------------------------------------------
def test_end_8_tag_list_in_lexical_order_with_pagination(registry, api):
    call, repo = api
    body, _, _ = _image(registry, repo)
    for tag in ("b", "a", "C", "c"):
        assert _put_manifest(call, repo, tag, body).status_code == 201
    listed = call("GET", f"/v2/{repo}/tags/list")
    assert listed.status_code == 200 and listed.json() == {"name": repo, "tags": ["C", "a", "b", "c"]}
    first = call("GET", f"/v2/{repo}/tags/list", params={"n": 2})
    assert first.json()["tags"] == ["C", "a"]
    assert 'rel="next"' in first.headers["Link"] and "last=a" in first.headers["Link"]
    rest = call("GET", f"/v2/{repo}/tags/list", params={"n": 2, "last": "a"})
    assert rest.json()["tags"] == ["b", "c"] and "Link" not in rest.headers
    none = call("GET", f"/v2/{repo}/tags/list", params={"n": 0})
    assert none.json()["tags"] == [] and "Link" not in none.headers
    unknown = call("GET", f"/v2/{repo}-unknown/tags/list")
    assert unknown.status_code in (401, 404)  # the token does not cover it; with Basic it is a 404
    assert registry.request("GET", f"/v2/{repo}-unknown/tags/list", auth=registry.admin).status_code == 404


def test_end_12_referrers_list_and_filter(registry, api):
    call, repo = api
    subject_body, _, _ = _image(registry, repo)
    subject = digest_of(subject_body)
    assert _put_manifest(call, repo, "subject", subject_body).status_code == 201
    descriptor = {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(subject_body)}
    kinds = {}
    for artifact_type in ("application/x-sbom", "application/x-signature"):
        body, _, _ = _image(registry, repo, extra={"subject": descriptor, "artifactType": artifact_type,
                                                   "annotations": {"kind": artifact_type}})
        assert _put_manifest(call, repo, digest_of(body), body).status_code == 201
        kinds[artifact_type] = digest_of(body)
    listed = call("GET", f"/v2/{repo}/referrers/{subject}")
    assert listed.status_code == 200 and listed.headers["Content-Type"].startswith(OCI_INDEX)
    index = listed.json()
    assert index["mediaType"] == OCI_INDEX and index["schemaVersion"] == 2
    assert {m["digest"] for m in index["manifests"]} == set(kinds.values())
    for m in index["manifests"]:
        assert m["annotations"]["kind"] == m["artifactType"]
    filtered = call("GET", f"/v2/{repo}/referrers/{subject}", params={"artifactType": "application/x-sbom"})
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [kinds["application/x-sbom"]]
    empty = call("GET", f"/v2/{repo}/referrers/{MISSING}")
    assert empty.status_code == 200 and empty.json()["manifests"] == []


# --- content management --------------------------------------------------------------------------
def test_end_9_delete_a_tag_then_the_manifest(registry, api):
    call, repo = api
    body, _, _ = _image(registry, repo)
    digest = digest_of(body)
    for tag in ("one", "two"):
        assert _put_manifest(call, repo, tag, body).status_code == 201
    assert call("DELETE", f"/v2/{repo}/manifests/one").status_code == 202
    assert call("GET", f"/v2/{repo}/manifests/one").status_code == 404
    assert call("GET", f"/v2/{repo}/manifests/two").status_code == 200
    assert call("DELETE", f"/v2/{repo}/manifests/{digest}").status_code == 202
    for ref in (digest, "two"):
        assert call("GET", f"/v2/{repo}/manifests/{ref}").status_code == 404
    again = call("DELETE", f"/v2/{repo}/manifests/{digest}")
    assert again.status_code == 404 and _error_code(again) == "MANIFEST_UNKNOWN"


def test_end_10_delete_a_blob(registry, api):
    call, repo = api
    digest = registry.push_blob(repo, os.urandom(1000))
    deleted = call("DELETE", f"/v2/{repo}/blobs/{digest}")
    assert deleted.status_code == 202
    assert call("HEAD", f"/v2/{repo}/blobs/{digest}").status_code == 404
    again = call("DELETE", f"/v2/{repo}/blobs/{digest}")
    assert again.status_code == 404 and _error_code(again) == "BLOB_UNKNOWN"
