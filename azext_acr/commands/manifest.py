"""``acr manifest``: list, list-metadata, show, show-metadata, update-metadata, delete, list-referrers.

Each command takes either a fully qualified positional id (``myregistry.azurecr.io/hello:1``,
``localhost:5000/hello@sha256:...``) or ``-r REGISTRY -n NAME``, with az's exclusivity errors.
"""

from __future__ import annotations

import json
import sys

from knack.log import get_logger
from knack.util import CLIError

from ._common import confirm, open_registry
from .repository import (
    attributes_from_flags,
    dry_run_plan,
    image_attributes,
    manifest_metadata,
    tag_digest,
    tags_of_manifest,
    update_attributes,
)

logger = get_logger(__name__)

REPO_USAGE = ("You must provide either a fully qualified repository specifier such as "
              "'myregistry.azurecr.io/hello-world' as a positional parameter or provide "
              "'-r MyRegistry -n hello-world' argument values.")
MANIFEST_USAGE = ("You must provide either a fully qualified manifest specifier such as "
                  "'myregistry.azurecr.io/hello-world:latest' as a positional parameter or provide "
                  "'-r MyRegistry -n hello-world:latest' argument values.")
BAD_REPO_ID = ("The positional parameter 'repo_id' must be a fully qualified repository specifier such as "
               "'myregistry.azurecr.io/hello-world'.")
BAD_MANIFEST_ID = ("The positional parameter 'manifest_id' must be a fully qualified manifest specifier such as "
                   "'myregistry.azurecr.io/hello-world:latest' or 'myregistry.azurecr.io/hello-world@sha256:abc123'.")


def _parse_id(text: str, bad_message: str):
    from ..registry.errors import InvalidReferenceError
    from ..registry.reference import parse_reference

    if "/" not in text:
        raise CLIError(bad_message)
    try:
        ref, _ = parse_reference(text)
    except InvalidReferenceError as err:
        if "expected <registry>/" in err.message:
            raise CLIError(bad_message) from None
        raise
    return ref


def repository_target(repo_id, registry_name, repository) -> tuple[str, str]:
    """(registry, repository) from ``REPO_ID`` or ``-r`` + ``-n``; exactly one of the two forms."""
    if repo_id and not repository:
        ref = _parse_id(repo_id[0], BAD_REPO_ID)
        if ref.tag or ref.digest:
            raise CLIError("The positional parameter 'repo_id' should not include a tag or digest.")
        return ref.registry, ref.repository
    if not repo_id and registry_name and repository:
        if ":" in repository or "@" in repository:
            raise CLIError("Parameter 'name' refers to a repository and should not include a tag or digest.")
        from ..registry.errors import InvalidReferenceError
        from ..registry.reference import is_valid_repository

        if not is_valid_repository(repository):
            raise InvalidReferenceError(f"'{repository}' is not a valid repository name: use lowercase letters, "
                                        "digits and separators (. _ __ -), with '/' between components.")
        return registry_name, repository
    raise CLIError(REPO_USAGE)


def manifest_target(manifest_id, registry_name, manifest_spec) -> tuple[str, str, str | None, str | None]:
    """(registry, repository, tag, digest) from ``MANIFEST_ID`` or ``-r`` + ``-n``; a bare name means :latest."""
    if manifest_id and not manifest_spec:
        ref = _parse_id(manifest_id[0], BAD_MANIFEST_ID)
        tag = None if ref.digest else (ref.tag or "latest")
        return ref.registry, ref.repository, tag, ref.digest
    if not manifest_id and registry_name and manifest_spec:
        from ..registry.reference import parse_image_name

        repository, tag, digest = parse_image_name(manifest_spec)
        return registry_name, repository, tag, digest
    raise CLIError(MANIFEST_USAGE)


def _document(content: bytes, what: str):
    try:
        return json.loads(content)
    except ValueError:
        raise CLIError(f"The manifest {what} is not JSON; use --raw to print it as it is.") from None


