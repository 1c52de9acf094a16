"""The OCI distribution API (/v2): blobs, uploads and manifests, streamed and digest-checked."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urljoin

from .errors import DigestMismatchError, ProtocolError
from .transport import RegistrySession

CHUNK = 1024 * 1024
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.artifact.manifest.v1+json",
    "*/*",
])


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


@dataclass
class Manifest:
    content: bytes
    media_type: str
    digest: str


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: str | os.PathLike) -> tuple[str, int]:
    """Hash a file in chunks: constant memory whatever its size."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


class OciApi:
    def __init__(self, session: RegistrySession):
        self.session = session

    # -- blobs -------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.session.request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                        scopes=[push_scope(repository)], allow_statuses=(404,))
        return response.status_code == 200

    def upload_blob(self, repository: str, path: str | os.PathLike, digest: str, size: int) -> None:
        """POST an upload session, then PUT the whole file streamed from disk with ?digest=."""
        scopes = [push_scope(repository)]
        response = self.session.request("POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes,
                                        expected=(202, 201), headers={"Content-Length": "0"})
        location = response.headers.get("Location")
        if not location:
            raise ProtocolError("The registry started an upload but sent no Location.")
        url = urljoin(self.session.base_url + "/", location)
        url += ("&" if "?" in url else "?") + urlencode({"digest": digest})
        with open(path, "rb") as handle:
            self.session.request("PUT", url, scopes=scopes, expected=(201, 204), data=handle if size else b"",
                                 headers={"Content-Type": "application/octet-stream",
                                          "Content-Length": str(size)})

    def upload_bytes(self, repository: str, data: bytes, digest: str) -> None:
        scopes = [push_scope(repository)]
        response = self.session.request("POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes,
                                        expected=(202, 201), headers={"Content-Length": "0"})
        location = response.headers.get("Location")
        if not location:
            raise ProtocolError("The registry started an upload but sent no Location.")
        url = urljoin(self.session.base_url + "/", location)
        url += ("&" if "?" in url else "?") + urlencode({"digest": digest})
        self.session.request("PUT", url, scopes=scopes, expected=(201, 204), data=data,
                             headers={"Content-Type": "application/octet-stream"})

    def download_blob(self, repository: str, digest: str, destination: Path,
                      progress: Callable[[int], None] | None = None) -> int:
        """Stream a blob into ``destination``: written to a temp file, digest checked, then renamed."""
        response = self.session.request("GET", f"/v2/{repository}/blobs/{digest}",
                                        scopes=[pull_scope(repository)], stream=True)
        algorithm, _, expected_hex = digest.partition(":")
        if algorithm != "sha256":
            raise ProtocolError(f"Unsupported digest algorithm '{algorithm}'.")
        hasher = hashlib.sha256()
        size = 0
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".acr-", suffix=".part", dir=destination.parent)
        try:
            with os.fdopen(fd, "wb") as out, response:
                for chunk in response.iter_content(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            if hasher.hexdigest() != expected_hex:
                raise DigestMismatchError(f"Blob {digest} from '{self.session.login_server}' does not match "
                                          "its digest; nothing was written.")
            os.replace(temp_name, destination)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        return size

    # -- manifests ---------------------------------------------------------------------------
    def put_manifest(self, repository: str, reference: str, content: bytes, media_type: str) -> str:
        response = self.session.request("PUT", f"/v2/{repository}/manifests/{reference}",
                                        scopes=[push_scope(repository)], expected=(201, 200),
                                        data=content, headers={"Content-Type": media_type})
        digest = sha256_digest(content)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise DigestMismatchError(f"The registry stored the manifest as {returned}, expected {digest}.")
        return digest

    def get_manifest(self, repository: str, reference: str, scopes: list[str] | None = None) -> Manifest:
        response = self.session.request("GET", f"/v2/{repository}/manifests/{reference}",
                                        scopes=scopes or [pull_scope(repository)],
                                        headers={"Accept": MANIFEST_ACCEPT}, stream=True)
        with response:
            content = b""
            for chunk in response.iter_content(CHUNK):
                content += chunk
                if len(content) > MAX_MANIFEST_SIZE:
                    raise ProtocolError(f"The manifest {repository}:{reference} is larger than 4 MiB.")
        digest = sha256_digest(content)
        if reference.startswith("sha256:") and digest != reference:
            raise DigestMismatchError(f"The manifest fetched as {reference} hashes to {digest}.")
        header_digest = response.headers.get("Docker-Content-Digest")
        if header_digest and header_digest.startswith("sha256:") and header_digest != digest:
            raise DigestMismatchError(f"The manifest {repository}:{reference} does not match the digest "
                                      f"the registry announced ({header_digest}).")
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        return Manifest(content, media_type, digest)

    def delete_manifest(self, repository: str, digest: str, scopes: list[str] | None = None) -> None:
        self.session.request("DELETE", f"/v2/{repository}/manifests/{digest}",
                             scopes=scopes or [f"repository:{repository}:delete"], expected=(202, 200, 204))

    # -- listings, digests and referrers (work on any OCI registry) ----------------------------
    def iter_catalog(self, limit: int | None = None, scopes: list[str] | None = None):
        """Repository names from ``/v2/_catalog``, every page (or the first ``limit``)."""
        from .acr import PAGE_SIZE, iter_listing

        yield from iter_listing(self.session.request, self.session.base_url + "/v2/_catalog", {"n": PAGE_SIZE},
                                "repositories", scopes or ["registry:catalog:*"], limit)

    def iter_tags(self, repository: str, limit: int | None = None, scopes: list[str] | None = None):
        """Tag names from ``/v2/<repository>/tags/list``, every page (or the first ``limit``)."""
        from .acr import PAGE_SIZE, iter_listing

        for tag in iter_listing(self.session.request, f"{self.session.base_url}/v2/{repository}/tags/list",
                                {"n": PAGE_SIZE}, "tags", scopes or [pull_scope(repository)], limit):
            if not isinstance(tag, str):
                raise ProtocolError(f"The tag list of '{repository}' holds something that is not a tag name.")
            yield tag

    def resolve_digest(self, repository: str, reference: str, scopes: list[str] | None = None) -> str:
        """The digest a tag points at: HEAD the manifest and read Docker-Content-Digest (GET and hash
        when the registry does not send it)."""
        scopes = scopes or [pull_scope(repository)]
        response = self.session.request("HEAD", f"/v2/{repository}/manifests/{reference}", scopes=scopes,
                                        headers={"Accept": MANIFEST_ACCEPT})
        digest = response.headers.get("Docker-Content-Digest")
        if digest and digest.startswith("sha256:"):
            return digest
        return self.get_manifest(repository, reference, scopes=scopes).digest

    def head_manifest(self, repository: str, reference: str, scopes: list[str] | None = None) -> dict:
        """``{digest, mediaType, size}`` of a manifest from a HEAD request (no body fetched)."""
        scopes = scopes or [pull_scope(repository)]
        response = self.session.request("HEAD", f"/v2/{repository}/manifests/{reference}", scopes=scopes,
                                        headers={"Accept": MANIFEST_ACCEPT})
        digest = response.headers.get("Docker-Content-Digest")
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        size = response.headers.get("Content-Length")
        if not digest or not digest.startswith("sha256:"):
            manifest = self.get_manifest(repository, reference, scopes=scopes)
            return {"digest": manifest.digest, "mediaType": manifest.media_type, "size": len(manifest.content)}
        return {"digest": digest, "mediaType": media_type, "size": int(size) if size and size.isdigit() else None}

    def referrers(self, repository: str, digest: str, artifact_type: str | None = None,
                  scopes: list[str] | None = None) -> list[dict]:
        """Descriptors of the manifests whose subject is ``digest``, every page.

        Uses the referrers API (``/v2/<r>/referrers/<digest>``); a registry without it answers 404
        (the OCI 1.1 spec forbids 404 from one that has it), and then the referrers tag schema
        (``sha256-<hex>``) is read instead. The artifact-type filter is applied here when the
        registry did not apply it (no ``OCI-Filters-Applied: artifactType``).
        """
        from .acr import _json
        from .errors import NotFoundError
        from .pagination import iterate_pages

        scopes = scopes or [pull_scope(repository)]
        first = f"{self.session.base_url}/v2/{repository}/referrers/{digest}"
        if artifact_type:
            first += "?" + urlencode({"artifactType": artifact_type})
        filtered = [False]

        def fetch(url: str):
            response = self.session.request("GET", url, scopes=scopes,
                                            headers={"Accept": "application/vnd.oci.image.index.v1+json"})
            applied = response.headers.get("OCI-Filters-Applied") or ""
            filtered[0] = "artifactType" in [item.strip() for item in applied.split(",")]
            return _json(response), response.headers.get("Link")

        found: list[dict] = []
        try:
            for body in iterate_pages(fetch, first):
                items = body.get("manifests") if isinstance(body, dict) else None
                if not isinstance(items, list):
                    raise ProtocolError(f"The referrers of {repository}@{digest} have an unexpected shape.")
                found.extend(items)
        except NotFoundError as err:
            if err.code is not None:  # the registry has the API and says the subject is unknown
                raise
            filtered[0] = False
            found = self._referrers_from_tag_schema(repository, digest, scopes)
        if artifact_type and not filtered[0]:
            found = [item for item in found if isinstance(item, dict) and item.get("artifactType") == artifact_type]
        return found

    def _referrers_from_tag_schema(self, repository: str, digest: str, scopes: list[str]) -> list[dict]:
        import json

        from .errors import NotFoundError

        algorithm, _, hex_part = digest.partition(":")
        try:
            index = self.get_manifest(repository, f"{algorithm}-{hex_part}"[:128], scopes=scopes)
        except NotFoundError:
            return []
        try:
            items = json.loads(index.content).get("manifests")
        except (ValueError, AttributeError):
            items = None
        if not isinstance(items, list):
            raise ProtocolError(f"The referrers tag of {repository}@{digest} is not an image index.")
        return items
