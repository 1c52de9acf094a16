"""Registry name → login server, following az's rules, plus full ``host[:port]`` as given."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from .errors import InvalidReferenceError

DEFAULT_ACR_SUFFIX = ".azurecr.io"
_REGISTRY_NAME_RE = re.compile(r"^[a-zA-Z0-9]{5,50}$")
_NAME_ERROR = ("Registry names may contain only alpha numeric characters and must be between "
               "5 and 50 characters")


def cloud_suffix() -> str:
    """The login-server suffix for bare names: ``ACR_LOGIN_SERVER_SUFFIX`` or ``.azurecr.io``."""
    return os.environ.get("ACR_LOGIN_SERVER_SUFFIX") or DEFAULT_ACR_SUFFIX


def resolve_login_server(name: str, suffix: str | None = None) -> str:
    """Turn ``-n`` into a login server.

    A bare name (``myregistry``) gets the cloud suffix (``myregistry.azurecr.io``), with
    ``--suffix`` inserted as a tenant suffix the way az does (``myregistry-contoso.azurecr.io``).
    Anything with a dot, a colon or a scheme is a login server already and is used as given.
    """
    text = (name or "").strip()
    if not text:
        raise InvalidReferenceError("The registry name is empty: pass --name <registry>.")
    if "://" in text:
        try:
            parts = urlsplit(text)
        except ValueError:
            raise InvalidReferenceError(f"'{name}' is not a registry name or login server.") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidReferenceError(f"'{name}' is not a registry name or login server.")
        text = parts.netloc
    text = text.rstrip("/")
    if "/" in text or " " in text or "@" in text:
        raise InvalidReferenceError(f"'{name}' is not a registry name or login server.")
    if "." in text or ":" in text:
        _check_host(text, name)
        return text.lower()
    if not _REGISTRY_NAME_RE.match(text):
        raise InvalidReferenceError(_NAME_ERROR)
    tenant = f"-{suffix}" if suffix else ""
    return f"{text}{tenant}{cloud_suffix()}".lower()


def _check_host(host_port: str, original: str) -> None:
    host, port = split_host_port(host_port)
    if port is not None and not (0 < port < 65536):
        raise InvalidReferenceError(f"'{original}' has an invalid port.")
    if not re.match(r"^[A-Za-z0-9.-]+$", host) and not _is_ip(host):
        raise InvalidReferenceError(f"'{original}' is not a valid login server.")


def split_host_port(host_port: str) -> tuple[str, int | None]:
    if host_port.startswith("["):
        host, _, rest = host_port[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif host_port.count(":") == 1:
        host, port_text = host_port.split(":")
    else:
        host, port_text = host_port, ""
    if not port_text:
        return host, None
    if not port_text.isdigit():
        raise InvalidReferenceError(f"'{host_port}' has an invalid port.")
    return host, int(port_text)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(login_server: str) -> bool:
    """Plain http (and credentials over it) are only ever allowed to these hosts."""
    host, _ = split_host_port(login_server)
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
