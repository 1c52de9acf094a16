"""Read and write Docker's ``config.json`` the way the docker CLI does, without needing Docker.

Why this exists: ``acr login`` must leave credentials that docker, skopeo, oras and friends can use,
on machines with no Docker install, and must never damage a config file other tools share. So:

* lookups follow docker's order (``credHelpers[server]`` → ``credsStore`` → ``auths``);
* a corrupt or mistyped file is reported in one line and never rewritten;
* writes are serialised with a lock file, re-read under the lock, and land atomically (temp file in
  the same directory, fsync, ``os.replace``, fsync of the directory), mode 0600, with every key we do
  not own kept as it was.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import filelock

from ..atomicfile import write_atomic
from . import helpers
from .errors import DockerConfigError, HelperNotFoundError

#: Seconds to wait for another writer's lock before giving up with a clear message.
LOCK_TIMEOUT = 10.0

CONFIG_FILENAME = "config.json"

# Docker Hub is the one registry docker keys by a URL rather than a host name; keep its key canonical
# so docker still finds entries we write for it.
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_DOCKER_HUB_KEY = "https://index.docker.io/v1/"
# Paths a key may carry and still mean the whole registry (legacy ``https://host/v1/`` style keys).
_REGISTRY_PATHS = frozenset({"", "/", "/v1", "/v1/", "/v2", "/v2/"})
_AUTH_STRING_FIELDS = ("auth", "username", "password", "identitytoken", "registrytoken", "email")

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
# Locating the file


def config_dir() -> Path:
    """Docker's config directory: ``$DOCKER_CONFIG`` when set (a directory), else ``~/.docker``."""
    env = os.environ.get("DOCKER_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".docker"


def config_path() -> Path:
    """Path of the ``config.json`` docker would use right now."""
    return config_dir() / CONFIG_FILENAME


def _path_or_default(path: str | os.PathLike[str] | None) -> Path:
    return config_path() if path is None else Path(path)


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
# Loading


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _validate(config: object, path: Path) -> dict[str, Any]:
    """Check the parts of the file we interpret; anything else is left to other tools."""
    if not isinstance(config, dict):
        raise DockerConfigError(
            f"Docker config '{path}' holds a JSON {_json_type(config)} at the top level, not an object: "
            "fix or remove it."
        )
    auths = config.get("auths")
    if auths is not None:
        if not isinstance(auths, dict):
            raise DockerConfigError(
                f"Docker config '{path}' has \"auths\" of type {_json_type(auths)}, "
                "expected an object: fix it."
            )
        for server, entry in auths.items():
            if not isinstance(entry, dict):
                raise DockerConfigError(
                    f"Docker config '{path}' has auths entry {server!r} of type {_json_type(entry)}, "
                    "expected an object: fix or remove that entry."
                )
            for field_name in _AUTH_STRING_FIELDS:
                value = entry.get(field_name)
                if value is not None and not isinstance(value, str):
                    raise DockerConfigError(
                        f"Docker config '{path}' has auths entry {server!r} with \"{field_name}\" of type "
                        f"{_json_type(value)}, expected a string: fix or remove that entry."
                    )
    cred_helpers = config.get("credHelpers")
    if cred_helpers is not None:
        if not isinstance(cred_helpers, dict):
            raise DockerConfigError(
                f"Docker config '{path}' has \"credHelpers\" of type {_json_type(cred_helpers)}, "
                "expected an object: fix it."
            )
        for server, name in cred_helpers.items():
            if not isinstance(name, str):
                raise DockerConfigError(
                    f"Docker config '{path}' has credHelpers entry {server!r} of type {_json_type(name)}, "
                    "expected a helper name string: fix or remove that entry."
                )
    store = config.get("credsStore")
    if store is not None and not isinstance(store, str):
        raise DockerConfigError(
            f"Docker config '{path}' has \"credsStore\" of type {_json_type(store)}, "
            "expected a helper name string: fix or remove it."
        )
    return config


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Parse the Docker config at ``path`` (default: :func:`config_path`); ``{}`` if it does not exist.

    Never writes anything: a broken file stays exactly as it is for the user to inspect.
    """
    p = _path_or_default(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DockerConfigError(
            f"Docker config '{p}' cannot be read ({exc.strerror or exc}): check that it is a readable file."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DockerConfigError(
            f"Docker config '{p}' is not UTF-8 text (bad byte at offset {exc.start}): fix or remove it."
        ) from None
    if not text.strip():
        return {}  # docker treats an empty file as an empty config
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DockerConfigError(
            f"Docker config '{p}' is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            "fix or remove it."
        ) from None
    except RecursionError:
        raise DockerConfigError(
            f"Docker config '{p}' is nested too deeply to be a Docker config: fix or remove it."
        ) from None
    except ValueError as exc:  # e.g. integers beyond Python's digit limit
        raise DockerConfigError(
            f"Docker config '{p}' is not usable JSON ({exc}): fix or remove it."
        ) from None
    return _validate(config, p)


# --------------------------------------------------------------------------------------------------
# Writing


def _write_atomic(target: Path, config: dict[str, Any]) -> None:
    """Replace ``target`` with ``config`` so readers see either the old or the new file, never half."""
    data = (json.dumps(config, indent="\t") + "\n").encode("utf-8")
    try:
        write_atomic(target, data)
    except OSError as exc:
        raise DockerConfigError(
            f"Could not write Docker config '{target}' ({exc.strerror or exc}): check that its directory is "
            "writable; the previous file is unchanged."
        ) from None


def update_config(mutate: Callable[[dict[str, Any]], T], path: str | os.PathLike[str] | None = None) -> T:
    """Apply ``mutate`` to the config under an exclusive lock and save the result atomically.

    The file is re-read after the lock is taken, so concurrent writers (other ``acr`` processes, or
    threads) each see the others' changes. Nothing is written if ``mutate`` raises, if the config did
    not change, or if the existing file is unreadable or corrupt. Returns what ``mutate`` returns.
    """
    p = _path_or_default(path)
    target = Path(os.path.realpath(p))  # docker writes through a symlinked config.json; so do we
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DockerConfigError(
            f"Could not create Docker config directory '{target.parent}' ({exc.strerror or exc}): "
            "check permissions or set DOCKER_CONFIG to a writable directory."
        ) from None
    lock_path = f"{target}.lock"
    lock = filelock.FileLock(lock_path, timeout=LOCK_TIMEOUT, mode=0o600)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise DockerConfigError(
            f"Timed out after {LOCK_TIMEOUT:g} s waiting for the lock '{lock_path}': another process is "
            "writing the Docker config; try again (delete the lock file if no such process exists)."
        ) from None
    except OSError as exc:
        raise DockerConfigError(
            f"Could not lock Docker config '{target}' via '{lock_path}' ({exc.strerror or exc}): "
            "check that its directory is writable."
        ) from None
    try:
        config = load_config(target)
        before = copy.deepcopy(config)
        result = mutate(config)
        if config != before:
            _validate(config, target)
            _write_atomic(target, config)
        return result
    finally:
        lock.release()


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
    p = _path_or_default(path)
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
    p = _path_or_default(path)
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
    p = _path_or_default(path)
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
    p = _path_or_default(path)
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
    p = _path_or_default(path)
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
