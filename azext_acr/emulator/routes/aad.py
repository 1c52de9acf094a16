"""The local AAD authority at `{authorityHost}/{tenantId}`: discovery, keys and client credentials."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import unquote

from aiohttp import web

from ..auth.aad import AadError
from ..context import context_of


def _authority_host(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _json(body: dict, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache"},
    )


def _check_tenant(request: web.Request, tenant: str) -> None:
    if not context_of(request).aad.knows_tenant(tenant):
        raise AadError(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")


def _aad_errors(handler):
    """AAD errors are `{"error", "error_description"}`, never the registry's `errors[]` shape."""

    async def wrapped(request: web.Request, **params: str) -> web.Response:
        try:
            return await handler(request, **params)
        except AadError as exc:
            return _json(exc.body, exc.status)

    wrapped.__name__ = handler.__name__
    return wrapped


@_aad_errors
async def openid_configuration(request: web.Request, tenant: str) -> web.Response:
    _check_tenant(request, tenant)
    return _json(context_of(request).aad.openid_configuration(_authority_host(request), tenant))


@_aad_errors
async def keys(request: web.Request, tenant: str) -> web.Response:
    _check_tenant(request, tenant)
    return _json(context_of(request).aad.jwks())


@_aad_errors
async def instance_discovery(request: web.Request) -> web.Response:
    """Answered for clients that do not turn instance discovery off; it points back at this host."""
    host = _authority_host(request)
    endpoint = request.query.get("authorization_endpoint", "")
    tenant = context_of(request).aad.tenant_id
    return _json(
        {
            "tenant_discovery_endpoint": f"{host}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [
                {"preferred_network": request.host, "preferred_cache": request.host, "aliases": [request.host]}
            ],
            "authorization_endpoint": unquote(endpoint),
        }
    )


async def _form_with_client_auth(request: web.Request) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.post()).items()}
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = ""
        form.setdefault("client_id", unquote(client_id))
        form.setdefault("client_secret", unquote(secret))
    return form


@_aad_errors
async def token_v2(request: web.Request, tenant: str) -> web.Response:
    _check_tenant(request, tenant)
    form = await _form_with_client_auth(request)
    return _json(context_of(request).aad.client_credentials(form, _authority_host(request)))


@_aad_errors
async def token_v1(request: web.Request, tenant: str) -> web.Response:
    """The v1 endpoint takes `resource=` instead of `scope=`."""
    _check_tenant(request, tenant)
    form = await _form_with_client_auth(request)
    resource = form.get("resource")
    if not resource:
        raise AadError(400, "invalid_request", "AADSTS50001: The request body must contain 'resource'.")
    return _json(context_of(request).aad.client_credentials(form, _authority_host(request), resource=resource))
