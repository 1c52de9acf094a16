"""``acr repository``: list, show, show-tags, show-manifests, update, delete and untag, as az 2.91 does them.

Each command uses ACR's metadata API (/acr/v1) when the registry serves it. On a plain OCI
registry (Debian's docker-registry, zot, ...) the library raises AcrApiUnavailableError on the
first /acr/v1 call, and the commands that can do their work through /v2 (catalog, tags/list,
manifest HEAD/GET/DELETE) do it there, leaving out the fields only ACR knows (times, locks, sizes).
"""

from __future__ import annotations

from contextlib import contextmanager

from knack.log import get_logger
from knack.util import CLIError

from ._common import confirm, open_registry

logger = get_logger(__name__)

ORDERBY = {"time_asc": "timeasc", "time_desc": "timedesc"}
PLAIN_WORKERS = 8
LOCK_HINT = ("The item may be locked: see its changeableAttributes with 'acr repository show', and unlock it "
             "with 'acr repository update ... --delete-enabled true --write-enabled true'.")


def _one_of_image_or_repository(image, repository) -> None:
    if bool(image) == bool(repository):
        raise CLIError("Usage error: You need to provide either --image IMAGE | --repository REPOSITORY, "
                       "but not both")


def _parse_image(image: str, allow_digest: bool = True):
    from ..registry.reference import parse_image_name

    return parse_image_name(image, allow_digest=allow_digest)


def _unavailable():
    from ..registry.acr import AcrApiUnavailableError

    return AcrApiUnavailableError


@contextmanager
def requires_acr(command: str):
    """Name the command in the message when a plain OCI registry cannot do what it needs."""
    unavailable = _unavailable()
    try:
        yield
    except unavailable as err:
        err.message = (f"'acr {command}' requires Azure Container Registry's metadata API (/acr/v1), which "
                       f"'{err.login_server}' does not serve.")
        err.args = (err.message,)
        raise


@contextmanager
def lock_hint():
    """A 405 on a delete is almost always a lock (deleteEnabled or writeEnabled false): say so."""
    from ..registry.errors import OperationNotAllowedError

    try:
        yield
    except OperationNotAllowedError as err:
        err.hint = LOCK_HINT
        raise


def _parallel(function, items: list) -> list:
    """``[function(item) ...]`` in order, a few at a time (one keep-alive session underneath)."""
    if len(items) < 2:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(PLAIN_WORKERS, len(items))) as pool:
        return list(pool.map(function, items))


# -- helpers shared with ``acr manifest`` -----------------------------------------------------------

def tag_digest(registry, repository: str, tag: str, scopes: list[str] | None = None) -> str:
    """The digest a tag points at: ACR's tag attributes (as az does), else a HEAD through /v2."""
    try:
        digest = registry.acr.tag(repository, tag, scopes=scopes).get("digest")
    except _unavailable():
        return registry.oci.resolve_digest(repository, tag)
    if not digest:
        raise CLIError(f"Could not get the manifest digest for image '{repository}:{tag}'.")
    return digest


def plain_tag_digests(registry, repository: str) -> dict[str, str]:
    """Every tag of a repository and the digest it points at, through /v2 only."""
    tags = list(registry.oci.iter_tags(repository))
    digests = _parallel(lambda tag: registry.oci.resolve_digest(repository, tag), tags)
    return dict(zip(tags, digests, strict=True))


def tags_of_manifest(registry, repository: str, digest: str, scopes: list[str] | None = None) -> list[str]:
    """Every tag that points at ``digest`` (all pages, as az does before a delete)."""
    try:
        return [item["name"] for item in registry.acr.iter_tags(repository, scopes=scopes)
                if item.get("digest") == digest and item.get("name")]
    except _unavailable():
        return sorted(tag for tag, found in plain_tag_digests(registry, repository).items() if found == digest)


def plain_manifest_metadata(registry, repository: str) -> list[dict]:
    """What /v2 can tell about a repository's manifests: the tagged ones, with media type and tags.

    A plain registry cannot list untagged manifests, times or locks; those stay out.
    """
    tags = list(registry.oci.iter_tags(repository))
    heads = _parallel(lambda tag: registry.oci.head_manifest(repository, tag), tags)
    by_digest: dict[str, dict] = {}
    for tag, head in zip(tags, heads, strict=True):
        entry = by_digest.setdefault(head["digest"], {"digest": head["digest"], "mediaType": head["mediaType"],
                                                      "tags": []})
        entry["tags"].append(tag)
    return [by_digest[digest] for digest in sorted(by_digest)]


