"""Build registry states quickly over plain HTTP (admin Basic auth), for tests and benchmarks."""

from __future__ import annotations

import hashlib
import json

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = b"{}"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Seeder:
    def __init__(self, emulator, session: requests.Session | None = None):
        self.base = emulator.url
        self.http = session or requests.Session()
        self.http.auth = (emulator.info["adminUsername"], emulator.info["adminPassword"])
        self.http.verify = emulator.ca_cert or True
        self.http.trust_env = False  # a global REQUESTS_CA_BUNDLE would override verify=

    def blob(self, repo: str, data: bytes) -> dict:
        digest = digest_of(data)
        if self.http.head(f"{self.base}/v2/{repo}/blobs/{digest}").status_code != 200:
            response = self.http.post(f"{self.base}/v2/{repo}/blobs/uploads/", params={"digest": digest}, data=data)
            if response.status_code == 202:
                location = response.headers["Location"]
                url = location if location.startswith("http") else self.base + location
                response = self.http.put(url, params={"digest": digest}, data=data)
            assert response.status_code == 201, response.text
        return {"digest": digest, "size": len(data)}

    def manifest(self, repo: str, ref: str, document: dict, media_type: str = OCI_MANIFEST) -> str:
        body = json.dumps(document, separators=(",", ":")).encode()
        response = self.http.put(f"{self.base}/v2/{repo}/manifests/{ref}", data=body,
                                 headers={"Content-Type": media_type})
        assert response.status_code == 201, response.text
        return digest_of(body)

    def image(self, repo: str, tag: str | None, content: bytes = b"layer", platform: tuple = ("amd64", "linux"),
              subject: str | None = None, artifact_type: str | None = None) -> str:
        config = json.dumps({"architecture": platform[0], "os": platform[1]}).encode()
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **self.blob(repo, config)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **self.blob(repo, content)}]}
        if artifact_type:
            document["artifactType"] = artifact_type
        if subject:
            document["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1}
        body = json.dumps(document, separators=(",", ":")).encode()
        return self.manifest(repo, tag or digest_of(body), document)

    def index(self, repo: str, tag: str, children: list[str]) -> str:
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                    "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": 1,
                                   "platform": {"architecture": "amd64", "os": "linux"}} for d in children]}
        return self.manifest(repo, tag, document, OCI_INDEX)

    def tags(self, repo: str) -> list[str]:
        response = self.http.get(f"{self.base}/v2/{repo}/tags/list")
        if response.status_code == 404:
            return []
        return sorted(response.json().get("tags") or [])

    def manifest_exists(self, repo: str, digest: str) -> bool:
        return self.http.head(f"{self.base}/v2/{repo}/manifests/{digest}",
                              headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}).status_code == 200

    def lock(self, repo: str, *, tag: str | None = None, digest: str | None = None, **attributes) -> None:
        path = f"/acr/v1/{repo}/_tags/{tag}" if tag else f"/acr/v1/{repo}/_manifests/{digest}"
        response = self.http.patch(self.base + path, json=attributes)
        assert response.status_code == 200, response.text
