"""The registry client library: references, challenges, tokens, the ACR and OCI APIs. No Knack here.

Importing this package is cheap: submodules (and requests) load only when a function needs them,
so ``acr --help`` never pays for HTTP code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .acr import AcrApi
    from .credentials import Credential
    from .oci import OciApi
    from .transport import RegistrySession


@dataclass
class Registry:
    """Everything a command needs to talk to one registry: the session and both APIs."""

    session: RegistrySession
    acr: AcrApi
    oci: OciApi

    @property
    def login_server(self) -> str:
        return self.session.login_server

    def close(self) -> None:
        self.session.close()


def connect(login_server: str, credential: Credential) -> Registry:
    from .acr import AcrApi
    from .oci import OciApi
    from .transport import RegistrySession

    session = RegistrySession(login_server, credential)
    return Registry(session, AcrApi(session), OciApi(session))


def resolve_login_server(name: str, suffix: str | None = None) -> str:
    from .loginserver import resolve_login_server as resolve

    return resolve(name, suffix)


def open_registry(name: str, username: str | None = None, password: str | None = None,
                  suffix: str | None = None) -> Registry:
    """Resolve ``-n``, pick credentials with the keychain, and probe the registry once."""
    from .credentials import resolve_credential

    login_server = resolve_login_server(name, suffix)
    registry = connect(login_server, resolve_credential(login_server, username, password))
    registry.session.ping()
    return registry


__all__ = ["Registry", "connect", "open_registry", "resolve_login_server"]
