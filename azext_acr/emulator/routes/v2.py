"""The Docker/OCI distribution API under `/v2`."""

from __future__ import annotations

import asyncio
import io
import re
from typing import BinaryIO

from aiohttp import web

from ..auth.scopes import permits
from ..context import context_of
from ..models import errors
from ..models.manifests import MAX_MANIFEST_SIZE, OCI_INDEX
from ..models.paging import page_size, paginate
from ..models.registry import UploadSession
from .common import (
    Caller,
    authenticate,
    challenge,
    json_response,
    link_header,
    require,
    require_repository,
)

BODY_CHUNK = 1 << 20
SEND_CHUNK = 4 << 20
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_RANGE_RE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?$")


async def version_check(request: web.Request) -> web.Response:
    """`GET /v2/`: any valid credential is enough; without one, the scope-less challenge clients parse."""
    if authenticate(request) is None:
        raise challenge(request, "", "", ())
    return json_response({})


# --- blobs ----------------------------------------------------------------------------------------
async def get_blob(request: web.Request, name: str, digest: str) -> web.StreamResponse:
    require_repository(request, name, "pull")
    registry = context_of(request).registry
    if request.method == "HEAD":
        size = registry.blob_size(name, digest)
        reader = None
    else:
        # open before answering: a blob deleted meanwhile is a clean 404, one deleted later still streams
        reader, size = registry.open_blob(name, digest)
    try:
        return await _send_blob(request, digest, reader, size)
    finally:
        if reader is not None:
            reader.close()


async def _send_blob(request: web.Request, digest: str, reader: BinaryIO | None, size: int) -> web.StreamResponse:
    start, end, status = 0, size - 1, 200
    range_header = request.headers.get("Range")
    if range_header and size > 0:
        start, end = _parse_range(range_header, size)
        status = 206
    headers = {
        "Content-Type": "application/octet-stream",
        "Docker-Content-Digest": digest,
        "ETag": f'"{digest}"',
        "Accept-Ranges": "bytes",
    }
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = max(end - start + 1, 0)
    await response.prepare(request)
    count = end - start + 1
    if reader is not None and count > 0:
        await _send_file(request, response, reader, start, count)
    await response.write_eof()
    return response


async def _send_file(
    request: web.Request, response: web.StreamResponse, reader: BinaryIO, start: int, count: int
) -> None:
    """sendfile(2) on plain HTTP; asyncio's own read-and-write fallback under TLS or for memory blobs."""
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("client went away")
    in_memory = isinstance(reader, io.BytesIO)
    if not in_memory and transport.get_extra_info("sslcontext") is None:
        try:
            await asyncio.get_running_loop().sendfile(transport, reader, start, count)
            return
        except (NotImplementedError, RuntimeError):
            pass
    # TLS: asyncio's own fallback reads 256 KiB at a time through the executor; bigger reads are faster
    reader.seek(start)
    remaining = count
    while remaining > 0:
        size = min(SEND_CHUNK, remaining)
        chunk = reader.read(size) if in_memory else await asyncio.to_thread(reader.read, size)
        if not chunk:
            raise ConnectionResetError("the blob ended early")
        remaining -= len(chunk)
        await response.write(chunk)


def _parse_range(header: str, size: int) -> tuple[int, int]:
    """`bytes=s-e`, `bytes=s-` or `bytes=-n`; the end is clamped to the last byte, as the SDK needs."""
    match = _RANGE_RE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        raise _range_not_satisfiable(size)
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise _range_not_satisfiable(size)
    return start, end


def _range_not_satisfiable(size: int) -> errors.RegistryError:
    return errors.RangeInvalid(headers={"Content-Range": f"bytes */{size}"})


async def delete_blob(request: web.Request, name: str, digest: str) -> web.Response:
    require_repository(request, name, "delete")
    context_of(request).registry.delete_blob(name, digest)
    return web.Response(status=202, headers={"Docker-Content-Digest": digest, "Content-Length": "0"})


# --- uploads --------------------------------------------------------------------------------------
def _upload_headers(session: UploadSession) -> dict[str, str]:
    end = max(session.offset - 1, 0)
    return {
        "Location": f"/v2/{session.repo}/blobs/uploads/{session.id}?_nouploadcache=false&_state={session.id}",
        "Range": f"0-{end}",
        "Docker-Upload-UUID": session.id,
        "Content-Length": "0",
    }