def acr_manifest_list(repo_id=None, registry_name=None, repository=None, top=None, orderby=None, suffix=None,
                      username=None, password=None):
    from .repository import _parallel

    registry_name, repository = repository_target(repo_id, registry_name, repository)
    registry = open_registry(registry_name, username, password, suffix)
    scopes = [f"repository:{repository}:pull,metadata_read"]
    digests = [item["digest"] for item in manifest_metadata(registry, repository, orderby, top, scopes)
               if item.get("digest")]
    manifests = _parallel(lambda digest: registry.oci.get_manifest(repository, digest, scopes=scopes), digests)
    return [_document(m.content, f"{repository}@{m.digest}") for m in manifests]


def acr_manifest_list_metadata(repo_id=None, registry_name=None, repository=None, top=None, orderby=None,
                               suffix=None, username=None, password=None):
    registry_name, repository = repository_target(repo_id, registry_name, repository)
    registry = open_registry(registry_name, username, password, suffix)
    return manifest_metadata(registry, repository, orderby, top)


def acr_manifest_show(manifest_id=None, registry_name=None, manifest_spec=None, raw_output=False, suffix=None,
                      username=None, password=None):
    registry_name, repository, tag, digest = manifest_target(manifest_id, registry_name, manifest_spec)
    registry = open_registry(registry_name, username, password, suffix)
    manifest = registry.oci.get_manifest(repository, digest or tag)
    if raw_output:  # the exact bytes, so `--raw | sha256sum` matches the digest
        sys.stdout.flush()
        sys.stdout.buffer.write(manifest.content)
        sys.stdout.buffer.flush()
        return None
    return _document(manifest.content, f"{repository}@{manifest.digest}")


def acr_manifest_show_metadata(manifest_id=None, registry_name=None, manifest_spec=None, suffix=None,
                               username=None, password=None):
    registry_name, repository, tag, digest = manifest_target(manifest_id, registry_name, manifest_spec)
    registry = open_registry(registry_name, username, password, suffix)
    return image_attributes(registry, repository, tag, digest)


def acr_manifest_update_metadata(manifest_id=None, registry_name=None, manifest_spec=None, delete_enabled=None,
                                 list_enabled=None, read_enabled=None, write_enabled=None, suffix=None,
                                 username=None, password=None):
    registry_name, repository, tag, digest = manifest_target(manifest_id, registry_name, manifest_spec)
    image = f"{repository}@{digest}" if digest else f"{repository}:{tag}"
    attributes = attributes_from_flags(delete_enabled, list_enabled, read_enabled, write_enabled)
    return update_attributes(registry_name, "manifest update-metadata", None, image, attributes, suffix,
                             username, password)


def acr_manifest_delete(manifest_id=None, registry_name=None, manifest_spec=None, yes=False, dry_run=False,
                        suffix=None, username=None, password=None):
    from .repository import lock_hint

    registry_name, repository, tag, digest = manifest_target(manifest_id, registry_name, manifest_spec)
    registry = open_registry(registry_name, username, password, suffix)
    if not digest:
        digest = tag_digest(registry, repository, tag)
    if dry_run:
        return dry_run_plan(registry, repository, [digest], tags_of_manifest(registry, repository, digest))
    confirm(f"Are you sure you want to delete the artifact '{digest}' and all manifests that refer to it?", yes)
    with lock_hint():
        registry.oci.delete_manifest(repository, digest, scopes=[f"repository:{repository}:delete"])
    return None


def acr_manifest_list_referrers(manifest_id=None, registry_name=None, manifest_spec=None, artifact_type=None,
                                recursive=False, suffix=None, username=None, password=None):
    registry_name, repository, tag, digest = manifest_target(manifest_id, registry_name, manifest_spec)
    registry = open_registry(registry_name, username, password, suffix)
    if not digest:
        digest = tag_digest(registry, repository, tag)
    manifests = registry.oci.referrers(repository, digest, artifact_type)
    if recursive:  # az: breadth-first over the whole tree; the type filter applies to the first level only
        seen = {digest}
        index = 0
        while index < len(manifests):
            child = manifests[index].get("digest") if isinstance(manifests[index], dict) else None
            index += 1
            if child and child not in seen:
                seen.add(child)
                manifests.extend(registry.oci.referrers(repository, child))
    return {"manifests": manifests}
