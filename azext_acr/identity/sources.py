"""Sources of Azure AD tokens, each backed by MSAL.

Each source answers ``get_token(*scopes)`` with an AadToken, raises IdentityUnavailable when it is
not configured here (the chain moves on) and IdentityError when it is configured but fails.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from .chain import AadToken, env
from .errors import IdentityError, IdentityUnavailable
from .msalapp import PersistentCache, authority_host, confidential_app, public_app

# The Azure CLI's public client id; az signs users in with it (and so does `acr account login`).
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
IMDS_HOST = "169.254.169.254"
# Azure AD hosts of the Azure CLI's built-in clouds; other clouds are read from its clouds.config.
CLOUD_AUTHORITIES = {
    "azurecloud": "https://login.microsoftonline.com",
    "azureusgovernment": "https://login.microsoftonline.us",
    "azurechinacloud": "https://login.chinacloudapi.cn",
}


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _result_to_token(result: dict | None, who: str, tenant: str | None) -> AadToken:
    if not result or "access_token" not in result:
        result = result or {}
        code = result.get("error") or "no_token"
        detail = _first_line(result.get("error_description") or "") or "no access token returned"
        raise IdentityError(f"Azure AD refused {who}: {code}: {detail}")
    expires_in = int(result.get("expires_in") or 3600)
    return AadToken(result["access_token"], int(time.time()) + expires_in, tenant or _tenant_of(result["access_token"]))


def _tenant_of(token: str) -> str | None:
    """The ``tid`` claim of a JWT access token, read without verifying (only to name the tenant)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("tid")
    except (IndexError, ValueError, AttributeError):
        return None


def _call_msal(fn, who: str, host: str | None = None):
    import requests

    host = host or authority_host()
    try:
        return fn()
    except requests.exceptions.SSLError:
        raise IdentityError(f"TLS verification failed talking to the Azure AD authority {host} "
                            f"for {who}; trust its CA with REQUESTS_CA_BUNDLE.") from None
    except requests.exceptions.RequestException as err:
        raise IdentityError(f"Could not reach the Azure AD authority {host} for {who}: "
                            f"{type(err).__name__}.") from None
    except ValueError as err:  # msal raises ValueError for bad authorities and bad certificates
        raise IdentityError(f"Azure AD sign-in for {who} failed: {_first_line(str(err))}") from None


