"""The OCI distribution API (/v2): blobs, uploads and manifests, streamed and digest-checked."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urljoin

import requests

from .errors import ConnectionFailure, DigestMismatchError, ProtocolError, RegistryError
from .transport import RegistrySession

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Blobs go up in PATCHes of this size; a dropped connection costs at most the rest of one chunk.
UPLOAD_CHUNK = int(os.environ.get("ACR_UPLOAD_CHUNK_SIZE", str(64 * 1024 * 1024)))
UPLOAD_RETRIES = 5
WRITEBACK_STEP = 16 * 1024 * 1024
FSYNC = os.environ.get("ACR_FSYNC", "").lower() in ("1", "true", "yes")
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
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


def referrers_tag(digest: str) -> str:
    """The OCI 1.1 fallback tag that holds a subject's referrers: ``sha256-<hex>``."""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}-{hex_part}"[:128]


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


def _start_writeback(out, start: int, end: int) -> int:
    """With ACR_FSYNC: have the kernel start writing [start, end) to disk now, without waiting, so disk
    and network work overlap and the fsync before the rename finds little left to do. (Without it, the
    page cache is faster: measured, the early writeback costs more than it saves.)"""
    out.flush()
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(out.fileno(), start, end - start, os.POSIX_FADV_DONTNEED)
    return end


class _FileSlice:
    """Bytes [start, start + length) of an open file as a request body, read as it is sent.

    http.client asks for 8-16 KiB at a time; handing it 1 MiB blocks instead keeps the per-block
    Python overhead off the hot path. ``sent`` counts what left, for progress and resumes.
    """

    def __init__(self, handle, start: int, length: int, progress: Callable[[int], None] | None):
        self._handle = handle
        self._remaining = length
        self._length = length
        self._progress = progress
        self._stale = False
        self.sent = 0
        handle.seek(start)

    def __len__(self) -> int:
        return self._length

    def tell(self) -> int:
        return self.sent

    def seek(self, offset: int, whence: int = 0) -> int:
        # urllib3 rewinds a body only to send it again on a new connection (it retries some TLS errors
        # whatever the method). Resending a partly sent chunk at its old Content-Range is wrong, so the
        # next read fails instead and the upload code resumes from the offset the registry reports.
        self._stale = True
        return offset

    def read(self, size: int = -1) -> bytes:
        if self._stale:
            raise OSError("a partly sent chunk is not resent; the upload resumes from the registry's offset")
        if self._remaining <= 0:
            return b""
        block = self._handle.read(min(max(size, CHUNK), self._remaining))
        self._remaining -= len(block)
        self.sent += len(block)
        if self._progress and block:
            self._progress(len(block))
        return block


