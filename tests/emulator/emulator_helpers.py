"""Helpers for talking to the real emulator process: sessions, tokens, blob and manifest pushes.

A uniquely named module (not `conftest`) so test files can import it whatever other conftests exist."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    """A requests session bound to one emulator, with the dev admin credentials at hand."""

    emulator: Any  # tests/conftest.py's Emulator
    session: requests.Session

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def service(self) -> str:
        return self.emulator.login_server

    @property
    def admin(self) -> tuple[str, str]:
        return self.emulator.info["adminUsername"], self.emulator.info["adminPassword"]

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.url + path, **kwargs)

    def token(self, *scopes: str) -> str:
        """An access token for `scopes`, fetched the docker way (GET realm with Basic admin)."""
        params = [("service", self.service)] + [("scope", s) for s in scopes]
        response = self.request("GET", "/oauth2/token", params=params, auth=self.admin)
        response.raise_for_status()
        return response.json()["access_token"]

    def bearer(self, *scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*scopes)}"}

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = digest_of(data)
        response = self.request(
            "POST",
            f"/v2/{repo}/blobs/uploads/",
            params={"digest": digest},
            data=data,
            headers=self.bearer(f"repository:{repo}:push,pull"),
        )
        assert response.status_code == 201, response.text
        return digest

    def push_image(self, repo: str, tag: str | None = None, layer: bytes | None = None) -> tuple[str, bytes]:
        """Push a config, one layer and a manifest; return the manifest digest and bytes."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
        layer = layer if layer is not None else uuid.uuid4().bytes * 100
        config_digest = self.push_blob(repo, config)
        layer_digest = self.push_blob(repo, layer)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": LAYER, "digest": layer_digest, "size": len(layer)}],
            }
        ).encode()
        reference = tag or digest_of(manifest)
        response = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            data=manifest,
            headers={"Content-Type": OCI_MANIFEST, **self.bearer(f"repository:{repo}:push,pull")},
        )
        assert response.status_code == 201, response.text
        return digest_of(manifest), manifest


def make_registry(emulator) -> Registry:
    session = requests.Session()
    # the environment's REQUESTS_CA_BUNDLE would otherwise win over session.verify
    session.trust_env = False
    session.verify = emulator.ca_cert
    return Registry(emulator, session)
