"""A small Azure AD (Entra ID) token issuer, enough for real MSAL and the real az to sign in unchanged.

Grants: client credentials (client secret, certificate client assertion, federated token), device code
(approved through `/_emulator/aad/device/approve` or `--auto-approve-device-code`) and refresh token;
plus managed-identity tokens for the IMDS and App Service endpoints. Access tokens are RS256 JWTs with
`aud`, `iss`, `tid`, `oid`, `exp`; `/oauth2/exchange` accepts only tokens this issuer signed, so the
registry's trust chain mirrors the real one. Who may sign in lives in `directory.py`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from . import identities
from .directory import (
    DEV_FEDERATED_SUBJECT,
    DEV_USER_NAME,
    FEDERATED_AUDIENCE,
    FEDERATED_ISSUER,
    Directory,
    Principal,
)
from .keys import jwk, key_id

REGISTRY_AUDIENCE = "https://containerregistry.azure.net"
ARM_AUDIENCES = {
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
}
EXCHANGE_AUDIENCES = {REGISTRY_AUDIENCE, REGISTRY_AUDIENCE + "/", *ARM_AUDIENCES}
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REFRESH_TOKEN_TTL = 90 * 24 * 3600
DEVICE_CODE_TTL = 15 * 60
_RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class AadError(Exception):
    """An OAuth2 error in AAD's shape: `{"error", "error_description"}` with an HTTP status."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        code = description.split(":", 1)[0]
        self.body = {
            "error": error,
            "error_description": description,
            "error_codes": [int(code[6:])] if code.startswith("AADSTS") and code[6:].isdigit() else [],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


def _invalid_client(description: str) -> AadError:
    return AadError(401, "invalid_client", description)


@dataclass
class PendingDeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    user: Principal | None = None


class AadIssuer:
    def __init__(self, key: rsa.RSAPrivateKey, ttl: int, tenant_id: str = identities.TENANT_ID,
                 directory: Directory | None = None, federated_key: rsa.RSAPrivateKey | None = None,
                 auto_approve_device_code: bool = False):
        self.key = key
        self.kid = key_id(key).replace(":", "")
        self.ttl = ttl
        self.tenant_id = tenant_id
        self.directory = directory or Directory()
        self.federated_key = federated_key or key
        self.federated_kid = key_id(self.federated_key).replace(":", "")
        self.auto_approve_device_code = auto_approve_device_code
        self.device_codes: dict[str, PendingDeviceCode] = {}
        self.stats: Counter[str] = Counter()

    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() in {self.tenant_id, "organizations", "common"}

    def issuer(self, authority_host: str) -> str:
        return f"{authority_host}/{self.tenant_id}/v2.0"

    def openid_configuration(self, authority_host: str, tenant: str) -> dict:
        authority = f"{authority_host}/{tenant}"
        return {
            "issuer": self.issuer(authority_host),
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{authority}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["client_credentials", "refresh_token", DEVICE_CODE_GRANT],
            "tenant_region_scope": "WW",
            "cloud_instance_name": "localhost",
        }

    def jwks(self) -> dict:
        return {"keys": [jwk(self.key, self.kid)]}

    def federated_jwks(self) -> dict:
        return {"keys": [jwk(self.federated_key, self.federated_kid)]}

    # -- the token endpoint ------------------------------------------------------------------------

    def token(self, form: dict[str, str], authority_host: str, resource: str | None = None) -> dict:
        """Answer a token request (v2 `scope=` or v1 `resource=`) for any supported grant."""
        grant_type = form.get("grant_type", "")
        self.stats["token"] += 1
        self.stats[f"token:{grant_type}"] += 1
        if grant_type == "client_credentials":
            principal = self._authenticate_client(form)
            audience = resource or _audience_of(form.get("scope", ""))
            return self._answer(principal, audience, authority_host, principal.client_id, resource)
        if grant_type == DEVICE_CODE_GRANT:
            return self._redeem_device_code(form, authority_host, resource)
        if grant_type == "refresh_token":
            return self._redeem_refresh_token(form, authority_host, resource)
        raise AadError(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type "
                                                      f"'{grant_type}'.")

    def client_credentials(self, form: dict[str, str], authority_host: str, resource: str | None = None) -> dict:
        """Kept for callers of the first version: the client-credentials grant only."""
        if form.get("grant_type") != "client_credentials":
            raise AadError(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        return self.token(form, authority_host, resource)

    def _authenticate_client(self, form: dict[str, str]) -> Principal:
        client_id = form.get("client_id", "")
        principal = self.directory.application(client_id)
        if principal is None:
            raise AadError(400, "unauthorized_client",
                           f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                           f"'{self.tenant_id}'.")
        if form.get("client_assertion"):
            if form.get("client_assertion_type") != JWT_BEARER:
                raise AadError(400, "invalid_request", "AADSTS50027: client_assertion_type must be " + JWT_BEARER)
            self._check_assertion(principal, form["client_assertion"])
            return principal
        if "client_secret" in form:
            if not principal.has_secret(form["client_secret"]):
                raise _invalid_client(
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                    f"the client secret value, not the client secret ID, for a secret added to app '{client_id}'.")
            return principal
        raise AadError(401, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: "
                                              "'client_assertion' or 'client_secret'.")

    def _check_assertion(self, principal: Principal, assertion: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _invalid_client("AADSTS50027: JWT token is invalid or malformed.") from None
        if "x5t" in header or "x5t#S256" in header:
            self._check_certificate_assertion(principal, assertion, header)
        else:
            self._check_federated_assertion(principal, assertion, unverified)

    def _check_certificate_assertion(self, principal: Principal, assertion: str, header: dict) -> None:
        raw = header.get("x5t#S256") or header.get("x5t") or ""
        try:
            thumbprint = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()
        except (binascii.Error, ValueError):
            thumbprint = ""
        key = principal.certificates.get(thumbprint)
        if key is None:
            raise _invalid_client("AADSTS700027: Client assertion failed signature validation. [Reason - The key was "
                                  f"not found., Thumbprint of key used by client: '{thumbprint.upper()}']")
        try:
            claims = jwt.decode(assertion, key, algorithms=["RS256", "PS256"],
                                options={"verify_aud": False, "require": ["exp", "aud", "iss", "sub"]}, leeway=60)
        except jwt.ExpiredSignatureError:
            raise _invalid_client("AADSTS700024: Client assertion is not within its valid time range.") from None
        except jwt.InvalidSignatureError:
            raise _invalid_client("AADSTS700027: Client assertion failed signature validation.") from None
        except jwt.PyJWTError as err:
            raise _invalid_client(f"AADSTS50027: JWT token is invalid or malformed: {err}.") from None
        if claims.get("iss") != principal.client_id or claims.get("sub") != principal.client_id:
            raise _invalid_client("AADSTS700023: Client assertion's iss and sub must be the client id.")
        aud = claims.get("aud")
        if not any(str(a).rstrip("/").endswith(("/oauth2/v2.0/token", "/oauth2/token"))
                   for a in (aud if isinstance(aud, list) else [aud])):
            raise _invalid_client("AADSTS700021: Client assertion audience claim does not match the token endpoint.")

    def _check_federated_assertion(self, principal: Principal, assertion: str, unverified: dict) -> None:
        issuer, subject = unverified.get("iss"), unverified.get("sub")
        candidates = [f for f in principal.federated if f.issuer == issuer]
        if not candidates:
            raise _invalid_client("AADSTS700211: No matching federated identity record found for presented assertion "
                                  f"issuer '{issuer}'.")
        matching = [f for f in candidates if f.subject == subject]
        if not matching:
            raise _invalid_client("AADSTS700213: No matching federated identity record found for presented assertion "
                                  f"subject '{subject}'.")
        credential = matching[0]
        last: Exception | None = None
        for key in credential.keys or [self.federated_key.public_key()]:
            try:
                jwt.decode(assertion, key, algorithms=["RS256", "PS256", "ES256"], issuer=issuer,
                           audience=credential.audiences, options={"require": ["exp", "iss", "sub", "aud"]})
                return
            except jwt.ExpiredSignatureError:
                exp = unverified.get("exp")
                when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp)) if isinstance(exp, int) else "?"
                raise _invalid_client("AADSTS700024: Client assertion is not within its valid time range. Current "
                                      f"time: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, expiry time of "
                                      f"assertion {when}.") from None
            except jwt.InvalidAudienceError:
                raise _invalid_client("AADSTS700212: No matching federated identity record found for presented "
                                      f"assertion audience '{unverified.get('aud')}'.") from None
            except jwt.PyJWTError as err:
                last = err
        raise _invalid_client(f"AADSTS50013: Assertion failed signature validation: {last}.")

    # -- device code and refresh token (users through public clients) -----------------------------

    def device_authorization(self, form: dict[str, str], authority_host: str) -> dict:
        self.stats["devicecode"] += 1
        client_id = form.get("client_id", "")
        if client_id not in self.directory.public_clients:
            raise AadError(400, "unauthorized_client",
                           f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                           f"'{self.tenant_id}' (or is not a public client).")
        self._forget_expired_device_codes()
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        pending = PendingDeviceCode(secrets.token_urlsafe(32), user_code, client_id, form.get("scope", ""),
                                    time.time() + DEVICE_CODE_TTL)
        if self.auto_approve_device_code:
            pending.user = self.directory.user(DEV_USER_NAME)
        self.device_codes[pending.device_code] = pending
        uri = f"{authority_host}/_emulator/aad/device"
        return {
            "user_code": user_code,
            "device_code": pending.device_code,
            "verification_uri": uri,
            "expires_in": DEVICE_CODE_TTL,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                       "to authenticate.",
        }

    def approve_device_code(self, user_code: str, username: str | None = None) -> Principal:
        """What a user does in the browser: enter the code and sign in (here: as a directory user)."""
        self._forget_expired_device_codes()
        code = user_code.strip().upper().replace("-", "")
        for pending in self.device_codes.values():
            if pending.user_code == code:
                user = self.directory.user(username or DEV_USER_NAME)
                if user is None:
                    raise AadError(400, "invalid_request", f"AADSTS50034: The user account {username} does not exist "
                                                           f"in the {self.tenant_id} directory.")
                pending.user = user
                return user
        raise AadError(400, "invalid_grant", f"AADSTS70019: No pending device code has the user code '{user_code}'.")

    def pending_device_codes(self) -> list[dict]:
        self._forget_expired_device_codes()
        return [{"userCode": p.user_code, "clientId": p.client_id, "scope": p.scope, "approved": p.user is not None}
                for p in self.device_codes.values()]

    def _forget_expired_device_codes(self) -> None:
        now = time.time()
        for code in [c for c, p in self.device_codes.items() if p.expires_at < now - 60]:
            del self.device_codes[code]

    def _redeem_device_code(self, form: dict[str, str], authority_host: str, resource: str | None) -> dict:
        pending = self.device_codes.get(form.get("device_code", ""))
        if pending is None or pending.client_id != form.get("client_id"):
            raise AadError(400, "invalid_grant", "AADSTS70000: The provided device code is not valid.")
        if pending.expires_at < time.time():
            del self.device_codes[pending.device_code]
            raise AadError(400, "expired_token", "AADSTS70020: The provided value for the input parameter "
                                                 "'device_code' is not valid. This device code has expired.")
        if pending.user is None:
            raise AadError(400, "authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. Authorization "
                                                         "is pending. Continue polling.")
        del self.device_codes[pending.device_code]
        scope = form.get("scope") or pending.scope
        return self._user_answer(pending.user, pending.client_id, scope, authority_host, resource)

    def _redeem_refresh_token(self, form: dict[str, str], authority_host: str, resource: str | None) -> dict:
        client_id = form.get("client_id", "")
        try:
            claims = jwt.decode(form.get("refresh_token", ""), self.key.public_key(), algorithms=["RS256"],
                                options={"verify_aud": False, "require": ["exp", "oid", "cid"]})
        except jwt.ExpiredSignatureError:
            raise AadError(400, "invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.") \
                from None
        except jwt.PyJWTError:
            raise AadError(400, "invalid_grant", "AADSTS9002313: Invalid request. Request is malformed or invalid "
                                                 "(the refresh token is not one this authority issued).") from None
        if claims.get("typ") != "refresh" or claims.get("cid") != client_id:
            raise AadError(400, "invalid_grant", "AADSTS70000: The refresh token was issued to another client.")
        user = self.directory.user(object_id=str(claims["oid"]))
        if user is None:
            raise AadError(400, "invalid_grant", "AADSTS50173: The grant is no longer valid: the user was removed.")
        return self._user_answer(user, client_id, form.get("scope", ""), authority_host, resource)

    def _user_answer(self, user: Principal, client_id: str, scope: str, authority_host: str,
                     resource: str | None) -> dict:
        audience = resource or _audience_of(scope)
        body = self._answer(user, audience, authority_host, client_id, resource)
        issued = int(time.time())
        refresh = jwt.encode({"typ": "refresh", "oid": user.object_id, "cid": client_id, "tid": self.tenant_id,
                              "iat": issued, "exp": issued + REFRESH_TOKEN_TTL, "jti": uuid.uuid4().hex},
                             self.key, algorithm="RS256", headers={"kid": self.kid})
        id_token = jwt.encode({"aud": client_id, "iss": self.issuer(authority_host), "iat": issued, "nbf": issued,
                               "exp": issued + self.ttl, "name": user.display_name, "oid": user.object_id,
                               "preferred_username": user.username, "sub": user.object_id, "tid": self.tenant_id,
                               "ver": "2.0"}, self.key, algorithm="RS256", headers={"kid": self.kid})
        client_info = base64.urlsafe_b64encode(json.dumps({"uid": user.object_id, "utid": self.tenant_id})
                                               .encode()).decode().rstrip("=")
        granted = " ".join(s for s in scope.split() if s not in _RESERVED_SCOPES) or f"{audience}/.default"
        body.update(scope=granted, refresh_token=refresh, id_token=id_token, client_info=client_info)
        return body

    # -- managed identity ----------------------------------------------------------------------------

    def managed_identity_token(self, resource: str, authority_host: str, client_id: str | None = None,
                               object_id: str | None = None, resource_id: str | None = None) -> dict:
        self.stats["managed_identity"] += 1
        if not resource:
            raise AadError(400, "invalid_request", "Required query variable 'resource' is missing")
        principal = self.directory.managed_identity(client_id, object_id, resource_id)
        if principal is None:
            raise AadError(400, "invalid_request", "Identity not found")
        audience = resource[: -len("/.default")] if resource.endswith("/.default") else resource
        token, issued = self._access_token(principal, audience, authority_host, principal.client_id)
        return {
            "access_token": token,
            "client_id": principal.client_id,
            "expires_in": str(self.ttl),
            "expires_on": str(issued + self.ttl),
            "ext_expires_in": str(self.ttl),
            "not_before": str(issued),
            "resource": resource,
            "token_type": "Bearer",
        }

    # -- the emulator's own federated (workload identity) issuer -------------------------------------

    def mint_federated_token(self, subject: str = DEV_FEDERATED_SUBJECT, audience: str = FEDERATED_AUDIENCE,
                             expires_in: int = 3600, issuer: str = FEDERATED_ISSUER) -> str:
        """A token as a Kubernetes service account token file holds it; `expires_in` may be negative."""
        issued = int(time.time())
        claims = {"iss": issuer, "sub": subject, "aud": [audience], "iat": min(issued, issued + expires_in - 60),
                  "nbf": min(issued, issued + expires_in - 60), "exp": issued + expires_in,
                  "kubernetes.io": {"namespace": subject.split(":")[2] if subject.count(":") >= 3 else "default"}}
        return jwt.encode(claims, self.federated_key, algorithm="RS256", headers={"kid": self.federated_kid})

    # -- tokens ---------------------------------------------------------------------------------------

    def _access_token(self, principal: Principal, audience: str, authority_host: str, app_id: str) -> tuple[str, int]:
        issued = int(time.time())
        claims = {
            "aud": audience,
            "iss": self.issuer(authority_host),
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl,
            "tid": self.tenant_id,
            "oid": principal.object_id,
            "sub": principal.object_id,
            "appid": app_id,
            "azp": app_id,
            "idtyp": "user" if principal.kind == "user" else "app",
            "ver": "1.0",
            "uti": uuid.uuid4().hex,
        }
        if principal.kind == "user":
            claims.update(upn=principal.username, unique_name=principal.username, name=principal.display_name,
                          scp="user_impersonation")
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        return token, issued

    def _answer(self, principal: Principal, audience: str, authority_host: str, app_id: str,
                resource: str | None) -> dict:
        token, issued = self._access_token(principal, audience, authority_host, app_id)
        body = {"token_type": "Bearer", "expires_in": self.ttl, "ext_expires_in": self.ttl, "access_token": token}
        if resource:
            body.update(resource=resource, expires_on=str(issued + self.ttl), not_before=str(issued))
        return body

    def verify(self, token: str, audiences: set[str] | None = None) -> dict:
        """Claims of an AAD token this issuer signed for the registry or ARM; raises jwt errors otherwise."""
        claims = jwt.decode(
            token,
            self.key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["exp", "aud", "tid"]},
            leeway=30,
        )
        if claims.get("aud") not in (audiences or EXCHANGE_AUDIENCES):
            raise jwt.InvalidAudienceError("token audience is not the registry or ARM")
        if claims.get("tid") != self.tenant_id:
            raise jwt.InvalidTokenError("token is from another tenant")
        if "oid" not in claims:
            raise jwt.InvalidTokenError("not an access token")
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
