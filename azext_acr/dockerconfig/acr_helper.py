"""``docker-credential-acr``: a Docker credential helper whose tokens never run out.

Name it for a registry in the Docker config (``{"credHelpers": {"myregistry.azurecr.io": "acr"}}``)
and docker, skopeo, oras and friends call ``docker-credential-acr get`` whenever they need
credentials. The helper answers with an ACR refresh token, minted through the acr identity chain
(service principal or workload identity from the environment) and ``/oauth2/exchange``.

Why a helper rather than ``acr login``: a refresh token written to ``config.json`` dies after about
three hours, and a long CI job or a cron pull then fails with "unauthorized". The helper keeps one
token per registry in ``$ACR_CONFIG_DIR/docker-credential-acr.json`` (default ``~/.acr``; mode 0600,
replaced atomically under a lock) and mints a new one when the cached one is near its ``exp``, so the
token it hands out always has time left.

Protocol rules this module keeps: stdout carries only the JSON answer or, on failure, one line of
error text (that is what docker shows the user) with a non-zero exit code; never a traceback, never a
secret. ``store`` is accepted and ignored (the helper makes its own tokens), ``erase`` drops the cached
token, ``list`` names the registries with a cached token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..atomicfile import write_atomic
from ..configdir import config_dir

NULL_GUID = "00000000-0000-0000-0000-000000000000"
CACHE_FILENAME = "docker-credential-acr.json"
PROGRAM = "docker-credential-acr"

#: How long ``get`` waits for another helper process that is minting a token.
LOCK_TIMEOUT = 120.0
#: A cached token is replaced once less than this much of its life is left: a quarter of its
#: lifetime, capped at 30 minutes (so a 3-hour ACR token is renewed with 30 minutes to spare, and
#: every answer is good for at least that long).
MAX_RENEW_MARGIN = 30 * 60
#: Environment that decides *who* signs in; a cached token minted for another identity is not reused.
_IDENTITY_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST",
                       "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PATH")

USAGE = f"Usage: {PROGRAM} <store|get|erase|list|version>"


class HelperError(Exception):
    """A failure to report to the calling tool as one line on stdout."""


# --------------------------------------------------------------------------------------------------
# Tokens


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without verifying it (the registry verifies; we only need ``exp``)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def renew_margin(issued_at: float | None, expires_at: float) -> float:
    """Seconds before ``expires_at`` at which a token stops being handed out."""
    if issued_at is None or issued_at >= expires_at:
        return 5 * 60.0
    return min(MAX_RENEW_MARGIN, (expires_at - issued_at) / 4)


def is_usable(entry: dict[str, Any], now: float | None = None) -> bool:
    """Whether a cache entry's token still has more than its renewal margin left."""
    now = time.time() if now is None else now
    expires_at = entry.get("expiresAt")
    issued_at = entry.get("issuedAt")
    if not isinstance(expires_at, int | float) or not isinstance(entry.get("refreshToken"), str):
        return False
    issued = issued_at if isinstance(issued_at, int | float) else None
    return now + renew_margin(issued, expires_at) < expires_at


def identity_fingerprint() -> str:
    """A short digest of the variables that pick the signed-in identity (no secret goes into it)."""
    text = "\0".join(os.environ.get(name, "") for name in _IDENTITY_VARIABLES)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def mint_refresh_token(login_server: str) -> str:
    """Sign in through the identity chain and exchange the Azure AD token at the registry."""
    from ..registry import connect
    from ..registry.credentials import AadCredential

    aad = AadCredential()
    registry = connect(login_server, aad)
    try:
        challenge = registry.session.ping()
        if challenge is None or challenge.scheme != "bearer" or not challenge.realm:
            raise HelperError(f"Registry '{login_server}' does not offer Azure AD login "
                              "(GET /v2/ gave no Bearer challenge).")
        return aad.refresh_token(registry.session.http, challenge)
    finally:
        registry.close()


# --------------------------------------------------------------------------------------------------
# The cache file


def cache_path() -> Path:
    """``$ACR_CONFIG_DIR/docker-credential-acr.json``, ``~/.acr`` when the variable is unset."""
    directory = str(config_dir())
    return Path(directory).expanduser() / CACHE_FILENAME


