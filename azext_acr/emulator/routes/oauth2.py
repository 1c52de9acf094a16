"""ACR's token service: `/oauth2/exchange` (AAD token -> refresh token) and `/oauth2/token`."""

from __future__ import annotations

import base64
import binascii

import jwt
from aiohttp import web
from multidict import MultiDictProxy

from ..auth import identities
from ..auth.scopes import AllowAll, AllowNothing, AnonymousPull, FromAccess, Policy, grant, parse_scopes
from ..auth.tokens import InvalidToken
from ..context import Context, context_of
from ..models.errors import BadRequest, Unauthorized
from .common import json_response

_EXCHANGE_GRANTS = {"access_token", "access_token_refresh_token", "refresh_token"}


def _unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message)


def _service(request: web.Request, fields: MultiDictProxy) -> str:
    return fields.get("service") or request.host


def _token_audiences(ctx: Context, service: str, request: web.Request) -> set[str]:
    return {service, request.host} | ctx.settings.service_aliases


async def exchange(request: web.Request) -> web.Response:
    form = await request.post()
    ctx = context_of(request)
    grant_type = form.get("grant_type", "")
    if grant_type not in _EXCHANGE_GRANTS:
        raise BadRequest(f"unsupported grant_type {grant_type!r}")
    service = form.get("service")
    if not service:
        raise BadRequest("service is required")
    aad_token = form.get("access_token")
    if not aad_token:
        raise _unauthorized("an AAD access_token is required")
    try:
        claims = ctx.aad.verify(str(aad_token))
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"the AAD access token is not valid: {exc}") from None
    tenant = form.get("tenant")
    if tenant and tenant != claims.get("tid"):
        raise _unauthorized("the AAD access token is from another tenant")
    subject = str(claims.get("upn") or claims.get("oid") or claims.get("appid") or claims.get("sub"))
    refresh = ctx.tokens.refresh_token(subject, str(service), str(claims.get("tid")))
    return json_response({"refresh_token": refresh})


def _subject_policy(ctx: Context, subject: str, service: str) -> Policy:
    """A refresh token's rights: its AAD principal's roles on this registry (everything for non-AAD subjects)."""
    return ctx.aad.directory.policy(subject, service) or AllowAll()


def _token_policy(ctx: Context, request: web.Request, service: str, token: str) -> tuple[str, Policy]:
    """The null-GUID user's password: an ACR refresh token (full rights) or access token (its own)."""
    audiences = _token_audiences(ctx, service, request)
    try:
        claims = ctx.tokens.verify(token, "refresh_token", audiences)
        return str(claims["sub"]), _subject_policy(ctx, str(claims["sub"]), service)
    except InvalidToken:
        pass
    try:
        claims = ctx.tokens.verify(token, "access_token", audiences)
    except InvalidToken:
        raise _unauthorized("the refresh token is invalid or expired") from None
    access = claims.get("access")
    return str(claims["sub"]), FromAccess(access if isinstance(access, list) else [])


def _password_policy(
    ctx: Context, request: web.Request, service: str, username: str, password: str
) -> tuple[str, Policy]:
    if not username and not password:
        return identities.ANONYMOUS_SUBJECT, AnonymousPull() if ctx.settings.anonymous_pull else AllowNothing()
    if username == identities.NULL_GUID:
        return _token_policy(ctx, request, service, password)
    subject = identities.basic_subject(username, password)
    if subject is None:
        raise _unauthorized("invalid username or password")
    return subject, AllowAll()


def _answer(ctx: Context, subject: str, service: str, policy: Policy, scopes: list[str], offline: bool) -> web.Response:
    access = grant(parse_scopes(scopes), policy)
    body = {"access_token": ctx.tokens.access_token(subject, service, access), "expires_in": ctx.tokens.access_ttl}
    if offline and subject != identities.ANONYMOUS_SUBJECT:
        body["refresh_token"] = ctx.tokens.refresh_token(subject, service, None)
    return json_response(body)


async def token_post(request: web.Request) -> web.Response:
    form = await request.post()
    ctx = context_of(request)
    service = _service(request, form)
    scopes = [str(s) for s in form.getall("scope", [])]
    grant_type = form.get("grant_type", "")
    if grant_type == "refresh_token":
        refresh = str(form.get("refresh_token", ""))
        try:
            claims = ctx.tokens.verify(refresh, "refresh_token", _token_audiences(ctx, service, request))
        except InvalidToken:
            raise _unauthorized("the refresh token is invalid or expired") from None
        subject = str(claims["sub"])
        return _answer(ctx, subject, service, _subject_policy(ctx, subject, service), scopes, offline=False)
    if grant_type == "password":
        subject, policy = _password_policy(
            ctx, request, service, str(form.get("username", "")), str(form.get("password", ""))
        )
        return _answer(ctx, subject, service, policy, scopes, offline=form.get("access_type") == "offline")
    raise BadRequest(f"unsupported grant_type {grant_type!r}")


async def token_get(request: web.Request) -> web.Response:
    """The Docker token spec's GET with Basic credentials (docker login, oras-py, skopeo without a token)."""
    ctx = context_of(request)
    service = _service(request, request.query)
    scopes = request.query.getall("scope", [])
    username = password = ""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            username, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("malformed Basic credentials") from None
        if not username and not password:
            raise _unauthorized("invalid username or password")
    subject, policy = _password_policy(ctx, request, service, username, password)
    offline = request.query.get("offline_token", "").lower() == "true"
    return _answer(ctx, subject, service, policy, scopes, offline)
