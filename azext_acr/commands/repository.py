"""``acr repository``: list, show, show-tags, update, delete and untag, as az 2.91 does them."""

from __future__ import annotations

from knack.log import get_logger
from knack.util import CLIError

from ._common import confirm, open_registry

logger = get_logger(__name__)

ORDERBY = {"time_asc": "timeasc", "time_desc": "timedesc"}


def _one_of_image_or_repository(image, repository) -> None:
    if bool(image) == bool(repository):
        raise CLIError("Usage error: You need to provide either --image IMAGE | --repository REPOSITORY, "
                       "but not both")


def _parse_image(image: str, allow_digest: bool = True):
    from ..registry.reference import parse_image_name

    return parse_image_name(image, allow_digest=allow_digest)


def acr_repository_list(registry_name, top=None, suffix=None, username=None, password=None,
                        resource_group_name=None):
    registry = open_registry(registry_name, username, password, suffix)
    names = []
    for name in registry.acr.iter_catalog():
        names.append(name)
        if top is not None and len(names) >= top:
            break
    return names


def acr_repository_show_tags(registry_name, repository, top=None, orderby=None, detail=False, suffix=None,
                             username=None, password=None, resource_group_name=None):
    registry = open_registry(registry_name, username, password, suffix)
    tags = []
    for item in registry.acr.iter_tags(repository, orderby=ORDERBY.get(orderby or "")):
        tags.append(item if detail else item.get("name"))
        if top is not None and len(tags) >= top:
            break
    return tags


def acr_repository_show(registry_name, repository=None, image=None, suffix=None, username=None,
                        password=None, resource_group_name=None):
    _one_of_image_or_repository(image, repository)
    if repository:
        registry = open_registry(registry_name, username, password, suffix)
        return registry.acr.repository(repository)
    repo, tag, digest = _parse_image(image)
    registry = open_registry(registry_name, username, password, suffix)
    if digest:
        return registry.acr.manifest(repo, digest)
    return registry.acr.tag(repo, tag)


def acr_repository_update(registry_name, repository=None, image=None, delete_enabled=None, list_enabled=None,
                          read_enabled=None, write_enabled=None, suffix=None, username=None, password=None,
                          resource_group_name=None):
    _one_of_image_or_repository(image, repository)
    attributes = {key: value for key, value in (("deleteEnabled", delete_enabled), ("listEnabled", list_enabled),
                                                ("readEnabled", read_enabled), ("writeEnabled", write_enabled))
                  if value is not None}
    target = repository
    digest = tag = None
    if image:
        target, tag, digest = _parse_image(image)
    if not attributes:
        return acr_repository_show(registry_name, repository, image, suffix, username, password)
    registry = open_registry(registry_name, username, password, suffix)
    return registry.acr.update_attributes(target, attributes, tag=None if repository else tag,
                                          digest=None if repository else digest)


def acr_repository_delete(registry_name, repository=None, image=None, yes=False, suffix=None, username=None,
                          password=None, resource_group_name=None):
    _one_of_image_or_repository(image, repository)
    target = repository
    tag = digest = None
    if image:
        target, tag, digest = _parse_image(image)
    registry = open_registry(registry_name, username, password, suffix)
    scopes = [f"repository:{target}:delete,metadata_read"]
    if repository:
        confirm(f"Are you sure you want to delete the repository '{repository}' and all images under it?", yes)
        return registry.acr.delete_repository(repository, scopes=scopes)
    if not digest:
        digest = registry.acr.tag(target, tag, scopes=scopes).get("digest")
        if not digest:
            raise CLIError(f"Could not get the manifest digest for image '{target}:{tag}'.")
    tags = [item["name"] for item in registry.acr.iter_tags(target, scopes=scopes)
            if item.get("digest") == digest and item.get("name")]
    message = f"This operation will delete the manifest '{digest}'"
    if tags:
        message += " and all the following images: " + ", ".join(f"'{target}:{t}'" for t in tags)
    if yes:
        logger.warning(message)
    else:
        confirm(message + ".\nAre you sure you want to continue?", yes)
    registry.oci.delete_manifest(target, digest, scopes=scopes)
    return None


def acr_repository_untag(registry_name, image, suffix=None, username=None, password=None,
                         resource_group_name=None):
    repo, tag, _ = _parse_image(image, allow_digest=False)
    registry = open_registry(registry_name, username, password, suffix)
    registry.acr.delete_tag(repo, tag)
    return None
