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


class PerThread:
    """A Registry per worker thread, each on its own requests.Session (requests does not promise that a
    Session is thread-safe), all sharing the credential, the challenge and the token cache, so a token
    is fetched once however many threads use it."""

    def __init__(self, registry: Registry):
        import threading

        self._registry = registry
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list = []

    def get(self) -> Registry:
        import copy

        from .acr import AcrApi
        from .oci import OciApi
        from .transport import make_session

        mine = getattr(self._local, "registry", None)
        if mine is None:
            session = copy.copy(self._registry.session)  # shallow: the token dict stays shared
            session.http = make_session()
            with self._lock:
                self._sessions.append(session.http)
            mine = self._local.registry = Registry(session, AcrApi(session), OciApi(session))
        return mine

    def close(self) -> None:
        for http in self._sessions:
            http.close()


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


__all__ = ["PerThread", "Registry", "connect", "open_registry", "resolve_login_server"]
