"""Purge planning and execution: which tags and manifests go, and deleting them safely and fast.

The plan is computed once, from a snapshot of the repository (tags and manifests with their
times, locks, index children and referrer subjects), by pure functions; ``--dry-run`` prints it
and a real run executes exactly it. Safety rules that Azure/acr-cli#131 taught the hard way:

* a manifest that a kept tag still reaches — directly, as a child of a kept index, or as a
  referrer (signature, SBOM) of a kept manifest, to any depth — is never deleted;
* locked items (writeEnabled or deleteEnabled false) are skipped unless ``include_locked``;
* a huge ``--ago`` is capped, so it can never mean "older than the epoch, i.e. everything".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MAX_AGO = timedelta(days=365 * 150)
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(d|h|ms|m|s|us|µs|ns)")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
INDEX_MEDIA_TYPES = {"application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json"}


class PurgeError(ValueError):
    """A bad filter or duration: reported before anything is listed or deleted."""


def parse_duration(text: str) -> timedelta:
    """acr-cli's ``--ago``: Go durations plus days (``30d``, ``1d12h``, ``15m``), capped at 150 years."""
    value = (text or "").strip()
    if value in ("0", ""):
        return timedelta(0)
    position, seconds = 0, 0.0
    for match in _DURATION_RE.finditer(value):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(value):
        raise PurgeError(f"Invalid duration '{text}': use a number and a unit, e.g. 30d, 12h, 1d6h, 90m.")
    if seconds >= MAX_AGO.total_seconds():
        return MAX_AGO
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Filter:
    """``repoRegex:tagRegex``; both must match the whole name."""

    text: str
    repository: re.Pattern
    tag: re.Pattern

    @property
    def literal_repository(self) -> str | None:
        """The repository when the regex is a plain name (acr-cli PR#354): no catalog walk needed."""
        source = self.repository.pattern
        return source if re.fullmatch(r"[a-z0-9][a-z0-9/_.-]*", source) else None


def parse_filter(text: str) -> Filter:
    repo, sep, tag = (text or "").partition(":")
    if not sep or not repo or not tag:
        raise PurgeError(f"Invalid filter '{text}': use <repository regex>:<tag regex>, e.g. 'hello-world:v.*'.")
    try:
        return Filter(text, re.compile(repo), re.compile(tag))
    except re.error as err:
        raise PurgeError(f"Invalid filter '{text}': {err}.") from None


@dataclass
class TagInfo:
    name: str
    digest: str
    updated: datetime
    locked: bool


@dataclass
class ManifestInfo:
    digest: str
    updated: datetime
    locked: bool
    media_type: str = ""
    tags: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    subject: str | None = None


@dataclass
class RepositoryPlan:
    name: str
    tags: list[str] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    skipped_locked: list[str] = field(default_factory=list)
    unlock_tags: list[str] = field(default_factory=list)
    unlock_manifests: list[str] = field(default_factory=list)


@dataclass
class Options:
    filters: list[Filter]
    excludes: list[Filter] = field(default_factory=list)
    ago: timedelta = timedelta(0)
    keep: int = 0
    untagged: bool = False
    untagged_only: bool = False
    include_locked: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def cutoff(self) -> datetime:
        return self.now - self.ago


def parse_time(text: str | None) -> datetime:
    """ACR's 7-digit fractional timestamps, tolerantly; unknown times count as 'now' (never too old)."""
    if not text:
        return datetime.now(UTC)
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$", text)
    if not match:
        return datetime.now(UTC)
    base, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(f"{base}.{micro}{zone}").astimezone(UTC)


def is_locked(attributes: dict | None) -> bool:
    attributes = attributes or {}
    return attributes.get("writeEnabled") is False or attributes.get("deleteEnabled") is False


def tags_to_delete(repository: str, tags: list[TagInfo], options: Options) -> tuple[list[TagInfo], list[TagInfo]]:
    """(tags to delete, locked tags skipped) for one repository."""
    matching = [t for t in tags
                if any(f.repository.fullmatch(repository) and f.tag.fullmatch(t.name) for f in options.filters)
                and not any(e.repository.fullmatch(repository) and e.tag.fullmatch(t.name) for e in options.excludes)]
    matching.sort(key=lambda t: t.updated, reverse=True)
    candidates = matching[options.keep:] if options.keep else matching
    old = [t for t in candidates if t.updated < options.cutoff]
    if options.include_locked:
        return old, []
    return [t for t in old if not t.locked], [t for t in old if t.locked]


def protected_digests(manifests: Iterable[ManifestInfo], remaining_tagged: set[str]) -> set[str]:
    """Everything a remaining tag reaches: the tagged manifests, their index children and their
    referrers, to any depth (a signature of a child of a tagged index is protected too)."""
    by_digest = {m.digest: m for m in manifests}
    referrers: dict[str, list[str]] = {}
    for m in by_digest.values():
        if m.subject:
            referrers.setdefault(m.subject, []).append(m.digest)
    protected: set[str] = set()
    stack = [d for d in remaining_tagged]
    while stack:
        digest = stack.pop()
        if digest in protected:
            continue
        protected.add(digest)
        manifest = by_digest.get(digest)
        if manifest is not None:
            stack.extend(manifest.children)
        stack.extend(referrers.get(digest, []))
    return protected


