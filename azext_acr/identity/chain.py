"""The identity chain: where acr gets an Azure AD token for ACR, in azure-identity's order.

1. a service principal from the environment (``AZURE_CLIENT_ID`` + secret or certificate),
2. workload identity (``AZURE_FEDERATED_TOKEN_FILE``),
then (as they are added) managed identity, the Azure CLI's signed-in account and acr's own.
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
                                  hint="Set AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID, "
                                       "or pass -u/-p.")


def default_chain() -> IdentityChain:
    from .sources import EnvironmentServicePrincipal, WorkloadIdentity

    return IdentityChain([EnvironmentServicePrincipal(), WorkloadIdentity()])


def env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


__all__ = ["AadToken", "IdentityChain", "IdentityError", "IdentityUnavailable", "default_chain"]
