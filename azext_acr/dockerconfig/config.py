"""Docker's ``config.json`` as a file: where it is, reading it strictly, and updating it safely.

Why this exists: ``acr login`` must leave credentials that docker, skopeo, oras and friends can use,
on machines with no Docker install, and must never damage a config file other tools share. So a
corrupt or mistyped file is reported in one line and never rewritten, and writes are serialised
with a lock file, re-read under the lock, and land atomically (atomicfile.write_atomic), mode 0600,
with every key we do not own kept as it was. Which credentials an entry holds, and the helper
protocol, live in credentials.py and helpers.py.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import filelock

from ..atomicfile import write_atomic
from .errors import DockerConfigError

#: Seconds to wait for another writer's lock before giving up with a clear message.
LOCK_TIMEOUT = 10.0

CONFIG_FILENAME = "config.json"
AUTH_STRING_FIELDS = ("auth", "username", "password", "identitytoken", "registrytoken", "email")

T = TypeVar("T")


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


def path_or_default(path: str | os.PathLike[str] | None) -> Path:
    return config_path() if path is None else Path(path)


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
            for field_name in AUTH_STRING_FIELDS:
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
    p = path_or_default(path)
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
    p = path_or_default(path)
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
