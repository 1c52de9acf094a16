"""Rendering and authorisation shared by the registry APIs (`/v2`, `/acr/v1`)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..auth.identities import basic_subject
from ..auth.scopes import permits
from ..auth.tokens import InvalidToken
from ..context import context_of
from ..models.errors import RegistryError, Unauthorized

JSON_TYPE = "application/json; charset=utf-8"
BASIC_CHALLENGE = 'Basic realm="Azure Container Registry"'


def dumps(body: Any) -> bytes:
    """ACR's wire JSON: compact, with a trailing newline."""
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=dumps(body), status=status, headers={"Content-Type": JSON_TYPE, **(headers or {})})


def error_response(error: RegistryError) -> web.Response:
    return json_response({"errors": [error.to_dict()]}, status=error.status, headers=error.headers)


def login_server(request: web.Request) -> str:
    return request.host


def bearer_challenge(request: web.Request, scope: str | None = None, error: str | None = None) -> str:
    host = request.host
    challenge = f'Bearer realm="{request.scheme}://{host}/oauth2/token",service="{host}"'
    if scope:
        challenge += f',scope="{scope}"'
    if error:
        challenge += f',error="{error}"'
    return challenge


@dataclass
class Caller:
    subject: str
    access: list[dict] | None  # None = unrestricted (admin user, dev service principal)


def audiences(request: web.Request) -> set[str]:
    return {request.host} | context_of(request).settings.service_aliases


def authenticate(request: web.Request, type_: str = "", name: str = "", actions: tuple[str, ...] = ()) -> Caller | None:
    """Who is calling, from the Authorization header; None when nobody claims to be anyone.

    Bad credentials fail here, before any body is read: wrong Basic gets ACR's Basic challenge, a bad
    bearer token the Bearer challenge for the scope this endpoint needs.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if not header:
        return None
    if scheme == "basic":
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username = password = ""
        subject = basic_subject(username, password)
        if subject is None:
            raise Unauthorized(detail=None, headers={"WWW-Authenticate": BASIC_CHALLENGE})
        return Caller(subject, None)
    if scheme == "bearer":
        try:
            claims = context_of(request).tokens.verify(value.strip(), "access_token", audiences(request))
        except InvalidToken:
            raise challenge(request, type_, name, actions, error="invalid_token") from None
        access = claims.get("access")
        return Caller(str(claims.get("sub", "")), access if isinstance(access, list) else [])
    raise challenge(request, type_, name, actions)


def challenge(
    request: web.Request, type_: str, name: str, actions: tuple[str, ...], error: str | None = None
) -> Unauthorized:
    scope = f"{type_}:{name}:{','.join(actions)}" if type_ else None
    detail = [{"Type": type_, "Name": name, "Action": a} for a in actions] if type_ else None
    return Unauthorized(detail=detail, headers={"WWW-Authenticate": bearer_challenge(request, scope, error)})


def require(request: web.Request, type_: str, name: str, *actions: str) -> Caller:
    """Authorise the request for `actions` on one resource, or raise the 401 with its challenge."""
    caller = authenticate(request, type_, name, actions)
    if caller is None:
        raise challenge(request, type_, name, actions)
    if not permits(caller.access, type_, name, actions):
        raise challenge(request, type_, name, actions, error="insufficient_scope")
    return caller


def require_repository(request: web.Request, repo: str, *actions: str) -> Caller:
    return require(request, "repository", repo, *actions)


def link_header(path: str, last: str, n: int, orderby: str = "") -> str:
    return f'<{path}?last={quote(last, safe="")}&n={n}&orderby={quote(orderby, safe="")}>; rel="next"'
