"""ACR's metadata API under `/acr/v1`: repository, tag and manifest attributes, listings, deletes."""

from __future__ import annotations

import json
from urllib.parse import quote

from aiohttp import web

from ..context import context_of
from ..models import errors
from ..models.paging import page_size, paginate
from ..models.records import Manifest, Repository, Tag
from .common import json_response, link_header, login_server, require, require_repository
from .v2 import render_catalog

_ORDERS = {"", "none", "timedesc", "timeasc"}


def _repository_body(request: web.Request, repo: Repository) -> dict:
    manifests, tags = context_of(request).registry.counts(repo.name)
    return {
        "registry": login_server(request),
        "imageName": repo.name,
        "createdTime": repo.created,
        "lastUpdateTime": repo.updated,
        "manifestCount": manifests,
        "tagCount": tags,
        "changeableAttributes": repo.attributes.to_dict(),
    }


def _tag_body(tag: Tag) -> dict:
    return {
        "name": tag.name,
        "digest": tag.digest,
        "createdTime": tag.created,
        "lastUpdateTime": tag.updated,
        "signed": False,
        "changeableAttributes": tag.attributes.to_dict(),
    }


def _manifest_body(request: web.Request, m: Manifest) -> dict:
    body: dict = {
        "digest": m.digest,
        "imageSize": m.image_size,
        "createdTime": m.created,
        "lastUpdateTime": m.updated,
    }
    if m.architecture:
        body["architecture"] = m.architecture
    if m.os:
        body["os"] = m.os
    body["mediaType"] = m.media_type
    tags = context_of(request).registry.tags_of(m.repo, m.digest)
    if tags:
        body["tags"] = tags
    body["changeableAttributes"] = m.attributes.to_dict()
    if m.references:
        body["references"] = [{k: v for k, v in r.items() if v is not None} for r in m.references]
    return body


async def _json_body(request: web.Request) -> dict:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError as exc:
        raise errors.BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise errors.BadRequest("the body must be a JSON object")
    return body


def _order(request: web.Request) -> str:
    orderby = request.query.get("orderby", "")
    if orderby.lower() not in _ORDERS:
        raise errors.PaginationInvalid("orderby must be timedesc, timeasc or none", detail={"orderby": orderby})
    return orderby.lower()


def _sorted_by_time(items: list, orderby: str, key) -> tuple[list, bool]:
    """Items in the requested order, and whether that order is lexical (for `last`)."""
    if orderby in ("timedesc", "timeasc"):
        ordered = sorted(items, key=lambda i: (i.updated, key(i)), reverse=orderby == "timedesc")
        return ordered, False
    return items, True


# --- catalog and repositories ---------------------------------------------------------------------
async def catalog(request: web.Request) -> web.Response:
    require(request, "registry", "catalog", "*")
    return render_catalog(request, "/acr/v1/_catalog")


async def get_repository(request: web.Request, name: str) -> web.Response:
    require_repository(request, name, "metadata_read")
    return json_response(_repository_body(request, context_of(request).registry.repository(name)))


async def update_repository(request: web.Request, name: str) -> web.Response:
    require_repository(request, name, "metadata_write")
    registry = context_of(request).registry
    registry.repository(name)
    repo = registry.update_repository(name, await _json_body(request))
    return json_response(_repository_body(request, repo))


async def delete_repository(request: web.Request, name: str) -> web.Response:
    require_repository(request, name, "delete")
    manifests, tags = context_of(request).registry.delete_repository(name)
    return json_response({"manifestsDeleted": manifests, "tagsDeleted": tags}, status=202)


# --- tags -----------------------------------------------------------------------------------------
async def list_tags(request: web.Request, name: str) -> web.Response:
    require_repository(request, name, "metadata_read")
    orderby = _order(request)
    n = page_size(request.query.get("n"))
    tags = context_of(request).registry.list_tags(name, digest=request.query.get("digest") or None)
    ordered, lexical = _sorted_by_time(tags, orderby, lambda t: t.name)
    page, more = paginate(ordered, lambda t: t.name, request.query.get("last"), n, lexical)
    headers = {}
    if more:
        headers["Link"] = link_header(f"/acr/v1/{quote(name, safe='')}/_tags", page[-1].name, n, orderby)
    body = {"registry": login_server(request), "imageName": name, "tags": [_tag_body(t) for t in page]}
    return json_response(body, headers=headers)


def _one_tag(request: web.Request, name: str, tag: Tag) -> web.Response:
    return json_response({"registry": login_server(request), "imageName": name, "tag": _tag_body(tag)})


async def get_tag(request: web.Request, name: str, tag: str) -> web.Response:
    require_repository(request, name, "metadata_read")
    return _one_tag(request, name, context_of(request).registry.tag(name, tag))


async def update_tag(request: web.Request, name: str, tag: str) -> web.Response:
    require_repository(request, name, "metadata_write")
    registry = context_of(request).registry
    registry.tag(name, tag)
    return _one_tag(request, name, registry.update_tag(name, tag, await _json_body(request)))


async def delete_tag(request: web.Request, name: str, tag: str) -> web.Response:
    require_repository(request, name, "delete")
    context_of(request).registry.delete_tag(name, tag)
    return web.Response(status=202, headers={"Content-Length": "0"})


# --- manifests ------------------------------------------------------------------------------------
async def list_manifests(request: web.Request, name: str) -> web.Response:
    require_repository(request, name, "metadata_read")
    orderby = _order(request)
    n = page_size(request.query.get("n"))
    manifests = context_of(request).registry.list_manifests(name)
    ordered, lexical = _sorted_by_time(manifests, orderby, lambda m: m.digest)
    page, more = paginate(ordered, lambda m: m.digest, request.query.get("last"), n, lexical)
    headers = {}
    if more:
        headers["Link"] = link_header(f"/acr/v1/{quote(name, safe='')}/_manifests", page[-1].digest, n, orderby)
    body = {
        "registry": login_server(request),
        "imageName": name,
        "manifests": [_manifest_body(request, m) for m in page],
    }
    return json_response(body, headers=headers)


def _one_manifest(request: web.Request, name: str, manifest: Manifest) -> web.Response:
    body = {"registry": login_server(request), "imageName": name, "manifest": _manifest_body(request, manifest)}
    return json_response(body)


async def get_manifest(request: web.Request, name: str, digest: str) -> web.Response:
    require_repository(request, name, "metadata_read")
    return _one_manifest(request, name, context_of(request).registry.manifest_metadata(name, digest))


async def update_manifest(request: web.Request, name: str, digest: str) -> web.Response:
    require_repository(request, name, "metadata_write")
    registry = context_of(request).registry
    registry.manifest_metadata(name, digest)
    return _one_manifest(request, name, registry.update_manifest(name, digest, await _json_body(request)))
