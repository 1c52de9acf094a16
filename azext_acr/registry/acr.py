"""ACR's metadata API (/acr/v1): attributes of repositories, tags and manifests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from .errors import ProtocolError
from .pagination import iterate_pages
from .transport import RegistrySession

PAGE_SIZE = 100


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

    def repository(self, repository: str, scopes: list[str] | None = None) -> dict:
        response = self.session.request("GET", f"/acr/v1/{repository}", scopes=scopes or [read_scope(repository)])
        return _object(_json(response), None, f"repository '{repository}'")

    def tag(self, repository: str, tag: str, scopes: list[str] | None = None) -> dict:
        response = self.session.request("GET", f"/acr/v1/{repository}/_tags/{tag}",
                                        scopes=scopes or [read_scope(repository)])
        return _object(_json(response), "tag", f"tag '{repository}:{tag}'")

    def manifest(self, repository: str, digest: str, scopes: list[str] | None = None) -> dict:
        response = self.session.request("GET", f"/acr/v1/{repository}/_manifests/{digest}",
                                        scopes=scopes or [read_scope(repository)])
        return _object(_json(response), "manifest", f"manifest '{repository}@{digest}'")

    def iter_tags(self, repository: str, *, orderby: str | None = None, digest: str | None = None,
                  scopes: list[str] | None = None) -> Iterator[dict]:
        params = {"n": PAGE_SIZE}
        if orderby:
            params["orderby"] = orderby
        if digest:
            params["digest"] = digest
        yield from self._iter_list(f"/acr/v1/{repository}/_tags", params, "tags",
                                   scopes or [read_scope(repository)])

    def iter_manifests(self, repository: str, *, orderby: str | None = None,
                       scopes: list[str] | None = None) -> Iterator[dict]:
        """Every manifest's attributes (digest, tags, times, changeableAttributes), page by page."""
        params = {"n": PAGE_SIZE}
        if orderby:
            params["orderby"] = orderby
        yield from self._iter_list(f"/acr/v1/{repository}/_manifests", params, "manifests",
                                   scopes or [read_scope(repository)])

    def iter_catalog(self) -> Iterator[str]:
        """All repository names, through the Docker catalog as az does (``/v2/_catalog``)."""
        for name in self._iter_list("/v2/_catalog", {"n": PAGE_SIZE}, "repositories", ["registry:catalog:*"]):
            if not isinstance(name, str):
                raise ProtocolError("The registry's catalog holds something that is not a repository name.")
            yield name

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
        response = self.session.request("PATCH", path, scopes=scopes, json=attributes)
        return _object(_json(response), key, path)

    def delete_repository(self, repository: str, scopes: list[str] | None = None) -> dict:
        response = self.session.request("DELETE", f"/acr/v1/{repository}", expected=(202, 200),
                                        scopes=scopes or [f"repository:{repository}:delete"])
        return _object(_json(response), None, f"deleting repository '{repository}'")

    def delete_tag(self, repository: str, tag: str) -> None:
        self.session.request("DELETE", f"/acr/v1/{repository}/_tags/{tag}", expected=(202, 200, 204),
                             scopes=[f"repository:{repository}:delete"])

    def _iter_list(self, path: str, params: dict, key: str, scopes: list[str]) -> Iterator[dict]:
        def fetch(url: str):
            response = self.session.request("GET", url, scopes=scopes)
            return _json(response), response.headers.get("Link")

        first = f"{self.session.base_url}{path}?{urlencode(params)}"
        for body in iterate_pages(fetch, first):
            items = body.get(key) if isinstance(body, dict) else None
            if items is None:
                continue
            if not isinstance(items, list):
                raise ProtocolError(f"The registry's '{key}' listing has an unexpected shape.")
            yield from items
