"""The emulator's Azure AD directory: who may sign in, how, and which registry roles they hold.

Well-known development principals (printed in the ready line, documented in the README) plus any
loaded from `--principals FILE` or added at run time with `POST /_emulator/aad/principals`.

A principal is one of:
- a service principal: client secrets, certificates (matched by their SHA-1 or SHA-256 thumbprint,
  the `x5t` / `x5t#S256` header of a client assertion) and federated credentials (issuer + subject);
- a user: signs in through the device-code flow with a public client (the Azure CLI's client id);
- a managed identity: gets tokens from the IMDS or App Service style endpoints.
Roles are ACR's built-in role names, for every registry or per registry name.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import identities
from .scopes import Policy

# The Azure CLI's public client id: az (and `acr account login`) sign users in with it.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEV_USER_NAME = "developer@acr-emulator.localhost"
DEV_USER_OBJECT_ID = "dec0de00-0000-4000-8000-00000000ac05"
MANAGED_IDENTITY_CLIENT_ID = "dec0de00-0000-4000-8000-00000000ac03"
MANAGED_IDENTITY_OBJECT_ID = "dec0de00-0000-4000-8000-00000000ac04"
# The header value App Service puts in IDENTITY_HEADER; clients echo it in X-IDENTITY-HEADER.
IDENTITY_HEADER = "acr-emulator-identity-header"
# The emulator's own workload-identity token issuer (a stand-in for a Kubernetes OIDC issuer).
FEDERATED_ISSUER = "https://oidc.acr-emulator.localhost/"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
DEV_FEDERATED_SUBJECT = "system:serviceaccount:default:acr"

# What each built-in role may do on a registry's repositories (None = everything).
ROLE_ACTIONS: dict[str, set[str] | None] = {
    "Owner": None,
    "Contributor": None,
    "AcrPull": {"pull", "metadata_read"},
    "AcrPush": {"pull", "push", "metadata_read", "metadata_write"},
    "AcrDelete": {"delete", "metadata_read"},
    "AcrImageSigner": {"metadata_read"},
    "Reader": {"metadata_read"},
    "Container Registry Repository Reader": {"pull", "metadata_read"},
    "Container Registry Repository Writer": {"pull", "push", "metadata_read", "metadata_write"},
    "Container Registry Repository Contributor": {"pull", "push", "delete", "metadata_read", "metadata_write"},
}
KINDS = ("servicePrincipal", "user", "managedIdentity")


class DirectoryError(ValueError):
    """A principals file or registration that cannot be used; the message says what is wrong."""


@dataclass
class FederatedCredential:
    issuer: str
    subject: str
    audiences: list[str] = field(default_factory=lambda: [FEDERATED_AUDIENCE])
    # PEM public keys that may sign this issuer's tokens; empty = the emulator's own issuer key
    keys: list = field(default_factory=list)


@dataclass
class Principal:
    client_id: str
    object_id: str
    kind: str = "servicePrincipal"
    display_name: str = ""
    username: str | None = None
    secrets: list[str] = field(default_factory=list)
    certificates: dict[str, object] = field(default_factory=dict)  # thumbprint (hex, lower) -> public key
    federated: list[FederatedCredential] = field(default_factory=list)
    roles: dict[str, list[str]] = field(default_factory=lambda: {"*": ["Owner"]})

    def has_secret(self, secret: str) -> bool:
        return any(identities._same(secret, s) for s in self.secrets)

    def public(self) -> dict:
        """What `GET /_emulator/aad/principals` shows: never a secret."""
        return {
            "type": self.kind,
            "clientId": self.client_id,
            "objectId": self.object_id,
            "displayName": self.display_name,
            "username": self.username,
            "secrets": len(self.secrets),
            "certificateThumbprints": sorted(t for t in self.certificates if len(t) == 40),
            "federatedCredentials": [{"issuer": f.issuer, "subject": f.subject, "audiences": f.audiences}
                                     for f in self.federated],
            "roles": self.roles,
        }


def thumbprints(cert: x509.Certificate) -> tuple[str, str]:
    """SHA-1 and SHA-256 thumbprints as lower-case hex."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest(), hashlib.sha256(der).hexdigest()  # noqa: S324 - AAD's x5t is SHA-1


def _load_certificate(text: str, base: Path | None) -> x509.Certificate:
    if "-----BEGIN" not in text:
        path = Path(text) if base is None or Path(text).is_absolute() else base / text
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as err:
            raise DirectoryError(f"cannot read certificate {path}: {err}") from None
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        raise DirectoryError("a certificate is not a PEM X.509 certificate") from None


def _load_public_key(text: str, base: Path | None):
    if "CERTIFICATE" in text or "-----BEGIN" not in text:
        return _load_certificate(text, base).public_key()
    try:
        return serialization.load_pem_public_key(text.encode())
    except ValueError:
        raise DirectoryError("a federated credential key is not a PEM public key or certificate") from None


def _roles(value) -> dict[str, list[str]]:
    if value is None:
        return {"*": ["Owner"]}
    if isinstance(value, list):
        value = {"*": value}
    if not isinstance(value, dict):
        raise DirectoryError("roles must be a list of role names or an object {registry: [role names]}")
    for names in value.values():
        for name in names if isinstance(names, list) else [names]:
            if name not in ROLE_ACTIONS:
                raise DirectoryError(f"unknown role {name!r}; known roles: {', '.join(ROLE_ACTIONS)}")
    return {str(k): list(v) if isinstance(v, list) else [v] for k, v in value.items()}


