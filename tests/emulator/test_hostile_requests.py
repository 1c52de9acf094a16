"""Hostile requests at the HTTP level: traversal in names and digests, oversized bodies."""

from __future__ import annotations

import pytest
from emulator_helpers import make_registry

ZERO = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def registry(emulator):
    return make_registry(emulator)


@pytest.mark.parametrize("path", [
    "/v2/a/../b/manifests/latest",
    "/v2/a/%2e%2e/b/manifests/latest",
    "/v2/..%2f..%2fetc/manifests/latest",
    "/v2/a/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd",
    "/v2/a/blobs/sha256%3A..%2F..%2Fetc",
    "/v2/UPPER/manifests/latest",
    "/v2/a/manifests/..",
    "/acr/v1/a%2f..%2f..%2fb/_tags",
    "/v2/a/blobs/uploads/..%2f..%2fetc",
])
def test_traversal_in_names_and_digests_is_refused(registry, path):
    response = registry.session.get(registry.url + path, auth=registry.admin, allow_redirects=False)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert "root:" not in response.text
    if response.content:
        assert response.json()["errors"][0]["code"] in {"NAME_INVALID", "NAME_UNKNOWN", "DIGEST_INVALID",
                                                         "MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "TAG_INVALID",
                                                         "BLOB_UPLOAD_UNKNOWN", "MANIFEST_INVALID", "UNSUPPORTED",
                                                         "NOT_FOUND"}


def test_oversized_manifest_is_refused(registry):
    body = b'{"schemaVersion":2,"layers":[],"pad":"' + b"x" * (4 * 1024 * 1024) + b'"}'
    response = registry.session.put(f"{registry.url}/v2/hostile/big/manifests/v1", data=body, auth=registry.admin,
                                    headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert response.status_code == 413


def test_oversized_token_form_is_refused(registry):
    response = registry.session.post(f"{registry.url}/oauth2/token", data={"grant_type": "password",
                                     "service": registry.service, "scope": "x" * (2 * 1024 * 1024)})
    assert response.status_code in (400, 413)


def test_oversized_attribute_patch_is_refused(registry):
    registry.push_image("hostile/attrs", "v1")
    response = registry.session.patch(f"{registry.url}/acr/v1/hostile/attrs", auth=registry.admin,
                                      data=b'{"writeEnabled": true, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                                      headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 413)
