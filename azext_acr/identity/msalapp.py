"""Building MSAL applications the same way for every source, with a persisted token cache.

The cache (``msal_token_cache.json`` in the acr config directory, mode 0600) lets a second
``acr`` process reuse a token the first one obtained instead of asking Azure AD again.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from ..atomicfile import write_atomic
from ..configdir import config_dir

KNOWN_AUTHORITY_HOSTS = {
    "login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn", "login.windows.net", "login.microsoft.com", "sts.windows.net",
}
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"


def authority_host() -> str:
    host = os.environ.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY_HOST
    if "://" not in host:
        host = "https://" + host
    return host.rstrip("/")


def needs_instance_discovery(authority: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(authority).hostname or "").lower() in KNOWN_AUTHORITY_HOSTS


class PersistentCache:
    """An msal.SerializableTokenCache loaded from and saved to one 0600 file, under a file lock."""

    def __init__(self, path: Path | None = None):
        import msal

        self.path = path or config_dir() / "msal_token_cache.json"
        self.cache = msal.SerializableTokenCache()
        with contextlib.suppress(OSError, ValueError):
            self.cache.deserialize(self.path.read_text(encoding="utf-8"))

    def save(self) -> None:
        if not self.cache.has_state_changed:
            return
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with FileLock(str(self.path) + ".lock", timeout=30):
            write_atomic(self.path, self.cache.serialize().encode("utf-8"))
        self.cache.has_state_changed = False


def confidential_app(client_id: str, credential: Any, tenant: str, cache: PersistentCache | None,
                     host: str | None = None, token_cache: Any = None):
    import msal

    authority = f"{host or authority_host()}/{tenant}"
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=authority,
        instance_discovery=needs_instance_discovery(authority),
        token_cache=token_cache if token_cache is not None else (cache.cache if cache else None),
    )


def public_app(client_id: str, tenant: str, token_cache: Any, host: str | None = None,
               instance_discovery: bool | None = None):
    import msal

    authority = f"{host or authority_host()}/{tenant}"
    return msal.PublicClientApplication(
        client_id,
        authority=authority,
        instance_discovery=needs_instance_discovery(authority) if instance_discovery is None else instance_discovery,
        token_cache=token_cache,
    )


def write_private_json(path: Path, data: dict) -> None:
    """Write a JSON file readable by its owner only (0600), atomically."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
