"""Blob uploads (monolithic, chunked, streamed) and downloads (whole and ranged)."""

from __future__ import annotations

import os

from emulator_helpers import digest_of


def start(registry, repo: str, headers: dict) -> str:
    response = registry.request("POST", f"/v2/{repo}/blobs/uploads/", headers=headers)
    assert response.status_code == 202
    assert response.headers["Range"] == "0-0"
    assert response.headers["Docker-Upload-UUID"]
    location = response.headers["Location"]
    assert location.startswith(f"/v2/{repo}/blobs/uploads/")
    return location


def test_monolithic_push_then_pull_is_byte_identical(registry, repo):
    data = os.urandom(300_000)
    digest = registry.push_blob(repo, data)
    headers = registry.bearer(f"repository:{repo}:pull")
    response = registry.request("GET", f"/v2/{repo}/blobs/{digest}", headers=headers)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Docker-Content-Digest"] == digest
    head = registry.request("HEAD", f"/v2/{repo}/blobs/{digest}", headers=headers)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert head.content == b""


def test_chunked_push_with_content_range_and_digest_first_put(registry, repo):
    headers = registry.bearer(f"repository:{repo}:push,pull")
    data = os.urandom(100_000)
    location = start(registry, repo, headers)
    response = registry.request("PATCH", location, data=data[:60_000], headers={**headers, "Content-Range": "0-59999"})
    assert response.status_code == 202
    assert response.headers["Range"] == "0-59999"
    location = response.headers["Location"]
    status = registry.request("GET", location, headers=headers)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-59999"
    path, _, query = location.partition("?")
    response = registry.request("PUT", f"{path}?digest={digest_of(data)}&{query}", data=data[60_000:], headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == digest_of(data)
    assert response.headers["Location"] == f"/v2/{repo}/blobs/{digest_of(data)}"
    pulled = registry.request("GET", f"/v2/{repo}/blobs/{digest_of(data)}", headers=headers)
    assert pulled.content == data


def test_streamed_patch_without_content_range_appends(registry, repo):
    headers = registry.bearer(f"repository:{repo}:push,pull")
    data = os.urandom(2_500_000)
    location = start(registry, repo, headers)

    def pieces():
        for offset in range(0, len(data), 700_000):
            yield data[offset : offset + 700_000]

    response = registry.request("PATCH", location, data=pieces(), headers=headers)
    assert response.status_code == 202
    assert response.headers["Range"] == f"0-{len(data) - 1}"
    response = registry.request("PUT", response.headers["Location"] + f"&digest={digest_of(data)}", headers=headers)
    assert response.status_code == 201
    assert registry.request("GET", f"/v2/{repo}/blobs/{digest_of(data)}", headers=headers).content == data


def test_out_of_order_chunk_gets_416(registry, repo):
    headers = registry.bearer(f"repository:{repo}:push,pull")
    location = start(registry, repo, headers)
    response = registry.request("PATCH", location, data=b"abc", headers={**headers, "Content-Range": "5-7"})
    assert response.status_code == 416
    assert response.headers["Range"] == "0-0"


def test_blob_whose_bytes_do_not_match_its_digest_is_rejected_and_not_stored(registry, repo):
    headers = registry.bearer(f"repository:{repo}:push,pull")
    claimed = digest_of(b"the real content")
    response = registry.request(
        "POST", f"/v2/{repo}/blobs/uploads/", params={"digest": claimed}, data=b"other content", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
    location = start(registry, repo, headers)
    response = registry.request("PUT", location + f"&digest={claimed}", data=b"tampered", headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert registry.request("HEAD", f"/v2/{repo}/blobs/{claimed}", headers=headers).status_code == 404
    assert registry.request("HEAD", f"/v2/{repo}/blobs/{digest_of(b'tampered')}", headers=headers).status_code == 404
    if registry.emulator.data_dir:
        hexpart = claimed.split(":")[1]
        assert not (registry.emulator.data_dir / "blobs" / "sha256" / hexpart[:2] / hexpart).exists()


def test_range_request_gets_206_with_end_clamped(registry, repo):
    data = os.urandom(10_000)
    digest = registry.push_blob(repo, data)
    headers = registry.bearer(f"repository:{repo}:pull")
    response = registry.request("GET", f"/v2/{repo}/blobs/{digest}", headers={**headers, "Range": "bytes=0-4194303"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-9999/{len(data)}"
    assert response.content == data
    response = registry.request("GET", f"/v2/{repo}/blobs/{digest}", headers={**headers, "Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 100-199/10000"
    assert response.content == data[100:200]
    response = registry.request("GET", f"/v2/{repo}/blobs/{digest}", headers={**headers, "Range": "bytes=20000-"})
    assert response.status_code == 416


def test_upload_status_and_cancel(registry, repo):
    headers = registry.bearer(f"repository:{repo}:push,pull")
    location = start(registry, repo, headers)
    assert registry.request("DELETE", location, headers=headers).status_code == 204
    response = registry.request("GET", location, headers=headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


def test_blob_of_another_repository_is_unknown_until_mounted(registry, repo):
    data = os.urandom(1000)
    digest = registry.push_blob(repo, data)
    other = repo + "-mount"
    headers = registry.bearer(f"repository:{other}:push,pull", f"repository:{repo}:pull")
    assert registry.request("HEAD", f"/v2/{other}/blobs/{digest}", headers=headers).status_code == 404
    response = registry.request(
        "POST", f"/v2/{other}/blobs/uploads/", params={"mount": digest, "from": repo}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/{other}/blobs/{digest}"
    assert registry.request("GET", f"/v2/{other}/blobs/{digest}", headers=headers).content == data


def test_percent_encoded_names_and_digests_are_decoded(registry, repo):
    data = os.urandom(100)
    digest = registry.push_blob(repo, data)
    encoded = repo.replace("/", "%2F")
    response = registry.request(
        "GET", f"/v2/{encoded}/blobs/{digest.replace(':', '%3A')}", headers=registry.bearer(f"repository:{repo}:pull")
    )
    assert response.content == data


def test_invalid_names_and_digests_are_rejected(registry, repo):
    response = registry.request("GET", "/v2/Bad..Name/blobs/sha256:" + "0" * 64, auth=registry.admin)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"
    response = registry.request("GET", "/v2/a/%2E%2E/blobs/sha256:" + "0" * 64, auth=registry.admin)
    assert response.status_code in (400, 404)
    response = registry.request("GET", f"/v2/{repo}/blobs/sha256:../../etc", auth=registry.admin)
    assert response.status_code in (400, 404)
    response = registry.request("GET", f"/v2/{repo}/blobs/md5:abc", auth=registry.admin)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


def test_blob_delete_unlinks_it_from_the_repository(registry, repo):
    digest = registry.push_blob(repo, b"to be deleted")
    headers = registry.bearer(f"repository:{repo}:delete,pull")
    response = registry.request("DELETE", f"/v2/{repo}/blobs/{digest}", headers=headers)
    assert response.status_code == 202
    assert response.headers["Docker-Content-Digest"] == digest
    assert registry.request("HEAD", f"/v2/{repo}/blobs/{digest}", headers=headers).status_code == 404
    assert registry.request("DELETE", f"/v2/{repo}/blobs/{digest}", headers=headers).status_code == 404
