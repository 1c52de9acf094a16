"""The registry token service: ACR's ``/oauth2/exchange`` and the Docker/OAuth2 token endpoint."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .errors import AuthenticationError, ConnectionFailure, PermissionDeniedError, ProtocolError

logger = logging.getLogger(__name__)

NULL_GUID = "00000000-0000-0000-0000-000000000000"
DEFAULT_TOKEN_LIFETIME = 60  # seconds, the Docker token spec's default when expires_in is absent


@dataclass
class AccessToken:
    token: str
    expires_at: float

    def fresh(self, margin: float = 30.0) -> bool:
        return time.time() + margin < self.expires_at


def _origin(realm: str) -> str:
    parts = urlsplit(realm)
    return f"{parts.scheme}://{parts.netloc}"


def _post(session: requests.Session, url: str, data: dict, what: str, **kwargs) -> requests.Response:
    try:
        return session.post(url, data=data, timeout=(10, 60), **kwargs)
    except requests.exceptions.SSLError as err:
        raise ConnectionFailure(f"TLS verification failed for {url} while {what}.",
                                hint="Trust the registry's CA with REQUESTS_CA_BUNDLE=<ca.pem>.") from err
    except requests.exceptions.RequestException as err:
        raise ConnectionFailure(f"Could not reach {url} while {what}: {type(err).__name__}.") from err


def _token_from(response: requests.Response, url: str) -> AccessToken:
    try:
        body = response.json()
    except ValueError:
        raise ProtocolError(f"The token service at {url} answered with something that is not JSON.") from None
    if not isinstance(body, dict):
        raise ProtocolError(f"The token service at {url} answered with unexpected JSON.")
    token = body.get("access_token") or body.get("token")
    if not isinstance(token, str) or not token:
        raise ProtocolError(f"The token service at {url} returned no access token.")
    expires_in = body.get("expires_in")
    lifetime = expires_in if isinstance(expires_in, int | float) and expires_in > 0 else DEFAULT_TOKEN_LIFETIME
    return AccessToken(token, time.time() + float(lifetime))


def _refused(response: requests.Response, url: str, what: str) -> Exception:
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            errors = body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                detail = str(errors[0].get("message") or "")
            detail = detail or str(body.get("error_description") or body.get("error") or "")
    except ValueError:
        pass
    detail = f": {detail.rstrip('.')}" if detail else ""
    message = f"The registry refused {what} (HTTP {response.status_code}{detail})."
    if response.status_code == 403:
        return PermissionDeniedError(message, status=403,
                                     hint="Check the role assignments of the signed-in identity.")
    if response.status_code == 429:
        return AuthenticationError(message, status=429, hint="Too many requests: wait a moment and retry.")
    return AuthenticationError(message, status=response.status_code)


def exchange_aad_token(session: requests.Session, realm: str, service: str, aad_token: str,
                       tenant: str | None = None) -> str:
    """POST /oauth2/exchange: an Azure AD access token → an ACR refresh token."""
    url = _origin(realm) + "/oauth2/exchange"
    data = {"grant_type": "access_token", "service": service, "access_token": aad_token}
    if tenant:
        data["tenant"] = tenant
    logger.debug("Exchanging an AAD token for an ACR refresh token at %s", url)
    response = _post(session, url, data, "exchanging the Azure AD token")
    if response.status_code != 200:
        raise _refused(response, url, "the Azure AD token exchange")
    try:
        refresh = response.json().get("refresh_token")
    except (ValueError, AttributeError):
        refresh = None
    if not isinstance(refresh, str) or not refresh:
        raise ProtocolError(f"The token exchange at {url} returned no refresh token.")
    return refresh


def fetch_with_refresh_token(session: requests.Session, realm: str, service: str, scopes: list[str],
                             refresh_token: str) -> AccessToken:
    data = {"grant_type": "refresh_token", "service": service, "refresh_token": refresh_token}
    if scopes:
        data["scope"] = " ".join(scopes)
    response = _post(session, realm, data, "requesting an access token")
    if response.status_code != 200:
        raise _refused(response, realm, "the refresh token")
    return _token_from(response, realm)


def fetch_with_password(session: requests.Session, realm: str, service: str, scopes: list[str],
                        username: str, password: str) -> AccessToken:
    """OAuth2 password grant; registries without a POST endpoint get the Docker GET with Basic."""
    data = {"grant_type": "password", "service": service, "username": username, "password": password}
    if scopes:
        data["scope"] = " ".join(scopes)
    response = _post(session, realm, data, "requesting an access token")
    if response.status_code in (404, 405, 400) and username != NULL_GUID:
        params: list[tuple[str, str]] = [("service", service)] + [("scope", s) for s in scopes]
        try:
            response = session.get(realm, params=params, auth=(username, password), timeout=(10, 60))
        except requests.exceptions.RequestException as err:
            raise ConnectionFailure(f"Could not reach {realm} while requesting an access token.") from err
    if response.status_code != 200:
        raise _refused(response, realm, "the username and password")
    return _token_from(response, realm)


def fetch_anonymous(session: requests.Session, realm: str, service: str, scopes: list[str]) -> AccessToken:
    params: list[tuple[str, str]] = [("service", service)] + [("scope", s) for s in scopes]
    try:
        response = session.get(realm, params=params, timeout=(10, 60))
    except requests.exceptions.RequestException as err:
        raise ConnectionFailure(f"Could not reach {realm} while requesting an anonymous token.") from err
    if response.status_code != 200:
        raise _refused(response, realm, "anonymous access")
    return _token_from(response, realm)
