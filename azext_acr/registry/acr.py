"""ACR's metadata API (/acr/v1): attributes of repositories, tags and manifests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import NotFoundError, ProtocolError, RegistryError
from .pagination import iterate_pages
from .transport import RegistrySession

PAGE_SIZE = 100


class AcrApiUnavailableError(RegistryError):
    """The registry does not serve ACR's metadata API: a plain OCI registry (docker-registry, zot...).

    Detected from the first /acr/v1 request: a 404 that carries no registry error body is the
    router saying "no such API", whereas ACR answers an unknown repository or tag with a JSON
    ``{"errors": [{"code": ...}]}``. Commands that can do their work through /v2 catch this and
    fall back; the others let it through as the user's message.
    """

    def __init__(self, login_server: str):
        super().__init__(f"This command requires Azure Container Registry's metadata API (/acr/v1), which "
                         f"'{login_server}' does not serve.", status=404)
        self.login_server = login_server


def read_scope(repository: str) -> str:
    return f"repository:{repository}:metadata_read"


def _json(response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProtocolError(f"The registry answered {response.request.method} {response.request.path_url} "
                            "with a body that is not JSON.") from None


def _object(body: Any, key: str | None, what: str) -> dict:
    value = body.get(key) if key and isinstance(body, dict) else body
    if not isinstance(value, dict):
        raise ProtocolError(f"The registry's answer for {what} has an unexpected shape.")
    return value


class AcrApi:
    def __init__(self, session: RegistrySession):
        self.session = session
        # None until the first /acr/v1 answer tells: True (ACR) or False (plain OCI registry).
        self.available: bool | None = None

    def _request(self, method: str, path: str, **kwargs):
        """session.request for /acr/v1 paths, turning "no such API" into AcrApiUnavailableError."""
        if self.available is False:
            raise AcrApiUnavailableError(self.session.login_server)
        try:
            response = self.session.request(method, path, **kwargs)
        except NotFoundError as err:
            if err.code is None and not self.available:
                self.available = False
                raise AcrApiUnavailableError(self.session.login_server) from None
            raise
        self.available = True
        return response

    def repository(self, repository: str, scopes: list[str] | None = None) -> dict:
        response = self._request("GET", f"/acr/v1/{repository}", scopes=scopes or [read_scope(repository)])
        return _object(_json(response), None, f"repository '{repository}'")

    def tag(self, repository: str, tag: str, scopes: list[str] | None = None) -> dict:
        response = self._request("GET", f"/acr/v1/{repository}/_tags/{tag}",
                                        scopes=scopes or [read_scope(repository)])
        return _object(_json(response), "tag", f"tag '{repository}:{tag}'")

    def manifest(self, repository: str, digest: str, scopes: list[str] | None = None) -> dict:
        response = self._request("GET", f"/acr/v1/{repository}/_manifests/{digest}",
                                        scopes=scopes or [read_scope(repository)])
        return _object(_json(response), "manifest", f"manifest '{repository}@{digest}'")

    def iter_tags(self, repository: str, *, orderby: str | None = None, digest: str | None = None,
                  scopes: list[str] | None = None, limit: int | None = None) -> Iterator[dict]:
        params = {"n": PAGE_SIZE}
        if orderby:
            params["orderby"] = orderby
        if digest:
            params["digest"] = digest
        yield from self._iter_list(f"/acr/v1/{repository}/_tags", params, "tags",
                                   scopes or [read_scope(repository)], limit)

    def iter_manifests(self, repository: str, *, orderby: str | None = None,
                       scopes: list[str] | None = None, limit: int | None = None) -> Iterator[dict]:
        """Every manifest's attributes (digest, tags, times, changeableAttributes), page by page."""
        params = {"n": PAGE_SIZE}
        if orderby:
            params["orderby"] = orderby
        yield from self._iter_list(f"/acr/v1/{repository}/_manifests", params, "manifests",
                                   scopes or [read_scope(repository)], limit)

    def update_attributes(self, repository: str, attributes: dict, *, tag: str | None = None,
                          digest: str | None = None) -> dict:
        """PATCH the changeable attributes of a repository, a tag or a manifest; returns the updated item."""
        scopes = [f"repository:{repository}:metadata_write,metadata_read"]
        if digest:
            path, key = f"/acr/v1/{repository}/_manifests/{digest}", "manifest"
        elif tag:
            path, key = f"/acr/v1/{repository}/_tags/{tag}", "tag"
        else:
            path, key = f"/acr/v1/{repository}", None
        response = self._request("PATCH", path, scopes=scopes, json=attributes)
        return _object(_json(response), key, path)

    def delete_repository(self, repository: str, scopes: list[str] | None = None) -> dict:
        response = self._request("DELETE", f"/acr/v1/{repository}", expected=(202, 200),
                                        scopes=scopes or [f"repository:{repository}:delete"])
        return _object(_json(response), None, f"deleting repository '{repository}'")

    def delete_tag(self, repository: str, tag: str, scopes: list[str] | None = None) -> None:
        self._request("DELETE", f"/acr/v1/{repository}/_tags/{tag}", expected=(202, 200, 204),
                      scopes=scopes or [f"repository:{repository}:delete"])

    def _iter_list(self, path: str, params: dict, key: str, scopes: list[str],
                   limit: int | None = None) -> Iterator[dict]:
        send = self._request if path.startswith("/acr/") else self.session.request
        yield from iter_listing(send, self.session.base_url + path, params, key, scopes, limit)


def iter_listing(send, first_url: str, params: dict, key: str, scopes: list[str],
                 limit: int | None = None) -> Iterator:
    """Every item of a paged listing (``body[key]``), following Link to the end; shared with OciApi.

    ``limit`` is az's ``--top``: each request asks for ``n = min(page size, items still wanted)``
    and the listing stops once ``limit`` items are in hand, so no page is fetched for nothing.
    A failed page or a broken chain raises (pagination.iterate_pages), naming the page.
    """
    if limit is not None and limit <= 0:
        return
    count = 0

    def fetch(url: str):
        if limit is not None:
            url = _with_page_size(url, min(PAGE_SIZE, limit - count))
        try:
            response = send("GET", url, scopes=scopes)
        except AcrApiUnavailableError:
            raise
        except RegistryError as err:
            if count == 0:
                raise
            raise type(err)(f"{err.message} (while fetching a later page of the listing: {url})",
                            status=err.status, code=err.code, hint=err.hint) from None
        return _json(response), response.headers.get("Link")

    first = f"{first_url}?{urlencode(params)}" if params else first_url
    for body in iterate_pages(fetch, first):
        if not isinstance(body, dict):
            raise ProtocolError(f"The registry's '{key}' listing is not a JSON object.")
        items = body.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise ProtocolError(f"The registry's '{key}' listing has an unexpected shape.")
        for item in items:
            if not isinstance(item, dict | str):
                raise ProtocolError(f"The registry's '{key}' listing holds an item of the wrong type.")
            yield item
            count += 1
            if limit is not None and count >= limit:
                return


def _with_page_size(url: str, n: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "n"]
    query.append(("n", str(n)))
    return urlunsplit(parts._replace(query=urlencode(query)))
