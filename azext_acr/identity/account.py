"""acr's own signed-in account: ``acr account login|show|logout``.

``account.json`` in the acr config directory (0600) says who is signed in and where; the tokens live in
the shared persistent MSAL cache (``msal_token_cache.json``, 0600), so later commands reuse them and
MSAL refreshes them silently. A service principal's secret (or certificate path) is kept in
``account.json`` because it is needed for every new token, as the Azure CLI keeps it in its own file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .chain import AadToken
from .errors import IdentityError, IdentityUnavailable
from .msalapp import PersistentCache, authority_host, config_dir, public_app, write_private_json
from .sources import (
    AZURE_CLI_CLIENT_ID,
    _call_msal,
    _result_to_token,
    certificate_credential,
    client_credentials_token,
)

ACR_SCOPE = "https://containerregistry.azure.net/.default"


def account_path() -> Path:
    return config_dir() / "account.json"


def public_client_id() -> str:
    """The public client users sign in through: the Azure CLI's, unless ACR_CLIENT_ID names another."""
    return os.environ.get("ACR_CLIENT_ID") or AZURE_CLI_CLIENT_ID


def load_account() -> dict | None:
    try:
        data = json.loads(account_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise IdentityError(f"Cannot read {account_path()}: {err}. Run 'acr account login' again.") from None
    return data if isinstance(data, dict) else None


def describe(account: dict) -> dict:
    """What ``acr account show`` prints: who, which tenant and authority; never a token or secret."""
    return {
        "name": account.get("name"),
        "type": account.get("type"),
        "tenantId": account.get("tenantId"),
        "authority": account.get("authority"),
        "credential": account.get("credential"),
        "clientId": account.get("clientId"),
        "tokenCache": str(config_dir() / "msal_token_cache.json"),
    }


def login_device_code(tenant: str | None) -> dict:
    """Sign a user in with the device-code flow; the instructions go to stderr."""
    host = authority_host()
    tenant = tenant or "organizations"
    who = "device code sign-in"
    cache = PersistentCache()
    app = _call_msal(lambda: public_app(public_client_id(), tenant, cache.cache, host), who, host)
    flow = _call_msal(lambda: app.initiate_device_flow(scopes=[ACR_SCOPE]), who, host)
    if "user_code" not in flow:
        detail = (flow.get("error_description") or flow.get("error") or "no device code").splitlines()[0]
        raise IdentityError(f"Azure AD did not start the device code sign-in: {detail}")
    print(flow["message"], file=sys.stderr, flush=True)
    result = _call_msal(lambda: app.acquire_token_by_device_flow(flow), who, host)
    token = _result_to_token(result, "the device code sign-in", None)
    claims = result.get("id_token_claims") or {}
    account = {
        "type": "user",
        "name": claims.get("preferred_username") or claims.get("upn") or claims.get("oid"),
        "tenantId": claims.get("tid") or token.tenant_id or tenant,
        "authority": host,
        "credential": "deviceCode",
        "clientId": public_client_id(),
        "homeAccountId": _home_account_id(result, claims),
    }
    cache.save()
    write_private_json(account_path(), account)
    return describe(account)


def _home_account_id(result: dict, claims: dict) -> str | None:
    import base64

    info = result.get("client_info")
    if info:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(info + "=" * (-len(info) % 4)))
            return f"{decoded['uid']}.{decoded['utid']}"
        except (ValueError, KeyError):
            pass
    return f"{claims['oid']}.{claims['tid']}" if "oid" in claims and "tid" in claims else None


def login_service_principal(client_id: str, secret: str | None, certificate: str | None, tenant: str) -> dict:
    """Sign a service principal in (checked by getting a token now) and remember it."""
    host = authority_host()
    account = {"type": "servicePrincipal", "name": client_id, "clientId": client_id, "tenantId": tenant,
               "authority": host}
    if certificate:
        certificate = str(Path(certificate).resolve())
        credential: object = certificate_credential(certificate, os.environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
        account.update(credential="certificate", certificatePath=certificate)
    else:
        credential = secret
        account.update(credential="secret", clientSecret=secret)
    client_credentials_token(client_id, credential, tenant, [ACR_SCOPE], f"service principal {client_id}", host)
    write_private_json(account_path(), account)
    return describe(account)


def logout() -> dict | None:
    """Forget the account and its cached tokens; None if nobody was signed in."""
    account = load_account()
    if account is None:
        return None
    cache = PersistentCache()
    if account.get("type") == "user":
        app = public_app(account.get("clientId") or public_client_id(), account.get("tenantId") or "organizations",
                         cache.cache, account.get("authority"), instance_discovery=False)
        for found in app.get_accounts():
            if found.get("home_account_id") == account.get("homeAccountId"):
                app.remove_account(found)
    else:
        for kind in (cache.cache.CredentialType.ACCESS_TOKEN,):
            for item in list(cache.cache.search(kind, query={"client_id": account.get("clientId")})):
                cache.cache.remove_at(item)
    cache.save()
    account_path().unlink(missing_ok=True)
    return describe(account)


def account_token(scopes) -> AadToken:
    """A token for the signed-in account: from the cache, silently refreshed when expired."""
    account = load_account()
    if account is None:
        raise IdentityUnavailable("not signed in with 'acr account login'")
    host, tenant = account.get("authority") or authority_host(), account.get("tenantId") or "organizations"
    name = account.get("name")
    if account.get("type") == "servicePrincipal":
        credential: object = account.get("clientSecret")
        if account.get("credential") == "certificate":
            credential = certificate_credential(account.get("certificatePath", ""),
                                                os.environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
        return client_credentials_token(account["clientId"], credential, tenant, scopes,
                                        f"acr account {name}", host)
    who = f"acr account {name}"
    cache = PersistentCache()
    app = _call_msal(lambda: public_app(account.get("clientId") or public_client_id(), tenant, cache.cache, host),
                     who, host)
    matches = [a for a in app.get_accounts() if a.get("home_account_id") == account.get("homeAccountId")]
    if not matches:
        raise IdentityError(f"The sign-in of {name} is no longer in the token cache; run 'acr account login'.")
    result = _call_msal(lambda: app.acquire_token_silent_with_error(list(scopes), account=matches[0]), who, host)
    if not result:
        raise IdentityError(f"The sign-in of {name} has expired; run 'acr account login' again.")
    if "access_token" not in result:
        detail = ((result.get("error_description") or result.get("error") or "").splitlines() or [""])[0]
        raise IdentityError(f"The sign-in of {name} could not be refreshed ({detail}); run 'acr account login' "
                            "again.")
    token = _result_to_token(result, who, tenant)
    cache.save()
    return token