class OciApi:
    def __init__(self, session: RegistrySession):
        self.session = session

    # -- blobs -------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.session.request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                        scopes=[push_scope(repository)], allow_statuses=(404,))
        return response.status_code == 200

    def upload_blob(self, repository: str, path: str | os.PathLike, digest: str, size: int, *,
                    mount_from: str | None = None, chunk_size: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    on_resume: Callable[[int, str], None] | None = None) -> str:
        """Upload a file as a blob without ever holding it in memory; answers "mounted" or "uploaded".

        With ``mount_from`` the registry is first asked to mount the blob from that repository
        (``POST ?mount=&from=``); a 202 means it cannot, and the upload goes on in the session it
        opened. The data goes in PATCHes of ``chunk_size`` bytes with Content-Range; when the
        connection drops mid-chunk, the registry is asked how much it holds (``GET <location>`` →
        ``Range``) and the upload continues from there, a bounded number of times, telling
        ``on_resume(offset, reason)``. A closing PUT with ``?digest=`` lets the registry check the whole.
        """
        scopes = [push_scope(repository)]
        query = ""
        if mount_from and mount_from != repository:
            scopes.append(pull_scope(mount_from))
            query = "?" + urlencode({"mount": digest, "from": mount_from})
        response = self.session.request("POST", f"/v2/{repository}/blobs/uploads/{query}", scopes=scopes,
                                        expected=(202, 201), headers={"Content-Length": "0"})
        if response.status_code == 201 and query:
            return "mounted"
        location = self._location(response)
        chunk = max(1, chunk_size or UPLOAD_CHUNK)
        with open(path, "rb") as handle:
            offset = 0
            while offset < size:
                location, offset = self._send_chunk(location, handle, offset, min(offset + chunk, size),
                                                    scopes, progress, on_resume)
        self._close_upload(location, digest, scopes)
        return "uploaded"

    def _send_chunk(self, location: str, handle, start: int, end: int, scopes: list[str],
                    progress: Callable[[int], None] | None,
                    on_resume: Callable[[int, str], None] | None) -> tuple[str, int]:
        """PATCH bytes [start, end) of ``handle``; resume from the registry's offset after a dropped connection."""
        offset, failures = start, 0
        while offset < end:
            body = _FileSlice(handle, offset, end - offset, progress)
            try:
                response = self.session.request(
                    "PATCH", self._url(location), scopes=scopes, expected=(202, 204), data=body,
                    headers={"Content-Type": "application/octet-stream", "Content-Length": str(end - offset),
                             "Content-Range": f"{offset}-{end - 1}"})
            except (ConnectionFailure, RegistryError) as err:
                # A dropped connection, an out-of-order chunk (416) or a registry that did not take the
                # chunk (429/502/503/504): ask how much it holds and go on from there.
                if isinstance(err, ConnectionFailure) or err.status in (416, 429, 502, 503, 504):
                    failures += 1
                if failures == 0 or failures > UPLOAD_RETRIES:
                    raise
                time.sleep(min(0.2 * 2 ** failures, 5))
                location, registry_offset = self.upload_status(location, scopes)
                if err.status == 416 and registry_offset == offset == 0:
                    registry_offset = 1  # "Range: 0-0" means 0 or 1 byte; 416 at 0 says it was 1
                if progress:
                    progress(registry_offset - offset - body.sent)
                if not start <= registry_offset <= end:
                    raise ProtocolError(f"The registry holds {registry_offset} bytes of an upload that was at "
                                        f"{offset}; cannot resume.") from None
                logger.info("Upload interrupted (%s); resuming at byte %d.", err, registry_offset)
                if on_resume:
                    on_resume(registry_offset, "connection lost" if isinstance(err, ConnectionFailure)
                              else f"HTTP {err.status}")
                offset = registry_offset
                continue
            location = response.headers.get("Location") or location
            offset = end
        return location, offset

    def upload_status(self, location: str, scopes: list[str]) -> tuple[str, int]:
        """``GET <upload location>``: (where to continue, how many bytes the registry holds)."""
        response = self.session.request("GET", self._url(location), scopes=scopes, expected=(204, 200))
        range_header = response.headers.get("Range") or ""
        _, sep, last = range_header.rpartition("-")
        if not sep or not last.isdigit():
            raise ProtocolError(f"The registry's upload status has no usable Range header ('{range_header}').")
        held = int(last) + 1 if range_header not in ("0-0", "bytes=0-0") else 0
        return response.headers.get("Location") or location, held

    def _close_upload(self, location: str, digest: str, scopes: list[str]) -> None:
        url = self._url(location)
        url += ("&" if "?" in url else "?") + urlencode({"digest": digest})
        self.session.request("PUT", url, scopes=scopes, expected=(201, 204), data=b"",
                             headers={"Content-Type": "application/octet-stream", "Content-Length": "0"})

    def _location(self, response) -> str:
        location = response.headers.get("Location")
        if not location:
            raise ProtocolError("The registry started an upload but sent no Location.")
        return location

    def _url(self, location: str) -> str:
        return urljoin(self.session.base_url + "/", location)

    def upload_bytes(self, repository: str, data: bytes, digest: str) -> None:
        """A small blob (a config) in one POST + PUT: the body is bytes, so a retry can resend it."""
        scopes = [push_scope(repository)]
        response = self.session.request("POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes,
                                        expected=(202, 201), headers={"Content-Length": "0"})
        url = self._url(self._location(response))
        url += ("&" if "?" in url else "?") + urlencode({"digest": digest})
        self.session.request("PUT", url, scopes=scopes, expected=(201, 204), data=data,
                             headers={"Content-Type": "application/octet-stream"})

    def download_blob(self, repository: str, digest: str, destination: Path,
                      progress: Callable[[int], None] | None = None,
                      on_resume: Callable[[int, str], None] | None = None) -> int:
        """Stream a blob into ``destination``: written to a temp file, digest checked, then renamed.

        A connection that drops mid-body is resumed with ``Range: bytes=<received>-`` (bounded).
        """
        algorithm, _, expected_hex = digest.partition(":")
        if algorithm != "sha256":
            raise ProtocolError(f"Unsupported digest algorithm '{algorithm}'.")
        hasher = hashlib.sha256()
        size, failures, flushed = 0, 0, 0
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".acr-", suffix=".part", dir=destination.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    headers = {"Range": f"bytes={size}-"} if size else {}
                    try:
                        response = self.session.request("GET", f"/v2/{repository}/blobs/{digest}",
                                                        scopes=[pull_scope(repository)], expected=(200, 206),
                                                        headers=headers, stream=True)
                        with response:
                            if size and response.status_code == 200:  # range ignored: start over
                                if progress:
                                    progress(-size)
                                out.seek(0)
                                out.truncate()
                                hasher, size, flushed = hashlib.sha256(), 0, 0
                            for chunk in response.iter_content(CHUNK):
                                hasher.update(chunk)
                                out.write(chunk)
                                size += len(chunk)
                                if progress:
                                    progress(len(chunk))
                                if FSYNC and size - flushed >= WRITEBACK_STEP:
                                    flushed = _start_writeback(out, flushed, size)
                        break
                    except (ConnectionFailure, requests.exceptions.RequestException) as err:
                        failures += 1
                        if failures > UPLOAD_RETRIES:
                            if isinstance(err, ConnectionFailure):
                                raise
                            raise ConnectionFailure(f"The download of {digest} from '{self.session.login_server}'"
                                                    " kept failing.") from None
                        logger.info("Download interrupted (%s); resuming at byte %d.", type(err).__name__, size)
                        if on_resume:
                            on_resume(size, "connection lost")
                        time.sleep(min(0.2 * 2 ** failures, 5))
                out.flush()
                if FSYNC:  # durability against power loss costs a full disk write-out; oras skips it too
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

        for name in iter_listing(self.session.request, self.session.base_url + "/v2/_catalog", {"n": PAGE_SIZE},
                                 "repositories", scopes or ["registry:catalog:*"], limit):
            if not isinstance(name, str):
                raise ProtocolError("The registry's catalog holds something that is not a repository name.")
            yield name

    def iter_tags(self, repository: str, limit: int | None = None, scopes: list[str] | None = None):
        """Tag names from ``/v2/<repository>/tags/list``, every page (or the first ``limit``)."""
        from .acr import PAGE_SIZE, iter_listing

        for tag in iter_listing(self.session.request, f"{self.session.base_url}/v2/{repository}/tags/list",
                                {"n": PAGE_SIZE}, "tags", scopes or [pull_scope(repository)], limit):
            if not isinstance(tag, str):
                raise ProtocolError(f"The tag list of '{repository}' holds something that is not a tag name.")
            yield tag

    def resolve_digest(self, repository: str, reference: str, scopes: list[str] | None = None) -> str:
        """The digest a tag points at (HEAD; GET and hash when the registry does not send it)."""
        return self.head_manifest(repository, reference, scopes=scopes)["digest"]

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

    def has_referrers_api(self, repository: str, digest: str) -> bool:
        """OCI 1.1: a registry with the referrers API answers 200 for any digest; one without it, 404."""
        response = self.session.request("GET", f"/v2/{repository}/referrers/{digest}",
                                        scopes=[pull_scope(repository)], allow_statuses=(404, 400))
        response.close()
        return response.status_code == 200

    def add_to_referrers_tag(self, repository: str, subject: str, descriptor: dict) -> None:
        """For registries without the referrers API (distribution 2.8): add a referrer to the subject's
        ``sha256-<hex>`` index, the OCI 1.1 tag schema, replacing an older entry of the same digest."""
        import json

        scopes = [push_scope(repository)]
        existing = [item for item in self._referrers_from_tag_schema(repository, subject, scopes)
                    if isinstance(item, dict) and item.get("digest") != descriptor["digest"]]
        index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [*existing, descriptor]}
        self.put_manifest(repository, referrers_tag(subject), json.dumps(index, separators=(",", ":")).encode(),
                          INDEX_MEDIA_TYPE)

    def _referrers_from_tag_schema(self, repository: str, digest: str, scopes: list[str]) -> list[dict]:
        import json

        from .errors import NotFoundError

        try:
            index = self.get_manifest(repository, referrers_tag(digest), scopes=scopes)
        except NotFoundError:
            return []
        try:
            items = json.loads(index.content).get("manifests")
        except (ValueError, AttributeError):
            items = None
        if not isinstance(items, list):
            raise ProtocolError(f"The referrers tag of {repository}@{digest} is not an image index.")
        return items
