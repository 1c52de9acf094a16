"""The registry's rules: what may be stored, read, listed, changed or deleted.

No HTTP here. Routes have already checked the caller's token; this layer validates names, digests and
manifests, enforces changeable attributes (a False at repository, manifest or tag level wins) and keeps
blob links per repository, so a blob pushed to one repository is served from another only after a mount.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import BinaryIO

from ..storage.blobs import BlobStore, Upload
from ..storage.metadata import MetadataStore
from . import errors
from .manifests import IMAGE_CONFIG_TYPES, MAX_MANIFEST_SIZE, parse, platform_of_config
from .names import check_digest, check_name, check_reference, is_digest
from .records import Attributes, Manifest, Repository, Tag, now

CONFIG_READ_LIMIT = 1 << 20
DEFAULT_GC_GRACE = 3600.0

log = logging.getLogger("acr-emulator")


@dataclass
class UploadSession:
    id: str
    repo: str
    upload: Upload
    started: float

    @property
    def offset(self) -> int:
        return self.upload.size


@dataclass
class GcReport:
    blobs_deleted: int = 0
    bytes_freed: int = 0
    blobs_kept: int = 0
    uploads_dropped: int = 0
    deleted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "blobsDeleted": self.blobs_deleted,
            "bytesFreed": self.bytes_freed,
            "blobsKept": self.blobs_kept,
            "uploadsDropped": self.uploads_dropped,
        }


def _ensure(condition: bool) -> None:
    if not condition:
        raise errors.DisallowedOperation()


def _writable(*attrs: Attributes) -> None:
    _ensure(all(a.writeEnabled for a in attrs))


def _deletable(*attrs: Attributes) -> None:
    _ensure(all(a.writeEnabled and a.deleteEnabled for a in attrs))


def _readable(*attrs: Attributes) -> None:
    _ensure(all(a.readEnabled for a in attrs))


class Registry:
    def __init__(self, meta: MetadataStore, blobs: BlobStore):
        self.meta = meta
        self.blobs = blobs
        self.uploads: dict[str, UploadSession] = {}
        # digests between "bytes renamed into place" and "linked to a repository": GC must spare them
        self.pending: set[str] = set()

    # --- repositories -------------------------------------------------------------------------
    def repository(self, name: str) -> Repository:
        repo = self.meta.get_repo(check_name(name))
        if repo is None:
            raise errors.NameUnknown(name)
        return repo

    def _repo_attrs(self, name: str) -> Attributes:
        repo = self.meta.get_repo(name)
        return repo.attributes if repo else Attributes()

    def counts(self, name: str) -> tuple[int, int]:
        return self.meta.counts(name)

    def update_repository(self, name: str, changes: dict) -> Repository:
        repo = self.repository(name)
        self.meta.set_repo_attributes(name, repo.attributes.updated(changes), now())
        return self.repository(name)

    def delete_repository(self, name: str) -> tuple[list[str], list[str]]:
        repo = self.repository(name)
        manifests = self.meta.list_manifests(name)
        tags = self.meta.list_tags(name)
        _deletable(repo.attributes, *(m.attributes for m in manifests), *(t.attributes for t in tags))
        with self.meta.transaction():
            self.meta.delete_repo(name)
        return [m.digest for m in manifests], [t.name for t in tags]

    def catalog(self) -> list[str]:
        return [r.name for r in self.meta.list_repos() if r.attributes.listEnabled]

    # --- blobs --------------------------------------------------------------------------------
    def blob_size(self, repo: str, digest: str) -> int:
        check_name(repo)
        check_digest(digest)
        size = self.blobs.size(digest)
        if size is None or not self.meta.is_linked(repo, digest):
            raise errors.BlobUnknown(detail={"digest": digest})
        _readable(self._repo_attrs(repo))
        return size

    def open_blob(self, repo: str, digest: str) -> tuple[BinaryIO, int]:
        """An open reader and the size of a blob this repository may serve; the caller closes it."""
        self.blob_size(repo, digest)
        opened = self.blobs.open(digest)
        if opened is None:
            raise errors.BlobUnknown(detail={"digest": digest})
        return opened

    def delete_blob(self, repo: str, digest: str) -> None:
        check_name(repo)
        check_digest(digest)
        if not self.meta.is_linked(repo, digest):
            raise errors.BlobUnknown(detail={"digest": digest})
        _deletable(self._repo_attrs(repo))
        self.meta.unlink_blob(repo, digest)
        if not self.meta.blob_in_use(digest):
            self.blobs.delete(digest)

    def mount_blob(self, repo: str, digest: str, source: str | None) -> bool:
        """Link a blob already stored for `source` (or, without `from`, anywhere) into `repo`."""
        check_name(repo)
        check_digest(digest)
        _writable(self._repo_attrs(repo))
        if self.blobs.size(digest) is None:
            return False
        if source is not None:
            check_name(source)
            if not self.meta.is_linked(source, digest):
                return False
            _readable(self._repo_attrs(source))
        elif not self.meta.blob_in_use(digest):
            return False
        self.meta.link_blob(repo, digest)
        self.blobs.touch(digest)
        return True

    # --- uploads ------------------------------------------------------------------------------
    def start_upload(self, repo: str) -> UploadSession:
        check_name(repo)
        _writable(self._repo_attrs(repo))
        session_id = str(uuid.uuid4())
        session = UploadSession(session_id, repo, self.blobs.new_upload(session_id), time.time())
        self.meta.add_upload(session_id, repo, session.started)
        self.uploads[session_id] = session
        return session

    def restore_uploads(self) -> int:
        """Sessions recorded before a restart whose bytes are still there become resumable again;
        records without bytes and bytes without a record are dropped. Returns how many were resumed."""
        resumed = 0
        recorded = set()
        for session_id, repo, started in self.meta.list_uploads():
            recorded.add(session_id)
            if session_id in self.uploads:
                continue
            try:
                upload = self.blobs.resume_upload(session_id)
            except (OSError, ValueError):
                upload = None
            if upload is None:
                self.meta.drop_upload(session_id)
                continue
            self.uploads[session_id] = UploadSession(session_id, repo, upload, started)
            resumed += 1
        for orphan in self.blobs.upload_ids() - recorded:
            self.blobs.drop_upload_file(orphan)
        return resumed

    def upload_session(self, repo: str, session_id: str) -> UploadSession:
        session = self.uploads.get(session_id)
        if session is None or session.repo != repo:
            raise errors.BlobUploadUnknown(detail={"uuid": session_id})
        return session

    def _end_session(self, session: UploadSession) -> None:
        self.uploads.pop(session.id, None)
        self.meta.drop_upload(session.id)

    async def finish_upload(self, session: UploadSession, digest: str) -> str:
        """Verify the streamed hash against `digest`; on a mismatch nothing is stored."""
        self._end_session(session)
        try:
            check_digest(digest)
        except errors.RegistryError:
            await session.upload.discard()
            raise
        if session.upload.digest() != digest:
            await session.upload.discard()
            raise errors.DigestInvalid(detail={"digest": digest, "actual": session.upload.digest()})
        self.pending.add(digest)
        try:
            await session.upload.commit()
            self.meta.link_blob(session.repo, digest)
        finally:
            self.pending.discard(digest)
        return digest

    async def cancel_upload(self, session: UploadSession) -> None:
        self._end_session(session)
        await session.upload.discard()

    # --- garbage collection -------------------------------------------------------------------
    def referenced_blobs(self) -> set[str]:
        """Every blob digest a manifest of any repository refers to (config, layers, blobs)."""
        referenced: set[str] = set()
        for media_type, body in self.meta.manifest_bodies():
            try:
                parsed = parse(body, media_type)
            except errors.RegistryError:
                continue
            referenced.update(b.digest for b in parsed.blobs)
        return referenced

    def collect_garbage(self, grace: float = DEFAULT_GC_GRACE) -> GcReport:
        """Delete blobs no manifest refers to and nobody uploaded or mounted within `grace` seconds.

        Never touches a blob a manifest refers to, one being committed right now, or the bytes of an
        upload in progress (they live apart until committed). Links go first, then the file: a crash in
        between leaves an unlinked file, which the next collection removes.
        """
        report = GcReport()
        referenced = self.referenced_blobs()
        cutoff = time.time() - grace
        for digest, touched, size in list(self.blobs.stored()):
            if digest in referenced or digest in self.pending or touched > cutoff:
                report.blobs_kept += 1
                continue
            self.meta.drop_blob_links(digest)
            self.blobs.delete(digest)
            report.blobs_deleted += 1
            report.bytes_freed += size
            report.deleted.append(digest)
        live = set(self.uploads)
        for orphan in self.blobs.upload_ids() - live - {u[0] for u in self.meta.list_uploads()}:
            self.blobs.drop_upload_file(orphan)
            report.uploads_dropped += 1
        if report.blobs_deleted or report.uploads_dropped:
            log.info("garbage collection: %s", report.to_dict())
        return report

    # --- manifests ----------------------------------------------------------------------------
    def _resolve(self, repo: str, reference: str) -> tuple[Manifest, Tag | None]:
        check_reference(reference)
        tag = None
        digest = reference
        if not is_digest(reference):
            tag = self.meta.get_tag(repo, reference)
            if tag is None:
                raise errors.ManifestUnknown(detail={"tag": reference})
            digest = tag.digest
        manifest = self.meta.get_manifest(repo, digest)
        if manifest is None:
            raise errors.ManifestUnknown(detail={"digest": digest})
        return manifest, tag

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        """A manifest for pulling: honours readEnabled at every level."""
        check_name(repo)
        repository = self.meta.get_repo(repo)
        if repository is None:
            raise errors.NameUnknown(repo)
        manifest, tag = self._resolve(repo, reference)
        _readable(repository.attributes, manifest.attributes, *([tag.attributes] if tag else []))
        return manifest

    def put_manifest(self, repo: str, reference: str, body: bytes, content_type: str | None) -> Manifest:
        check_name(repo)
        check_reference(reference)
        if len(body) > MAX_MANIFEST_SIZE:
            raise errors.ManifestTooLarge()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if is_digest(reference) and reference != digest:
            raise errors.DigestInvalid(detail={"digest": reference, "actual": digest})
        parsed = parse(body, content_type)

        repository = self.meta.get_repo(repo)
        existing = self.meta.get_manifest(repo, digest)
        tag = None if is_digest(reference) else self.meta.get_tag(repo, reference)
        _writable(*([repository.attributes] if repository else []))
        if tag is not None and tag.digest != digest:
            _writable(tag.attributes)

        for blob in parsed.blobs:
            if self.blobs.size(blob.digest) is None:
                raise errors.ManifestBlobUnknown(detail={"digest": blob.digest})
        for child in parsed.children:
            if self.meta.get_manifest(repo, child.digest) is None:
                raise errors.ManifestBlobUnknown(detail={"digest": child.digest})

        architecture = os_ = None
        if parsed.config is not None and parsed.config.media_type in IMAGE_CONFIG_TYPES:
            architecture, os_ = platform_of_config(self.blobs.read_small(parsed.config.digest, CONFIG_READ_LIMIT))
        references = [
            {
                "digest": c.digest,
                "architecture": (c.platform or {}).get("architecture"),
                "os": (c.platform or {}).get("os"),
            }
            for c in parsed.children
        ]
        when = now()
        record = Manifest(
            repo=repo,
            digest=digest,
            media_type=parsed.media_type,
            body=body,
            image_size=len(body) + sum(b.size for b in parsed.blobs),
            created=existing.created if existing else when,
            updated=when,
            subject=parsed.subject,
            artifact_type=None if parsed.is_index and not parsed.artifact_type else parsed.artifact_type,
            architecture=architecture,
            os=os_,
            references=references,
            annotations=parsed.annotations,
        )
        with self.meta.transaction():
            self.meta.ensure_repo(repo, when)
            self.meta.put_manifest(record)
            for blob in parsed.blobs:
                self.meta.link_blob(repo, blob.digest)
            if not is_digest(reference):
                self.meta.put_tag(repo, reference, digest, when)
        return self.meta.get_manifest(repo, digest) or record

    def delete_manifest(self, repo: str, reference: str) -> None:
        """By digest: the manifest and all its tags. By tag: just the tag (OCI untag)."""
        repository = self.repository(repo)
        check_reference(reference)
        if not is_digest(reference):
            self.delete_tag(repo, reference, tag_error=errors.ManifestUnknown)
            return
        manifest = self.meta.get_manifest(repo, reference)
        if manifest is None:
            raise errors.ManifestUnknown(detail={"digest": reference})
        tags = self.meta.list_tags(repo, digest=reference)
        _deletable(repository.attributes, manifest.attributes, *(t.attributes for t in tags))
        with self.meta.transaction():
            self.meta.delete_manifest(repo, reference)
            self.meta.ensure_repo(repo, now())

    def manifest_metadata(self, repo: str, digest: str) -> Manifest:
        self.repository(repo)
        check_digest(digest)
        manifest = self.meta.get_manifest(repo, digest)
        if manifest is None:
            raise errors.ManifestUnknown()
        return manifest

    def update_manifest(self, repo: str, digest: str, changes: dict) -> Manifest:
        manifest = self.manifest_metadata(repo, digest)
        self.meta.set_manifest_attributes(repo, digest, manifest.attributes.updated(changes), now())
        return self.manifest_metadata(repo, digest)

    def list_manifests(self, repo: str) -> list[Manifest]:
        self.repository(repo)
        return [m for m in self.meta.list_manifests(repo) if m.attributes.listEnabled]

    def tags_of(self, repo: str, digest: str) -> list[str]:
        return [t.name for t in self.meta.list_tags(repo, digest=digest)]

    def referrers(self, repo: str, digest: str, artifact_type: str | None) -> list[Manifest]:
        check_name(repo)
        check_digest(digest)
        found = self.meta.referrers(repo, digest)
        if artifact_type:
            found = [m for m in found if m.artifact_type == artifact_type]
        return found

    # --- tags ---------------------------------------------------------------------------------
    def tag(self, repo: str, name: str) -> Tag:
        self.repository(repo)
        check_reference(name)
        tag = self.meta.get_tag(repo, name)
        if tag is None:
            raise errors.TagUnknown()
        return tag

    def list_tags(self, repo: str, digest: str | None = None) -> list[Tag]:
        self.repository(repo)
        return [t for t in self.meta.list_tags(repo, digest=digest) if t.attributes.listEnabled]

    def update_tag(self, repo: str, name: str, changes: dict) -> Tag:
        tag = self.tag(repo, name)
        self.meta.set_tag_attributes(repo, name, tag.attributes.updated(changes), now())
        return self.tag(repo, name)

    def delete_tag(self, repo: str, name: str, tag_error: type[errors.RegistryError] = errors.TagUnknown) -> None:
        repository = self.repository(repo)
        check_reference(name)
        tag = self.meta.get_tag(repo, name)
        if tag is None:
            raise tag_error()
        _deletable(repository.attributes, tag.attributes)
        self.meta.delete_tag(repo, name)