def manifest_metadata(registry, repository: str, orderby=None, top=None, scopes=None) -> list[dict]:
    """The manifests' attributes: ACR's _manifests listing (all pages, or the first --top)."""
    try:
        return list(registry.acr.iter_manifests(repository, orderby=ORDERBY.get(orderby or ""), scopes=scopes,
                                                limit=top))
    except _unavailable():
        if orderby:
            logger.warning("The specified --orderby is ignored: '%s' has no metadata API to order by time.",
                           registry.login_server)
        items = plain_manifest_metadata(registry, repository)
        return items if top is None else items[:top]


def image_attributes(registry, repository: str, tag: str | None, digest: str | None) -> dict:
    """``repository show --image`` / ``manifest show-metadata``: a tag's or a manifest's attributes."""
    try:
        if digest:
            return registry.acr.manifest(repository, digest)
        return registry.acr.tag(repository, tag)
    except _unavailable():
        pass
    if digest:
        head = registry.oci.head_manifest(repository, digest)
        tags = sorted(t for t, d in plain_tag_digests(registry, repository).items() if d == head["digest"])
        return {"digest": head["digest"], "mediaType": head["mediaType"], "tags": tags}
    head = registry.oci.head_manifest(repository, tag)
    return {"digest": head["digest"], "name": tag}


def update_attributes(registry_name, command: str, repository=None, image=None, attributes=None, suffix=None,
                      username=None, password=None):
    """``repository update`` / ``manifest update-metadata``: PATCH the flat attribute dict."""
    target, tag, digest = (repository, None, None) if repository else _parse_image(image)
    registry = open_registry(registry_name, username, password, suffix)
    if not attributes:  # az: no flag given means "show it"
        if repository:
            return _repository_attributes(registry, repository)
        return image_attributes(registry, target, tag, digest)
    with requires_acr(command):
        return registry.acr.update_attributes(target, attributes, tag=tag, digest=digest)


def attributes_from_flags(delete_enabled, list_enabled, read_enabled, write_enabled) -> dict:
    return {key: value for key, value in (("deleteEnabled", delete_enabled), ("listEnabled", list_enabled),
                                          ("readEnabled", read_enabled), ("writeEnabled", write_enabled))
            if value is not None}


def dry_run_plan(registry, repository: str, manifests: list[str], tags: list[str]) -> dict:
    logger.warning("Dry run: nothing was deleted.")
    return {"dryRun": True, "manifests": manifests, "registry": registry.login_server,
            "repository": repository, "tags": tags}


def _repository_attributes(registry, repository: str) -> dict:
    try:
        return registry.acr.repository(repository)
    except _unavailable():
        tags = list(registry.oci.iter_tags(repository))
        return {"imageName": repository, "registry": registry.login_server, "tagCount": len(tags)}


def _repository_contents(registry, repository: str) -> tuple[list[str], list[str]]:
    """(manifest digests, tag names) of a whole repository."""
    try:
        manifests = [item["digest"] for item in registry.acr.iter_manifests(repository) if item.get("digest")]
        tags = [item["name"] for item in registry.acr.iter_tags(repository) if item.get("name")]
        return manifests, tags
    except _unavailable():
        mapping = plain_tag_digests(registry, repository)
        return sorted(set(mapping.values())), sorted(mapping)


# -- commands --------------------------------------------------------------------------------------

def acr_repository_list(registry_name, top=None, suffix=None, username=None, password=None,
                        resource_group_name=None):
    registry = open_registry(registry_name, username, password, suffix)
    return list(registry.oci.iter_catalog(limit=top))


def acr_repository_show_tags(registry_name, repository, top=None, orderby=None, detail=False, suffix=None,
                             username=None, password=None, resource_group_name=None):
    from ..registry.acr import read_scope
    from ..registry.errors import OperationNotAllowedError

    registry = open_registry(registry_name, username, password, suffix)
    try:
        items = list(registry.acr.iter_tags(repository, orderby=ORDERBY.get(orderby or ""), limit=top))
    except OperationNotAllowedError:  # a classic registry: no _tags listing, az falls back to /v2
        for flag, given in (("--detail", detail), ("--top", top is not None), ("--orderby", orderby)):
            if given:
                logger.warning("The specified %s is ignored as it is only supported for managed registries.", flag)
        return list(registry.oci.iter_tags(repository, scopes=[read_scope(repository)]))
    except _unavailable():
        return _plain_show_tags(registry, repository, top, orderby, detail)
    return items if detail else [item.get("name") for item in items]


def _plain_show_tags(registry, repository, top, orderby, detail):
    if orderby:
        logger.warning("The specified --orderby is ignored: '%s' has no metadata API to order by time.",
                       registry.login_server)
    tags = list(registry.oci.iter_tags(repository, limit=top))
    if not detail:
        return tags
    heads = _parallel(lambda tag: registry.oci.head_manifest(repository, tag), tags)
    return [{"digest": head["digest"], "name": tag} for tag, head in zip(tags, heads, strict=True)]


