"""One HTTP session per run: challenge → token for the needed scope → resend, retries, timeouts.

A request names the scope it needs. If a token for that scope is cached it goes out with the
request; if the registry answers 401 the challenge is read, a token fetched for the scope it asks
for, cached, and the request resent once. Basic challenges get the credential's Basic pair.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .. import __version__
from .challenge import Challenge, pick_challenge
from .credentials import Credential
from .errors import (
    AuthenticationError,
    ConnectionFailure,
    NotFoundError,
    OperationNotAllowedError,
    PermissionDeniedError,
    ProtocolError,
    RegistryError,
)
from .loginserver import is_loopback
from .redact import redact
from .tokens import AccessToken

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15
READ_TIMEOUT = 300
USER_AGENT = f"acr/{__version__} python-requests/{requests.__version__}"


class RegistryRetry(Retry):
    """Bounded retries with exponential backoff, jitter and ``Retry-After``.

    Idempotent requests are retried on connection errors and on 429/502/503/504. POST and PATCH
    are retried only on 429 and 503, which say the request was not processed, or when the
    connection could not even be made. An upload chunk streamed from disk refuses to be read twice
    (oci._FileSlice), so instead of resending it the upload code resumes from the registry's offset.
    """

    NOT_PROCESSED = frozenset({429, 503})

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if (method or "").upper() in ("POST", "PATCH") and status_code in self.NOT_PROCESSED:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        verb = (method or "").upper()
        if error is not None and verb in ("POST", "PATCH") and not self._is_connection_error(error):
            raise error.with_traceback(_stacktrace)  # the request may have been processed: never resend it
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


def make_session() -> requests.Session:
    """A session with keep-alive and bounded retries (see RegistryRetry)."""
    session = requests.Session()
    attempts = _int_env("ACR_MAX_RETRIES", 5)
    try:
        backoff = float(os.environ.get("ACR_RETRY_BACKOFF", "0.5"))
    except ValueError:
        backoff = 0.5
    retry = RegistryRetry(
        total=attempts,
        connect=min(attempts, 3),
        read=min(attempts, 2),
        status=attempts,
        backoff_factor=backoff,
        backoff_jitter=0.25 if backoff else 0.0,
        backoff_max=30,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class RegistrySession:
    """Talks to one registry with one credential; knows nothing about commands or output."""

    def __init__(self, login_server: str, credential: Credential, *, scheme: str | None = None,
                 session: requests.Session | None = None):
        self.login_server = login_server
        self.credential = credential
        self.scheme = scheme or default_scheme(login_server)
        if self.scheme == "http" and not is_loopback(login_server):
            raise ConnectionFailure(f"Refusing plain http to '{login_server}': credentials would travel "
                                    "unencrypted. Use https.")
        self.base_url = f"{self.scheme}://{login_server}"
        self.http = session or make_session()
        self._challenge: Challenge | None = None
        self._pinged = False
        self._tokens: dict[str, AccessToken] = {}
        self._basic: tuple[str, str] | None = None

    # -- discovery ---------------------------------------------------------------------------
    def ping(self) -> Challenge | None:
        """GET /v2/ once: proves the registry is reachable and learns its challenge (realm, service)."""
        if self._pinged:
            return self._challenge
        response = self._send("GET", self.base_url + "/v2/", headers={})
        self._pinged = True
        if response.status_code == 401:
            self._challenge = pick_challenge(response.headers.get("WWW-Authenticate"))
        elif response.status_code == 403:
            raise PermissionDeniedError(f"Looks like you don't have access to registry '{self.login_server}'.",
                                        status=403, hint="Check the registry's firewall rules.")
        elif response.status_code == 404:
            raise ProtocolError(f"'{self.login_server}' does not serve the registry API (GET /v2/ → 404).")
        return self._challenge

    # -- requests ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, scopes: Iterable[str] = (), expected: Iterable[int] = (200,),
                headers: dict[str, str] | None = None, allow_statuses: Iterable[int] = (),
                **kwargs: Any) -> requests.Response:
        """Send a request with the right authorization; raise a RegistryError unless its status is expected.

        ``allow_statuses`` are returned instead of raised (e.g. 404 on a HEAD that probes existence).
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        scope_list = sorted(set(scopes))
        headers = dict(headers or {})
        self._authorize(headers, scope_list)
        response = self._send(method, url, headers=headers, **kwargs)
        if response.status_code == 401:
            challenge = pick_challenge(response.headers.get("WWW-Authenticate"))
            if challenge is not None and self._answer(challenge, headers, scope_list):
                if _body_replayable(kwargs.get("data")):
                    response.close()
                    response = self._send(method, url, headers=headers, **kwargs)
        status = response.status_code
        if status in set(expected) or status in set(allow_statuses):
            return response
        error = error_from_response(response, method, url)
        failures = getattr(self.credential, "failures", None)
        if status == 401 and failures:
            error.hint = "Credentials tried: " + "; ".join(failures)
        raise error

    def _authorize(self, headers: dict[str, str], scopes: list[str]) -> None:
        if self._basic:
            headers["Authorization"] = _basic_header(*self._basic)
            return
        key = " ".join(scopes)
        cached = self._tokens.get(key)
        if cached and cached.fresh():
            headers["Authorization"] = f"Bearer {cached.token}"
            return
        if scopes and self._challenge is not None and self._challenge.scheme == "bearer" and self._challenge.realm:
            token = self.credential.access_token(self.http, self._challenge, scopes)
            self._tokens[key] = token
            headers["Authorization"] = f"Bearer {token.token}"

    def _answer(self, challenge: Challenge, headers: dict[str, str], scopes: list[str]) -> bool:
        """Update ``headers`` to answer a 401 challenge. False when there is nothing new to try."""
        if challenge.scheme == "basic":
            pair = self.credential.basic_auth()
            if not pair or self._basic == pair:
                return False
            self._basic = pair
            headers["Authorization"] = _basic_header(*pair)
            return True
        if challenge.scheme != "bearer" or not challenge.realm:
            return False
        if self._challenge is None or not self._challenge.realm:
            self._challenge = Challenge("bearer", {"realm": challenge.realm, "service": challenge.service or ""})
        wanted = sorted(set(scopes) | set(_split_scopes(challenge.scope)))
        key = " ".join(wanted)
        previous = headers.get("Authorization")
        token = self.credential.access_token(self.http, challenge, wanted)
        self._tokens[key] = token
        if scopes:
            self._tokens[" ".join(scopes)] = token
        headers["Authorization"] = f"Bearer {token.token}"
        return headers["Authorization"] != previous

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("Request: %s %s headers=%s", method, url, redact(str(kwargs.get("headers"))))
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.exceptions.SSLError as err:
            raise ConnectionFailure(
                f"TLS verification failed for '{self.login_server}': {_short_reason(err)}.",
                hint="If the registry uses a private CA, point REQUESTS_CA_BUNDLE at its certificate.") from None
        except requests.exceptions.ConnectionError as err:
            raise ConnectionFailure(
                f"Could not connect to the registry login server '{self.login_server}': {_short_reason(err)}. "
                f"Please verify that the registry exists and the URL '{self.base_url}/v2/' is reachable "
                "from your environment.") from None
        except requests.exceptions.Timeout:
            raise ConnectionFailure(f"The registry '{self.login_server}' did not answer in time.") from None
        except requests.exceptions.RequestException as err:
            raise ConnectionFailure(f"Request to '{self.login_server}' failed: {_short_reason(err)}.") from None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("Response: %s %s -> %s", method, url, response.status_code)
        return response

    def close(self) -> None:
        self.http.close()


