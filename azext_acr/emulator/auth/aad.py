"""A minimal Azure AD (Entra ID) token issuer for the well-known dev service principal.

Enough for MSAL's client-credentials flow against `{authorityHost}/{tenant}`; `/oauth2/exchange`
accepts only tokens this issuer signed, so the registry's trust chain mirrors the real one.
"""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from . import identities
from .keys import jwk, key_id

REGISTRY_AUDIENCE = "https://containerregistry.azure.net"
EXCHANGE_AUDIENCES = {
    REGISTRY_AUDIENCE,
    REGISTRY_AUDIENCE + "/",
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
}
_RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}


class AadError(Exception):
    """An OAuth2 error in AAD's shape: `{"error", "error_description"}` with an HTTP status."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.body = {
            "error": error,
            "error_description": description,
            "error_codes": [],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


class AadIssuer:
    def __init__(self, key: rsa.RSAPrivateKey, ttl: int, tenant_id: str = identities.TENANT_ID):
        self.key = key
        self.kid = key_id(key).replace(":", "")
        self.ttl = ttl
        self.tenant_id = tenant_id

    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() in {self.tenant_id, "organizations", "common"}

    def openid_configuration(self, authority_host: str, tenant: str) -> dict:
        authority = f"{authority_host}/{tenant}"
        return {
            "issuer": f"{authority_host}/{self.tenant_id}/v2.0",
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{authority}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["client_credentials"],
            "tenant_region_scope": "WW",
            "cloud_instance_name": "localhost",
        }

    def jwks(self) -> dict:
        return {"keys": [jwk(self.key, self.kid)]}

    def client_credentials(self, form: dict[str, str], authority_host: str, resource: str | None = None) -> dict:
        """Answer a client-credentials token request (v2 `scope=` or v1 `resource=`)."""
        if form.get("grant_type") != "client_credentials":
            raise AadError(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        client_id = form.get("client_id", "")
        if client_id != identities.CLIENT_ID:
            raise AadError(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory.",
            )
        if not identities._same(form.get("client_secret", ""), identities.CLIENT_SECRET):
            raise AadError(
                401,
                "invalid_client",
                f"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        audience = resource or _audience_of(form.get("scope", ""))
        issued = int(time.time())
        claims = {
            "aud": audience,
            "iss": f"{authority_host}/{self.tenant_id}/v2.0",
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl,
            "tid": self.tenant_id,
            "oid": identities.CLIENT_OBJECT_ID,
            "sub": identities.CLIENT_OBJECT_ID,
            "appid": identities.CLIENT_ID,
            "azp": identities.CLIENT_ID,
            "idtyp": "app",
            "ver": "1.0",
            "uti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        body = {"token_type": "Bearer", "expires_in": self.ttl, "ext_expires_in": self.ttl, "access_token": token}
        if resource:
            body.update(resource=resource, expires_on=str(issued + self.ttl), not_before=str(issued))
        return body

    def verify(self, token: str) -> dict:
        """Claims of an AAD token this issuer signed for the registry or ARM; raises jwt errors otherwise."""
        claims = jwt.decode(
            token,
            self.key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["exp", "aud", "tid"]},
            leeway=30,
        )
        if claims.get("aud") not in EXCHANGE_AUDIENCES:
            raise jwt.InvalidAudienceError("token audience is not the registry or ARM")
        if claims.get("tid") != self.tenant_id:
            raise jwt.InvalidTokenError("token is from another tenant")
        return claims


def _audience_of(scope: str) -> str:
    """`https://containerregistry.azure.net/.default` -> `https://containerregistry.azure.net`."""
    for item in scope.split():
        if item in _RESERVED_SCOPES:
            continue
        if item.endswith("/.default"):
            return item[: -len("/.default")] or item
        return item
    raise AadError(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
