"""Which credentials the Docker config holds for a registry, and storing or erasing them.

Lookups follow docker's order (``credHelpers[server]`` → ``credsStore`` → ``auths``), with docker's
tolerance for how a server is spelled as a key (``https://host/``, ``host/v2/`` ...). The file itself
is read and written through config.py; helpers are run through helpers.py.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from . import helpers
from .config import load_config, path_or_default, update_config
from .errors import DockerConfigError, HelperNotFoundError

# Docker Hub is the one registry docker keys by a URL rather than a host name; keep its key canonical
# so docker still finds entries we write for it.
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_DOCKER_HUB_KEY = "https://index.docker.io/v1/"
# Paths a key may carry and still mean the whole registry (legacy ``https://host/v1/`` style keys).
_REGISTRY_PATHS = frozenset({"", "/", "/v1", "/v1/", "/v2", "/v2/"})

T = TypeVar("T")


@dataclass
class Credentials:
    """Registry credentials. ``identity_token`` is an OAuth2 refresh token (ACR's ``identitytoken``).

    ``repr`` hides the secrets because credentials objects end up in logs, debug output and test
    failure messages.
    """

    username: str | None = None
    password: str | None = None
    identity_token: str | None = None

    def __repr__(self) -> str:
        password = None if self.password is None else "***"
        token = None if self.identity_token is None else "***"
        return f"Credentials(username={self.username!r}, password={password}, identity_token={token})"


# --------------------------------------------------------------------------------------------------
# Server names


def _split_key(key: str) -> tuple[str, str]:
    """Split a server key into (host[:port], path) after dropping an ``http(s)://`` prefix."""
    rest = key.strip()
    lowered = rest.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            rest = rest[len(scheme) :]
            break
    host, sep, path = rest.partition("/")
    return host, sep + path


def normalize_server(server: str) -> str:
    """The ``host[:port]`` a server name or URL means: ``https://x.azurecr.io/v2/`` → ``x.azurecr.io``."""
    if not isinstance(server, str):
        raise DockerConfigError(f"Registry server name must be text, not {type(server).__name__}.")
    host, _ = _split_key(server)
    if not host:
        raise DockerConfigError(
            f"Registry server name {server!r} has no host name: pass e.g. 'myreg.azurecr.io'."
        )
    return host


def _auth_key(server: str) -> str:
    """Key under which we write ``server`` in ``auths`` (and the ServerURL we give helpers)."""
    host = normalize_server(server)
    return _DOCKER_HUB_KEY if host.lower() in _DOCKER_HUB_HOSTS else host


def _key_matches(key: str, host: str) -> bool:
    """Whether config key ``key`` names ``host``, tolerating a scheme and ``/``, ``/v1/``, ``/v2/``."""
    key_host, key_path = _split_key(key)
    if key_path not in _REGISTRY_PATHS:
        return False
    return key_host.lower() == host.lower() or (
        key_host.lower() in _DOCKER_HUB_HOSTS and host.lower() in _DOCKER_HUB_HOSTS
    )


def _matching_keys(mapping: dict[str, Any], server: str) -> list[str]:
    """Keys of ``mapping`` that mean ``server``, best first: exact text, canonical key, then file order."""
    host = normalize_server(server)
    canonical = _auth_key(server)
    matches = [k for k in mapping if _key_matches(k, host)]
    if server in mapping and server not in matches:
        matches.insert(0, server)

    def rank(key: str) -> int:
        if key == server:
            return 0
        if key == canonical:
            return 1
        return 2

    return sorted(matches, key=rank)  # stable: ties keep file order


# --------------------------------------------------------------------------------------------------
# Credentials


def _configured_helper(config: dict[str, Any], server: str) -> tuple[str, str] | None:
    """(helper name, which setting chose it) for ``server``, as docker resolves it; ``None`` → use auths.

    A ``credHelpers`` entry wins over ``credsStore``; an empty helper name means "the file itself".
    """
    cred_helpers = config.get("credHelpers") or {}
    for key in _matching_keys(cred_helpers, server):
        name = cred_helpers[key]
        return (name, f"the credHelpers entry {key!r}") if name else None
    store = config.get("credsStore")
    if store:
        return store, '"credsStore"'
    return None


def _helper_call(fn: Callable[..., T], helper: tuple[str, str], path: Path, *args: str) -> T:
    """Call a helper function, turning "program not found" into a message naming the config setting."""
    try:
        return fn(helper[0], *args)
    except HelperNotFoundError as exc:
        raise DockerConfigError(
            f"Docker credential helper '{exc.program}' (chosen by {helper[1]} in '{path}') was not found "
            f"on PATH: install it, or remove {helper[1]} from '{path}'."
        ) from None


def _decode_auth(value: str, server: str, path: Path) -> tuple[str, str]:
    fix = f"fix or remove that entry in '{path}', or log in again."
    try:
        padded = value.strip() + "=" * (-len(value.strip()) % 4)
        decoded = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise DockerConfigError(
            f'Docker config auths entry {server!r} has an "auth" value that is not base64: {fix}'
        ) from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise DockerConfigError(
            f"Docker config auths entry {server!r} has an \"auth\" value with no ':' between user "
            f"and password: {fix}"
        )
    return username, password


def _from_auth_entry(entry: dict[str, Any], key: str, path: Path) -> Credentials | None:
    username = entry.get("username") or None
    password = entry.get("password") or None
    auth = entry.get("auth")
    if auth:
        decoded_user, decoded_password = _decode_auth(auth, key, path)
        username, password = decoded_user or None, decoded_password or None  # "" means absent
    token = entry.get("identitytoken") or None
    if not username and not password and not token:
        return None
    return Credentials(username=username, password=password, identity_token=token)


def get_credentials(server: str, path: str | os.PathLike[str] | None = None) -> Credentials | None:
    """Credentials docker would use for ``server``, or ``None`` if there are none.

    When a helper is configured for the server, its answer is final (as in docker): an ``auths``
    entry is not consulted then.
    """
    p = path_or_default(path)
    config = load_config(p)
    helper = _configured_helper(config, server)
    if helper is not None:
        answer = _helper_call(helpers.helper_get, helper, p, _auth_key(server))
        if answer is None:
            return None
        if answer.username == helpers.TOKEN_USERNAME:
            return Credentials(identity_token=answer.secret or None)
        return Credentials(username=answer.username or None, password=answer.secret or None)
    auths = config.get("auths") or {}
    for key in _matching_keys(auths, server):
        creds = _from_auth_entry(auths[key], key, p)
        if creds is not None:
            return creds
    return None


def _check_creds(creds: Credentials) -> None:
    if not isinstance(creds, Credentials):
        raise TypeError("creds must be a Credentials instance")
    if creds.username and ":" in creds.username:
        raise DockerConfigError("A registry user name cannot contain ':' (Docker stores 'user:password').")
    if not (creds.username or creds.password or creds.identity_token):
        raise DockerConfigError("Nothing to store: give a user name and password, or an identity token.")


def store_credentials(server: str, creds: Credentials, path: str | os.PathLike[str] | None = None) -> None:
    """Save ``creds`` for ``server`` where docker would look for them.

    With a helper configured, the helper stores Username/Secret. An identity token goes in as the
    Secret, with the caller's username if one is given (for ACR the null-GUID user works with docker,
    skopeo and oras-py alike) or else docker's ``<token>`` convention; ``auths[server]`` then becomes
    ``{}`` as docker leaves it. Without a helper, ``auths[server]`` gets ``auth`` (base64 of
    ``user:password``) plus ``identitytoken``. Other keys for the same registry (``https://host/``
    and similar legacy spellings) are dropped so they cannot shadow the new entry.
    """
    _check_creds(creds)
    p = path_or_default(path)
    key = _auth_key(server)
    helper = _configured_helper(load_config(p), server)

    if helper is not None:
        if creds.identity_token:
            username, secret = creds.username or helpers.TOKEN_USERNAME, creds.identity_token
        else:
            username, secret = creds.username or "", creds.password or ""
        _helper_call(helpers.helper_store, helper, p, key, username, secret)
        entry: dict[str, Any] = {}
    else:
        entry = {}
        if creds.username or creds.password:
            raw = f"{creds.username or ''}:{creds.password or ''}".encode()
            entry["auth"] = base64.b64encode(raw).decode("ascii")
        if creds.identity_token:
            entry["identitytoken"] = creds.identity_token

    def mutate(config: dict[str, Any]) -> None:
        auths = config.get("auths")
        if not isinstance(auths, dict):
            auths = config["auths"] = {}
        kept: dict[str, Any] = {}
        for old in _matching_keys(auths, server):
            old_entry = auths.pop(old)
            if old == key:
                kept = old_entry  # keep fields we do not own (e.g. "email")
        for field_name in ("auth", "username", "password", "identitytoken", "registrytoken"):
            kept.pop(field_name, None)
        kept.update(entry)
        auths[key] = kept

    update_config(mutate, p)


def check_can_store(server: str, path: str | os.PathLike[str] | None = None) -> str | None:
    """Fail now, before any sign-in, if storing for ``server`` is bound to fail; name the helper if one is used.

    Reads (never writes) the config, so a corrupt file or a helper that is not on PATH is reported
    before a login spends a network round trip or another program (``docker login``) acts on it.
    """
    p = path_or_default(path)
    helper = _configured_helper(load_config(p), server)
    if helper is None:
        return None
    import shutil

    program = helpers.helper_program(helper[0])
    if shutil.which(program) is None:
        raise DockerConfigError(
            f"Docker credential helper '{program}' (chosen by {helper[1]} in '{p}') was not found "
            f"on PATH: install it, or remove {helper[1]} from '{p}'."
        )
    return program


def erase_credentials(server: str, path: str | os.PathLike[str] | None = None) -> bool:
    """Remove ``server``'s credentials from its helper and from ``auths``; whether anything was removed."""
    p = path_or_default(path)
    config = load_config(p)
    removed = False
    helper = _configured_helper(config, server)
    if helper is not None:
        removed = _helper_call(helpers.helper_erase, helper, p, _auth_key(server))

    def mutate(config: dict[str, Any]) -> bool:
        auths = config.get("auths")
        if not isinstance(auths, dict):
            return False
        keys = _matching_keys(auths, server)
        for old in keys:
            del auths[old]
        return bool(keys)

    if _matching_keys(config.get("auths") or {}, server):
        removed = update_config(mutate, p) or removed
    return removed


def list_servers(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Servers for which credentials are available: ``auths``, ``credHelpers`` and ``credsStore``'s list.

    An ``auths`` entry counts if it holds credentials, or if it is one of docker's empty ``{}``
    markers while a ``credsStore`` is set. Names are given as in the file, sorted, without duplicates.
    """
    p = path_or_default(path)
    config = load_config(p)
    store = config.get("credsStore")
    servers: set[str] = set()
    for key, entry in (config.get("auths") or {}).items():
        if store or any(entry.get(f) for f in ("auth", "username", "password", "identitytoken")):
            servers.add(key)
    servers.update(k for k, v in (config.get("credHelpers") or {}).items() if v)
    if store:
        servers.update(_helper_call(helpers.helper_list, (store, '"credsStore"'), p))
    return sorted(servers)