def acr_repository_show_manifests(registry_name, repository, top=None, orderby=None, detail=False, suffix=None,
                                  username=None, password=None, resource_group_name=None):
    registry = open_registry(registry_name, username, password, suffix)
    items = manifest_metadata(registry, repository, orderby, top)
    if detail:
        return items
    return [{"digest": item.get("digest") or "", "tags": item.get("tags") or [],
             "timestamp": item.get("lastUpdateTime") or ""} for item in items]


def acr_repository_show(registry_name, repository=None, image=None, suffix=None, username=None,
                        password=None, resource_group_name=None):
    _one_of_image_or_repository(image, repository)
    if repository:
        registry = open_registry(registry_name, username, password, suffix)
        return _repository_attributes(registry, repository)
    repo, tag, digest = _parse_image(image)
    registry = open_registry(registry_name, username, password, suffix)
    return image_attributes(registry, repo, tag, digest)


def acr_repository_update(registry_name, repository=None, image=None, delete_enabled=None, list_enabled=None,
                          read_enabled=None, write_enabled=None, suffix=None, username=None, password=None,
                          resource_group_name=None):
    _one_of_image_or_repository(image, repository)
    attributes = attributes_from_flags(delete_enabled, list_enabled, read_enabled, write_enabled)
    return update_attributes(registry_name, "repository update", repository, image, attributes, suffix,
                             username, password)


def acr_repository_delete(registry_name, repository=None, image=None, yes=False, dry_run=False, suffix=None,
                          username=None, password=None, resource_group_name=None):
    _one_of_image_or_repository(image, repository)
    target, tag, digest = (repository, None, None) if repository else _parse_image(image)
    registry = open_registry(registry_name, username, password, suffix)
    permission = "metadata_read" if dry_run else "delete,metadata_read"
    scopes = [f"repository:{target}:{permission}"]
    if repository:
        if dry_run:
            return dry_run_plan(registry, repository, *_repository_contents(registry, repository))
        confirm(f"Are you sure you want to delete the repository '{repository}' and all images under it?", yes)
        with lock_hint():
            try:
                return registry.acr.delete_repository(repository, scopes=scopes)
            except _unavailable():
                return _plain_delete_repository(registry, repository)
    if not digest:
        digest = tag_digest(registry, target, tag, scopes)
    tags = tags_of_manifest(registry, target, digest, scopes)
    if dry_run:
        return dry_run_plan(registry, target, [digest], tags)
    message = f"This operation will delete the manifest '{digest}'"
    if tags:
        message += " and all the following images: " + ", ".join(f"'{target}:{t}'" for t in tags)
    if yes:
        logger.warning(message)
    else:
        confirm(message + ".\nAre you sure you want to continue?", yes)
    with lock_hint():
        registry.oci.delete_manifest(target, digest, scopes=scopes)
    return None


def _plain_delete_repository(registry, repository: str) -> dict:
    """No /acr/v1: delete every tagged manifest through /v2 (untagged ones cannot be listed there)."""
    mapping = plain_tag_digests(registry, repository)
    digests = sorted(set(mapping.values()))
    _parallel(lambda digest: registry.oci.delete_manifest(repository, digest), digests)
    return {"manifestsDeleted": digests, "tagsDeleted": sorted(mapping)}


def acr_repository_untag(registry_name, image, dry_run=False, suffix=None, username=None, password=None,
                         resource_group_name=None):
    from ..registry.errors import RegistryError

    repo, tag, _ = _parse_image(image, allow_digest=False)
    registry = open_registry(registry_name, username, password, suffix)
    if dry_run:
        tag_digest(registry, repo, tag)  # fails as the real run would when the tag does not exist
        return dry_run_plan(registry, repo, [], [tag])
    try:
        with lock_hint():
            registry.acr.delete_tag(repo, tag)
        return None
    except _unavailable():
        pass
    try:  # OCI 1.1 lets a registry delete a tag alone; distribution 2.x refuses (400/405)
        registry.oci.delete_manifest(repo, tag, scopes=[f"repository:{repo}:delete"])
    except RegistryError as err:
        if err.status not in (400, 405):
            raise
        raise CLIError(f"'{registry.login_server}' cannot remove a tag and keep its manifest: it has no ACR metadata "
                       "API (/acr/v1) and refuses to delete a tag through /v2. 'acr repository delete --image "
                       f"{repo}:{tag}' deletes the manifest with all its tags.") from None
    return None