class EnvironmentServicePrincipal:
    """``AZURE_CLIENT_ID`` + ``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_CERTIFICATE_PATH``."""

    name = "environment"

    def get_token(self, *scopes: str) -> AadToken:
        client_id, tenant = env("AZURE_CLIENT_ID"), env("AZURE_TENANT_ID")
        secret, cert_path = env("AZURE_CLIENT_SECRET"), env("AZURE_CLIENT_CERTIFICATE_PATH")
        if not (client_id and tenant and (secret or cert_path)):
            raise IdentityUnavailable("AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or "
                                      "AZURE_CLIENT_CERTIFICATE_PATH) are not all set")
        credential: object = secret
        if not secret:
            credential = certificate_credential(cert_path, env("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
        return client_credentials_token(client_id, credential, tenant, scopes, f"service principal {client_id}")


def client_credentials_token(client_id: str, credential: object, tenant: str, scopes, who: str,
                             host: str | None = None, cache: PersistentCache | None = None) -> AadToken:
    """An app token through MSAL, reusing (and saving) acr's persistent token cache."""
    cache = cache or PersistentCache()
    app = _call_msal(lambda: confidential_app(client_id, credential, tenant, cache, host=host), who, host)
    result = _call_msal(lambda: app.acquire_token_for_client(scopes=list(scopes)), who, host)
    token = _result_to_token(result, who, tenant)
    cache.save()
    return token


class WorkloadIdentity:
    """``AZURE_FEDERATED_TOKEN_FILE``: a Kubernetes-issued token used as the client assertion."""

    name = "workload"

    def get_token(self, *scopes: str) -> AadToken:
        client_id, tenant = env("AZURE_CLIENT_ID"), env("AZURE_TENANT_ID")
        token_file = env("AZURE_FEDERATED_TOKEN_FILE")
        if not (client_id and tenant and token_file):
            raise IdentityUnavailable("AZURE_FEDERATED_TOKEN_FILE (with AZURE_CLIENT_ID and AZURE_TENANT_ID) "
                                      "is not set")

        def assertion() -> str:
            try:
                return Path(token_file).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise IdentityError(f"Cannot read the federated token file {token_file}: {err.strerror}.") from None

        assertion()  # a missing file is reported before anything is sent
        who = f"workload identity {client_id}"
        # no persistent cache: the token file rotates, and a cached app token would outlive its assertion
        app = _call_msal(lambda: confidential_app(client_id, {"client_assertion": assertion}, tenant, None), who)
        result = _call_msal(lambda: app.acquire_token_for_client(scopes=list(scopes)), who)
        return _result_to_token(result, who, tenant)


class ManagedIdentity:
    """Managed identity through msal.ManagedIdentityClient.

    App Service style when ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` are set (also Azure Functions,
    Container Apps, Arc, Service Fabric as MSAL detects them), else the VM's IMDS at
    ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (default http://169.254.169.254), used only when that variable is
    set or ``ACR_IDENTITY=managed`` asks for it (on an Azure VM: ``export ACR_IDENTITY=managed``).
    ``AZURE_CLIENT_ID`` picks a user-assigned identity, as in azure-identity.
    """

    name = "managed"

    def __init__(self, explicit: bool = False, client_id: str | None = None):
        self.explicit = explicit
        self.client_id = client_id

    def _configured(self) -> bool:
        if (env("IDENTITY_ENDPOINT") and env("IDENTITY_HEADER")) or (env("MSI_ENDPOINT") and env("MSI_SECRET")):
            return True
        # IMDS (169.254.169.254) is used only when asked for: probing a link-local address from every
        # machine that lacks other credentials would send traffic off-host unasked.
        return bool(env("AZURE_POD_IDENTITY_AUTHORITY_HOST") or env("IDENTITY_ENDPOINT") or self.explicit)

    def get_token(self, *scopes: str) -> AadToken:
        import msal
        import requests

        if not self._configured():
            raise IdentityUnavailable("no managed identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER are "
                                      "not set; on an Azure VM set ACR_IDENTITY=managed to use IMDS)")
        client_id = self.client_id or env("AZURE_CLIENT_ID")
        identity = (msal.UserAssignedManagedIdentity(client_id=client_id) if client_id
                    else msal.SystemAssignedManagedIdentity())
        who = "managed identity" + (f" {client_id}" if client_id else "")
        endpoint = env("IDENTITY_ENDPOINT") or env("AZURE_POD_IDENTITY_AUTHORITY_HOST") or f"http://{IMDS_HOST}"
        cache = PersistentCache()
        session = requests.Session()
        client = msal.ManagedIdentityClient(identity, http_client=session, token_cache=cache.cache)
        resource = _scope_to_resource(scopes[0])
        try:
            result = client.acquire_token_for_client(resource=resource)
        except requests.exceptions.SSLError:
            raise IdentityError(f"TLS verification failed talking to the managed identity endpoint {endpoint}; "
                                "trust its CA with REQUESTS_CA_BUNDLE.") from None
        except requests.exceptions.RequestException as err:
            raise IdentityError(f"Could not reach the managed identity endpoint {endpoint}: "
                                f"{type(err).__name__}.") from None
        except ValueError as err:  # msal's ManagedIdentityError, or a non-JSON answer
            raise IdentityError(f"The managed identity endpoint {endpoint} failed: {_first_line(str(err))}") \
                from None
        finally:
            session.close()
        token = _result_to_token(result, who, None)
        cache.save()
        return token


def _scope_to_resource(scope: str) -> str:
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


class AzureCliAccount:
    """The account signed in with the real Azure CLI: its azureProfile.json and MSAL token cache in
    ``AZURE_CONFIG_DIR`` (default ~/.azure), read with MSAL and never written."""

    name = "azurecli"

    def get_token(self, *scopes: str) -> AadToken:
        config = Path(env("AZURE_CONFIG_DIR") or Path.home() / ".azure")
        subscription = _az_default_subscription(config)
        user = subscription.get("user") or {}
        tenant = subscription.get("tenantId") or "organizations"
        host = _az_authority_host(config, subscription.get("environmentName") or "AzureCloud")
        discovery = _az_instance_discovery(config, host)
        name, kind = user.get("name") or "", user.get("type") or "user"
        if kind == "servicePrincipal" and name in ("systemAssignedIdentity", "userAssignedIdentity"):
            info = str(user.get("assignedIdentityInfo") or "")
            client_id = info.split("-", 1)[1] if info.startswith("MSIClient-") else None
            return ManagedIdentity(explicit=True, client_id=client_id).get_token(*scopes)
        cache = _az_token_cache(config)
        if kind == "servicePrincipal":
            entry = _az_service_principal(config, name, tenant)
            credential: object = entry.get("client_secret")
            if not credential and entry.get("certificate"):
                credential = certificate_credential(entry["certificate"], None)
            if not credential:
                raise IdentityUnavailable(f"the Azure CLI has no secret or certificate stored for {name}")
            who = f"Azure CLI service principal {name}"
            app = _call_msal(lambda: confidential_app(name, credential, tenant, None, host=host, token_cache=cache),
                             who, host)
            return _result_to_token(_call_msal(lambda: app.acquire_token_for_client(scopes=list(scopes)), who, host),
                                    who, tenant)
        who = f"Azure CLI account {name}"
        app = _call_msal(lambda: public_app(AZURE_CLI_CLIENT_ID, tenant, cache, host, discovery), who, host)
        accounts = [a for a in app.get_accounts(username=name) if a.get("realm") in (tenant, None)] or \
            app.get_accounts(username=name)
        if not accounts:
            raise IdentityUnavailable(f"the Azure CLI's token cache has no account {name}; run 'az login'")
        result = _call_msal(lambda: app.acquire_token_silent_with_error(list(scopes), account=accounts[0]), who, host)
        if not result:
            raise IdentityError(f"The Azure CLI sign-in of {name} has expired; run 'az login' again.")
        return _result_to_token(result, who, tenant)


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8-sig"))  # az writes a byte-order mark


def _az_default_subscription(config: Path) -> dict:
    profile = config / "azureProfile.json"
    try:
        subscriptions = _read_json(profile).get("subscriptions") or []
    except FileNotFoundError:
        raise IdentityUnavailable(f"not signed in with 'az login' (no {profile})") from None
    except (OSError, ValueError, AttributeError) as err:
        raise IdentityError(f"Cannot read the Azure CLI profile {profile}: {err}.") from None
    if not subscriptions:
        raise IdentityUnavailable(f"not signed in with 'az login' ({profile} lists no account)")
    return next((s for s in subscriptions if s.get("isDefault")), subscriptions[0])


def _az_ini(config: Path, name: str):
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(config / name, encoding="utf-8")
    except (OSError, configparser.Error):
        pass
    return parser


def _az_authority_host(config: Path, cloud: str) -> str:
    known = CLOUD_AUTHORITIES.get(cloud.lower())
    if known:
        return known
    clouds = _az_ini(config, "clouds.config")
    if clouds.has_option(cloud, "endpoint_active_directory"):
        return clouds.get(cloud, "endpoint_active_directory").rstrip("/")
    raise IdentityError(f"The Azure CLI's cloud '{cloud}' has no Azure AD endpoint in {config / 'clouds.config'}.")


def _az_instance_discovery(config: Path, host: str) -> bool:
    from .msalapp import needs_instance_discovery

    core = _az_ini(config, "config")
    if core.has_option("core", "instance_discovery"):
        return core.get("core", "instance_discovery").strip().lower() not in ("false", "0", "no", "off")
    return needs_instance_discovery(host)


def _az_token_cache(config: Path):
    import msal

    cache = msal.SerializableTokenCache()
    path = config / "msal_token_cache.json"
    if not path.exists():
        if (config / "msal_token_cache.bin").exists():
            raise IdentityUnavailable(f"the Azure CLI's token cache {config / 'msal_token_cache.bin'} is encrypted")
        raise IdentityUnavailable(f"the Azure CLI has no token cache in {config}; run 'az login'")
    try:
        cache.deserialize(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IdentityError(f"Cannot read the Azure CLI token cache {path}: {err}.") from None
    return cache  # in memory only: the Azure CLI's files are never written


def _az_service_principal(config: Path, client_id: str, tenant: str) -> dict:
    path = config / "service_principal_entries.json"
    try:
        entries = _read_json(path)
    except FileNotFoundError:
        raise IdentityUnavailable(f"the Azure CLI has no {path.name} for service principal {client_id}") from None
    except (OSError, ValueError) as err:
        raise IdentityError(f"Cannot read {path}: {err}.") from None
    for entry in entries if isinstance(entries, list) else []:
        if entry.get("client_id") == client_id and entry.get("tenant") in (tenant, None):
            return entry
    raise IdentityUnavailable(f"the Azure CLI has no stored credential for service principal {client_id}")


class AcrAccount:
    """The account signed in with ``acr account login`` (see identity/account.py)."""

    name = "account"

    def get_token(self, *scopes: str) -> AadToken:
        from .account import account_token

        return account_token(scopes)


def certificate_credential(path: str, password: str | None) -> dict:
    """MSAL wants the private key and thumbprint; read them from a PEM holding key and certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise IdentityError(f"Cannot read the client certificate {path}: {err.strerror}.") from None
    try:
        cert = x509.load_pem_x509_certificate(data)
        key = serialization.load_pem_private_key(data, password=password.encode() if password else None)
    except (ValueError, TypeError):
        raise IdentityError(f"The client certificate {path} is not a PEM file with a certificate and its "
                            "private key (or the password is wrong).") from None
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - AAD identifies certs by SHA-1
    return {"private_key": pem_key, "thumbprint": thumbprint,
            "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode()}


_certificate_credential = certificate_credential  # the name of the first version

ALL_SOURCES = {
    "environment": EnvironmentServicePrincipal,
    "workload": WorkloadIdentity,
    "managed": ManagedIdentity,
    "account": AcrAccount,
    "azurecli": AzureCliAccount,
}