def plan_repository(repository: str, tags: list[TagInfo], manifests: list[ManifestInfo],
                    options: Options) -> RepositoryPlan:
    plan = RepositoryPlan(repository)
    deleted_tags: set[str] = set()
    if not options.untagged_only:
        delete, skipped = tags_to_delete(repository, tags, options)
        plan.tags = sorted(t.name for t in delete)
        plan.unlock_tags = sorted(t.name for t in delete if t.locked)
        plan.skipped_locked += [f"{repository}:{t.name}" for t in skipped]
        deleted_tags = set(plan.tags)
    if options.untagged or options.untagged_only:
        remaining = {t.digest for t in tags if t.name not in deleted_tags}
        protected = protected_digests(manifests, remaining)
        repo_matches = any(f.repository.fullmatch(repository) for f in options.filters)
        for manifest in sorted(manifests, key=lambda m: m.digest):
            if not repo_matches or manifest.digest in protected or manifest.updated >= options.cutoff:
                continue
            if manifest.locked and not options.include_locked:
                plan.skipped_locked.append(f"{repository}@{manifest.digest}")
                continue
            plan.manifests.append(manifest.digest)
            if manifest.locked:
                plan.unlock_manifests.append(manifest.digest)
    return plan


# -- talking to the registry ---------------------------------------------------------------------

def repository_scopes(repository: str) -> list[str]:
    """One token per repository covers listing, reading manifests, unlocking and deleting."""
    return [f"repository:{repository}:pull,delete,metadata_read,metadata_write"]


def snapshot(registry, repository: str, options: Options, concurrency: int) -> tuple[list[TagInfo], list[ManifestInfo]]:
    """Read the repository's tags and manifests; fetch manifest bodies only where subjects matter."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from . import PerThread

    scopes = repository_scopes(repository)
    tags = [TagInfo(t["name"], t.get("digest", ""), parse_time(t.get("lastUpdateTime")),
                    is_locked(t.get("changeableAttributes")))
            for t in registry.acr.iter_tags(repository, scopes=scopes) if isinstance(t, dict) and t.get("name")]
    manifests: list[ManifestInfo] = []
    if options.untagged or options.untagged_only:
        for item in registry.acr.iter_manifests(repository, scopes=scopes):
            if not isinstance(item, dict) or not item.get("digest"):
                continue
            manifests.append(ManifestInfo(
                digest=item["digest"], updated=parse_time(item.get("lastUpdateTime")),
                locked=is_locked(item.get("changeableAttributes")), media_type=item.get("mediaType") or "",
                tags=list(item.get("tags") or []),
                children=[r["digest"] for r in item.get("references") or []
                          if isinstance(r, dict) and r.get("digest")]))
        tagged = {t.digest for t in tags}
        to_read = [m for m in manifests
                   if m.digest not in tagged or (m.media_type in INDEX_MEDIA_TYPES and not m.children)]

        workers = PerThread(registry)

        def read(manifest: ManifestInfo) -> None:
            body = workers.get().oci.get_manifest(repository, manifest.digest, scopes=scopes)
            try:
                document = json.loads(body.content)
            except ValueError:
                return
            if not isinstance(document, dict):
                return
            subject = document.get("subject")
            if isinstance(subject, dict) and isinstance(subject.get("digest"), str):
                manifest.subject = subject["digest"]
            if not manifest.children:
                manifest.children = [c["digest"] for c in document.get("manifests") or []
                                     if isinstance(c, dict) and isinstance(c.get("digest"), str)]

        try:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                for future in [pool.submit(read, m) for m in to_read]:
                    future.result()
        finally:
            workers.close()
    return tags, manifests


def execute(registry, plan: RepositoryPlan, concurrency: int) -> tuple[list[str], list[str], list[str]]:
    """Carry out one repository's plan: (tags deleted, manifests deleted, errors)."""
    from concurrent.futures import ThreadPoolExecutor

    from . import PerThread
    from .errors import NotFoundError, RegistryError

    scopes = repository_scopes(plan.name)
    repo = plan.name
    errors: list[str] = []
    workers = PerThread(registry)

    def unlock(tag: str | None = None, digest: str | None = None) -> None:
        workers.get().acr.update_attributes(repo, {"deleteEnabled": True, "writeEnabled": True}, tag=tag,
                                            digest=digest)

    def delete_tag(tag: str) -> str | None:
        try:
            if tag in plan.unlock_tags:
                unlock(tag=tag)
            workers.get().acr.delete_tag(repo, tag, scopes=scopes)
            return tag
        except NotFoundError:
            return None  # already gone: nothing to report
        except RegistryError as err:
            errors.append(f"{repo}:{tag}: {err}")
            return None

    def delete_manifest(digest: str) -> str | None:
        try:
            if digest in plan.unlock_manifests:
                unlock(digest=digest)
            workers.get().oci.delete_manifest(repo, digest, scopes=scopes)
            return digest
        except NotFoundError:
            return None
        except RegistryError as err:
            errors.append(f"{repo}@{digest}: {err}")
            return None

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            deleted_tags = [t for t in pool.map(delete_tag, plan.tags) if t]
            deleted_manifests = [d for d in pool.map(delete_manifest, plan.manifests) if d]
    finally:
        workers.close()
    return deleted_tags, deleted_manifests, errors
