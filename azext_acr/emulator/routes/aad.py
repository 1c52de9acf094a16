"""The local AAD authority at `{authorityHost}/{tenantId}`: discovery, keys, token and device-code endpoints;
the managed-identity endpoints (IMDS and App Service style); and the test-only `/_emulator/aad/` controls."""

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
    return _json(context_of(request).aad.token(form, _authority_host(request)))


@_aad_errors
async def token_v1(request: web.Request, tenant: str) -> web.Response:
    """The v1 endpoint takes `resource=` instead of `scope=`."""
    _check_tenant(request, tenant)
    form = await _form_with_client_auth(request)
    resource = form.get("resource")
    if not resource and form.get("grant_type") != "refresh_token":
        raise AadError(400, "invalid_request", "AADSTS50001: The request body must contain 'resource'.")
    return _json(context_of(request).aad.token(form, _authority_host(request), resource=resource))


@_aad_errors
async def device_code(request: web.Request, tenant: str) -> web.Response:
    """The device authorization endpoint: a user code for the person, a device code for the client to poll."""
    _check_tenant(request, tenant)
    form = {k: str(v) for k, v in (await request.post()).items()}
    return _json(context_of(request).aad.device_authorization(form, _authority_host(request)))


# -- managed identity ---------------------------------------------------------------------------------

@_aad_errors
async def imds_token(request: web.Request) -> web.Response:
    """Azure VM style: `GET /metadata/identity/oauth2/token?resource=` with `Metadata: true`
    (what MSAL calls when AZURE_POD_IDENTITY_AUTHORITY_HOST points here)."""
    if request.headers.get("Metadata", "").lower() != "true":
        raise AadError(400, "invalid_request", "Required metadata header not specified")
    query = request.query
    return _json(context_of(request).aad.managed_identity_token(
        query.get("resource", ""), _authority_host(request), client_id=query.get("client_id"),
        object_id=query.get("object_id"), resource_id=query.get("msi_res_id") or query.get("mi_res_id")))


async def app_service_token(request: web.Request) -> web.Response:
    """App Service style: `GET IDENTITY_ENDPOINT?resource=` with `X-IDENTITY-HEADER: IDENTITY_HEADER`."""
    from ..auth.directory import IDENTITY_HEADER
    from ..auth.identities import _same

    if not _same(request.headers.get("X-IDENTITY-HEADER", ""), IDENTITY_HEADER):
        return _json({"statusCode": 401, "message": "X-IDENTITY-HEADER is missing or wrong"}, 401)
    query = request.query
    try:
        body = context_of(request).aad.managed_identity_token(
            query.get("resource", ""), _authority_host(request), client_id=query.get("client_id"),
            object_id=query.get("object_id") or query.get("principal_id"), resource_id=query.get("mi_res_id"))
    except AadError as exc:
        return _json({"statusCode": exc.status, "message": exc.body["error_description"]}, exc.status)
    body.pop("expires_in", None)  # App Service answers with expires_on only
    body.pop("ext_expires_in", None)
    return _json(body)


# -- test-only controls under /_emulator/aad/ ---------------------------------------------------------

async def _json_body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise AadError(400, "invalid_request", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise AadError(400, "invalid_request", "the body must be a JSON object")
        return body
    return {k: str(v) for k, v in (await request.post()).items()}


@_aad_errors
async def approve_device(request: web.Request) -> web.Response:
    """`POST /_emulator/aad/device/approve` `{"user_code": "...", "username": optional}`: sign the code in."""
    body = await _json_body(request)
    user = context_of(request).aad.approve_device_code(str(body.get("user_code", "")), body.get("username"))
    return _json({"approved": True, "username": user.username})


@_aad_errors
async def device_page(request: web.Request) -> web.Response:
    """What the verification URI shows: the pending codes (a browser cannot sign in here; use approve)."""
    return _json({"pending": context_of(request).aad.pending_device_codes(),
                  "approve": "POST /_emulator/aad/device/approve {\"user_code\": \"...\"}"})


@_aad_errors
async def principals(request: web.Request) -> web.Response:
    """`GET` lists the directory (no secrets); `POST` adds or replaces one principal (JSON as in --principals)."""
    from ..auth.directory import DirectoryError, principal_from_json

    directory = context_of(request).aad.directory
    if request.method == "POST":
        try:
            principal = principal_from_json(await _json_body(request))
        except DirectoryError as err:
            raise AadError(400, "invalid_request", str(err)) from None
        directory.add(principal)
        return _json(principal.public(), 201)
    return _json({"principals": [p.public() for p in directory.principals],
                  "publicClients": sorted(directory.public_clients)})


@_aad_errors
async def federated_token(request: web.Request) -> web.Response:
    """`POST /_emulator/aad/federated-token` `{"subject", "audience", "expiresIn"}`: a token from the emulator's
    own workload-identity issuer, to put in AZURE_FEDERATED_TOKEN_FILE."""
    from ..auth.directory import DEV_FEDERATED_SUBJECT, FEDERATED_AUDIENCE, FEDERATED_ISSUER

    body = await _json_body(request)
    try:
        expires_in = int(body.get("expiresIn", 3600))
    except (TypeError, ValueError):
        raise AadError(400, "invalid_request", "expiresIn must be a number of seconds") from None
    token = context_of(request).aad.mint_federated_token(
        subject=str(body.get("subject") or DEV_FEDERATED_SUBJECT),
        audience=str(body.get("audience") or FEDERATED_AUDIENCE), expires_in=expires_in)
    return _json({"token": token, "issuer": FEDERATED_ISSUER, "expiresIn": expires_in})


async def federated_keys(request: web.Request) -> web.Response:
    return _json(context_of(request).aad.federated_jwks())


async def stats(request: web.Request) -> web.Response:
    """`GET /_emulator/aad/stats`: how many token requests of each kind this AAD answered."""
    return _json(dict(context_of(request).aad.stats))
