"""The registry's rules: what may be stored, read, listed, changed or deleted.

No HTTP here. Routes have already checked the caller's token; this layer validates names, digests and
manifests, enforces changeable attributes (a False at repository, manifest or tag level wins) and keeps
blob links per repository, so a blob pushed to one repository is served from another only after a mount.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

from ..storage.blobs import BlobStore, Upload
from ..storage.metadata import MetadataStore
from . import errors
from .manifests import IMAGE_CONFIG_TYPES, MAX_MANIFEST_SIZE, parse, platform_of_config
from .names import check_digest, check_name, check_reference, is_digest
from .records import Attributes, Manifest, Repository, Tag, now

CONFIG_READ_LIMIT = 1 << 20


@dataclass
class UploadSession:
    id: str
    repo: str
    upload: Upload
    started: float

    @property
    def offset(self) -> int:
        return self.upload.size


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
        return True

    # --- uploads ------------------------------------------------------------------------------
    def start_upload(self, repo: str) -> UploadSession:
        check_name(repo)
        _writable(self._repo_attrs(repo))
        session_id = str(uuid.uuid4())
        session = UploadSession(session_id, repo, self.blobs.new_upload(session_id), time.time())
        self.uploads[session_id] = session
        return session

    def upload_session(self, repo: str, session_id: str) -> UploadSession:
        session = self.uploads.get(session_id)
        if session is None or session.repo != repo:
            raise errors.BlobUploadUnknown(detail={"uuid": session_id})
        return session

    async def finish_upload(self, session: UploadSession, digest: str) -> str:
        """Verify the streamed hash against `digest`; on a mismatch nothing is stored."""
        self.uploads.pop(session.id, None)
        try:
            check_digest(digest)
        except errors.RegistryError:
            await session.upload.discard()
            raise
        if session.upload.digest() != digest:
            await session.upload.discard()
            raise errors.DigestInvalid(detail={"digest": digest, "actual": session.upload.digest()})
        await session.upload.commit()
        self.meta.link_blob(session.repo, digest)
        return digest

    async def cancel_upload(self, session: UploadSession) -> None:
        self.uploads.pop(session.id, None)
        await session.upload.discard()

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