def _read_cache(path: Path) -> dict[str, Any]:
    """The cached entries by server; a missing or damaged cache is simply empty (it is only a cache)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    servers = data.get("servers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        return {}
    return {k: v for k, v in servers.items() if isinstance(k, str) and isinstance(v, dict)}


def _write_cache(path: Path, servers: dict[str, Any]) -> None:
    """Replace the cache file atomically with mode 0600, so a reader never sees half a file."""
    data = json.dumps({"version": 1, "servers": servers}, indent=2, sort_keys=True).encode("utf-8")
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise HelperError(f"Could not write the token cache '{path}' ({exc.strerror or exc}): "
                          "check that ACR_CONFIG_DIR is writable.") from None


class _Cache:
    """The cache file held under an exclusive lock for one read-modify-write."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_path()
        self._lock = None
        self.servers: dict[str, Any] = {}

    def __enter__(self) -> _Cache:
        import filelock

        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise HelperError(f"Could not create '{self.path.parent}' ({exc.strerror or exc}): "
                              "set ACR_CONFIG_DIR to a writable directory.") from None
        self._lock = filelock.FileLock(f"{self.path}.lock", timeout=LOCK_TIMEOUT, mode=0o600)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise HelperError(f"Timed out waiting for the lock '{self.path}.lock' held by another "
                              f"{PROGRAM}; try again.") from None
        except OSError as exc:
            raise HelperError(f"Could not lock '{self.path}' ({exc.strerror or exc}).") from None
        self.servers = _read_cache(self.path)
        return self

    def save(self) -> None:
        _write_cache(self.path, self.servers)

    def __exit__(self, *exc_info: object) -> None:
        if self._lock is not None:
            self._lock.release()


# --------------------------------------------------------------------------------------------------
# Actions


def _server_from(text: str) -> str:
    from .credentials import normalize_server

    server = text.strip()
    if not server:
        raise HelperError("No registry server URL was given on standard input.")
    return normalize_server(server).lower()


def get(server_url: str, now: float | None = None) -> dict[str, str]:
    """The credentials answer for ``server_url``: the cached token if it has time left, else a new one."""
    server = _server_from(server_url)
    identity = identity_fingerprint()
    with _Cache() as cache:
        entry = cache.servers.get(server)
        if entry is None or entry.get("identity") != identity or not is_usable(entry, now):
            token = mint_refresh_token(server)
            claims = token_claims(token)
            entry = {"refreshToken": token, "identity": identity}
            if isinstance(claims.get("exp"), int | float):
                entry["expiresAt"] = claims["exp"]
                if isinstance(claims.get("iat"), int | float):
                    entry["issuedAt"] = claims["iat"]
                cache.servers[server] = entry
                cache.save()
            elif server in cache.servers:  # a token without exp cannot be trusted to stay valid: no caching
                del cache.servers[server]
                cache.save()
    return {"ServerURL": server, "Username": NULL_GUID, "Secret": entry["refreshToken"]}


def erase(server_url: str) -> None:
    server = _server_from(server_url)
    with _Cache() as cache:
        if cache.servers.pop(server, None) is not None:
            cache.save()


def list_servers(now: float | None = None) -> dict[str, str]:
    with _Cache() as cache:
        return {server: NULL_GUID for server, entry in sorted(cache.servers.items()) if is_usable(entry, now)}


def _describe(error: BaseException) -> str:
    """One line for the user, secrets removed; library errors already carry a message meant for users."""
    from ..registry.redact import redact

    text = str(error).strip()
    if not text:
        text = type(error).__name__
    line = " ".join(text.split())
    return redact(line)[:500]


def _quiet_logging() -> None:
    """Only ``ACR_HELPER_DEBUG=1`` lets library logs through, to stderr and redacted."""
    root = logging.getLogger()
    if os.environ.get("ACR_HELPER_DEBUG", "").lower() in ("1", "true", "yes"):
        from ..registry.redact import install_redaction

        logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                            format=f"{PROGRAM}: %(name)s %(levelname)s %(message)s")
        install_redaction()
    else:
        root.addHandler(logging.NullHandler())
        root.setLevel(logging.CRITICAL + 1)


def run(argv: list[str], stdin: Any = None, stdout: Any = None) -> int:
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    if len(argv) != 1:
        print(USAGE, file=stdout)
        return 1
    action = argv[0]
    try:
        if action == "get":
            answer = get(stdin.read())
            stdout.write(json.dumps(answer) + "\n")
        elif action == "store":
            stdin.read()  # the helper mints its own tokens; what docker offers to store is not kept
        elif action == "erase":
            erase(stdin.read())
        elif action == "list":
            stdout.write(json.dumps(list_servers()) + "\n")
        elif action == "version":
            from .. import __version__

            stdout.write(f"{PROGRAM} (acr) {__version__}\n")
        else:
            print(USAGE, file=stdout)
            return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the protocol wants a line, never a traceback
        message = _describe(error)
        if not isinstance(error, HelperError) and not _is_user_error(error):
            message = f"{type(error).__name__}: {message}"
        print(f"{PROGRAM}: {message}", file=stdout)
        return 1
    return 0


def _is_user_error(error: BaseException) -> bool:
    from ..identity.errors import IdentityError
    from ..registry.errors import RegistryError
    from .errors import DockerConfigError

    return isinstance(error, RegistryError | IdentityError | DockerConfigError)


def main() -> None:
    _quiet_logging()
    try:
        code = run(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        code = 1
    sys.exit(code)


__all__ = ["NULL_GUID", "cache_path", "get", "is_usable", "main", "renew_margin",
           "run", "token_claims"]
