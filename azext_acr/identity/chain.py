"""The identity chain: where acr gets an Azure AD token for ACR, in azure-identity's order.

1. ``environment``: a service principal from the environment (``AZURE_CLIENT_ID`` + secret or certificate),
2. ``workload``: workload identity (``AZURE_FEDERATED_TOKEN_FILE``),
3. ``managed``: managed identity (App Service ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, or IMDS),
4. ``account``: the account signed in with ``acr account login`` (like azure-identity's shared token
   cache, it comes before the developer tools),
5. ``azurecli``: the account signed in with the real Azure CLI (its MSAL cache, read only).
``ACR_IDENTITY=<name>[,<name>...]`` uses only the named sources, in that order.
A source that is not configured is skipped; one that is configured but fails stops the chain
with its own message, so a wrong secret is reported as such rather than as "no credentials".
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from .errors import IdentityError, IdentityUnavailable

logger = logging.getLogger(__name__)


@dataclass
class AadToken:
    token: str
    expires_on: int
    tenant_id: str | None = None

    def __repr__(self) -> str:
        return f"AadToken(expires_on={self.expires_on}, tenant_id={self.tenant_id!r})"


class IdentityChain:
    def __init__(self, sources: list):
        self.sources = sources

    def get_token(self, *scopes: str) -> AadToken:
        skipped: list[str] = []
        for source in self.sources:
            try:
                token = source.get_token(*scopes)
            except IdentityUnavailable as why:
                skipped.append(f"{source.name}: {why}")
                continue
            logger.info("Signed in to Azure AD with %s", source.name)
            return token
        from ..registry.errors import AuthenticationError

        raise AuthenticationError("No Azure AD identity is available. Tried " + "; ".join(skipped) + ".",
                                  hint="Run 'acr account login' or 'az login', set AZURE_CLIENT_ID, "
                                       "AZURE_CLIENT_SECRET and AZURE_TENANT_ID, or pass -u/-p.")


SOURCE_NAMES = ("environment", "workload", "managed", "account", "azurecli")


def default_chain() -> IdentityChain:
    """The sources in order, or only those ``ACR_IDENTITY`` names (comma-separated)."""
    from .sources import ALL_SOURCES, ManagedIdentity

    chosen = [n.strip().lower() for n in (env("ACR_IDENTITY") or "").split(",") if n.strip()]
    unknown = [n for n in chosen if n not in ALL_SOURCES]
    if unknown:
        raise IdentityError(f"ACR_IDENTITY names an unknown identity source '{unknown[0]}'; use one or more of "
                            f"{', '.join(SOURCE_NAMES)}.")
    sources = []
    for name in chosen or SOURCE_NAMES:
        sources.append(ManagedIdentity(explicit=bool(chosen)) if name == "managed" else ALL_SOURCES[name]())
    return IdentityChain(sources)


def env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


__all__ = ["AadToken", "IdentityChain", "IdentityError", "IdentityUnavailable", "default_chain"]