def _blob_created(name: str, digest: str) -> web.Response:
    return web.Response(
        status=201,
        headers={"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest, "Content-Length": "0"},
    )


async def _body_chunks(request: web.Request):
    """The request body in chunks; a client silent for `body_timeout` seconds gets a 400."""
    timeout = context_of(request).settings.body_timeout
    while True:
        try:
            chunk = await asyncio.wait_for(request.content.read(BODY_CHUNK), timeout)
        except TimeoutError:
            raise errors.BlobUploadInvalid(
                f"no request body bytes arrived for {timeout:g} s (Content-Length: {request.content_length})"
            ) from None
        if not chunk:
            return
        yield chunk


async def _stream_into(request: web.Request, session: UploadSession) -> None:
    try:
        async for chunk in _body_chunks(request):
            session.upload.write(chunk)
    finally:
        session.upload.flush()  # what we acknowledge must survive the process


async def start_upload(request: web.Request, name: str) -> web.Response:
    caller = require_repository(request, name, "push", "pull")
    registry = context_of(request).registry
    mount, source = request.query.get("mount"), request.query.get("from")
    if mount and _may_pull(caller, source):
        if registry.mount_blob(name, mount, source):
            return _blob_created(name, mount)
    session = registry.start_upload(name)
    digest = request.query.get("digest")
    if digest:
        await _stream_into(request, session)
        await registry.finish_upload(session, digest)
        return _blob_created(name, digest)
    return web.Response(status=202, headers=_upload_headers(session))


def _may_pull(caller: Caller, source: str | None) -> bool:
    return source is None or permits(caller.access, "repository", source, ["pull"])


async def patch_upload(request: web.Request, name: str, upload_id: str) -> web.Response:
    require_repository(request, name, "pull", "push")
    session = context_of(request).registry.upload_session(name, upload_id)
    content_range = request.headers.get("Content-Range")
    if content_range:
        match = _CONTENT_RANGE_RE.match(content_range.strip())
        if not match or int(match.group(1)) != session.offset:
            raise errors.RangeInvalid(headers=_upload_headers(session) | {"Content-Length": "0"})
    await _stream_into(request, session)
    return web.Response(status=202, headers=_upload_headers(session))


async def finish_upload(request: web.Request, name: str, upload_id: str) -> web.Response:
    require_repository(request, name, "pull", "push")
    registry = context_of(request).registry
    session = registry.upload_session(name, upload_id)
    digest = request.query.get("digest")
    if not digest:
        raise errors.DigestInvalid("digest missing from the closing PUT")
    await _stream_into(request, session)
    await registry.finish_upload(session, digest)
    return _blob_created(name, digest)


async def upload_status(request: web.Request, name: str, upload_id: str) -> web.Response:
    require_repository(request, name, "pull")
    session = context_of(request).registry.upload_session(name, upload_id)
    return web.Response(status=204, headers=_upload_headers(session))


async def cancel_upload(request: web.Request, name: str, upload_id: str) -> web.Response:
    require_repository(request, name, "pull", "push")
    registry = context_of(request).registry
    await registry.cancel_upload(registry.upload_session(name, upload_id))
    return web.Response(status=204)


# --- manifests ------------------------------------------------------------------------------------
async def get_manifest(request: web.Request, name: str, reference: str) -> web.Response:
    require_repository(request, name, "pull")
    manifest = context_of(request).registry.get_manifest(name, reference)
    headers = {
        "Content-Type": manifest.media_type,
        "Docker-Content-Digest": manifest.digest,
        "ETag": f'"{manifest.digest}"',
    }
    return web.Response(body=manifest.body, headers=headers)


async def put_manifest(request: web.Request, name: str, reference: str) -> web.Response:
    require_repository(request, name, "pull", "push")
    if (request.content_length or 0) > MAX_MANIFEST_SIZE:
        raise errors.ManifestTooLarge()
    body = bytearray()
    async for chunk in _body_chunks(request):
        body += chunk
        if len(body) > MAX_MANIFEST_SIZE:
            raise errors.ManifestTooLarge()
    manifest = context_of(request).registry.put_manifest(
        name, reference, bytes(body), request.headers.get("Content-Type")
    )
    headers = {
        "Location": f"/v2/{name}/manifests/{manifest.digest}",
        "Docker-Content-Digest": manifest.digest,
        "Content-Length": "0",
    }
    if manifest.subject:
        headers["OCI-Subject"] = manifest.subject
    return web.Response(status=201, headers=headers)


async def delete_manifest(request: web.Request, name: str, reference: str) -> web.Response:
    require_repository(request, name, "delete")
    context_of(request).registry.delete_manifest(name, reference)
    return web.Response(status=202, headers={"Content-Length": "0"})


# --- listings -------------------------------------------------------------------------------------
async def list_tags(request: web.Request, name: str) -> web.Response:
    """Tags in lexical order. ACR's challenge asks for metadata_read; a pull grant is accepted too,
    because docker-style clients compute `pull` for this call themselves."""
    caller = authenticate(request, "repository", name, ("metadata_read",))
    if caller is None:
        raise challenge(request, "repository", name, ("metadata_read",))
    if not (
        permits(caller.access, "repository", name, ["metadata_read"])
        or permits(caller.access, "repository", name, ["pull"])
    ):
        raise challenge(request, "repository", name, ("metadata_read",), error="insufficient_scope")
    n = page_size(request.query.get("n"))
    tags = [t.name for t in context_of(request).registry.list_tags(name)]
    page, more = paginate(tags, lambda t: t, request.query.get("last"), n, lexical=True)
    headers = {"Link": link_header(f"/v2/{name}/tags/list", page[-1], n)} if more else {}
    return json_response({"name": name, "tags": page}, headers=headers)


async def catalog(request: web.Request) -> web.Response:
    require(request, "registry", "catalog", "*")
    return render_catalog(request, "/v2/_catalog")


def render_catalog(request: web.Request, path: str) -> web.Response:
    n = page_size(request.query.get("n"))
    names = context_of(request).registry.catalog()
    page, more = paginate(names, lambda r: r, request.query.get("last"), n, lexical=True)
    headers = {"Link": link_header(path, page[-1], n)} if more else {}
    return json_response({"repositories": page}, headers=headers)


async def referrers(request: web.Request, name: str, digest: str) -> web.Response:
    require_repository(request, name, "pull")
    artifact_type = request.query.get("artifactType")
    found = context_of(request).registry.referrers(name, digest, artifact_type)
    descriptors = []
    for m in found:
        descriptor = {"mediaType": m.media_type, "digest": m.digest, "size": len(m.body)}
        if m.artifact_type:
            descriptor["artifactType"] = m.artifact_type
        if m.annotations:
            descriptor["annotations"] = m.annotations
        descriptors.append(descriptor)
    headers = {"Content-Type": OCI_INDEX}
    if artifact_type:
        headers["OCI-Filters-Applied"] = "artifactType"
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    return json_response(body, headers=headers)
