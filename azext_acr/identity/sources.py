"""Sources of Azure AD tokens, each backed by MSAL."""

from __future__ import annotations

import time
from pathlib import Path

from .chain import AadToken, env
from .errors import IdentityError, IdentityUnavailable
from .msalapp import PersistentCache, authority_host, confidential_app


def _result_to_token(result: dict | None, who: str, tenant: str) -> AadToken:
    if not result or "access_token" not in result:
        result = result or {}
        code = result.get("error") or "no_token"
        description = (result.get("error_description") or "").splitlines()
        detail = description[0] if description else "no access token returned"
        raise IdentityError(f"Azure AD refused {who}: {code}: {detail}")
    expires_in = int(result.get("expires_in") or 3600)
    return AadToken(result["access_token"], int(time.time()) + expires_in, tenant)


def _call_msal(fn, who: str):
    import requests

    try:
        return fn()
    except requests.exceptions.SSLError:
        raise IdentityError(f"TLS verification failed talking to the Azure AD authority {authority_host()} "
                            f"for {who}; trust its CA with REQUESTS_CA_BUNDLE.") from None
    except requests.exceptions.RequestException as err:
        raise IdentityError(f"Could not reach the Azure AD authority {authority_host()} for {who}: "
                            f"{type(err).__name__}.") from None
    except ValueError as err:  # msal raises ValueError for bad authorities and bad certificates
        raise IdentityError(f"Azure AD sign-in for {who} failed: {str(err).splitlines()[0]}") from None


class EnvironmentServicePrincipal:
    """``AZURE_CLIENT_ID`` + ``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_CERTIFICATE_PATH``."""

    name = "environment service principal"

    def get_token(self, *scopes: str) -> AadToken:
        client_id, tenant = env("AZURE_CLIENT_ID"), env("AZURE_TENANT_ID")
        secret, cert_path = env("AZURE_CLIENT_SECRET"), env("AZURE_CLIENT_CERTIFICATE_PATH")
        if not (client_id and tenant and (secret or cert_path)):
            raise IdentityUnavailable("AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or "
                                      "AZURE_CLIENT_CERTIFICATE_PATH) are not all set")
        credential: object = secret
        if not secret:
            credential = _certificate_credential(cert_path, env("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
        who = f"service principal {client_id}"
        cache = PersistentCache()
        app = _call_msal(lambda: confidential_app(client_id, credential, tenant, cache), who)
        result = _call_msal(lambda: app.acquire_token_for_client(scopes=list(scopes)), who)
        token = _result_to_token(result, who, tenant)
        cache.save()
        return token


class WorkloadIdentity:
    """``AZURE_FEDERATED_TOKEN_FILE``: a Kubernetes-issued token used as the client assertion."""

    name = "workload identity"

    def get_token(self, *scopes: str) -> AadToken:
        client_id, tenant = env("AZURE_CLIENT_ID"), env("AZURE_TENANT_ID")
        token_file = env("AZURE_FEDERATED_TOKEN_FILE")
        if not (client_id and tenant and token_file):
            raise IdentityUnavailable("AZURE_FEDERATED_TOKEN_FILE is not set")

        def assertion() -> str:
            try:
                return Path(token_file).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise IdentityError(f"Cannot read the federated token file {token_file}: {err.strerror}.") from None

        who = f"workload identity {client_id}"
        app = _call_msal(lambda: confidential_app(client_id, {"client_assertion": assertion}, tenant, None), who)
        result = _call_msal(lambda: app.acquire_token_for_client(scopes=list(scopes)), who)
        return _result_to_token(result, who, tenant)


def _certificate_credential(path: str, password: str | None) -> dict:
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
