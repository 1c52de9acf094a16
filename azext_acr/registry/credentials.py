"""Credentials a registry client can present, and the keychain that picks them.

Every credential answers the same two questions: "what Basic pair do you have?" (for registries
that challenge with Basic) and "get me an access token for these scopes" (for Bearer challenges).
The keychain order is the same for every command: explicit -u/-p, the Docker config entry (or its
helper), the Azure AD identity chain, anonymous.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from . import tokens
from .challenge import Challenge
from .errors import AuthenticationError, ConnectionFailure, RegistryError
from .tokens import NULL_GUID, AccessToken

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

ACR_AUDIENCE_SCOPE = "https://containerregistry.azure.net/.default"


class AadTokenSource(Protocol):
    """What the identity package provides: an Azure AD access token for the given scopes."""

    def get_token(self, *scopes: str): ...


class Credential:
    """Base class: a named source of registry authentication."""

    description = "credential"

    def basic_auth(self) -> tuple[str, str] | None:
        return None

    def access_token(self, session: requests.Session, challenge: Challenge, scopes: list[str]) -> AccessToken:
        raise AuthenticationError(f"The {self.description} cannot answer a Bearer challenge.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class UsernamePasswordCredential(Credential):
    """``-u/-p``, an admin user, a repository token, or the null GUID with an ACR token."""

    def __init__(self, username: str, password: str, description: str = "username and password"):
        self.username = username
        self._password = password
        self.description = description

    def basic_auth(self) -> tuple[str, str] | None:
        return (self.username, self._password)

    def access_token(self, session, challenge, scopes):
        return tokens.fetch_with_password(session, challenge.realm, challenge.service or "", scopes,
                                          self.username, self._password)


class RefreshTokenCredential(Credential):
    """An ACR refresh token (Docker's ``identitytoken``)."""

    def __init__(self, refresh_token: str, description: str = "refresh token"):
        self._refresh_token = refresh_token
        self.description = description

    def basic_auth(self) -> tuple[str, str] | None:
        return (NULL_GUID, self._refresh_token)

    def access_token(self, session, challenge, scopes):
        return tokens.fetch_with_refresh_token(session, challenge.realm, challenge.service or "", scopes,
                                               self._refresh_token)


class AadCredential(Credential):
    """Azure AD through the identity chain, exchanged at the registry for an ACR refresh token."""

    description = "Azure AD identity"

    def __init__(self, source: AadTokenSource | None = None):
        self._source = source
        self._refresh_tokens: dict[str, str] = {}

    def _aad_source(self) -> AadTokenSource:
        if self._source is None:
            from ..identity.chain import default_chain
            self._source = default_chain()
        return self._source

    def refresh_token(self, session: requests.Session, challenge: Challenge) -> str:
        """The ACR refresh token for this registry (what ``acr login`` stores)."""
        service = challenge.service or ""
        if service not in self._refresh_tokens:
            if not challenge.realm:
                raise AuthenticationError(f"Registry '{service}' does not support Azure AD login "
                                          "(its challenge has no realm).")
            aad = self._aad_source().get_token(ACR_AUDIENCE_SCOPE)
            self._refresh_tokens[service] = tokens.exchange_aad_token(
                session, challenge.realm, service, aad.token, getattr(aad, "tenant_id", None))
        return self._refresh_tokens[service]

    def access_token(self, session, challenge, scopes):
        refresh = self.refresh_token(session, challenge)
        return tokens.fetch_with_refresh_token(session, challenge.realm, challenge.service or "", scopes, refresh)


class AnonymousCredential(Credential):
    description = "anonymous access"

    def access_token(self, session, challenge, scopes):
        return tokens.fetch_anonymous(session, challenge.realm, challenge.service or "", scopes)


class ChainedCredential(Credential):
    """Tries each credential in order; the first that yields a token wins and is kept.

    When all fail, the error lists each source and why it failed, in one line.
    """

    def __init__(self, credentials: list[Credential]):
        self.credentials = credentials
        self._chosen: Credential | None = None
        self.failures: list[str] = []

    @property
    def description(self) -> str:  # type: ignore[override]
        return ", ".join(c.description for c in self.credentials)

    def basic_auth(self) -> tuple[str, str] | None:
        for credential in ([self._chosen] if self._chosen else self.credentials):
            pair = credential.basic_auth()
            if pair:
                return pair
        return None

    def access_token(self, session, challenge, scopes):
        if self._chosen is not None:
            return self._chosen.access_token(session, challenge, scopes)
        failures: list[str] = []
        for credential in self.credentials:
            try:
                token = credential.access_token(session, challenge, scopes)
            except ConnectionFailure:
                raise
            except RegistryError as err:
                logger.debug("Credential %s failed: %s", credential.description, err)
                failures.append(f"{credential.description}: {err}")
                self.failures = failures
                continue
            self._chosen = credential
            return token
        raise AuthenticationError("No credential was accepted by the registry. Tried " + "; ".join(failures),
                                  status=401, hint="Run 'acr login -n <registry>' or pass -u/-p.")


def docker_config_credential(login_server: str) -> Credential | None:
    """The credential `acr login` (or docker, oras) left in the Docker config, if any."""
    from ..dockerconfig import get_credentials

    creds = get_credentials(login_server)
    if creds is None:
        return None
    if creds.identity_token:
        return RefreshTokenCredential(creds.identity_token, "Docker config identity token")
    if creds.username and creds.password:
        if creds.username == NULL_GUID:
            return RefreshTokenCredential(creds.password, "Docker config token")
        return UsernamePasswordCredential(creds.username, creds.password, "Docker config username and password")
    return None


def resolve_credential(login_server: str, username: str | None = None, password: str | None = None,
                       use_docker_config: bool = True, use_aad: bool = True) -> Credential:
    """The keychain: explicit -u/-p, then the Docker config, then Azure AD, then anonymous."""
    if username is not None or password is not None:
        if not username:
            raise AuthenticationError("Please also specify username if password is specified.")
        if password is None:
            raise AuthenticationError("Please specify both username and password in non-interactive mode.")
        if username == NULL_GUID:
            return RefreshTokenCredential(password, "token given with -p")
        return UsernamePasswordCredential(username, password)
    chain: list[Credential] = []
    if use_docker_config:
        found = docker_config_credential(login_server)
        if found is not None:
            chain.append(found)
    if use_aad:
        chain.append(AadCredential())
    chain.append(AnonymousCredential())
    return ChainedCredential(chain)