def principal_from_json(entry: dict, base: Path | None = None) -> Principal:
    """A principal from its JSON description (see the emulator README, "Principals")."""
    if not isinstance(entry, dict):
        raise DirectoryError("each principal must be a JSON object")
    kind = entry.get("type", "servicePrincipal")
    if kind not in KINDS:
        raise DirectoryError(f"type must be one of {', '.join(KINDS)}")
    client_id = str(entry.get("clientId") or (uuid.uuid4() if kind != "servicePrincipal" else ""))
    if not client_id:
        raise DirectoryError("a service principal needs a clientId")
    principal = Principal(
        client_id=client_id,
        object_id=str(entry.get("objectId") or uuid.uuid5(uuid.NAMESPACE_URL, "acr-emulator:" + client_id)),
        kind=kind,
        display_name=str(entry.get("displayName") or client_id),
        username=entry.get("username"),
        secrets=[str(s) for s in entry.get("secrets", [])] + ([str(entry["secret"])] if entry.get("secret") else []),
        roles=_roles(entry.get("roles")),
    )
    if kind == "user" and not principal.username:
        raise DirectoryError("a user needs a username")
    for text in entry.get("certificates", []) + ([entry["certificate"]] if entry.get("certificate") else []):
        cert = _load_certificate(str(text), base)
        sha1, sha256 = thumbprints(cert)
        principal.certificates[sha1] = principal.certificates[sha256] = cert.public_key()
    for fed in entry.get("federatedCredentials", []):
        if not isinstance(fed, dict) or not fed.get("issuer") or not fed.get("subject"):
            raise DirectoryError("a federated credential needs an issuer and a subject")
        principal.federated.append(FederatedCredential(
            issuer=str(fed["issuer"]), subject=str(fed["subject"]),
            audiences=[str(a) for a in fed.get("audiences", [FEDERATED_AUDIENCE])],
            keys=[_load_public_key(str(k), base) for k in fed.get("keys", [])],
        ))
    return principal


class RolePolicy(Policy):
    """What a principal's roles on one registry allow (the registry token service asks this)."""

    def __init__(self, role_names: list[str]):
        self.role_names = role_names

    def allowed(self, type_: str, name: str) -> set[str] | None:
        actions: set[str] = set()
        for role in self.role_names:
            granted = ROLE_ACTIONS.get(role, set())
            if granted is None:
                return None
            actions |= granted
        if type_ == "repository":
            return actions
        if type_ == "registry" and name == "catalog" and actions:
            return {"*"}
        return set()


class Directory:
    def __init__(self) -> None:
        self.principals: list[Principal] = []
        self.public_clients: set[str] = {AZURE_CLI_CLIENT_ID}
        self.add(Principal(
            client_id=identities.CLIENT_ID, object_id=identities.CLIENT_OBJECT_ID,
            display_name="acr-emulator dev service principal", secrets=[identities.CLIENT_SECRET],
            federated=[FederatedCredential(FEDERATED_ISSUER, DEV_FEDERATED_SUBJECT)],
        ))
        self.add(Principal(client_id=DEV_USER_OBJECT_ID, object_id=DEV_USER_OBJECT_ID, kind="user",
                           display_name="acr-emulator developer", username=DEV_USER_NAME))
        self.add(Principal(client_id=MANAGED_IDENTITY_CLIENT_ID, object_id=MANAGED_IDENTITY_OBJECT_ID,
                           kind="managedIdentity", display_name="acr-emulator dev managed identity"))

    def add(self, principal: Principal) -> None:
        """Add or replace (same kind and client id, or same user name)."""
        self.principals = [p for p in self.principals if not _same_principal(p, principal)]
        self.principals.append(principal)

    def load_file(self, path: Path) -> int:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise DirectoryError(f"cannot read principals file {path}: {err}") from None
        entries = data.get("principals", []) if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise DirectoryError(f"{path}: expected a list of principals or {{\"principals\": [...]}}")
        for entry in entries:
            self.add(principal_from_json(entry, path.parent))
        if isinstance(data, dict):
            self.public_clients.update(str(c) for c in data.get("publicClients", []))
        return len(entries)

    def application(self, client_id: str) -> Principal | None:
        for p in self.principals:
            if p.kind == "servicePrincipal" and p.client_id == client_id:
                return p
        return None

    def user(self, username: str | None = None, object_id: str | None = None) -> Principal | None:
        for p in self.principals:
            if p.kind != "user":
                continue
            if username and (p.username or "").lower() == username.lower():
                return p
            if object_id and p.object_id == object_id:
                return p
        return None

    def managed_identity(self, client_id: str | None = None, object_id: str | None = None,
                         resource_id: str | None = None) -> Principal | None:
        for p in self.principals:
            if p.kind != "managedIdentity":
                continue
            if not (client_id or object_id or resource_id):
                return p  # the system-assigned one: the first managed identity
            if client_id == p.client_id or object_id == p.object_id or (
                    resource_id and resource_id.rstrip("/").split("/")[-1].lower() == p.display_name.lower()):
                return p
        return None

    def by_subject(self, subject: str) -> Principal | None:
        """The principal an ACR refresh token names (`upn`, `oid` or `appid` of the exchanged AAD token)."""
        for p in self.principals:
            if subject in (p.object_id, p.client_id) or (p.username and p.username.lower() == subject.lower()):
                return p
        return None

    def policy(self, subject: str, registry: str) -> Policy | None:
        """The role policy of `subject` on `registry` (a login server), or None if it is no principal of ours."""
        principal = self.by_subject(subject)
        if principal is None:
            return None
        host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
        names: list[str] = []
        for key, roles in principal.roles.items():
            if key in ("*", registry, host, host.split(".")[0]):
                names.extend(roles)
        return RolePolicy(names)


def _same_principal(a: Principal, b: Principal) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "user":
        return (a.username or "").lower() == (b.username or "").lower()
    return a.client_id == b.client_id