def default_scheme(login_server: str) -> str:
    """https everywhere; ``ACR_PLAIN_HTTP=1`` allows http, and only to loopback registries."""
    if os.environ.get("ACR_PLAIN_HTTP", "").lower() in ("1", "true", "yes") and is_loopback(login_server):
        return "http"
    return "https"


def _body_replayable(data: Any) -> bool:
    return data is None or isinstance(data, bytes | str | dict | list | tuple)


def _split_scopes(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split(" ") if s]


def _basic_header(username: str, password: str) -> str:
    import base64

    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _short_reason(err: Exception) -> str:
    text = str(err)
    for marker in ("Connection refused", "Name or service not known", "nodename nor servname",
                   "CERTIFICATE_VERIFY_FAILED", "timed out", "Temporary failure in name resolution",
                   "Connection reset", "Remote end closed connection"):
        if marker in text:
            return marker.lower() if marker[0].isupper() and marker != "CERTIFICATE_VERIFY_FAILED" else marker
    return redact(text.splitlines()[0] if text else type(err).__name__)[:200]


def registry_error_message(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, message) from an ``{"errors": [...]}`` body, tolerating anything else."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code")
            message = errors[0].get("message")
            return (str(code) if code else None), (str(message) if message else None)
    return None, None


def error_from_response(response: requests.Response, method: str, url: str) -> RegistryError:
    status = response.status_code
    code, server_message = registry_error_message(response)
    text = f"Error: {server_message.rstrip('.')}." if server_message else None
    if status == 401:
        return AuthenticationError(text or "Authentication required.", status=401, code=code,
                                   hint="Run 'acr login -n <registry>' or pass -u/-p.")
    if status == 403:
        return PermissionDeniedError(text or "Access denied.", status=403, code=code,
                                     hint="The identity lacks the role or scope for this operation.")
    if status == 404:
        return NotFoundError(text or "The requested data does not exist.", status=404, code=code)
    if status == 405:
        return OperationNotAllowedError(text or "This operation is not supported.", status=405, code=code)
    if status == 409:
        return RegistryError(text or "Failed to request data due to a conflict.", status=409, code=code)
    if status == 429:
        return RegistryError(text or "Too many requests.", status=429, code=code,
                             hint="The registry is throttling; wait a moment and retry.")
    return RegistryError(text or f"Could not {method.lower()} the requested data (HTTP {status}).",
                         status=status, code=code)
