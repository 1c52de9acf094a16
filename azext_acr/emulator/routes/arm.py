"""The slice of Azure Resource Manager that the real `az acr` reads, for one subscription and resource group.

- `GET /subscriptions` (az login) and `GET /subscriptions/{sub}`;
- `GET /subscriptions/{sub}/resources?$filter=resourceType eq 'Microsoft.ContainerRegistry/registries'`
  (how az finds a registry by name);
- `GET .../providers/Microsoft.ContainerRegistry/registries[/{name}]` (list, and one with its loginServer);
- `POST .../registries/{name}/listCredentials` (the admin user, as `az acr credential show`).
Every call needs an AAD token from this emulator's issuer for ARM (`https://management.core.windows.net/`).
The registry is named after the host the request came to (`localhost`), so `az` with the ACR login-server
suffix `:PORT` computes the right login server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
from aiohttp import web

from ..auth import identities
from ..auth.aad import ARM_AUDIENCES
from ..context import context_of

SUBSCRIPTION_ID = "dec0de00-0000-4000-8000-00000000ac10"
SUBSCRIPTION_NAME = "acr-emulator"
RESOURCE_GROUP = "acr-emulator"
LOCATION = "local"
REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
_STARTED = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
# the --registry-host names, set by the server: each is a registry named after its first label
REGISTRY_HOSTS = web.AppKey("arm_registry_hosts", list)


def ready_fields() -> dict:
    """What the ready line tells about the local cloud: the subscription and the managed identity."""
    from ..auth.directory import IDENTITY_HEADER, MANAGED_IDENTITY_CLIENT_ID

    return {"subscriptionId": SUBSCRIPTION_ID, "resourceGroup": RESOURCE_GROUP,
            "managedIdentityClientId": MANAGED_IDENTITY_CLIENT_ID, "identityHeader": IDENTITY_HEADER}


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(body: dict, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        headers={"Content-Type": "application/json; charset=utf-8",
                                 "x-ms-request-id": "00000000-0000-0000-0000-000000000000"})


def _arm(handler):
    """ARM's error shape `{"error": {"code", "message"}}`, after checking the caller's ARM token."""

    async def wrapped(request: web.Request, **params: str) -> web.Response:
        try:
            _authenticate(request)
            return await handler(request, **params)
        except ArmError as exc:
            response = _json({"error": {"code": exc.code, "message": exc.message}}, exc.status)
            if exc.status == 401:
                host = f"{request.scheme}://{request.host}"
                response.headers["WWW-Authenticate"] = (
                    f'Bearer authorization_uri="{host}/{identities.TENANT_ID}", error="invalid_token"')
            return response

    wrapped.__name__ = handler.__name__
    return wrapped


def _authenticate(request: web.Request) -> dict:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    try:
        return context_of(request).aad.verify(header[7:].strip(), ARM_AUDIENCES)
    except jwt.PyJWTError as err:
        raise ArmError(401, "InvalidAuthenticationToken", f"The access token is invalid: {err}.") from None


def _check_subscription(subscription: str) -> None:
    if subscription.lower() != SUBSCRIPTION_ID:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")


def _subscription() -> dict:
    return {
        "id": f"/subscriptions/{SUBSCRIPTION_ID}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": identities.TENANT_ID,
        "displayName": SUBSCRIPTION_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Internal_2014-09-01",
                                 "spendingLimit": "Off"},
    }


def _registries(request: web.Request) -> list[dict]:
    """The default registry, named after the host name the caller used (e.g. `localhost`), and one per
    `--registry-host` (named after its first label)."""
    host = request.host
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    port = host[len(hostname):]
    name = hostname.split(".")[0]
    if not name or not name[0].isalpha():  # an IP address: az needs a registry name, so call it localhost
        name, hostname = "localhost", "localhost"
    extra = request.app.get(REGISTRY_HOSTS, [])
    if hostname in extra:
        name, hostname = "localhost", "localhost"
    found = [_registry(request, name, hostname + port)]
    found += [_registry(request, h.split(".")[0], h + port) for h in extra]
    return found


def _registry(request: web.Request, name: str, host: str) -> dict:
    settings = context_of(request).settings
    return {
        "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/{REGISTRY_TYPE}/{name}",
        "name": name,
        "type": REGISTRY_TYPE,
        "location": LOCATION,
        "tags": {},
        "sku": {"name": "Premium", "tier": "Premium"},
        "systemData": {"createdAt": _STARTED, "createdBy": identities.CLIENT_ID, "createdByType": "Application"},
        "properties": {
            "loginServer": host,
            "creationDate": _STARTED,
            "provisioningState": "Succeeded",
            "adminUserEnabled": True,
            "anonymousPullEnabled": settings.anonymous_pull,
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "dataEndpointEnabled": False,
            "dataEndpointHostNames": [],
            "zoneRedundancy": "Disabled",
            "policies": {"quarantinePolicy": {"status": "disabled"}, "retentionPolicy": {"days": 7,
                         "status": "disabled"}, "trustPolicy": {"status": "disabled", "type": "Notary"}},
            "encryption": {"status": "disabled"},
        },
    }


def _find(request: web.Request, name: str) -> dict:
    for registry in _registries(request):
        if registry["name"].lower() == name.lower():
            return registry
    raise ArmError(404, "ResourceNotFound", f"The Resource '{REGISTRY_TYPE}/{name}' under resource group "
                                            f"'{RESOURCE_GROUP}' was not found.")


@_arm
async def list_subscriptions(request: web.Request) -> web.Response:
    return _json({"value": [_subscription()], "count": {"type": "Total", "value": 1}})


@_arm
async def get_subscription(request: web.Request, subscription: str) -> web.Response:
    _check_subscription(subscription)
    return _json(_subscription())


@_arm
async def list_tenants(request: web.Request) -> web.Response:
    return _json({"value": [{"id": f"/tenants/{identities.TENANT_ID}", "tenantId": identities.TENANT_ID,
                             "tenantCategory": "Home", "displayName": "acr-emulator", "defaultDomain":
                             "acr-emulator.localhost", "domains": ["acr-emulator.localhost"]}]})


@_arm
async def list_resources(request: web.Request, subscription: str, group: str | None = None) -> web.Response:
    """Generic resources, optionally filtered with `resourceType eq '...'` (the only filter az sends here)."""
    _check_subscription(subscription)
    if group is not None and group.lower() != RESOURCE_GROUP:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
    wanted = request.query.get("$filter", "")
    items = [{k: r[k] for k in ("id", "name", "type", "location", "tags", "sku")} for r in _registries(request)]
    if "resourcetype eq" in wanted.lower():
        kind = wanted.split("eq", 1)[1].strip().strip("'\"").lower()
        items = [r for r in items if r["type"].lower() == kind]
    return _json({"value": items})


@_arm
async def list_registries(request: web.Request, subscription: str, group: str | None = None) -> web.Response:
    _check_subscription(subscription)
    if group is not None and group.lower() != RESOURCE_GROUP:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
    return _json({"value": _registries(request)})


@_arm
async def get_registry(request: web.Request, subscription: str, group: str, registry: str) -> web.Response:
    _check_subscription(subscription)
    if group.lower() != RESOURCE_GROUP:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
    return _json(_find(request, registry))


@_arm
async def list_credentials(request: web.Request, subscription: str, group: str, registry: str) -> web.Response:
    _check_subscription(subscription)
    _find(request, registry)
    return _json({"username": identities.ADMIN_USERNAME,
                  "passwords": [{"name": "password", "value": identities.ADMIN_PASSWORD},
                                {"name": "password2", "value": identities.ADMIN_PASSWORD}]})
